"""Writing pre-export notifications: lodge one, take a step on one, keep the register.

Each command validates, writes, queues the record for the peer in the same transaction
(outbox) and audits; the caller commits. A step from the wrong side is refused here with
409, and the peer's inbox refuses it again (liaison.federation.records).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import charset_normalizer
from sqlalchemy.orm import Session

from liaison.audit import (
    Actor,
    NotificationLodged,
    NotificationStep,
    RequirementsUpdated,
    record,
)
from liaison.errors import Conflict, Forbidden, InvalidInput, LiaisonError, NotFound
from liaison.federation import outbox
from liaison.federation.peers import active_peer
from liaison.messages import T
from liaison.services.hotline import MAX_ATTACHMENTS, AttachmentUpload, check_attachment
from liaison.services.hotline.records import uploaded
from liaison.services.notifications import rules
from liaison.services.notifications.records import (
    NOTIFICATION,
    REGISTER,
    RESPONSE,
    UPDATE,
    NotificationPayload,
    RegisterPayload,
    StepPayload,
    apply_step,
    drawn_down,
    replace_register,
    screen_notification,
)
from liaison.services.notifications.rules import Decision, Outcome, PenNode, Step
from liaison.store.base import utcnow
from liaison.store.federation_tables import Peer, PeerStatus
from liaison.store.notification_tables import PenAttachment, PenEvent, PenNotification

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 500


def lodge(
    session: Session,
    node: PenNode,
    actor: Actor,
    form: Mapping[str, Any],
    *,
    attachments: Iterable[AttachmentUpload] = (),
    now: datetime | None = None,
) -> PenNotification:
    """Lodge a notification to the importing peer, screened as of the ship date, and queue
    it for the peer; the caller commits. `now` is the lodging moment (the demo lodges a
    year back); `respond_by` defaults to it plus LIAISON_PEN_RESPONSE_DAYS."""
    if not actor.agency:
        raise Forbidden(T("only users of an agency can lodge notifications"))
    declared = rules.check_form(form)
    uploads = list(attachments)
    if len(uploads) > MAX_ATTACHMENTS:
        raise InvalidInput(
            T(
                "a notification may carry at most %(max_attachments)s attachments",
                max_attachments=MAX_ATTACHMENTS,
            )
        )
    for upload in uploads:
        check_attachment(upload, node.settings)
    target = active_peer(session, str(form.get("importing_peer") or ""))
    moment = now or utcnow()
    respond_by = (
        rules.respond_by_default(node.settings, moment)
        if form.get("respond_by") in (None, "")
        else rules.parse_moment(form["respond_by"], "respond_by")
    )
    if respond_by < moment and form.get("respond_by") not in (None, ""):
        raise InvalidInput(T("respond_by is in the past"))
    notification = PenNotification(
        owner_node=node.name,
        created_at=moment,
        peer_id=target.id,
        exporting_node=node.name,
        importing_node=target.name,
        from_agency=actor.agency,
        to_agency=target.default_agency,
        lodged_by=actor.name,
        substance=declared["substance"],
        ship_date=date.fromisoformat(declared["ship_date"]),
        respond_by=respond_by,
        if_no_reply=declared["if_no_reply"],
        declared=declared,
        screening={},
    )
    notification.attachments = [PenAttachment(**uploaded(upload)) for upload in uploads]
    session.add(notification)
    session.flush()
    notification.screening = screen_notification(session, notification, node.settings)
    outbox.share(
        session, target, NOTIFICATION.name, NotificationPayload.of(notification).to_payload()
    )
    record(
        session,
        actor,
        NotificationLodged(
            record_id=notification.global_id,
            peer=target.name,
            substance=notification.substance,
            respond_by=notification.respond_by.isoformat(),
            alerts=[alert["code"] for alert in notification.screening["alerts"]],
        ),
    )
    return notification


def _notification(session: Session, notification_id: int) -> PenNotification:
    notification = session.get(PenNotification, notification_id)
    if notification is None:
        raise NotFound(
            T("no pre-export notification %(notification_id)s", notification_id=notification_id)
        )
    return notification


def _peer(session: Session, notification: PenNotification) -> Peer:
    peer = session.get(Peer, notification.peer_id)
    if peer is None:  # the foreign key makes this impossible short of corruption
        raise NotFound(T("notification %(notification)s has no peer", notification=notification.id))
    if peer.status != PeerStatus.ACTIVE:
        raise Conflict(
            T(
                "the peer %(peer)s is %(status)s; the notification is read-only",
                peer=repr(peer.name),
                status=peer.status,
            )
        )
    return peer


def _take_step(
    session: Session,
    node: PenNode,
    actor: Actor,
    notification: PenNotification,
    step: Step,
    *,
    text: str = "",
    outcome: str | None = None,
    incident: str | None = None,
    quantity: str | None = None,
    now: datetime | None = None,
) -> PenEvent:
    outgoing = rules.is_outgoing(notification, node.name)
    rules.check_step(step, outgoing)
    peer = _peer(session, notification)
    event = PenEvent(
        notification_id=notification.id,
        owner_node=node.name,
        created_at=now or utcnow(),
        kind=step,
        text=text,
        outcome=outcome,
        incident=incident,
        quantity=quantity,
        author=actor.name,
        author_agency=actor.agency or "",
    )
    session.add(event)
    session.flush()
    session.refresh(notification, ["events"])
    overdue = rules.is_overdue(notification, event.created_at)
    record_type = UPDATE if outgoing else RESPONSE
    outbox.share(session, peer, record_type.name, StepPayload.of(event).to_payload())
    record(
        session,
        actor,
        NotificationStep(
            record_id=notification.global_id, step=event.global_id, kind=step, overdue=overdue
        ),
    )
    # The notification's row is changed only after the audit head is locked, as the inbox
    # changes it (audit.lock_head: the other order deadlocks with the peer's steps).
    apply_step(notification, event)
    return event


def _checked_text(value: str | None, what: str, *, required: bool) -> str:
    return rules.text_field({what: value}, what, required=required, limit=rules.MAX_TEXT)


def acknowledge(
    session: Session,
    node: PenNode,
    actor: Actor,
    notification_id: int,
    *,
    now: datetime | None = None,
) -> PenNotification:
    """Acknowledge receipt (the importing side); a second acknowledgement changes nothing."""
    notification = _notification(session, notification_id)
    rules.check_step(Step.ACKNOWLEDGE, rules.is_outgoing(notification, node.name))
    if notification.acknowledged_at is None:
        _take_step(session, node, actor, notification, Step.ACKNOWLEDGE, now=now)
    return notification


def respond(
    session: Session,
    node: PenNode,
    actor: Actor,
    notification_id: int,
    decision: str,
    reason: str | None = None,
    *,
    now: datetime | None = None,
) -> PenNotification:
    """The importing side's decision: no_objection, objection (a reason is required) or
    information_requested (the question is the reason)."""
    notification = _notification(session, notification_id)
    rules.check_step(Step.NO_OBJECTION, rules.is_outgoing(notification, node.name))
    if decision not in tuple(Decision):
        raise InvalidInput(
            T(
                "decision must be one of %(allowed)s (got %(decision)s)",
                allowed=", ".join(Decision),
                decision=repr(decision),
            )
        )
    text = _checked_text(reason, "reason", required=decision != Decision.NO_OBJECTION)
    if notification.withdrawn_at is not None:
        raise Conflict(T("the notification was withdrawn; there is nothing to answer"))
    if notification.decision in (Decision.NO_OBJECTION, Decision.OBJECTION):
        raise Conflict(
            T("the notification was already answered: %(decision)s", decision=notification.decision)
        )
    _take_step(session, node, actor, notification, Step(decision), text=text, now=now)
    return notification


def answer_information(
    session: Session,
    node: PenNode,
    actor: Actor,
    notification_id: int,
    answer: str,
    *,
    now: datetime | None = None,
) -> PenNotification:
    """The exporting side answers the importing side's request for information."""
    notification = _notification(session, notification_id)
    rules.check_step(Step.INFORMATION_ANSWER, rules.is_outgoing(notification, node.name))
    if notification.decision != Decision.INFORMATION_REQUESTED:
        raise Conflict(T("no request for information is waiting for an answer"))
    text = _checked_text(answer, "answer", required=True)
    _take_step(session, node, actor, notification, Step.INFORMATION_ANSWER, text=text, now=now)
    return notification


def withdraw(
    session: Session, node: PenNode, actor: Actor, notification_id: int, reason: str
) -> PenNotification:
    notification = _notification(session, notification_id)
    rules.check_step(Step.WITHDRAW, rules.is_outgoing(notification, node.name))
    if notification.withdrawn_at is not None:
        raise Conflict(T("the notification is already withdrawn"))
    text = _checked_text(reason, "reason", required=True)
    _take_step(session, node, actor, notification, Step.WITHDRAW, text=text)
    return notification


def record_outcome(
    session: Session,
    node: PenNode,
    actor: Actor,
    notification_id: int,
    outcome: str,
    *,
    incident: str | None = None,
    quantity: Any = None,
    note: str | None = None,
    now: datetime | None = None,
) -> PenNotification:
    """The exporting side records what happened: shipped (a shipment, drawn down against
    the notified total; the rest of it when no quantity is given), stopped, or seized
    (optionally linked to an incident record)."""
    notification = _notification(session, notification_id)
    rules.check_step(Step.OUTCOME, rules.is_outgoing(notification, node.name))
    if outcome not in tuple(Outcome):
        raise InvalidInput(
            T(
                "outcome must be one of %(allowed)s (got %(outcome)s)",
                allowed=", ".join(Outcome),
                outcome=repr(outcome),
            )
        )
    if notification.withdrawn_at is not None:
        raise Conflict(T("the notification was withdrawn"))
    shipped: str | None = None
    if outcome == Outcome.SHIPPED:
        remaining = rules.total_quantity(notification) - drawn_down(notification)
        amount = remaining if quantity in (None, "") else rules.parse_quantity(quantity)
        if amount <= 0 or amount > remaining:
            raise Conflict(
                T(
                    "a shipment of %(amount)s %(unit)s exceeds what remains of the "
                    "notification: %(remaining)s",
                    amount=amount,
                    unit=notification.declared["unit"],
                    remaining=remaining,
                )
            )
        shipped = str(amount)
    if incident is not None:
        incident = _checked_text(incident, "incident", required=False)[:100] or None
    _take_step(
        session,
        node,
        actor,
        notification,
        Step.OUTCOME,
        text=_checked_text(note, "note", required=False),
        outcome=outcome,
        incident=incident,
        quantity=shipped,
        now=now,
    )
    return notification


@dataclass(frozen=True)
class ImportedBatch:
    lodged: list[PenNotification]
    errors: list[tuple[int, str]]  # (row number, counting the header as row 1; what is wrong)


def import_csv(
    session: Session, node: PenNode, actor: Actor, content: bytes, *, name: str = "batch.csv"
) -> ImportedBatch:
    """Lodge a batch of notifications from CSV (header = row 1, names as `FLAT_FIELDS`,
    parties as exporter_name...; route and transits space-separated, free zones separated
    by ';'). A bad row is reported with its number and what is wrong and never stops the
    others; each good row is lodged as if from the form. The caller commits."""
    if len(content) > MAX_IMPORT_BYTES:
        raise InvalidInput(
            T(
                "%(name)s: larger than %(max_import_bytes)s KB",
                name=name,
                max_import_bytes=MAX_IMPORT_BYTES // 1024,
            )
        )
    best = charset_normalizer.from_bytes(content).best()
    if best is None:
        raise InvalidInput(T("%(name)s: not text in any known encoding", name=name))
    rows = csv.DictReader(io.StringIO(str(best)))
    header = rows.fieldnames or []
    unknown = sorted(set(header) - set(rules.FLAT_FIELDS))
    if unknown:
        raise InvalidInput(
            T(
                "%(name)s, row 1: unknown column(s) %(unknown)s; known: %(known)s",
                name=name,
                unknown=", ".join(unknown),
                known=", ".join(rules.FLAT_FIELDS),
            )
        )
    lodged: list[PenNotification] = []
    errors: list[tuple[int, str]] = []
    for number, row in enumerate(rows, start=2):
        if number - 1 > MAX_IMPORT_ROWS:
            errors.append(
                (number, T("more than %(max)s rows; the rest was not read", max=MAX_IMPORT_ROWS))
            )
            break
        if None in row:
            errors.append((number, T("more cells than the header has columns")))
            continue
        try:
            with session.begin_nested():
                lodged.append(lodge(session, node, actor, rules.form_from_flat(row)))
        except LiaisonError as error:
            errors.append((number, error.detail))
    return ImportedBatch(lodged, errors)


def remaining_quantity(notification: PenNotification) -> Decimal:
    return rules.total_quantity(notification) - drawn_down(notification)


def set_register(
    session: Session,
    node: PenNode,
    actor: Actor,
    year: int,
    entries: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Replace this node's register for `year` and share it with every active peer."""
    if not 2000 <= year <= 2100:
        raise InvalidInput(T("year must be between 2000 and 2100 (got %(year)s)", year=year))
    checked = [
        rules.check_requirement(entry, f"entries[{index}]") for index, entry in enumerate(entries)
    ]
    names = [entry["substance"].casefold() for entry in checked]
    if len(set(names)) != len(names):
        raise InvalidInput(T("a substance appears twice in the register"))
    replace_register(session, node.name, year, checked)
    payload = RegisterPayload(year, tuple(checked)).to_payload()
    for peer in session.query(Peer).filter(Peer.status == PeerStatus.ACTIVE):
        outbox.share(session, peer, REGISTER.name, payload)
    record(
        session,
        actor,
        RequirementsUpdated(
            record_id=f"{node.name}/{year}",
            year=year,
            substances=[entry["substance"] for entry in checked],
        ),
    )
    return checked
