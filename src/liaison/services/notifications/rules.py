"""Pre-export notification rules: vocabularies, the declared form, deadlines, statuses,
draw-down and the figures. Pure functions of records, settings and a moment; no database,
no transport.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol

from liaison.config import Settings
from liaison.errors import Conflict, InvalidInput
from liaison.messages import T
from liaison.services.as_of import parse_date
from liaison.store.base import utcnow
from liaison.store.notification_tables import PenNotification
from liaison.text import check_storable_text

MAX_TEXT = 2000
MAX_SHORT = 300
# The substances whose annual legitimate requirements each side estimates (1988
# Convention practice, CND resolution 49/3), with their CAS numbers.
ESTIMATED_SUBSTANCES: dict[str, str] = {
    "ephedrine": "299-42-3",
    "pseudoephedrine": "90-82-4",
    "3,4-MDP-2-P": "4676-39-5",
    "P-2-P": "103-79-7",
}
# Units a quantity may be declared in, and their factor to kg (None: not a mass).
UNITS: dict[str, Decimal | None] = {
    "kg": Decimal(1),
    "g": Decimal("0.001"),
    "t": Decimal(1000),
    "L": None,
    "mL": None,
}


class Status(StrEnum):
    PENDING = "pending"
    OVERDUE = "overdue"
    NO_OBJECTION = "no_objection"
    OBJECTION = "objection"
    INFORMATION_REQUESTED = "information_requested"
    WITHDRAWN = "withdrawn"


class Decision(StrEnum):
    NO_OBJECTION = "no_objection"
    OBJECTION = "objection"
    INFORMATION_REQUESTED = "information_requested"


class Step(StrEnum):
    """A step on a notification: the importing side's (acknowledge, decisions) and the
    exporting side's (answer to a request for information, withdraw, outcome)."""

    ACKNOWLEDGE = "acknowledge"
    NO_OBJECTION = "no_objection"
    OBJECTION = "objection"
    INFORMATION_REQUESTED = "information_requested"
    INFORMATION_ANSWER = "information_answer"
    WITHDRAW = "withdraw"
    OUTCOME = "outcome"


IMPORTER_STEPS = frozenset({Step.ACKNOWLEDGE, *(Step(d.value) for d in Decision)})
EXPORTER_STEPS = frozenset({Step.INFORMATION_ANSWER, Step.WITHDRAW, Step.OUTCOME})


class Outcome(StrEnum):
    SHIPPED = "shipped"
    STOPPED = "stopped"
    SEIZED = "seized"


class TransportMode(StrEnum):
    SEA = "sea"
    AIR = "air"
    ROAD = "road"
    RAIL = "rail"
    POST = "post"
    COURIER = "courier"


class IfNoReply(StrEnum):
    PROCEEDS = "proceeds"
    DOES_NOT_PROCEED = "does_not_proceed"


class Direction(StrEnum):
    OUTGOING = "outgoing"
    INCOMING = "incoming"


class PenNode(Protocol):
    """What notifications need of the local node (a NodeConfig or a LocalNode)."""

    @property
    def name(self) -> str: ...

    @property
    def settings(self) -> Settings: ...


# ---------------------------------------------------------------- the declared form

PARTY_FIELDS = ("name", "address", "licence")
REQUIRED_TEXT = (
    "substance",
    "trade_name",
    "unit",
    "form",
    "packaging",
    "port_of_exit",
    "port_of_entry",
    "end_use",
    "export_authorisation",
)
OPTIONAL_TEXT = (
    "hs_code",
    "transport_number",
    "broker",
    "forwarding_agent",
    "import_authorisation",
    "final_destination",
)
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def text_field(
    form: Mapping[str, Any], name: str, *, required: bool, limit: int = MAX_SHORT
) -> str:
    value = form.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(T("%(name)s is required", name=name))
        return ""
    if not isinstance(value, str):
        raise InvalidInput(
            T("%(name)s must be text (got %(value)s)", name=name, value=type(value).__name__)
        )
    check_storable_text(value, name)
    value = value.strip()
    if required and not value:
        raise InvalidInput(T("%(name)s must not be empty", name=name))
    if len(value) > limit:
        raise InvalidInput(
            T(
                "%(name)s has %(count)s characters; the limit is %(limit)s",
                name=name,
                count=len(value),
                limit=limit,
            )
        )
    return value


def _party(form: Mapping[str, Any], name: str, *, required: bool) -> dict[str, str] | None:
    value = form.get(name)
    if isinstance(value, Mapping) and not any(value.get(key) for key in PARTY_FIELDS):
        value = None
    if value is None or value == {}:
        if required:
            raise InvalidInput(
                T("%(name)s is required (an object with name, address, licence)", name=name)
            )
        return None
    if not isinstance(value, Mapping):
        raise InvalidInput(T("%(name)s must be an object with name, address, licence", name=name))
    # The consignee's licence may be absent; exporter's and importer's may not.
    return {
        key: text_field(value, key, required=key != "licence" or required, limit=MAX_TEXT)
        for key in PARTY_FIELDS
    }


def _choice(form: Mapping[str, Any], name: str, choices: Iterable[str]) -> str:
    value = form.get(name)
    allowed = list(choices)
    if value not in allowed:
        raise InvalidInput(
            T(
                "%(name)s must be one of %(allowed)s (got %(value)s)",
                name=name,
                allowed=", ".join(allowed),
                value=repr(value),
            )
        )
    return str(value)


def parse_quantity(value: Any, name: str = "quantity") -> Decimal:
    """A positive decimal (given as a number or as text; kept as text on the wire)."""
    try:
        quantity = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise InvalidInput(
            T("%(name)s must be a number (got %(value)s)", name=name, value=repr(value))
        ) from error
    if not quantity.is_finite() or quantity <= 0:
        raise InvalidInput(
            T("%(name)s must be a positive number (got %(value)s)", name=name, value=repr(value))
        )
    return quantity


def _countries(form: Mapping[str, Any], name: str, *, required: bool) -> list[str]:
    value = form.get(name) or []
    if isinstance(value, str):
        value = [part for part in re.split(r"[\s,;>-]+", value) if part]
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise InvalidInput(T("%(name)s must be a list of ISO 3166 country codes", name=name))
    codes = [code.strip().upper() for code in value]
    bad = [code for code in codes if not _COUNTRY.match(code)]
    if bad:
        raise InvalidInput(
            T(
                "%(name)s: %(codes)s is not a two-letter country code",
                name=name,
                codes=", ".join(map(repr, bad)),
            )
        )
    if required and len(codes) < 2:
        raise InvalidInput(
            T("%(name)s must name at least the countries of export and import", name=name)
        )
    return codes


def parse_moment(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError as error:
            raise InvalidInput(
                T(
                    "%(name)s must be an ISO 8601 timestamp (got %(value)s)",
                    name=name,
                    value=repr(value),
                )
            ) from error
    if moment.tzinfo is None:
        raise InvalidInput(T("%(name)s must carry its time zone (UTC: a trailing Z)", name=name))
    return moment.astimezone(UTC)


# The flat names of a form page and of a CSV batch's header (parties as exporter_name...).
FLAT_FIELDS = (
    "importing_peer",
    *(f"{party}_{key}" for party in ("exporter", "importer", "consignee") for key in PARTY_FIELDS),
    *REQUIRED_TEXT,
    *OPTIONAL_TEXT,
    "quantity",
    "weight_kg",
    "ship_date",
    "route",
    "transits",
    "free_zones",
    "transport_mode",
    "if_no_reply",
    "respond_by",
    "shipments",
    "period_months",
)


def form_from_flat(flat: Mapping[str, Any]) -> dict[str, Any]:
    """A form from flat text fields (a web form, a CSV row): parties gathered, numbers as
    numbers, lists split, a `respond_by` without a zone read as UTC."""
    text = {name: str(flat.get(name) or "").strip() for name in FLAT_FIELDS}
    form: dict[str, Any] = {k: v for k, v in text.items() if k not in _PARTY_KEYS}
    for party in ("exporter", "importer", "consignee"):
        form[party] = {key: text[f"{party}_{key}"] for key in PARTY_FIELDS}
    for name in ("shipments", "period_months"):
        form[name] = int(text[name]) if text[name].isdigit() else (text[name] or None)
    form["free_zones"] = [zone.strip() for zone in text["free_zones"].split(";") if zone.strip()]
    respond_by = text["respond_by"]
    if respond_by and not re.search(r"(Z|[+-]\d\d:?\d\d)$", respond_by):
        respond_by += "+00:00"
    form["respond_by"] = respond_by
    return form


_PARTY_KEYS = frozenset(
    f"{party}_{key}" for party in ("exporter", "importer", "consignee") for key in PARTY_FIELDS
)


def check_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """The declared form, checked and normalised (JSON-ready: no floats, dates as text);
    an InvalidInput names the first field that is wrong."""
    declared: dict[str, Any] = {
        "exporter": _party(form, "exporter", required=True),
        "importer": _party(form, "importer", required=True),
        "consignee": _party(form, "consignee", required=False),
    }
    for name in REQUIRED_TEXT:
        declared[name] = text_field(form, name, required=True, limit=MAX_TEXT)
    for name in OPTIONAL_TEXT:
        declared[name] = text_field(form, name, required=False)
    declared["unit"] = _choice(declared, "unit", UNITS)
    declared["quantity"] = str(parse_quantity(form.get("quantity")))
    if form.get("weight_kg") not in (None, ""):
        declared["weight_kg"] = str(parse_quantity(form.get("weight_kg"), "weight_kg"))
    declared["ship_date"] = parse_date(form.get("ship_date"), "ship_date").isoformat()
    declared["route"] = _countries(form, "route", required=True)
    declared["transits"] = _countries(form, "transits", required=False)
    declared["free_zones"] = [
        text_field({"free_zone": zone}, "free_zone", required=True)
        for zone in (form.get("free_zones") or [])
    ]
    declared["transport_mode"] = _choice(form, "transport_mode", TransportMode)
    declared["if_no_reply"] = _choice(form, "if_no_reply", IfNoReply)
    shipments = form.get("shipments") or 1
    if not isinstance(shipments, int) or isinstance(shipments, bool) or not 1 <= shipments <= 52:
        raise InvalidInput(
            T(
                "shipments must be a whole number from 1 to 52 (got %(shipments)s)",
                shipments=repr(shipments),
            )
        )
    declared["shipments"] = shipments
    period = form.get("period_months")
    if shipments > 1 and period not in (6, 12):
        raise InvalidInput(T("a notification of several shipments covers period_months 6 or 12"))
    declared["period_months"] = period if shipments > 1 else None
    return declared


def check_requirement(entry: Mapping[str, Any], where: str) -> dict[str, Any]:
    """One line of a register: a substance, whether notification is required, the annual
    requirement in kg (none: not estimated), and where the line comes from."""
    substance = text_field(entry, "substance", required=True)
    requires = entry.get("requires_notification", True)
    if not isinstance(requires, bool):
        raise InvalidInput(T("%(where)s.requires_notification must be true or false", where=where))
    annual = entry.get("annual_kg")
    return {
        "substance": substance,
        "requires_notification": requires,
        "annual_kg": None
        if annual in (None, "")
        else str(parse_quantity(annual, f"{where}.annual_kg")),
        "citation": text_field(entry, "citation", required=False, limit=MAX_TEXT),
    }


# ---------------------------------------------------------------- deadlines and status


def respond_by_default(settings: Settings, now: datetime) -> datetime:
    return now + timedelta(days=settings.pen_response_days)


def is_outgoing(notification: PenNotification, node_name: str) -> bool:
    return notification.owner_node == node_name


def is_overdue(notification: PenNotification, now: datetime | None = None) -> bool:
    """No decision yet, not withdrawn, and past `respond_by` (the same moment on both
    sides: the exporting node fixed it and it travels with the notification)."""
    return (
        notification.decision is None
        and notification.withdrawn_at is None
        and notification.respond_by < (now or utcnow())
    )


def status_of(notification: PenNotification, now: datetime | None = None) -> Status:
    if notification.withdrawn_at is not None:
        return Status.WITHDRAWN
    if notification.decision is not None:
        return Status(notification.decision)
    return Status.OVERDUE if is_overdue(notification, now) else Status.PENDING


def names_substance(register_name: str, declared: str) -> bool:
    """Whether a declaration names a register's substance: its name as a whole word,
    any case ('Ephedrine hydrochloride' is ephedrine; 'pseudoephedrine' is not)."""
    pattern = rf"(?<![\w-]){re.escape(register_name.casefold())}(?![\w-])"
    return re.search(pattern, declared.casefold()) is not None


def total_quantity(notification: PenNotification) -> Decimal:
    return Decimal(notification.declared["quantity"])


def quantity_kg(declared: Mapping[str, Any]) -> Decimal | None:
    factor = UNITS.get(declared["unit"])
    return None if factor is None else Decimal(declared["quantity"]) * factor


def check_step(step: Step, outgoing: bool) -> None:
    """Only the importing side answers, only the exporting side withdraws, answers a
    request for information or records the outcome."""
    if step in IMPORTER_STEPS and outgoing:
        raise_wrong_side(T("only the importing side answers or acknowledges a notification"))
    if step in EXPORTER_STEPS and not outgoing:
        raise_wrong_side(
            T(
                "only the exporting side withdraws, records the outcome or answers a request "
                "for information"
            )
        )


def raise_wrong_side(detail: str) -> None:
    raise Conflict(detail)


# ---------------------------------------------------------------- figures


@dataclass(frozen=True)
class Answered:
    """What the figures need of one notification (both nodes hold the same values)."""

    exporting_node: str
    importing_node: str
    to_agency: str
    substance: str
    created_at: datetime
    respond_by: datetime
    answered_at: datetime | None
    decision: str | None  # the latest


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def _group(rows: Sequence[Answered], now: datetime) -> dict[str, Any]:
    due = [row for row in rows if row.answered_at is not None or row.respond_by < now]
    in_time = [
        row for row in due if row.answered_at is not None and row.answered_at <= row.respond_by
    ]
    waits = sorted(row.answered_at - row.created_at for row in rows if row.answered_at)
    decided = [row for row in rows if row.decision in (Decision.NO_OBJECTION, Decision.OBJECTION)]
    objections = [row for row in decided if row.decision == Decision.OBJECTION]
    p90: float | None = None
    if len(waits) == 1:
        p90 = _hours(waits[0])
    elif waits:
        seconds = [w.total_seconds() for w in waits]
        p90 = round(statistics.quantiles(seconds, n=10, method="inclusive")[-1] / 3600, 2)
    return {
        "notifications": len(rows),
        "answered": len(waits),
        "due": len(due),
        "answered_in_time": len(in_time),
        "share_answered_in_time": round(len(in_time) / len(due), 4) if due else None,
        "median_hours_to_answer": (
            round(statistics.median(w.total_seconds() for w in waits) / 3600, 2) if waits else None
        ),
        "p90_hours_to_answer": p90,
        "objection_rate": round(len(objections) / len(decided), 4) if decided else None,
    }


def figures(rows: Sequence[Answered], node_name: str, now: datetime) -> dict[str, Any]:
    """The figures, the same on both nodes for the same records: per month the flows
    (exporter -> importer) with this node's sent and received, and the answer figures
    overall, per importing node (who answers), per substance and per answering agency."""
    months: dict[str, dict[str, int]] = defaultdict(lambda: {"sent": 0, "received": 0})
    flows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        month = row.created_at.strftime("%Y-%m")
        months[month]["sent" if row.exporting_node == node_name else "received"] += 1
        flows[month][f"{row.exporting_node}->{row.importing_node}"] += 1

    def by(key: str) -> dict[str, Any]:
        groups: dict[str, list[Answered]] = defaultdict(list)
        for row in rows:
            groups[getattr(row, key)].append(row)
        return {name: _group(items, now) for name, items in sorted(groups.items())}

    return {
        "per_month": [
            {"month": month, **months[month], "flows": dict(sorted(flows[month].items()))}
            for month in sorted(months)
        ],
        "overall": _group(rows, now),
        "per_importing_node": by("importing_node"),
        "per_substance": by("substance"),
        "per_counterpart_agency": by("to_agency"),
    }
