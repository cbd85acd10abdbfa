"""The incidents' shared records: payloads, owners, what the peer may do, handlers.

An incident belongs to the node that wrote it and travels, with its items' verdict
snapshots and its entities, to the peers it is shared with (`incident.report`). Those
peers may write follow-ups within it (`PeerMay.REPLY`), which travel back
(`incident.follow_up`); liaison.federation.records checks that before the handlers run.
`RECORD_TYPES` is registered by the runtime (liaison.runtime), not here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.audit import Actor, FollowUpReceived, IncidentReceived, IncidentRevised, record
from liaison.config import Settings
from liaison.federation.context import LocalNode
from liaison.federation.records import (
    PeerMay,
    ProtocolViolation,
    RecordType,
    global_id,
    of_row,
    parse_stamp,
    require,
    wire,
)
from liaison.services.entities import (
    Entity,
    entities_of_payload,
    entity_of,
    entity_wire,
    mention,
    mention_row,
)
from liaison.services.hotline import MAX_ATTACHMENTS
from liaison.services.hotline.records import AttachmentPayload
from liaison.services.incidents.rules import MAX_ITEMS, statuses_of
from liaison.services.incidents.summary import (
    SUMMARIZED_FIELDS,
    adjust_summary,
    contributions,
    summarize_new,
)
from liaison.store.federation_tables import Peer
from liaison.store.incident_tables import (
    CONVEYANCES,
    FOLLOW_UP_STATUSES,
    HANDLING_CODES,
    INCIDENT_KINDS,
    UNITS,
    FocalPoint,
    Incident,
    IncidentAlert,
    IncidentAttachment,
    IncidentEntity,
    IncidentFollowUp,
    IncidentItem,
    IncidentRevision,
    IncidentShare,
)

MAX_NAME = 200
# A minimal valid report, over which one revised field is parsed the report's way.
_DEFAULTS: dict[str, Any] = {
    "global_id": "0",
    "owner_node": "-",
    "created_at": "2000-01-01T00:00:00+00:00",
    "version": 1,
    "kind": "other",
    "occurred_on": "2000-01-01",
    "reporting_agency": "-",
    "created_by": "-",
    "country": "ZZ",
    "conveyance": "other",
    "handling_code": "none",
    "items": [
        {"substance": "-", "quantity": "1", "unit": "g", "verdicts": {}, "as_of": "2000-01-01"}
    ],
}


def _day(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise ProtocolViolation(f"{where} is not an ISO 8601 date: {value!r}") from error


def _choice(data: dict[str, Any], name: str, choices: Sequence[str]) -> str:
    value = require(data, name)
    if value not in choices:
        raise ProtocolViolation(f"unknown {name} {value!r}")
    return str(value)


def _number(value: float | None) -> str | None:
    """A number as the wire carries it: signed canonical JSON has no floats, so a decimal
    string that reads back as the same float."""
    return None if value is None else repr(value)


def _optional_float(data: dict[str, Any], name: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    try:
        number = float(value) if isinstance(value, str | int) and value is not True else None
    except ValueError:
        number = None
    if number is None or not math.isfinite(number) or isinstance(value, bool):
        raise ProtocolViolation(f"{name!r} is not a number")
    return number


# ---------------------------------------------------------------- payloads


@dataclass(frozen=True)
class ItemPayload:
    substance: str
    quantity: float
    unit: str
    grams: float | None
    purity_percent: float | None
    form: str | None
    packaging: str
    verdicts: dict[str, Any]
    as_of: date
    substance_label: str
    standardized_smiles: str | None

    @classmethod
    def of(cls, item: IncidentItem) -> Self:
        return cls(
            item.substance,
            item.quantity,
            item.unit,
            item.grams,
            item.purity_percent,
            item.form,
            item.packaging,
            item.verdicts,
            item.as_of,
            item.substance_label,
            item.standardized_smiles,
        )

    def to_payload(self) -> dict[str, Any]:
        return {
            "substance": self.substance,
            "quantity": _number(self.quantity),
            "unit": self.unit,
            "grams": _number(self.grams),
            "purity_percent": _number(self.purity_percent),
            "form": self.form,
            "packaging": self.packaging,
            "verdicts": self.verdicts,
            "as_of": self.as_of.isoformat(),
            "substance_label": self.substance_label,
            "standardized_smiles": self.standardized_smiles,
        }

    @classmethod
    def from_payload(cls, data: Any, index: int) -> Self:
        if not isinstance(data, dict):
            raise ProtocolViolation(f"items[{index}] must be an object")
        quantity = _optional_float(data, "quantity")
        verdicts = data.get("verdicts")
        if quantity is None or not isinstance(verdicts, dict):
            raise ProtocolViolation(f"items[{index}] needs a quantity and its verdicts")
        smiles = data.get("standardized_smiles")
        return cls(
            substance=str(require(data, "substance"))[:2000],
            quantity=quantity,
            unit=_choice(data, "unit", UNITS),
            grams=_optional_float(data, "grams"),
            purity_percent=_optional_float(data, "purity_percent"),
            form=None if data.get("form") is None else str(data["form"])[:16],
            packaging=str(data.get("packaging") or "")[:200],
            verdicts=verdicts,
            as_of=_day(data.get("as_of"), f"items[{index}].as_of"),
            substance_label=str(data.get("substance_label") or "")[:200],
            standardized_smiles=None if smiles is None else str(smiles),
        )


@dataclass(frozen=True)
class IncidentPayload:
    global_id: str
    owner_node: str
    created_at: datetime
    version: int
    kind: str
    occurred_on: date
    reporting_agency: str
    created_by: str
    country: str
    place: str
    port_code: str | None
    latitude: float | None
    longitude: float | None
    conveyance: str
    route: str
    narrative: str
    urgent: bool
    handling_code: str
    source_reliability: str | None
    information_accuracy: str | None
    items: tuple[ItemPayload, ...]
    entities: tuple[Entity, ...]
    attachments: tuple[AttachmentPayload, ...] = ()

    @property
    def within_id(self) -> None:
        return None

    @classmethod
    def of(cls, incident: Incident, entities: Sequence[Entity]) -> Self:
        payload: Self = of_row(
            cls,
            incident,
            items=tuple(ItemPayload.of(item) for item in incident.items),
            entities=tuple(entities),
            attachments=attachment_payloads(incident.attachments),
        )
        return payload

    def to_payload(self) -> dict[str, Any]:
        return wire(
            self,
            occurred_on=self.occurred_on.isoformat(),
            latitude=_number(self.latitude),
            longitude=_number(self.longitude),
            items=[item.to_payload() for item in self.items],
            entities=entity_wire(self.entities),
            attachments=[a.to_payload() for a in self.attachments],
        )

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        items = data.get("items")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
            raise ProtocolViolation(f"items must be a list of 1 to {MAX_ITEMS}")
        country = str(require(data, "country"))
        if len(country) != 2:
            raise ProtocolViolation(f"country {country!r} is not a two-letter code")
        port = data.get("port_code")
        return cls(
            global_id=global_id(data, "global_id"),
            owner_node=require(data, "owner_node"),
            created_at=parse_stamp(data.get("created_at"), "created_at"),
            version=require(data, "version", int),
            kind=_choice(data, "kind", INCIDENT_KINDS),
            occurred_on=_day(data.get("occurred_on"), "occurred_on"),
            reporting_agency=str(require(data, "reporting_agency"))[:MAX_NAME],
            created_by=str(require(data, "created_by"))[:MAX_NAME],
            country=country,
            place=str(data.get("place") or "")[:200],
            port_code=None if port is None else str(port)[:8],
            latitude=_optional_float(data, "latitude"),
            longitude=_optional_float(data, "longitude"),
            conveyance=_choice(data, "conveyance", CONVEYANCES),
            route=str(data.get("route") or "")[:200],
            narrative=str(data.get("narrative") or ""),
            urgent=data.get("urgent") is True,
            handling_code=_choice(data, "handling_code", HANDLING_CODES),
            source_reliability=_grade(data, "source_reliability"),
            information_accuracy=_grade(data, "information_accuracy"),
            items=tuple(ItemPayload.from_payload(item, i) for i, item in enumerate(items)),
            entities=entities_of_payload(data),
            attachments=attachments_of_payload(data),
        )


def attachment_payloads(rows: Sequence[IncidentAttachment]) -> tuple[AttachmentPayload, ...]:
    return tuple(
        AttachmentPayload(a.filename, a.content_type, a.size, a.sha256, a.content) for a in rows
    )


def attachments_of_payload(data: dict[str, Any]) -> tuple[AttachmentPayload, ...]:
    """The attachments a record carries (none from a peer that sends no such field)."""
    attachments = data.get("attachments", [])
    if not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS:
        raise ProtocolViolation(f"attachments must be a list of at most {MAX_ATTACHMENTS} items")
    return tuple(AttachmentPayload.from_payload(a, i) for i, a in enumerate(attachments))


def _grade(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if value not in ("A", "B", "C", "D", "1", "2", "3", "4"):
        raise ProtocolViolation(f"{name} {value!r} is not a grade")
    return str(value)


@dataclass(frozen=True)
class FollowUpPayload:
    global_id: str
    owner_node: str
    created_at: datetime
    incident: str  # the incident's global id
    author: str
    author_agency: str
    body: str
    status: str | None
    entities: tuple[Entity, ...]
    attachments: tuple[AttachmentPayload, ...] = ()

    @property
    def within_id(self) -> str:
        return self.incident

    @classmethod
    def of(cls, follow_up: IncidentFollowUp, entities: Sequence[Entity]) -> Self:
        payload: Self = of_row(
            cls,
            follow_up,
            incident=follow_up.incident.global_id,
            entities=tuple(entities),
            attachments=attachment_payloads(follow_up.attachments),
        )
        return payload

    def to_payload(self) -> dict[str, Any]:
        return wire(
            self,
            entities=entity_wire(self.entities),
            attachments=[a.to_payload() for a in self.attachments],
        )

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        status = data.get("status")
        if status is not None and status not in FOLLOW_UP_STATUSES:
            raise ProtocolViolation(f"unknown status {status!r}")
        return cls(
            global_id=global_id(data, "global_id"),
            owner_node=require(data, "owner_node"),
            created_at=parse_stamp(data.get("created_at"), "created_at"),
            incident=global_id(data, "incident"),
            author=str(require(data, "author"))[:MAX_NAME],
            author_agency=str(data.get("author_agency") or "")[:MAX_NAME],
            body=str(require(data, "body")),
            status=status,
            entities=entities_of_payload(data),
            attachments=attachments_of_payload(data),
        )


# What an owner may edit (a new version): the header's fields, the items (each with the
# verdict snapshot of the day it was edited) and the entities, each replaced whole, and
# attachments added (none removed: they are evidence already passed on).
REVISABLE_FIELDS = (
    "kind",
    "occurred_on",
    "place",
    "port_code",
    "conveyance",
    "route",
    "narrative",
    "urgent",
    "handling_code",
    "source_reliability",
    "information_accuracy",
)
REVISABLE = (*REVISABLE_FIELDS, "items", "entities", "attachments_added")


def revision_value(name: str, value: Any) -> Any:
    """A revisable field's value as it is stored, checked as the report's own would be."""
    if name == "attachments_added":
        try:
            return attachments_of_payload({"attachments": value})
        except ProtocolViolation as error:
            raise ProtocolViolation(f"changes.{name}: {error}") from error
    data = {**_DEFAULTS, name: value}
    try:
        parsed = IncidentPayload.from_payload(data)
    except ProtocolViolation as error:
        raise ProtocolViolation(f"changes.{name}: {error}") from error
    return getattr(parsed, name)


@dataclass(frozen=True)
class RevisionPayload:
    global_id: str
    owner_node: str
    created_at: datetime
    incident: str  # the incident's global id
    version: int  # the version this revision makes
    changed_by: str
    changes: dict[str, Any]  # field -> new value, in wire form

    @property
    def within_id(self) -> str:
        return self.incident

    def to_payload(self) -> dict[str, Any]:
        return wire(self)

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        changes = data.get("changes")
        if not isinstance(changes, dict) or not changes or set(changes) - set(REVISABLE):
            raise ProtocolViolation(f"changes must name some of {', '.join(REVISABLE)}")
        for name, value in changes.items():
            revision_value(name, value)
        return cls(
            global_id=global_id(data, "global_id"),
            owner_node=require(data, "owner_node"),
            created_at=parse_stamp(data.get("created_at"), "created_at"),
            incident=global_id(data, "incident"),
            version=require(data, "version", int),
            changed_by=str(require(data, "changed_by"))[:MAX_NAME],
            changes=changes,
        )


def current_value(incident: Incident, name: str) -> Any:
    """A revisable field's value now, in the form a revision carries it."""
    if name == "attachments_added":
        return []  # none of them was there before
    if name == "items":
        return [ItemPayload.of(item).to_payload() for item in incident.items]
    if name == "entities":
        return entity_wire([entity_of(row) for row in incident.entities])
    value = getattr(incident, name)
    return value.isoformat() if isinstance(value, date) else value


def stored_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """The changes as the revision row keeps them: an added attachment's bytes are in its
    attachment row, so here only its name, type, size and digest."""
    if "attachments_added" not in changes:
        return changes
    added = [{k: v for k, v in a.items() if k != "content"} for a in changes["attachments_added"]]
    return {**changes, "attachments_added": added}


def apply_revision(
    session: Session, incident: Incident, payload: RevisionPayload, settings: Settings
) -> None:
    """Keep the values the revision replaces and apply it; the version moves on by one.
    Added attachments are checked as a peer's are (`settings`: this node's limits)."""
    if payload.version != incident.version + 1:
        raise ProtocolViolation(
            f"revision makes version {payload.version}; the incident is at {incident.version}"
        )
    previous = {name: current_value(incident, name) for name in payload.changes}
    before = contributions(incident)
    for name, value in payload.changes.items():
        parsed = revision_value(name, value)
        if name == "items":
            # The replaced items (with their snapshots) are kept in the revision's `previous`.
            for replaced_item in incident.items:
                session.delete(replaced_item)
            incident.items = [IncidentItem(**item_row(item, i)) for i, item in enumerate(parsed)]
        elif name == "attachments_added":
            if len(incident.attachments) + len(parsed) > MAX_ATTACHMENTS:
                raise ProtocolViolation(f"an incident has at most {MAX_ATTACHMENTS} attachments")
            incident.attachments.extend(IncidentAttachment(**a.received(settings)) for a in parsed)
        elif name == "entities":
            for replaced_mention in incident.entities:
                session.delete(replaced_mention)
            incident.entities = [mention(entity) for entity in parsed]
        else:
            setattr(incident, name, parsed)
    if SUMMARIZED_FIELDS & set(payload.changes):
        adjust_summary(session, added=[contributions(incident)], removed=[before])
    incident.version = payload.version
    session.add(
        IncidentRevision(
            global_id=payload.global_id,
            owner_node=payload.owner_node,
            created_at=payload.created_at,
            incident_id=incident.id,
            version=payload.version,
            changed_by=payload.changed_by,
            previous=previous,
            changes=stored_changes(payload.changes),
        )
    )


# ---------------------------------------------------------------- handlers


def incident_row(payload: IncidentPayload) -> dict[str, Any]:
    """The `incidents` row of a payload (its columns by name)."""
    return {
        "global_id": payload.global_id,
        "owner_node": payload.owner_node,
        "created_at": payload.created_at,
        "version": payload.version,
        "kind": payload.kind,
        "occurred_on": payload.occurred_on,
        "reporting_agency": payload.reporting_agency,
        "created_by": payload.created_by,
        "country": payload.country,
        "place": payload.place,
        "port_code": payload.port_code,
        "latitude": payload.latitude,
        "longitude": payload.longitude,
        "conveyance": payload.conveyance,
        "route": payload.route,
        "narrative": payload.narrative,
        "urgent": payload.urgent,
        "handling_code": payload.handling_code,
        "source_reliability": payload.source_reliability,
        "information_accuracy": payload.information_accuracy,
    }


def item_row(item: ItemPayload, position: int) -> dict[str, Any]:
    """The `incident_items` row of an item (without its incident)."""
    return {
        "position": position,
        "substance": item.substance,
        "quantity": item.quantity,
        "unit": item.unit,
        "grams": item.grams,
        "purity_percent": item.purity_percent,
        "form": item.form,
        "packaging": item.packaging,
        "verdicts": item.verdicts,
        "as_of": item.as_of,
        "statuses": statuses_of(item.verdicts),
        "substance_label": item.substance_label,
        "standardized_smiles": item.standardized_smiles,
    }


def store_incident(
    session: Session, payload: IncidentPayload, attachments: Sequence[IncidentAttachment]
) -> Incident:
    """Write the incident, its items, entity mentions and `attachments` (the rows for the
    payload's: an upload's here, or what arrived from the peer, checked)."""
    incident = Incident(**incident_row(payload))
    incident.items = [
        IncidentItem(**item_row(item, position)) for position, item in enumerate(payload.items)
    ]
    incident.entities = [mention(e) for e in payload.entities]
    incident.attachments = list(attachments)
    session.add(incident)
    return incident


def insert_incidents(session: Session, payloads: Sequence[IncidentPayload]) -> list[int]:
    """Write many incidents without attachments (an import) as a few multi-row inserts
    instead of one object graph each; their row ids, in order. The rows are those of
    `store_incident`."""
    # render_nulls: rows that differ only in which values are None stay one statement
    # (else the ORM splits the batch wherever that changes). Ids are matched by global id:
    # asking for them in parameter order makes SQLite insert one row per statement.
    inserted = session.execute(
        sa.insert(Incident)
        .returning(Incident.global_id, Incident.id)
        .execution_options(render_nulls=True),
        [incident_row(payload) for payload in payloads],
    )
    id_of = {global_id: row_id for global_id, row_id in inserted}
    ids = [id_of[payload.global_id] for payload in payloads]
    items = [
        {"incident_id": incident_id, **item_row(item, position)}
        for incident_id, payload in zip(ids, payloads, strict=True)
        for position, item in enumerate(payload.items)
    ]
    mentions = [
        {"incident_id": incident_id, **mention_row(entity)}
        for incident_id, payload in zip(ids, payloads, strict=True)
        for entity in payload.entities
    ]
    for table, rows in ((IncidentItem, items), (IncidentEntity, mentions)):
        if rows:
            session.execute(sa.insert(table).execution_options(render_nulls=True), rows)
    return ids


def receive_revision(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: RevisionPayload,
    related: Sequence[Incident],
) -> None:
    [incident] = related
    if incident.owner_node != peer.name:
        raise ProtocolViolation("only the incident's owner revises it")
    apply_revision(session, incident, payload, node.settings)
    record(
        session,
        Actor.peer(peer.name, incident.reporting_agency),
        IncidentRevised(
            record_id=incident.global_id,
            version=payload.version,
            fields=sorted(payload.changes),
        ),
    )


def alert_focal_points(session: Session, incident: Incident) -> list[str]:
    """A desk notice for every focal point of every agency here (an incident names no
    receiving agency: each agency's own list decides who is told)."""
    points = session.execute(sa.select(FocalPoint).order_by(FocalPoint.id)).scalars().all()
    session.add_all(
        IncidentAlert(incident_id=incident.id, agency=p.agency, username=p.username) for p in points
    )
    return [f"{p.username} ({p.agency})" for p in points]


def receive_incident(
    session: Session, node: LocalNode, peer: Peer, payload: IncidentPayload, related: Sequence[Any]
) -> None:
    incident = store_incident(
        session,
        payload,
        [IncidentAttachment(**a.received(node.settings)) for a in payload.attachments],
    )
    incident.shares = [IncidentShare(peer_id=peer.id)]
    session.flush()
    summarize_new(session, [incident])
    alerted = alert_focal_points(session, incident) if incident.urgent else []
    record(
        session,
        Actor.peer(peer.name, incident.reporting_agency),
        IncidentReceived(
            record_id=incident.global_id,
            kind=incident.kind,
            items=len(payload.items),
            urgent=incident.urgent,
            alerted=alerted,
        ),
    )


def _add_follow_up(
    session: Session, node: LocalNode, payload: FollowUpPayload, owner: str, incident: Incident
) -> IncidentFollowUp:
    follow_up = IncidentFollowUp(
        global_id=payload.global_id,
        owner_node=owner,
        created_at=payload.created_at,
        incident_id=incident.id,
        author=payload.author,
        author_agency=payload.author_agency,
        body=payload.body,
        status=payload.status,
        attachments=[IncidentAttachment(**a.received(node.settings)) for a in payload.attachments],
    )
    session.add(follow_up)
    session.flush()
    session.add_all(mention(e, follow_up_id=follow_up.id) for e in payload.entities)
    return follow_up


def receive_follow_up(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: FollowUpPayload,
    related: Sequence[Incident],
) -> None:
    [incident] = related
    follow_up = _add_follow_up(session, node, payload, peer.name, incident)
    record(
        session,
        Actor.peer(peer.name, follow_up.author_agency),
        FollowUpReceived(
            record_id=follow_up.global_id, incident=incident.global_id, status=follow_up.status
        ),
    )


# ---------------------------------------------------------------- taken back after a restore
# Records this node wrote, lost in a restore from an older backup, as the peer sent them
# back (liaison.federation.resync, which audits what it took back).


def recover_incident(
    session: Session, node: LocalNode, peer: Peer, payload: IncidentPayload, related: Sequence[Any]
) -> None:
    """An incident this node reported, shared with `peer`; each other peer it was shared
    with is added as it sends the incident back too (`incident_held_by`)."""
    incident = store_incident(
        session,
        payload,
        [IncidentAttachment(**a.received(node.settings)) for a in payload.attachments],
    )
    incident.shares = [IncidentShare(peer_id=peer.id)]
    session.flush()
    summarize_new(session, [incident])


def incident_held_by(session: Session, incident: Incident, peer: Peer) -> bool:
    """An incident of this node, taken back from another peer after a restore, that `peer`
    sent back too: it was shared with `peer` as well (True when that was not known)."""
    if peer.id in incident.peer_ids():
        return False
    incident.shares.append(IncidentShare(peer_id=peer.id))
    session.flush()
    return True


def recover_follow_up(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: FollowUpPayload,
    related: Sequence[Incident],
) -> None:
    """A follow-up this node wrote, within its own incident or the peer's."""
    [incident] = related
    _add_follow_up(session, node, payload, node.name, incident)


def recover_revision(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: RevisionPayload,
    related: Sequence[Incident],
) -> None:
    """A revision this node made of its own incident, applied again in its order."""
    [incident] = related
    if incident.owner_node != node.name:
        raise ProtocolViolation("only the incident's owner revises it")
    apply_revision(session, incident, payload, node.settings)


# ---------------------------------------------------------------- the record types

INCIDENT: RecordType[IncidentPayload] = RecordType(
    name="incident.report",
    payload=IncidentPayload,
    model=Incident,
    peer_may=PeerMay.REPLY,
    handle=receive_incident,
    shared_with=lambda incident: incident.peer_ids(),
    recover=recover_incident,
    held_by=incident_held_by,
)
FOLLOW_UP: RecordType[FollowUpPayload] = RecordType(
    name="incident.follow_up",
    payload=FollowUpPayload,
    model=IncidentFollowUp,
    handle=receive_follow_up,
    shared_with=lambda follow_up: follow_up.incident.peer_ids(),
    within=INCIDENT,
    recover=recover_follow_up,
)
# Written within the incident by its owner (the handler refuses anyone else).
REVISION: RecordType[RevisionPayload] = RecordType(
    name="incident.revision",
    payload=RevisionPayload,
    model=IncidentRevision,
    handle=receive_revision,
    shared_with=lambda revision: revision.incident.peer_ids(),
    within=INCIDENT,
    recover=recover_revision,
)
RECORD_TYPES: tuple[RecordType[Any], ...] = (INCIDENT, FOLLOW_UP, REVISION)
