"""Writing incidents: report one (identifying each item), add a follow-up, import a CSV,
keep the focal points.

Each command validates, writes, queues the record for the peers in the same transaction
(outbox) and audits; the caller commits.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.audit import (
    Actor,
    FocalPointsSet,
    FollowUpPosted,
    IncidentReported,
    IncidentRevised,
    IncidentsImported,
    record,
)
from liaison.chem.models import Identification
from liaison.config import Settings
from liaison.errors import Conflict, Forbidden, InvalidInput, NotFound
from liaison.federation import outbox
from liaison.federation.peers import active_peer
from liaison.federation.records import ProtocolViolation
from liaison.messages import T
from liaison.services.entities import (
    Entity,
    EntityInput,
    checked_entities,
    entity_wire,
    mention,
)
from liaison.services.hotline import MAX_ATTACHMENTS, AttachmentUpload, check_attachment
from liaison.services.hotline.records import AttachmentPayload, uploaded
from liaison.services.hotline.rules import check_choice, check_text
from liaison.services.incidents.queries import visible_incident
from liaison.services.incidents.records import (
    FOLLOW_UP,
    INCIDENT,
    REVISABLE,
    REVISABLE_FIELDS,
    REVISION,
    FollowUpPayload,
    IncidentPayload,
    ItemPayload,
    RevisionPayload,
    apply_revision,
    insert_incidents,
    store_incident,
)
from liaison.services.incidents.rules import (
    MAX_ITEMS,
    MAX_NARRATIVE,
    check_country,
    check_plain,
    parse_route,
    to_grams,
)
from liaison.services.incidents.summary import summarize_new
from liaison.services.substances import MAX_QUERIES_PER_REQUEST, identify_queries
from liaison.store.accounts import Agency, User
from liaison.store.base import utcnow
from liaison.store.federation_tables import Peer
from liaison.store.incident_tables import (
    ACCURACIES,
    CONVEYANCES,
    FOLLOW_UP_STATUSES,
    FORMS,
    HANDLING_CODES,
    INCIDENT_KINDS,
    RELIABILITIES,
    UNITS,
    FocalPoint,
    HandlingCode,
    Incident,
    IncidentAlert,
    IncidentAttachment,
    IncidentFollowUp,
    IncidentShare,
)

MAX_BODY = 20_000
MAX_IMPORT_BYTES = 50 * 1024 * 1024
IMPORT_PART = 1000  # incidents per insert and per audit entry of an import


@dataclass(frozen=True)
class ItemInput:
    substance: str
    quantity: float
    unit: str
    purity_percent: float | None = None
    form: str | None = None
    packaging: str = ""


@dataclass(frozen=True)
class IncidentInput:
    kind: str
    occurred_on: date
    country: str
    conveyance: str = "other"
    place: str = ""
    port_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    route: Sequence[str] | str = ()
    narrative: str = ""
    items: Sequence[ItemInput] = ()
    entities: Sequence[EntityInput] = ()
    share_with: Sequence[str] = ()
    urgent: bool = False
    handling_code: str = HandlingCode.NONE
    source_reliability: str | None = None
    information_accuracy: str | None = None
    attachments: Sequence[AttachmentUpload] = ()


def check_attachments(uploads: Sequence[AttachmentUpload], settings: Settings | None) -> None:
    """The hotline's rules: how many, how large, which types, and that the bytes are what
    the type says."""
    if len(uploads) > MAX_ATTACHMENTS:
        raise InvalidInput(
            T(
                "attachments: at most %(max_attachments)s (got %(count)s)",
                max_attachments=MAX_ATTACHMENTS,
                count=len(uploads),
            )
        )
    for upload in uploads:
        check_attachment(upload, settings or Settings())


def _check_item(item: ItemInput, index: int) -> None:
    where = f"items[{index}]"
    check_choice(item.unit, UNITS, f"{where}.unit")
    if item.form is not None:
        check_choice(item.form, FORMS, f"{where}.form")
    if not item.quantity > 0:
        raise InvalidInput(
            T(
                "%(where)s.quantity must be above 0 (got %(quantity)s)",
                where=where,
                quantity=item.quantity,
            )
        )
    if item.purity_percent is not None and not 0 < item.purity_percent <= 100:
        raise InvalidInput(
            T("%(where)s.purity_percent must be above 0 and at most 100", where=where)
        )
    check_plain(item.substance, f"{where}.substance", 2000)
    if not item.substance.strip():
        raise InvalidInput(T("%(where)s.substance must not be empty", where=where))
    check_plain(item.packaging, f"{where}.packaging", 200)


def check_incident(given: IncidentInput) -> IncidentInput:
    """Refuse an incident that breaks a rule, naming the field; nothing is identified yet."""
    check_choice(given.kind, INCIDENT_KINDS, "kind")
    check_choice(given.conveyance, CONVEYANCES, "conveyance")
    check_choice(given.handling_code, HANDLING_CODES, "handling_code")
    if given.source_reliability is not None:
        check_choice(given.source_reliability, RELIABILITIES, "source_reliability")
    if given.information_accuracy is not None:
        check_choice(given.information_accuracy, ACCURACIES, "information_accuracy")
    if not 1 <= len(given.items) <= MAX_ITEMS:
        raise InvalidInput(
            T(
                "items: give 1 to %(max_items)s items (got %(count)s)",
                max_items=MAX_ITEMS,
                count=len(given.items),
            )
        )
    for index, item in enumerate(given.items):
        _check_item(item, index)
    if given.latitude is not None and not -90 <= given.latitude <= 90:
        raise InvalidInput(T("latitude must be between -90 and 90"))
    if given.longitude is not None and not -180 <= given.longitude <= 180:
        raise InvalidInput(T("longitude must be between -180 and 180"))
    check_country(given.country, "country")
    parse_route(list(given.route) if not isinstance(given.route, str) else given.route)
    check_plain(given.narrative, "narrative", MAX_NARRATIVE)
    check_plain(given.place, "place", 200)
    return given


def identify_substances(
    substances: Sequence[str], settings: Settings | None
) -> dict[str, Identification]:
    """The engine's answer on today's rules for each distinct substance, in batches."""
    distinct = list(dict.fromkeys(s.strip() for s in substances))
    found: dict[str, Identification] = {}
    for start in range(0, len(distinct), MAX_QUERIES_PER_REQUEST):
        batch = distinct[start : start + MAX_QUERIES_PER_REQUEST]
        answers = identify_queries(batch, None, None, settings=settings)
        found.update(zip(batch, (a.identification for a in answers), strict=True))
    return found


def item_snapshot(item: ItemInput, found: Identification) -> ItemPayload:
    """The item with the engine's verdicts: the snapshot kept with it (never rewritten)."""
    verdicts = {code: verdict.to_dict() for code, verdict in found.verdicts.items()}
    names = [basis.name for verdict in found.verdicts.values() for basis in verdict.basis]
    substance = item.substance.strip()
    return ItemPayload(
        substance=substance,
        quantity=item.quantity,
        unit=item.unit,
        grams=to_grams(item.quantity, item.unit),
        purity_percent=item.purity_percent,
        form=item.form,
        packaging=item.packaging.strip(),
        verdicts=verdicts,
        as_of=found.as_of or utcnow().date(),
        substance_label=(names[0] if names else substance).casefold()[:200],
        standardized_smiles=found.standardized_smiles,
    )


def _payload(
    node_name: str,
    actor: Actor,
    given: IncidentInput,
    items: Sequence[ItemPayload],
    entities: Sequence[Entity],
) -> IncidentPayload:
    """The record of a checked incident as this node writes and shares it (version 1)."""
    route = parse_route(list(given.route) if not isinstance(given.route, str) else given.route)
    return IncidentPayload(
        global_id=str(uuid.uuid4()),
        owner_node=node_name,
        created_at=utcnow(),
        version=1,
        kind=given.kind,
        occurred_on=given.occurred_on,
        reporting_agency=actor.agency or "",
        created_by=actor.name,
        country=check_country(given.country, "country"),
        place=given.place.strip(),
        port_code=(given.port_code or "").strip().upper() or None,
        latitude=given.latitude,
        longitude=given.longitude,
        conveyance=given.conveyance,
        route=">".join(route),
        narrative=given.narrative.strip(),
        urgent=given.urgent,
        handling_code=given.handling_code,
        source_reliability=given.source_reliability,
        information_accuracy=given.information_accuracy,
        items=tuple(items),
        entities=tuple(entities),
    )


def _write_incident(
    session: Session,
    node_name: str,
    actor: Actor,
    given: IncidentInput,
    items: Sequence[ItemPayload],
    peers: Sequence[Peer],
) -> Incident:
    entities = checked_entities(given.entities)
    incident = store_incident(
        session,
        _payload(node_name, actor, given, items, entities),
        [IncidentAttachment(**uploaded(a)) for a in given.attachments],
    )
    incident.shares = [IncidentShare(peer_id=peer.id) for peer in peers]
    if peers:
        wire = IncidentPayload.of(incident, entities).to_payload()
        for peer in peers:
            outbox.share(session, peer, INCIDENT.name, wire)
    record(
        session,
        actor,
        IncidentReported(
            record_id=incident.global_id,
            kind=incident.kind,
            items=len(items),
            entities=len(entities),
            shared_with=[peer.name for peer in peers],
            handling_code=incident.handling_code,
        ),
    )
    return incident


def report_incidents(
    session: Session,
    node_name: str,
    actor: Actor,
    givens: Sequence[IncidentInput],
    settings: Settings | None = None,
) -> list[Incident]:
    """Write incidents, each item with its verdict snapshot (every distinct substance is
    identified once), and queue each for the peers in its `share_with`; the caller
    commits. One bad incident refuses them all: check them first where that matters."""
    if not actor.agency:
        raise Forbidden(T("only users of an agency can report incidents"))
    for given in givens:
        check_incident(given)
        checked_entities(given.entities)
        check_attachments(given.attachments, settings)
    peers = {name: active_peer(session, name) for g in givens for name in g.share_with}
    found = identify_substances([i.substance for g in givens for i in g.items], settings)
    written = [
        _write_incident(
            session,
            node_name,
            actor,
            given,
            [item_snapshot(item, found[item.substance.strip()]) for item in given.items],
            [peers[name] for name in dict.fromkeys(given.share_with)],
        )
        for given in givens
    ]
    summarize_new(session, written)
    return written


def report_incident(
    session: Session,
    node_name: str,
    actor: Actor,
    given: IncidentInput,
    settings: Settings | None = None,
) -> Incident:
    """Write one incident (see `report_incidents`); the caller commits."""
    [incident] = report_incidents(session, node_name, actor, [given], settings)
    return incident


def post_follow_up(
    session: Session,
    node_name: str,
    actor: Actor,
    incident_id: int,
    body: str,
    *,
    status: str | None = None,
    entities: Sequence[EntityInput] = (),
    attachments: Sequence[AttachmentUpload] = (),
    settings: Settings | None = None,
) -> IncidentFollowUp:
    """Add a follow-up to an incident, with its attachments; it travels to the other
    side(s). The caller commits."""
    incident = visible_incident(session, incident_id)
    if status is not None:
        check_choice(status, FOLLOW_UP_STATUSES, "status")
    body = check_text(body, "body", MAX_BODY)
    if not actor.agency:
        raise Forbidden(T("only users of an agency can write follow-ups"))
    found = checked_entities(entities)
    check_attachments(attachments, settings)
    peers = [session.get(Peer, share.peer_id) for share in incident.shares]
    if incident.owner_node != node_name and not peers:
        raise Conflict(T("this incident came from no known peer"))
    follow_up = IncidentFollowUp(
        incident_id=incident.id,
        owner_node=node_name,
        author=actor.name,
        author_agency=actor.agency,
        body=body,
        status=status,
        attachments=[IncidentAttachment(**uploaded(a)) for a in attachments],
    )
    session.add(follow_up)
    session.flush()
    session.add_all(mention(e, follow_up_id=follow_up.id) for e in found)
    session.refresh(follow_up, ["incident"])
    wire = FollowUpPayload.of(follow_up, found).to_payload()
    for peer in peers:
        if peer is not None:
            outbox.share(session, peer, FOLLOW_UP.name, wire)
    record(
        session,
        actor,
        FollowUpPosted(
            record_id=follow_up.global_id,
            incident=incident.global_id,
            status=status,
            entities=len(found),
        ),
    )
    return follow_up


def revise_incident(
    session: Session,
    node_name: str,
    actor: Actor,
    incident_id: int,
    changes: dict[str, Any],
    *,
    items: Sequence[ItemInput] | None = None,
    entities: Sequence[EntityInput] | None = None,
    attachments: Sequence[AttachmentUpload] = (),
    settings: Settings | None = None,
) -> Incident:
    """Edit this node's incident as a new version: the replaced values are kept, and the
    revision travels to the peers it is shared with. `changes` names header fields;
    `items` replace the items (each identified again, with today's verdict snapshot) and
    `entities` the entities; `attachments` are added. Only users of the reporting agency
    may; the caller commits."""
    incident = visible_incident(session, incident_id)
    if incident.owner_node != node_name:
        raise Forbidden(T("only the node that reported an incident edits it; add a follow-up"))
    if actor.agency != incident.reporting_agency:
        raise Forbidden(
            T(
                "only users of %(reporting_agency)s edit this incident",
                reporting_agency=repr(incident.reporting_agency),
            )
        )
    wire = {name: value for name, value in changes.items() if name in REVISABLE_FIELDS}
    if len(wire) != len(changes) or not (
        wire or items is not None or entities is not None or attachments
    ):
        raise InvalidInput(
            T(
                "changes: give some of %(revisable)s (and nothing else)",
                revisable=", ".join(REVISABLE),
            )
        )
    if items is not None:
        if not 1 <= len(items) <= MAX_ITEMS:
            raise InvalidInput(
                T(
                    "items: give 1 to %(max_items)s items (got %(count)s)",
                    max_items=MAX_ITEMS,
                    count=len(items),
                )
            )
        for index, item in enumerate(items):
            _check_item(item, index)
        found = identify_substances([item.substance for item in items], settings)
        wire["items"] = [
            item_snapshot(item, found[item.substance.strip()]).to_payload() for item in items
        ]
    if entities is not None:
        wire["entities"] = entity_wire(checked_entities(entities))
    if attachments:
        if len(incident.attachments) + len(attachments) > MAX_ATTACHMENTS:
            raise InvalidInput(
                T(
                    "attachments: at most %(most)s in all (it has %(has)s, %(given)s given)",
                    most=MAX_ATTACHMENTS,
                    has=len(incident.attachments),
                    given=len(attachments),
                )
            )
        check_attachments(attachments, settings)
        wire["attachments_added"] = [
            AttachmentPayload(
                **{k: v for k, v in uploaded(a).items() if k != "verified"}
            ).to_payload()
            for a in attachments
        ]
    if "route" in wire:
        wire["route"] = ">".join(parse_route(wire["route"]))
    if isinstance(wire.get("occurred_on"), date):
        wire["occurred_on"] = wire["occurred_on"].isoformat()
    for name, choices in (
        ("kind", INCIDENT_KINDS),
        ("conveyance", CONVEYANCES),
        ("handling_code", HANDLING_CODES),
    ):
        if name in wire:
            check_choice(wire[name], choices, name)
    if "narrative" in wire:
        wire["narrative"] = check_plain(str(wire["narrative"]), "narrative", MAX_NARRATIVE)
    try:
        payload = RevisionPayload.from_payload(
            RevisionPayload(
                str(uuid.uuid4()),
                node_name,
                utcnow(),
                incident.global_id,
                incident.version + 1,
                actor.name,
                wire,
            ).to_payload()
        )
    except ProtocolViolation as error:
        raise InvalidInput(str(error)) from error
    apply_revision(session, incident, payload, settings or Settings())
    for share in incident.shares:
        peer = session.get(Peer, share.peer_id)
        if peer is not None:
            outbox.share(session, peer, REVISION.name, payload.to_payload())
    record(
        session,
        actor,
        IncidentRevised(record_id=incident.global_id, version=payload.version, fields=sorted(wire)),
    )
    return incident


def set_focal_points(session: Session, actor: Actor, agency: str, usernames: Sequence[str]) -> None:
    """Replace the agency's focal points (told when an urgent incident arrives); the
    caller commits."""
    names = list(dict.fromkeys(name.strip() for name in usernames if name.strip()))
    known = set(
        session.execute(
            sa.select(User.username)
            .join(Agency, Agency.id == User.agency_id)
            .where(Agency.name == agency, User.username.in_(names))
        ).scalars()
    )
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidInput(
            T(
                "not users of the agency %(agency)s: %(unknown)s",
                agency=repr(agency),
                unknown=", ".join(unknown),
            )
        )
    session.execute(sa.delete(FocalPoint).where(FocalPoint.agency == agency))
    session.add_all(FocalPoint(agency=agency, username=name) for name in names)
    record(session, actor, FocalPointsSet(record_id=agency, usernames=names))


def mark_alert_seen(session: Session, username: str, alert_id: int) -> None:
    alert = session.get(IncidentAlert, alert_id)
    if alert is None or alert.username != username:
        raise NotFound(T("no alert %(alert_id)s for you", alert_id=alert_id))
    if alert.seen_at is None:
        alert.seen_at = utcnow()


# ---------------------------------------------------------------- CSV import

REQUIRED_COLUMNS = ("reference", "kind", "occurred_on", "country", "substance", "quantity", "unit")
OPTIONAL_COLUMNS = (
    "place",
    "conveyance",
    "route",
    "narrative",
    "purity_percent",
    "form",
    "packaging",
)


@dataclass
class ImportResult:
    imported: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def _number(text: str, column: str) -> float:
    try:
        return float(text)
    except ValueError as error:
        raise InvalidInput(
            T("%(column)s: %(text)s is not a number", column=column, text=repr(text))
        ) from error


def _row_input(row: dict[str, str]) -> tuple[IncidentInput, ItemInput]:
    for column in REQUIRED_COLUMNS:
        if not row.get(column, "").strip():
            raise InvalidInput(T("%(column)s: required", column=column))
    try:
        occurred_on = date.fromisoformat(row["occurred_on"].strip())
    except ValueError as error:
        raise InvalidInput(
            T(
                "occurred_on: %(occurred_on)s is not a date (YYYY-MM-DD)",
                occurred_on=repr(row["occurred_on"]),
            )
        ) from error
    purity = row.get("purity_percent", "").strip()
    item = ItemInput(
        substance=row["substance"].strip(),
        quantity=_number(row["quantity"].strip(), "quantity"),
        unit=row["unit"].strip(),
        purity_percent=_number(purity, "purity_percent") if purity else None,
        form=row.get("form", "").strip() or None,
        packaging=row.get("packaging", "").strip(),
    )
    given = IncidentInput(
        kind=row["kind"].strip(),
        occurred_on=occurred_on,
        country=row["country"].strip(),
        conveyance=row.get("conveyance", "").strip() or "other",
        place=row.get("place", "").strip(),
        route=row.get("route", "").strip(),
        narrative=row.get("narrative", "").strip(),
        items=(item,),
    )
    check_incident(given)
    return given, item


def import_csv(
    session: Session,
    node_name: str,
    actor: Actor,
    filename: str,
    content: bytes,
    settings: Settings | None = None,
) -> ImportResult:
    """Store the incidents of a CSV (one row per item; rows of one incident share a
    `reference`). A bad row is reported by its spreadsheet row number and skipped; an
    incident whose first row is bad is skipped with all its rows. Nothing stored
    changes. Imported incidents are not shared (share them one by one)."""
    if not actor.agency:
        raise Forbidden(T("only users of an agency can import incidents"))
    if len(content) > MAX_IMPORT_BYTES:
        raise InvalidInput(
            T(
                "%(filename)s: larger than %(max_import_bytes)s MB",
                filename=filename,
                max_import_bytes=MAX_IMPORT_BYTES // 2**20,
            )
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            T("%(filename)s: not UTF-8 text (%(error)s)", filename=filename, error=str(error))
        ) from error
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InvalidInput(
            T(
                "%(filename)s: the header (row 1) lacks %(missing)s",
                filename=filename,
                missing=", ".join(missing),
            )
        )
    result = ImportResult()
    groups: dict[str, tuple[IncidentInput, list[ItemInput]]] = {}
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "") for k, v in raw.items() if isinstance(v, str)}
        try:
            given, item = _row_input(row)
        except InvalidInput as error:
            result.errors.append({"row": number, "message": error.detail})
            continue
        reference = row["reference"].strip()
        if reference in groups:
            if len(groups[reference][1]) >= MAX_ITEMS:
                result.errors.append(
                    {
                        "row": number,
                        "message": T("reference: more than %(max)s items", max=MAX_ITEMS),
                    }
                )
                continue
            groups[reference][1].append(item)
        else:
            groups[reference] = (given, [item])
    # The rows are checked (no entities, attachments or peers in a CSV): identify each
    # distinct substance once, then write in a few multi-row inserts.
    found = identify_substances(
        [i.substance for _, items in groups.values() for i in items], settings
    )
    written = [
        _payload(
            node_name,
            actor,
            given,
            [item_snapshot(item, found[item.substance.strip()]) for item in items],
            (),
        )
        for given, items in groups.values()
    ]
    for start in range(0, len(written), IMPORT_PART):
        insert_incidents(session, written[start : start + IMPORT_PART])
    summarize_new(session, written)
    result.imported = len(written)
    # One entry per part names every incident it wrote: who imported which file, and the
    # incidents it made, is what an auditor follows; an entry per incident would repeat
    # the file and the person 100,000 times over.
    for part, start in enumerate(range(0, max(len(written), 1), IMPORT_PART), start=1):
        record(
            session,
            actor,
            IncidentsImported(
                filename=filename,
                part=part,
                imported=result.imported,
                errors=len(result.errors),
                incidents=[i.global_id for i in written[start : start + IMPORT_PART]],
            ),
        )
    return result
