"""Pre-export notifications as shared records: payloads, owners, what the peer may do,
inbox handlers.

- `pen.notification`: written and owned by the exporting node; the importing node may
  `ANSWER` it.
- `pen.response`: the importing side's steps (acknowledge, no_objection, objection,
  information_requested), acting on the exporting node's notification.
- `pen.update`: the exporting side's later steps (answer to a request for information,
  withdraw, outcome), written within its own notification, so liaison.federation.records
  refuses one from the importing side (it may not `REPLY` in the notification).
- `pen.register`: a node's statement of its register (the substances it requires
  notification for, its annual requirements), kept under the peer that sent it.

`apply_step` turns a step into the notification's summary columns, the same function on
both nodes, so both show the same status. `RECORD_TYPES` is registered by the runtime.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.audit import (
    Actor,
    NotificationReceived,
    NotificationStepReceived,
    RequirementsReceived,
    record,
)
from liaison.errors import InvalidInput
from liaison.federation import outbox
from liaison.federation.context import LocalNode
from liaison.federation.records import (
    PeerMay,
    ProtocolViolation,
    RecordType,
    global_id,
    of_row,
    parse_stamp,
    require,
    stamp,
    wire,
)
from liaison.services.hotline import MAX_ATTACHMENTS
from liaison.services.hotline.records import AttachmentPayload
from liaison.services.notifications import rules, screening
from liaison.store.federation_tables import Peer
from liaison.store.notification_tables import (
    PenAttachment,
    PenEvent,
    PenNotification,
    PenRequirement,
)

MAX_NAME = 200


def _text(data: dict[str, Any], name: str, limit: int = rules.MAX_TEXT) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProtocolViolation(f"{name!r} must be text")
    return value[:limit]


def _optional(data: dict[str, Any], name: str, limit: int = 100) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProtocolViolation(f"{name!r} must be text or null")
    return value[:limit]


@dataclass(frozen=True)
class NotificationPayload:
    global_id: str
    owner_node: str
    created_at: datetime
    importing_node: str
    from_agency: str
    to_agency: str
    lodged_by: str
    respond_by: datetime
    declared: dict[str, Any]  # rules.check_form's output
    attachments: tuple[AttachmentPayload, ...] = ()

    @property
    def within_id(self) -> None:
        return None

    @classmethod
    def of(cls, notification: PenNotification) -> Self:
        payload: Self = of_row(
            cls,
            notification,
            attachments=tuple(
                AttachmentPayload(a.filename, a.content_type, a.size, a.sha256, a.content)
                for a in notification.attachments
            ),
        )
        return payload

    def to_payload(self) -> dict[str, Any]:
        return wire(self, attachments=[item.to_payload() for item in self.attachments])

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        declared = require(data, "declared", dict)
        attachments = data.get("attachments", [])
        if not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS:
            raise ProtocolViolation(
                f"attachments must be a list of at most {MAX_ATTACHMENTS} items"
            )
        try:
            checked = rules.check_form(declared)
        except InvalidInput as error:
            raise ProtocolViolation(f"declared: {error.detail}") from error
        return cls(
            global_id=global_id(data, "global_id"),
            owner_node=require(data, "owner_node"),
            created_at=parse_stamp(data.get("created_at"), "created_at"),
            importing_node=require(data, "importing_node"),
            from_agency=_text(data, "from_agency", MAX_NAME),
            to_agency=_text(data, "to_agency", MAX_NAME),
            lodged_by=_text(data, "lodged_by", MAX_NAME),
            respond_by=parse_stamp(data.get("respond_by"), "respond_by"),
            declared=checked,
            attachments=tuple(
                AttachmentPayload.from_payload(item, index)
                for index, item in enumerate(attachments)
            ),
        )


@dataclass(frozen=True)
class StepPayload:
    """One step; `notification` is the notification's global id."""

    global_id: str
    owner_node: str
    notification: str
    created_at: datetime
    step: str
    text: str
    outcome: str | None
    incident: str | None
    quantity: str | None
    author: str
    author_agency: str

    @property
    def within_id(self) -> str:
        return self.notification

    @property
    def target_ids(self) -> tuple[str]:
        return (self.notification,)

    @classmethod
    def of(cls, event: PenEvent) -> Self:
        payload: Self = of_row(
            cls, event, notification=event.notification.global_id, step=event.kind
        )
        return payload

    def to_payload(self) -> dict[str, Any]:
        return wire(self)

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        step = require(data, "step")
        if step not in tuple(rules.Step):
            raise ProtocolViolation(f"unknown step {step!r}")
        text = _text(data, "text")
        if step in (rules.Step.OBJECTION, rules.Step.INFORMATION_REQUESTED) and not text:
            raise ProtocolViolation(f"a {step} needs its reason or question in 'text'")
        outcome = _optional(data, "outcome", 16)
        if step == rules.Step.OUTCOME and outcome not in tuple(rules.Outcome):
            raise ProtocolViolation(f"unknown outcome {outcome!r}")
        quantity = _optional(data, "quantity", 40)
        if quantity is not None:
            try:
                rules.parse_quantity(quantity)
            except InvalidInput as error:
                raise ProtocolViolation(error.detail) from error
        return cls(
            global_id=global_id(data, "global_id"),
            owner_node=require(data, "owner_node"),
            notification=global_id(data, "notification"),
            created_at=parse_stamp(data.get("created_at"), "created_at"),
            step=step,
            text=text,
            outcome=outcome,
            incident=_optional(data, "incident"),
            quantity=quantity,
            author=_text(data, "author", MAX_NAME),
            author_agency=_text(data, "author_agency", MAX_NAME),
        )


@dataclass(frozen=True)
class RegisterPayload:
    """A node's register for one year, whole (it replaces the previous one)."""

    year: int
    entries: tuple[dict[str, Any], ...]

    def to_payload(self) -> dict[str, Any]:
        return {"year": self.year, "entries": list(self.entries)}

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        year = require(data, "year", int)
        entries = data.get("entries")
        if not isinstance(entries, list) or len(entries) > 500:
            raise ProtocolViolation("'entries' must be a list of at most 500 items")
        checked = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise ProtocolViolation(f"entries[{index}] must be an object")
            try:
                checked.append(rules.check_requirement(entry, f"entries[{index}]"))
            except InvalidInput as error:
                raise ProtocolViolation(error.detail) from error
        return cls(year, tuple(checked))


# ---------------------------------------------------------------- applying


def apply_step(notification: PenNotification, event: PenEvent) -> None:
    """A step's effect on the notification's summary; the same on both nodes. Each side's
    steps arrive in its writing order; a withdrawal and a decision that cross are both
    kept (the decision in the history, the status `withdrawn`)."""
    step = rules.Step(event.kind)
    if step in rules.IMPORTER_STEPS and notification.acknowledged_at is None:
        # A decision made without an acknowledgement implies it.
        notification.acknowledged_at = event.created_at
        notification.acknowledged_by = f"{event.author} ({event.author_agency})"
    if step in tuple(rules.Step(d.value) for d in rules.Decision):
        if notification.answered_at is None:
            notification.answered_at = event.created_at
        notification.decision = event.kind
        notification.to_agency = event.author_agency or notification.to_agency
    elif step == rules.Step.WITHDRAW and notification.withdrawn_at is None:
        notification.withdrawn_at = event.created_at
    elif step == rules.Step.OUTCOME:
        notification.outcome = event.outcome
        notification.incident = event.incident or notification.incident


def drawn_down(notification: PenNotification) -> Decimal:
    """What the shipments recorded as shipped have used of the notified quantity."""
    return sum(
        (
            Decimal(event.quantity)
            for event in notification.events
            if event.kind == rules.Step.OUTCOME
            and event.outcome == rules.Outcome.SHIPPED
            and event.quantity
        ),
        Decimal(0),
    )


def requirement_alert(session: Session, notification: PenNotification) -> dict[str, str] | None:
    """Flag a notification that takes the importing node past its annual requirement for
    the substance (its register as shared, in kg; notifications withdrawn or objected to
    do not count)."""
    ship_date: date = notification.ship_date
    entries = session.execute(
        sa.select(PenRequirement).where(
            PenRequirement.node == notification.importing_node,
            PenRequirement.year == ship_date.year,
            PenRequirement.annual_kg.is_not(None),
        )
    ).scalars()
    entry = next(
        (e for e in entries if rules.names_substance(e.substance, notification.substance)), None
    )
    if entry is None or entry.annual_kg is None:
        return None
    same = session.execute(
        sa.select(PenNotification).where(
            PenNotification.importing_node == notification.importing_node,
            PenNotification.ship_date >= date(ship_date.year, 1, 1),
            PenNotification.ship_date <= date(ship_date.year, 12, 31),
            PenNotification.withdrawn_at.is_(None),
            sa.or_(
                PenNotification.decision.is_(None),
                PenNotification.decision != rules.Decision.OBJECTION,
            ),
        )
    ).scalars()
    total = Decimal(0)
    for other in {*same, notification}:
        if rules.names_substance(entry.substance, other.substance):
            total += rules.quantity_kg(other.declared) or Decimal(0)
    annual = Decimal(entry.annual_kg)
    if total <= annual:
        return None
    return {
        "code": screening.EXCEEDS_REQUIREMENT,
        "text": f"with this notification {total} kg of {entry.substance} are notified to "
        f"{notification.importing_node} for {ship_date.year}; its annual requirement is "
        f"{annual} kg",
    }


def screen_notification(
    session: Session, notification: PenNotification, settings: Any
) -> dict[str, Any]:
    register = list(session.execute(sa.select(PenRequirement)).scalars())
    result = screening.screen(notification.substance, notification.ship_date, register, settings)
    flag = requirement_alert(session, notification)
    if flag is not None:
        result["alerts"].append(flag)
    return result


# ---------------------------------------------------------------- handlers


def receive_notification(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: NotificationPayload,
    related: Sequence[Any],
) -> None:
    if payload.importing_node != node.name:
        raise ProtocolViolation(
            f"notification {payload.global_id} is addressed to {payload.importing_node!r}"
        )
    notification = _add_notification(session, node, peer, payload, exporter=peer.name)
    record(
        session,
        Actor.peer(peer.name, payload.from_agency),
        NotificationReceived(
            record_id=notification.global_id,
            substance=notification.substance,
            respond_by=stamp(notification.respond_by) or "",
            alerts=[alert["code"] for alert in notification.screening["alerts"]],
        ),
    )


def _add_notification(
    session: Session, node: LocalNode, peer: Peer, payload: NotificationPayload, exporter: str
) -> PenNotification:
    """The notification between this node and `peer` that `exporter` (one of them) wrote,
    with its attachments, screened here."""
    declared = payload.declared
    notification = PenNotification(
        global_id=payload.global_id,
        owner_node=exporter,
        created_at=payload.created_at,
        peer_id=peer.id,
        exporting_node=exporter,
        importing_node=payload.importing_node,
        from_agency=payload.from_agency,
        to_agency=payload.to_agency,
        lodged_by=payload.lodged_by,
        substance=declared["substance"],
        ship_date=date.fromisoformat(declared["ship_date"]),
        respond_by=payload.respond_by,
        if_no_reply=declared["if_no_reply"],
        declared=declared,
        screening={},
    )
    notification.attachments = [
        PenAttachment(**item.received(node.settings)) for item in payload.attachments
    ]
    session.add(notification)
    session.flush()
    notification.screening = screen_notification(session, notification, node.settings)
    return notification


def _receive_step(
    session: Session, peer: Peer, payload: StepPayload, notification: PenNotification
) -> None:
    if session.execute(
        sa.select(PenEvent.id).where(PenEvent.global_id == payload.global_id)
    ).first():
        raise ProtocolViolation(f"step {payload.global_id} already exists")
    if payload.owner_node != peer.name:
        raise ProtocolViolation("a peer can only send its own steps")
    event = _add_step(session, payload, peer.name, notification)
    record(
        session,
        Actor.peer(peer.name, payload.author_agency),
        NotificationStepReceived(
            record_id=notification.global_id, step=event.global_id, kind=event.kind
        ),
    )


def _add_step(
    session: Session, payload: StepPayload, owner: str, notification: PenNotification
) -> PenEvent:
    """A step `owner` took on the notification, applied to its state."""
    event = PenEvent(
        global_id=payload.global_id,
        owner_node=owner,
        created_at=payload.created_at,
        notification_id=notification.id,
        kind=payload.step,
        text=payload.text,
        outcome=payload.outcome,
        incident=payload.incident,
        quantity=payload.quantity,
        author=payload.author,
        author_agency=payload.author_agency,
    )
    session.add(event)
    session.flush()
    session.refresh(notification, ["events"])
    apply_step(notification, event)
    return event


def receive_response(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: StepPayload,
    related: Sequence[PenNotification],
) -> None:
    [notification] = related
    if payload.step not in rules.IMPORTER_STEPS:
        raise ProtocolViolation(f"the importing side cannot send a {payload.step}")
    _receive_step(session, peer, payload, notification)


def receive_update(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: StepPayload,
    related: Sequence[PenNotification],
) -> None:
    [notification] = related
    if payload.step not in rules.EXPORTER_STEPS:
        raise ProtocolViolation(f"the exporting side cannot send a {payload.step}")
    _receive_step(session, peer, payload, notification)


def receive_register(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: RegisterPayload,
    related: Sequence[Any],
) -> None:
    replace_register(session, peer.name, payload.year, payload.entries)
    record(
        session,
        Actor.peer(peer.name),
        RequirementsReceived(
            record_id=f"{peer.name}/{payload.year}",
            year=payload.year,
            substances=[entry["substance"] for entry in payload.entries],
        ),
    )


def replace_register(
    session: Session, node_name: str, year: int, entries: Sequence[dict[str, Any]]
) -> None:
    session.execute(
        sa.delete(PenRequirement).where(
            PenRequirement.node == node_name, PenRequirement.year == year
        )
    )
    session.add_all(
        PenRequirement(
            node=node_name,
            year=year,
            substance=entry["substance"],
            requires_notification=entry["requires_notification"],
            annual_kg=entry["annual_kg"],
            citation=entry["citation"],
        )
        for entry in entries
    )
    session.flush()


def share_registers(session: Session, node: LocalNode, peer: Peer) -> None:
    """Send a peer just activated this node's register of every year it holds (a register
    saved before the peering would otherwise reach it only when saved again)."""
    rows = session.scalars(
        sa.select(PenRequirement)
        .where(PenRequirement.node == node.name)
        .order_by(PenRequirement.year, PenRequirement.id)
    )
    years: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        years.setdefault(row.year, []).append(
            {
                "substance": row.substance,
                "requires_notification": row.requires_notification,
                "annual_kg": row.annual_kg,
                "citation": row.citation,
            }
        )
    for year, entries in years.items():
        outbox.share(
            session, peer, REGISTER.name, RegisterPayload(year, tuple(entries)).to_payload()
        )


# ---------------------------------------------------------------- taken back after a restore
# Records this node wrote, lost in a restore from an older backup, as the peer sent them
# back (liaison.federation.resync, which audits what it took back).


def recover_notification(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: NotificationPayload,
    related: Sequence[Any],
) -> None:
    """A notification this node lodged with `peer`, screened again here."""
    if payload.importing_node != peer.name:
        raise ProtocolViolation(
            f"notification {payload.global_id} is addressed to {payload.importing_node!r}"
        )
    _add_notification(session, node, peer, payload, exporter=node.name)


def recover_update(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: StepPayload,
    related: Sequence[PenNotification],
) -> None:
    """A step this node took on its own notification (the exporting side's)."""
    [notification] = related
    if payload.step not in rules.EXPORTER_STEPS or notification.exporting_node != node.name:
        raise ProtocolViolation(f"this node did not send a {payload.step}")
    _add_step(session, payload, node.name, notification)


# ---------------------------------------------------------------- the record types

NOTIFICATION: RecordType[NotificationPayload] = RecordType(
    name="pen.notification",
    payload=NotificationPayload,
    model=PenNotification,
    peer_may=PeerMay.ANSWER,
    handle=receive_notification,
    shared_with=lambda notification: notification.peer_id,
    recover=recover_notification,
)
RESPONSE: RecordType[StepPayload] = RecordType(
    name="pen.response",
    payload=StepPayload,
    handle=receive_response,
    acts_on=NOTIFICATION,
    action=PeerMay.ANSWER,
)
UPDATE: RecordType[StepPayload] = RecordType(
    name="pen.update",
    payload=StepPayload,
    model=PenEvent,
    handle=receive_update,
    shared_with=lambda event: event.notification.peer_id,
    within=NOTIFICATION,
    recover=recover_update,
)
REGISTER: RecordType[RegisterPayload] = RecordType(
    name="pen.register",
    payload=RegisterPayload,
    handle=receive_register,
    on_peer_activated=share_registers,
)
RECORD_TYPES: tuple[RecordType[Any], ...] = (NOTIFICATION, RESPONSE, UPDATE, REGISTER)
