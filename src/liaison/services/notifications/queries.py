"""Reading pre-export notifications: lists, one with its history, reminders, the figures
and the registers.

Visibility: a notification is between the two nodes' precursor authorities, and every
user of the node with the capability to read notifications sees all of them (officers and
analysts read; regulators answer). Reads of notifications (which name companies and
people) are audited; counts and figures are not personal data and are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from liaison.audit import (
    Actor,
    NotificationAttachmentRead,
    NotificationRead,
    NotificationsListed,
    record,
)
from liaison.errors import Conflict, InvalidInput, NotFound
from liaison.messages import T
from liaison.services.cooperation import Item
from liaison.services.notifications import rules, screening
from liaison.services.notifications.rules import Direction, PenNode, Status
from liaison.store.base import utcnow
from liaison.store.notification_tables import PenAttachment, PenNotification, PenRequirement

# Reminders: incoming notifications waiting for an answer due within this many days.
REMIND_WITHIN = timedelta(days=3)


@dataclass(frozen=True)
class Filters:
    direction: str | None = None
    status: str | None = None
    since: date | None = None  # lodged on or after
    until: date | None = None  # lodged on or before
    query: str | None = None

    def check(self) -> None:
        if self.direction is not None and self.direction not in tuple(Direction):
            raise InvalidInput(
                T(
                    "direction must be one of %(allowed)s (got %(direction)s)",
                    allowed=", ".join(Direction),
                    direction=repr(self.direction),
                )
            )
        if self.status is not None and self.status not in tuple(Status):
            raise InvalidInput(
                T(
                    "status must be one of %(allowed)s (got %(status)s)",
                    allowed=", ".join(Status),
                    status=repr(self.status),
                )
            )
        if self.since and self.until and self.since > self.until:
            raise InvalidInput(T("from is after to"))

    def as_detail(self) -> dict[str, str]:
        return {
            key: str(value)
            for key, value in {
                "direction": self.direction,
                "status": self.status,
                "from": self.since,
                "to": self.until,
                "q": self.query,
            }.items()
            if value
        }


def _in_period(since: date | None, until: date | None) -> list[sa.ColumnElement[bool]]:
    """Lodged from `since` to `until`, whole UTC days."""
    conditions = []
    if since is not None:
        start = datetime.combine(since, datetime.min.time(), UTC)
        conditions.append(PenNotification.created_at >= start)
    if until is not None:
        end = datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC)
        conditions.append(PenNotification.created_at < end)
    return conditions


def _matches(notification: PenNotification, query: str) -> bool:
    declared = notification.declared
    haystack = [
        notification.substance,
        declared.get("trade_name", ""),
        *(
            (declared.get(party) or {}).get("name", "")
            for party in ("exporter", "importer", "consignee")
        ),
        declared.get("export_authorisation", ""),
        notification.global_id,
    ]
    needle = query.casefold()
    return any(needle in str(text).casefold() for text in haystack)


def _select(session: Session, node: PenNode, filters: Filters) -> list[PenNotification]:
    statement = (
        sa.select(PenNotification)
        .where(*_in_period(filters.since, filters.until))
        .order_by(PenNotification.created_at.desc(), PenNotification.id.desc())
    )
    if filters.direction == Direction.OUTGOING:
        statement = statement.where(PenNotification.owner_node == node.name)
    elif filters.direction == Direction.INCOMING:
        statement = statement.where(PenNotification.owner_node != node.name)
    return list(session.execute(statement).scalars())


def list_notifications(
    session: Session,
    node: PenNode,
    actor: Actor,
    filters: Filters,
    *,
    now: datetime | None = None,
) -> list[PenNotification]:
    """Notifications, newest first, filtered; `status` is as of `now` (overdue is computed).
    Audited as a read of the list."""
    filters.check()
    moment = now or utcnow()
    found = [
        notification
        for notification in _select(session, node, filters)
        if (filters.status is None or rules.status_of(notification, moment) == filters.status)
        and (not filters.query or _matches(notification, filters.query.strip()))
    ]
    record(session, actor, NotificationsListed(filters=filters.as_detail(), results=len(found)))
    return found


def read_notification(
    session: Session, node: PenNode, actor: Actor, notification_id: int
) -> PenNotification:
    """One notification with its history (`events`, in the order applied here). Audited."""
    notification = session.execute(
        sa.select(PenNotification)
        .where(PenNotification.id == notification_id)
        .options(selectinload(PenNotification.events), selectinload(PenNotification.attachments))
    ).scalar_one_or_none()
    if notification is None:
        raise NotFound(
            T("no pre-export notification %(notification_id)s", notification_id=notification_id)
        )
    record(session, actor, NotificationRead(record_id=notification.global_id))
    return notification


@dataclass(frozen=True)
class Reminders:
    to_answer: list[PenNotification]  # incoming, no decision, due soon or overdue
    information_requested: list[PenNotification]  # outgoing, waiting for our answer

    @property
    def count(self) -> int:
        return len(self.to_answer) + len(self.information_requested)


def _waiting_for_answer(node: PenNode, moment: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    """Incoming, not answered nor withdrawn, due within `REMIND_WITHIN` or overdue."""
    return (
        PenNotification.owner_node != node.name,
        PenNotification.decision.is_(None),
        PenNotification.withdrawn_at.is_(None),
        PenNotification.respond_by < moment + REMIND_WITHIN,
    )


def _asked_for_information(node: PenNode) -> tuple[sa.ColumnElement[bool], ...]:
    """Outgoing, the importing side asked a question this side has not answered."""
    return (
        PenNotification.owner_node == node.name,
        PenNotification.decision == rules.Decision.INFORMATION_REQUESTED,
        PenNotification.withdrawn_at.is_(None),
    )


def reminders(session: Session, node: PenNode, *, now: datetime | None = None) -> Reminders:
    """What waits for this node's regulators, soonest deadline first."""
    moment = now or utcnow()
    to_answer = session.execute(
        sa.select(PenNotification)
        .where(*_waiting_for_answer(node, moment))
        .order_by(PenNotification.respond_by)
    ).scalars()
    asked = session.execute(
        sa.select(PenNotification)
        .where(*_asked_for_information(node))
        .order_by(PenNotification.respond_by)
    ).scalars()
    return Reminders(list(to_answer), list(asked))


def reminder_count(session: Session, node: PenNode, *, now: datetime | None = None) -> int:
    """How many reminders there are (the navigation's badge, on every page): one query."""
    moment = now or utcnow()

    def counted(conditions: tuple[sa.ColumnElement[bool], ...]) -> sa.ScalarSelect[int]:
        return sa.select(sa.func.count()).where(*conditions).scalar_subquery()

    total = session.execute(
        sa.select(
            counted(_waiting_for_answer(node, moment)) + counted(_asked_for_information(node))
        )
    ).scalar_one()
    return int(total)


def metrics(
    session: Session,
    node: PenNode,
    *,
    since: date | None = None,
    until: date | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The figures over notifications lodged from `since` to `until` (inclusive, UTC)."""
    Filters(since=since, until=until).check()
    rows = session.execute(
        sa.select(
            PenNotification.exporting_node,
            PenNotification.importing_node,
            PenNotification.to_agency,
            PenNotification.substance,
            PenNotification.created_at,
            PenNotification.respond_by,
            PenNotification.answered_at,
            PenNotification.decision,
        ).where(*_in_period(since, until))
    ).all()
    answered = [
        rules.Answered(
            exporting_node=row.exporting_node,
            importing_node=row.importing_node,
            to_agency=row.to_agency,
            substance=row.substance.casefold(),
            created_at=row.created_at,
            respond_by=row.respond_by,
            answered_at=row.answered_at,
            decision=row.decision,
        )
        for row in rows
    ]
    result = rules.figures(answered, node.name, now or utcnow())
    result["from"] = since.isoformat() if since else None
    result["to"] = until.isoformat() if until else None
    return result


def registers(session: Session, year: int | None = None) -> Sequence[PenRequirement]:
    """Every node's register lines (this node's and the peers' as they shared them)."""
    statement = sa.select(PenRequirement).order_by(
        PenRequirement.node, PenRequirement.year, PenRequirement.substance
    )
    if year is not None:
        statement = statement.where(PenRequirement.year == year)
    return list(session.execute(statement).scalars())


def preview_screening(
    session: Session, node: PenNode, substance: str, ship_date: date
) -> dict[str, Any]:
    """The screening a notification of `substance` shipping on `ship_date` would get
    (shown on the form before it is lodged); nothing is stored."""
    substance = rules.text_field({"substance": substance}, "substance", required=True)
    return screening.screen(substance, ship_date, registers(session), node.settings)


def read_attachment(
    session: Session, actor: Actor, notification_id: int, attachment_id: int
) -> PenAttachment:
    """An attachment's bytes, only when they matched their SHA-256 on arrival. Audited."""
    attachment = session.get(PenAttachment, attachment_id)
    notification = session.get(PenNotification, notification_id)
    if (
        attachment is None
        or notification is None
        or (attachment.notification_id != notification.id)
    ):
        raise NotFound(
            T(
                "no attachment %(attachment_id)s on notification %(notification_id)s",
                attachment_id=attachment_id,
                notification_id=notification_id,
            )
        )
    if not attachment.verified:
        raise Conflict(
            T(
                "attachment %(filename)s failed its integrity check on arrival; it is not served",
                filename=repr(attachment.filename),
            )
        )
    record(
        session,
        actor,
        NotificationAttachmentRead(
            record_id=notification.global_id,
            sha256=attachment.sha256,
            filename=attachment.filename,
        ),
    )
    return attachment


def cooperation_series(
    session: Session, node_name: str, since: datetime, until: datetime
) -> list[Item]:
    """The overview's items: every notification lodged from `since` until before `until`,
    sent by the exporting node to the importing authority; its one step is the first
    answer (due by `respond_by`); a withdrawn notification is owed nothing."""
    rows = session.execute(
        sa.select(
            PenNotification.exporting_node,
            PenNotification.importing_node,
            PenNotification.to_agency,
            PenNotification.created_at,
            PenNotification.answered_at,
            PenNotification.respond_by,
            PenNotification.withdrawn_at,
        ).where(PenNotification.created_at >= since, PenNotification.created_at < until)
    ).all()
    return [
        Item(
            sender=row.exporting_node,
            receiver=row.importing_node,
            agency=row.to_agency,
            created_at=row.created_at,
            finished=(row.answered_at,),
            due_at=row.respond_by,
            closed=row.withdrawn_at is not None,
        )
        for row in rows
    ]
