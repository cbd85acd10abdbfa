"""Verification cases: the subject's fields, evidence tiers, who may take which step in
which status, protection holds, deadlines per step and per peer. Pure functions.

Sides: the requesting node owns the case; the verifying node is the other one. A step
belongs to one side (`STEP_SIDE`); the side's own node refuses a step of the other side,
and the receiving node refuses it again when it arrives (the same functions run there).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from liaison.config import Settings
from liaison.errors import Conflict, InvalidInput
from liaison.identity import PERSON_FIELDS
from liaison.messages import T, joined
from liaison.services.as_of import parse_date
from liaison.services.hotline.rules import ALLOWED_CONTENT_TYPES, normalized_content_type
from liaison.store.verification_tables import (
    CaseStatus,
    Decision,
    EventKind,
    EvidenceTier,
    Step,
    VerificationCase,
    VerificationEvent,
)
from liaison.text import check_storable_text

MAX_TEXT = 2000
MAX_ITEMS = 50
MAX_REFERENCE = 100


class Side(StrEnum):
    REQUESTING = "requesting"
    VERIFYING = "verifying"


class VerificationNode(Protocol):
    """What the service needs of the local node (a NodeConfig or a LocalNode)."""

    @property
    def name(self) -> str: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def directory(self) -> Path | None: ...


# The REQUESTS columns of liaison.identity, then what a readmission request adds.
TEXT_FIELDS = (*PERSON_FIELDS, "passport_mrz", "school", "work", "criminal_record")
LIST_FIELDS = ("aliases", "parents", "family_members", "past_addresses")
SUBJECT_FIELDS = (*TEXT_FIELDS, *LIST_FIELDS, "documents", "photographs")
# Photographs of the person travel in the subject (base64 in JSON), sealed like the rest of
# it; together small enough for the API's 1 MiB request body (identity photographs are
# tens of kilobytes).
PHOTOGRAPH_TYPES = ("image/jpeg", "image/png")
MAX_PHOTOGRAPHS = 3
MAX_PHOTOGRAPH_BYTES = 600 * 1024  # all of a case's photographs together, decoded

# Readmission agreements tier documents: these prove nationality, the others only start
# a check (a photocopy, a driving licence, a statement).
PROVING_DOCUMENTS = frozenset({"passport", "identity_card", "travel_document"})
STARTING_DOCUMENTS = frozenset(
    {
        "passport_photocopy",
        "identity_card_photocopy",
        "driving_licence",
        "birth_certificate",
        "household_register",
        "statement",
        "other",
    }
)
DOCUMENT_KINDS = tuple(sorted(PROVING_DOCUMENTS | STARTING_DOCUMENTS))
DATE_PATTERN = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")

# Who takes each step, and from which statuses.
STEP_SIDE: Mapping[str, Side] = {
    Step.TRAVEL_DOCUMENT_ISSUED: Side.VERIFYING,
    Step.CONSULAR_INTERVIEW: Side.VERIFYING,
    Step.DEADLINE_EXTENDED: Side.VERIFYING,
    Step.TRAVEL_SCHEDULED: Side.REQUESTING,
    Step.RETURNED: Side.REQUESTING,
    Step.CLOSED: Side.REQUESTING,
    Step.WITHDRAWN: Side.REQUESTING,
    Step.RETURNED_IN_ERROR: Side.VERIFYING,
    Step.INFORMATION_SUPPLIED: Side.REQUESTING,
}
OPEN = (CaseStatus.REQUESTED, CaseStatus.INFORMATION_REQUESTED)
FINAL = (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)
STEP_FROM: Mapping[str, tuple[CaseStatus, ...]] = {
    Step.TRAVEL_DOCUMENT_ISSUED: (CaseStatus.CONFIRMED,),
    Step.CONSULAR_INTERVIEW: OPEN,
    Step.DEADLINE_EXTENDED: OPEN,
    Step.TRAVEL_SCHEDULED: (CaseStatus.TRAVEL_DOCUMENT_ISSUED, CaseStatus.TRAVEL_SCHEDULED),
    Step.RETURNED: (CaseStatus.TRAVEL_SCHEDULED,),
    Step.CLOSED: (CaseStatus.RETURNED, CaseStatus.NOT_CONFIRMED),
    Step.WITHDRAWN: tuple(s for s in CaseStatus if s not in (*FINAL, CaseStatus.RETURNED)),
    # The person was not a national after all: taken back through the same case.
    Step.RETURNED_IN_ERROR: (CaseStatus.RETURNED, CaseStatus.CLOSED),
    Step.INFORMATION_SUPPLIED: (CaseStatus.INFORMATION_REQUESTED,),
}
STEP_TO: Mapping[str, CaseStatus | None] = {
    Step.TRAVEL_DOCUMENT_ISSUED: CaseStatus.TRAVEL_DOCUMENT_ISSUED,
    Step.CONSULAR_INTERVIEW: None,
    Step.DEADLINE_EXTENDED: None,
    Step.TRAVEL_SCHEDULED: CaseStatus.TRAVEL_SCHEDULED,
    Step.RETURNED: CaseStatus.RETURNED,
    Step.CLOSED: CaseStatus.CLOSED,
    Step.WITHDRAWN: CaseStatus.WITHDRAWN,
    Step.RETURNED_IN_ERROR: CaseStatus.NOT_CONFIRMED,
    # Back to matching, with a new deadline to decide.
    Step.INFORMATION_SUPPLIED: CaseStatus.REQUESTED,
}
# What each step must carry (besides an optional `reason`).
STEP_FIELDS: Mapping[str, tuple[str, ...]] = {
    Step.TRAVEL_DOCUMENT_ISSUED: ("number", "valid_until"),
    Step.CONSULAR_INTERVIEW: ("date",),
    Step.DEADLINE_EXTENDED: ("reason",),
    Step.TRAVEL_SCHEDULED: ("date", "flight"),
    Step.RETURNED: ("date", "place"),
    Step.CLOSED: (),
    Step.WITHDRAWN: ("reason",),
    Step.RETURNED_IN_ERROR: ("reason",),
    Step.INFORMATION_SUPPLIED: ("information",),
}
# While a protection hold stands these are refused on both nodes.
HELD_STEPS = frozenset({Step.TRAVEL_DOCUMENT_ISSUED, Step.TRAVEL_SCHEDULED, Step.RETURNED})

# The deadline each status waits on: the step that is due, and the agreement's key.
DUE_AFTER: Mapping[str, str | None] = {
    CaseStatus.REQUESTED: "decision",
    CaseStatus.INFORMATION_REQUESTED: None,  # waits on the requesting side's information
    CaseStatus.CONFIRMED: Step.TRAVEL_DOCUMENT_ISSUED,
    CaseStatus.NOT_CONFIRMED: None,
    CaseStatus.TRAVEL_DOCUMENT_ISSUED: Step.TRAVEL_SCHEDULED,
    CaseStatus.TRAVEL_SCHEDULED: Step.RETURNED,
    CaseStatus.RETURNED: Step.CLOSED,
    CaseStatus.CLOSED: None,
    CaseStatus.WITHDRAWN: None,
}


@dataclass(frozen=True)
class Deadline:
    days: int
    extendable_to: int | None = None  # days, on a reasoned request
    silence_agrees: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "extendable_to": self.extendable_to,
            "silence_agrees": self.silence_agrees,
        }


# When the agreement with a peer says nothing: the usual terms of readmission agreements
# (e.g. 30 days to answer, extendable to 60 on a reasoned request).
DEFAULT_DEADLINES: Mapping[str, Deadline] = {
    "decision": Deadline(30, 60, False),
    Step.TRAVEL_DOCUMENT_ISSUED: Deadline(14),
    Step.TRAVEL_SCHEDULED: Deadline(30),
    Step.RETURNED: Deadline(30),
    Step.CLOSED: Deadline(14),
}
DEADLINE_STEPS = tuple(DEFAULT_DEADLINES)


@dataclass(frozen=True)
class Agreement:
    """The terms with one peer (see store.VerificationAgreement)."""

    deadlines: Mapping[str, Deadline]
    refused_fields: Mapping[str, str]

    def deadline(self, step: str) -> Deadline:
        return self.deadlines.get(step) or DEFAULT_DEADLINES[step]


def parse_agreement(deadlines: str, refused_fields: str) -> Agreement:
    raw = json.loads(deadlines or "{}")
    return Agreement(
        {step: Deadline(**terms) for step, terms in raw.items()},
        dict(json.loads(refused_fields or "{}")),
    )


def check_deadline_terms(step: str, terms: Deadline) -> None:
    if step not in DEADLINE_STEPS:
        raise InvalidInput(
            T(
                "deadline step must be one of %(steps)s",
                steps=", ".join(DEADLINE_STEPS),
            )
        )
    if terms.days < 0 or (terms.extendable_to is not None and terms.extendable_to < terms.days):
        raise InvalidInput(
            T("deadline for %(step)s: days must be >= 0 and extendable_to at least days", step=step)
        )


def check_field_name(name: str) -> None:
    if name not in SUBJECT_FIELDS:
        raise InvalidInput(
            T(
                "field %(name)s is not a subject field; known: %(known)s",
                name=repr(name),
                known=SUBJECT_FIELDS,
            )
        )


# ---------------------------------------------------------------- the subject


def _text(value: Any, where: str, limit: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(T("%(where)s must be text", where=where))
    check_storable_text(value, where)
    text = value.strip()
    if len(text) > limit:
        raise InvalidInput(
            T(
                "%(where)s has %(count)s characters; the limit is %(limit)s",
                where=where,
                count=len(text),
                limit=limit,
            )
        )
    return text


def check_subject(subject: Any) -> dict[str, Any]:
    """The subject cleaned: known fields only, text trimmed, empty ones left out. Refuses
    what is malformed, saying which field."""
    if not isinstance(subject, dict):
        raise InvalidInput(T("subject must be an object"))
    unknown = sorted(set(subject) - set(SUBJECT_FIELDS))
    if unknown:
        raise InvalidInput(
            T(
                "subject has unknown fields %(unknown)s; known: %(known)s",
                unknown=unknown,
                known=list(SUBJECT_FIELDS),
            )
        )
    clean: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = _text(subject.get(name), f"subject.{name}")
        if value:
            clean[name] = value
    if clean.get("sex", "M") not in ("M", "F"):
        raise InvalidInput(T("subject.sex must be M, F or empty"))
    if "date_of_birth" in clean and not DATE_PATTERN.match(clean["date_of_birth"]):
        raise InvalidInput(T("subject.date_of_birth must be YYYY-MM-DD, YYYY-MM or YYYY"))
    for name in LIST_FIELDS:
        items = subject.get(name) or []
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise InvalidInput(
                T(
                    "subject.%(name)s must be a list of at most %(max_items)s items",
                    name=name,
                    max_items=MAX_ITEMS,
                )
            )
        values = [_text(item, f"subject.{name}[{i}]") for i, item in enumerate(items)]
        if any(values):
            clean[name] = [v for v in values if v]
    documents = subject.get("documents") or []
    if not isinstance(documents, list) or len(documents) > MAX_ITEMS:
        raise InvalidInput(
            T(
                "subject.documents must be a list of at most %(max_items)s items",
                max_items=MAX_ITEMS,
            )
        )
    if documents:
        clean["documents"] = [_document(d, i) for i, d in enumerate(documents)]
    photographs = subject.get("photographs") or []
    if not isinstance(photographs, list) or len(photographs) > MAX_PHOTOGRAPHS:
        raise InvalidInput(
            T(
                "subject.photographs must be a list of at most %(max_photographs)s",
                max_photographs=MAX_PHOTOGRAPHS,
            )
        )
    if photographs:
        clean["photographs"] = [_photograph(p, i) for i, p in enumerate(photographs)]
        total = sum(len(photograph_bytes(p)) for p in clean["photographs"])
        if total > MAX_PHOTOGRAPH_BYTES:
            raise InvalidInput(
                T(
                    "subject.photographs have %(total)s bytes together; the limit is "
                    "%(max_photograph_bytes)s",
                    total=total,
                    max_photograph_bytes=MAX_PHOTOGRAPH_BYTES,
                )
            )
    if not any(clean.get(name) for name in (*PERSON_FIELDS, "passport_mrz", "aliases")):
        raise InvalidInput(T("subject must name the person (a name, an identity number or an MRZ)"))
    return clean


def _document(document: Any, index: int) -> dict[str, Any]:
    where = f"subject.documents[{index}]"
    if not isinstance(document, dict):
        raise InvalidInput(T("%(where)s must be an object", where=where))
    kind = document.get("kind")
    if kind not in DOCUMENT_KINDS:
        raise InvalidInput(
            T(
                "%(where)s.kind must be one of %(kinds)s",
                where=where,
                kinds=", ".join(DOCUMENT_KINDS),
            )
        )
    claim = document.get("protection_claim", False)
    if not isinstance(claim, bool):
        raise InvalidInput(T("%(where)s.protection_claim must be true or false", where=where))
    return {
        "kind": kind,
        "tier": EvidenceTier.PROVING if kind in PROVING_DOCUMENTS else EvidenceTier.STARTING,
        "number": _text(document.get("number"), f"{where}.number", 100),
        "description": _text(document.get("description"), f"{where}.description"),
        "protection_claim": claim,
    }


def check_supplement(data: Mapping[str, str]) -> dict[str, str]:
    """The subject's text fields an information_supplied step carries (besides its
    `information`), checked as the subject's are; refuses any other field."""
    allowed = {"information", "reason", *TEXT_FIELDS}
    unknown = sorted(name for name, value in data.items() if value and name not in allowed)
    if unknown:
        raise InvalidInput(
            T(
                "information_supplied carries `information` and subject fields only, "
                "not %(unknown)s",
                unknown=unknown,
            )
        )
    fields = {
        name: _text(value, f"subject.{name}")
        for name, value in data.items()
        if name in TEXT_FIELDS and str(value or "").strip()
    }
    if fields.get("sex", "M") not in ("M", "F"):
        raise InvalidInput(T("subject.sex must be M, F or empty"))
    if "date_of_birth" in fields and not DATE_PATTERN.match(fields["date_of_birth"]):
        raise InvalidInput(T("subject.date_of_birth must be YYYY-MM-DD, YYYY-MM or YYYY"))
    return fields


def supplemented(
    subject: Mapping[str, Any], data: Mapping[str, str], agreement: Agreement, peer: str
) -> dict[str, Any]:
    """The subject with the supplied fields in place of what it had; refuses a field the law
    forbids sharing with that peer, as at the opening."""
    fields = check_supplement(data)
    refused = refused_fields(fields, agreement)
    if refused:
        raise InvalidInput(
            joined(
                T(
                    "subject.%(field)s may not be shared with %(peer)s: %(why)s",
                    field=field,
                    peer=peer,
                    why=why,
                )
                for field, why in refused.items()
            )
        )
    return {**subject, **fields}


def _photograph(photograph: Any, index: int) -> dict[str, str]:
    where = f"subject.photographs[{index}]"
    if not isinstance(photograph, dict) or set(photograph) - {"content_type", "data"}:
        raise InvalidInput(
            T("%(where)s must be an object with content_type and data (base64)", where=where)
        )
    content_type = normalized_content_type(str(photograph.get("content_type") or ""))
    if content_type not in PHOTOGRAPH_TYPES:
        raise InvalidInput(
            T(
                "%(where)s.content_type must be one of %(types)s",
                where=where,
                types=", ".join(PHOTOGRAPH_TYPES),
            )
        )
    data = photograph.get("data")
    try:
        content = base64.b64decode(data if isinstance(data, str) else "", validate=True)
    except binascii.Error as error:
        raise InvalidInput(T("%(where)s.data is not base64", where=where)) from error
    if not content.startswith(ALLOWED_CONTENT_TYPES[content_type]):
        raise InvalidInput(
            T(
                "%(where)s does not look like %(content_type)s",
                where=where,
                content_type=content_type,
            )
        )
    return {"content_type": content_type, "data": base64.b64encode(content).decode("ascii")}


def photograph_bytes(photograph: Mapping[str, str]) -> bytes:
    return base64.b64decode(photograph["data"])


def without_photographs(subject: Mapping[str, Any]) -> dict[str, Any]:
    """The subject as lists and pages show it: each photograph by its type and size only
    (the image itself is read on its own, audited)."""
    shown = dict(subject)
    if "photographs" in shown:
        shown["photographs"] = [
            {"content_type": p["content_type"], "bytes": len(photograph_bytes(p))}
            for p in shown["photographs"]
        ]
    return shown


def evidence_tier(subject: Mapping[str, Any]) -> EvidenceTier:
    tiers = {d["tier"] for d in subject.get("documents", [])}
    if EvidenceTier.PROVING in tiers:
        return EvidenceTier.PROVING
    return EvidenceTier.STARTING if tiers else EvidenceTier.NONE


def has_protection_claim(subject: Mapping[str, Any]) -> bool:
    return any(d["protection_claim"] for d in subject.get("documents", []))


def refused_fields(subject: Mapping[str, Any], agreement: Agreement) -> dict[str, str]:
    """The subject's fields the law forbids sharing with this peer, with why."""
    return {f: why for f, why in agreement.refused_fields.items() if subject.get(f)}


def check_reference(value: str) -> str:
    value = _text(value, "reference", MAX_REFERENCE)
    if not value:
        raise InvalidInput(T("reference must not be empty"))
    return value


def check_reason(value: Any, what: str = "reason") -> str:
    text = _text(value, what)
    if not text:
        raise InvalidInput(T("%(what)s must not be empty: say why", what=what))
    return text


# ---------------------------------------------------------------- who does what


def side_of(case: VerificationCase, node_name: str) -> Side:
    return Side.REQUESTING if case.owner_node == node_name else Side.VERIFYING


def author_side(case: VerificationCase, author_node: str) -> Side:
    return Side.REQUESTING if author_node == case.owner_node else Side.VERIFYING


def standing_holds(events: Iterable[VerificationEvent]) -> list[VerificationEvent]:
    events = list(events)
    lifted = {e.target for e in events if e.kind == EventKind.LIFT}
    return [e for e in events if e.kind == EventKind.HOLD and e.global_id not in lifted]


def check_decision(case: VerificationCase, side: Side, data: Mapping[str, Any]) -> CaseStatus:
    """The status a decision leads to, or Conflict saying why it cannot be taken."""
    if side is not Side.VERIFYING:
        raise Conflict(T("only the verifying side decides a case"))
    if case.status not in OPEN:
        raise Conflict(
            T("the case is %(status)s; only an open case is decided", status=case.status)
        )
    decision = data.get("decision")
    if decision not in tuple(Decision):
        raise InvalidInput(T("decision must be one of %(decision)s", decision=", ".join(Decision)))
    if decision == Decision.CONFIRMED and not data.get("person_id"):
        raise InvalidInput(T("a confirmed decision names the registry person (person_id)"))
    if decision != Decision.CONFIRMED and data.get("person_id"):
        raise InvalidInput(T("person_id is given only with a confirmed decision"))
    check_reason(data.get("reason"))
    return CaseStatus(decision)


def check_step(
    case: VerificationCase,
    side: Side,
    step: str,
    data: Mapping[str, Any],
    holds: Sequence[VerificationEvent],
) -> CaseStatus | None:
    """The status a step leads to (None: unchanged), or an error saying why not."""
    if step not in STEP_SIDE:
        raise InvalidInput(T("step must be one of %(steps)s", steps=", ".join(STEP_SIDE)))
    if STEP_SIDE[step] is not side:
        raise Conflict(
            T(
                "%(step)s is a step of the %(owner)s side, not of the %(side)s side",
                step=step,
                owner=STEP_SIDE[step],
                side=side,
            )
        )
    if step in HELD_STEPS and holds:
        kinds = ", ".join(sorted({h.name for h in holds}))
        raise Conflict(
            T(
                "%(step)s is refused: a protection hold stands (%(kinds)s); a "
                "supervisor must lift it with a reason first",
                step=step,
                kinds=kinds,
            )
        )
    if case.status not in STEP_FROM[step]:
        allowed = ", ".join(STEP_FROM[step])
        raise Conflict(
            T(
                "%(step)s cannot follow status %(status)s (only after: %(allowed)s)",
                step=step,
                status=case.status,
                allowed=allowed,
            )
        )
    for name in STEP_FIELDS[step]:
        if not data.get(name):
            raise InvalidInput(T("%(step)s needs %(name)s", step=step, name=name))
    for name in ("valid_until", "date"):
        if data.get(name):
            parse_date(data[name], name)
    if step == Step.INFORMATION_SUPPLIED:
        _text(data["information"], "information")
        check_supplement(data)
    if step == Step.DEADLINE_EXTENDED and any(
        e.kind == EventKind.STEP and e.name == Step.DEADLINE_EXTENDED for e in case.events
    ):
        raise Conflict(T("the deadline to decide was already extended once"))
    return STEP_TO[step]


# ---------------------------------------------------------------- deadlines


def next_due(
    status: str, agreement: Agreement, now: datetime
) -> tuple[str | None, datetime | None]:
    step = DUE_AFTER.get(status)
    if step is None:
        return None, None
    return step, now + timedelta(days=agreement.deadline(step).days)


def extended_due(case: VerificationCase, agreement: Agreement) -> datetime | None:
    terms = agreement.deadline("decision")
    if terms.extendable_to is None:
        raise Conflict(T("the agreement with this peer allows no extension of the deadline"))
    return case.created_at + timedelta(days=terms.extendable_to)


def is_overdue(case: VerificationCase, now: datetime) -> bool:
    return case.due_at is not None and case.due_at < now and case.status not in FINAL


def silence_counts(case: VerificationCase, now: datetime) -> bool:
    """Past the deadline to decide, with no decision, where silence counts as agreement."""
    return case.silence_agrees and case.due_step == "decision" and is_overdue(case, now)


# ---------------------------------------------------------------- statistics


@dataclass(frozen=True)
class StepTimes:
    step: str
    count: int
    median_days: float
    p90_days: float


def step_times(durations: Mapping[str, list[timedelta]]) -> list[StepTimes]:
    """Median and 90th percentile time each step took, from the event before it."""
    result = []
    for step, values in sorted(durations.items()):
        days = sorted(v.total_seconds() / 86400 for v in values)
        p90 = statistics.quantiles(days, n=10, method="inclusive")[-1] if len(days) > 1 else days[0]
        result.append(StepTimes(step, len(days), statistics.median(days), p90))
    return result
