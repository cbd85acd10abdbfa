"""Reading the hotline: an agency's threads, a thread, deadlines, attachments.

Every read is audited; reading a thread also marks what this side received as read and
sends the read receipt back (the only write here).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from liaison.audit import Actor, AttachmentRead, ThreadRead, ThreadsListed, record
from liaison.errors import Conflict, NotFound
from liaison.federation import outbox
from liaison.federation.notify import LiveEvent, publish_after_commit
from liaison.messages import T
from liaison.services.cooperation import Item
from liaison.services.hotline.records import READ, ReadPayload
from liaison.services.hotline.rules import HotlineNode, is_incoming, local_agency
from liaison.store.base import utcnow
from liaison.store.federation_tables import Peer, PeerStatus
from liaison.store.hotline_tables import HotlineAttachment, HotlineMessage, HotlineThread


@dataclass(frozen=True)
class ThreadSummary:
    thread: HotlineThread
    peer: str
    messages: int
    unread: int
    overdue: int


@dataclass(frozen=True)
class InboxCounts:
    unread: int
    overdue: int


def visible_thread(
    session: Session, node: HotlineNode, actor: Actor, thread_id: int
) -> HotlineThread:
    thread = session.get(HotlineThread, thread_id)
    if thread is None or local_agency(thread, node.name) != actor.agency:
        # The same answer for "absent" and "not yours": thread ids reveal nothing.
        raise NotFound(T("no hotline thread %(thread_id)s for your agency", thread_id=thread_id))
    return thread


def peer_of(session: Session, thread: HotlineThread) -> Peer:
    peer = session.get(Peer, thread.peer_id)
    if peer is None:  # the foreign key makes this impossible short of corruption
        raise NotFound(T("thread %(thread)s has no peer", thread=thread.id))
    return peer


def publish_thread_event(
    session: Session, name: str, thread: HotlineThread, node_name: str, **data: Any
) -> None:
    publish_after_commit(
        session,
        LiveEvent(
            name=name,
            data={"thread": thread.id, **data},
            audience=frozenset({local_agency(thread, node_name)}),
        ),
    )


def peer_agencies(session: Session, peer: Peer) -> set[str]:
    """The peer's agencies as this node knows them: its default agency (learned at peering)
    and every agency a thread or message from it was written by."""
    from_threads = sa.select(HotlineThread.from_agency).where(
        HotlineThread.peer_id == peer.id, HotlineThread.owner_node == peer.name
    )
    from_messages = (
        sa.select(HotlineMessage.author_agency)
        .join(HotlineThread, HotlineMessage.thread_id == HotlineThread.id)
        .where(HotlineThread.peer_id == peer.id, HotlineMessage.owner_node == peer.name)
    )
    seen = session.execute(sa.union(from_threads, from_messages)).scalars()
    return {peer.default_agency} | {agency for agency in seen if agency}


def addressees(session: Session) -> dict[str, list[str]]:
    """Each active peer's name with the agencies this node knows for it, to address a
    new thread from a list rather than typed."""
    peers = session.execute(
        sa.select(Peer).where(Peer.status == PeerStatus.ACTIVE).order_by(Peer.name)
    ).scalars()
    return {peer.name: sorted(peer_agencies(session, peer)) for peer in peers}


def read_thread(
    session: Session, node: HotlineNode, actor: Actor, thread_id: int, *, mark_read: bool = True
) -> tuple[HotlineThread, list[HotlineMessage]]:
    """The thread and its messages, audited as a read of the thread. With `mark_read` (the
    API: the client asked for the messages), marks what this side received as read and
    sends the read receipt back; the web page instead reports what was actually shown
    (`commands.mark_shown`). The caller commits."""
    thread = visible_thread(session, node, actor, thread_id)
    messages = list(
        session.execute(
            sa.select(HotlineMessage)
            .where(HotlineMessage.thread_id == thread.id)
            .options(
                selectinload(HotlineMessage.attachments), selectinload(HotlineMessage.entities)
            )
            .order_by(HotlineMessage.id)
        ).scalars()
    )
    newly_read = send_read_receipt(session, node, actor, thread, messages) if mark_read else 0
    record(
        session,
        actor,
        ThreadRead(record_id=thread.global_id, messages=len(messages), newly_read=newly_read),
    )
    return thread, messages


def send_read_receipt(
    session: Session,
    node: HotlineNode,
    actor: Actor,
    thread: HotlineThread,
    messages: Iterable[HotlineMessage],
) -> int:
    """Mark those of `messages` this side received and had not read as read by the actor,
    and tell the peer; returns how many."""
    unread = [m for m in messages if is_incoming(m, node.name) and m.read_at is None]
    if unread:
        now = utcnow()
        reader = f"{actor.name} ({actor.agency})"
        for message in unread:
            message.read_at, message.read_by = now, reader
        receipt = ReadPayload(tuple(m.global_id for m in unread), now, reader)
        outbox.share(session, peer_of(session, thread), READ.name, receipt.to_payload())
        publish_thread_event(session, "read", thread, node.name)
    return len(unread)


def refused_by_peer(
    session: Session, thread: HotlineThread, messages: Iterable[HotlineMessage]
) -> dict[str, str]:
    """For the thread and those of its messages the peer refused, by global id: why."""
    return outbox.refusals_of(session, [thread.global_id, *(m.global_id for m in messages)])


def list_threads(
    session: Session, node: HotlineNode, actor: Actor, *, query: str | None = None
) -> list[ThreadSummary]:
    """The actor's agency's threads, newest activity first; `query` searches subjects and
    message text (case-insensitive). Audited as a read of the thread list."""
    summaries = _thread_summaries(session, node, actor, query)
    record(session, actor, ThreadsListed(query=query or "", results=len(summaries)))
    return summaries


def count_inbox(session: Session, node: HotlineNode, actor: Actor) -> InboxCounts:
    """Unread and overdue counts of the actor's agency; only counts, so not audited.

    One aggregate query (every page's unread badge asks for it): no thread is loaded."""
    unread, overdue = _unread_and_overdue(node, utcnow())
    row = session.execute(
        sa.select(sa.func.sum(unread), sa.func.sum(overdue))
        .select_from(HotlineMessage)
        .join(HotlineThread, HotlineThread.id == HotlineMessage.thread_id)
        .where(_local_agency_column(node.name) == (actor.agency or ""))
    ).one()
    return InboxCounts(unread=int(row[0] or 0), overdue=int(row[1] or 0))


def _thread_summaries(
    session: Session, node: HotlineNode, actor: Actor, query: str | None
) -> list[ThreadSummary]:
    local = _local_agency_column(node.name)
    statement = (
        sa.select(HotlineThread, Peer.name)
        .join(Peer, Peer.id == HotlineThread.peer_id)
        .where(local == (actor.agency or ""))
        .order_by(HotlineThread.last_message_at.desc(), HotlineThread.id.desc())
    )
    if query and query.strip():
        pattern = f"%{_escape_like(query.strip().lower())}%"
        in_messages = sa.select(HotlineMessage.thread_id).where(
            sa.func.lower(HotlineMessage.body).like(pattern, escape="\\")
        )
        statement = statement.where(
            sa.or_(
                sa.func.lower(HotlineThread.subject).like(pattern, escape="\\"),
                HotlineThread.id.in_(in_messages),
            )
        )
    rows = session.execute(statement).all()
    counts = _message_counts(session, node, [thread.id for thread, _ in rows])
    return [
        ThreadSummary(thread, peer_name, *counts.get(thread.id, (0, 0, 0)))
        for thread, peer_name in rows
    ]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _message_counts(
    session: Session, node: HotlineNode, thread_ids: list[int]
) -> dict[int, tuple[int, int, int]]:
    """Per thread: messages, unread received messages, overdue messages (either side)."""
    if not thread_ids:
        return {}
    unread, overdue = _unread_and_overdue(node, utcnow())
    rows = session.execute(
        sa.select(
            HotlineMessage.thread_id,
            sa.func.count(),
            sa.func.sum(unread),
            sa.func.sum(overdue),
        )
        .where(HotlineMessage.thread_id.in_(thread_ids))
        .group_by(HotlineMessage.thread_id)
    ).all()
    return {thread_id: (int(n), int(u or 0), int(o or 0)) for thread_id, n, u, o in rows}


def _unread_and_overdue(
    node: HotlineNode, now: datetime
) -> tuple[sa.ColumnElement[int], sa.ColumnElement[int]]:
    """1 or 0 per message: an unread received message; a message whose acknowledgement is
    overdue (either side)."""
    incoming = HotlineMessage.owner_node != node.name
    unread = sa.case((sa.and_(incoming, HotlineMessage.read_at.is_(None)), 1), else_=0)
    overdue = sa.case(
        (
            sa.and_(
                HotlineMessage.ack_due_at.is_not(None),
                HotlineMessage.acked_at.is_(None),
                HotlineMessage.ack_due_at < now,
            ),
            1,
        ),
        else_=0,
    )
    return unread, overdue


def inbox_counts(summaries: Iterable[ThreadSummary]) -> InboxCounts:
    unread = overdue = 0
    for summary in summaries:
        unread += summary.unread
        overdue += summary.overdue
    return InboxCounts(unread=unread, overdue=overdue)


def _local_agency_column(node_name: str) -> sa.ColumnElement[str]:
    """`local_agency` as SQL, to select the threads of one agency."""
    return sa.case(
        (HotlineThread.owner_node == node_name, HotlineThread.from_agency),
        else_=HotlineThread.to_agency,
    )


def next_deadline(session: Session, node: HotlineNode, actor: Actor) -> datetime | None:
    """When the next message of the actor's threads falls overdue, if any is waiting (the
    pages refresh themselves then, so the flag appears without a reload)."""
    return session.execute(
        sa.select(sa.func.min(HotlineMessage.ack_due_at))
        .join(HotlineThread, HotlineMessage.thread_id == HotlineThread.id)
        .where(
            _local_agency_column(node.name) == (actor.agency or ""),
            HotlineMessage.acked_at.is_(None),
            HotlineMessage.ack_due_at > utcnow(),
        )
    ).scalar_one_or_none()


def awaiting_acknowledgement(
    session: Session, node: HotlineNode, actor: Actor
) -> list[tuple[HotlineThread, HotlineMessage]]:
    """Received messages the actor's agency must still acknowledge, not yet overdue, the
    soonest deadline first (the inbox warns before anything is late)."""
    rows = session.execute(
        sa.select(HotlineThread, HotlineMessage)
        .join(HotlineMessage, HotlineMessage.thread_id == HotlineThread.id)
        .where(
            _local_agency_column(node.name) == (actor.agency or ""),
            HotlineMessage.owner_node != node.name,
            HotlineMessage.acked_at.is_(None),
            HotlineMessage.ack_due_at >= utcnow(),
        )
        .order_by(HotlineMessage.ack_due_at)
    ).all()
    return [(thread, message) for thread, message in rows]


def overdue_messages(
    session: Session, node: HotlineNode, actor: Actor
) -> list[tuple[HotlineThread, HotlineMessage]]:
    """Messages of the actor's threads still waiting for an acknowledgement past the deadline,
    on either side (ours waiting for the peer, the peer's waiting for us)."""
    local = _local_agency_column(node.name)
    rows = session.execute(
        sa.select(HotlineThread, HotlineMessage)
        .join(HotlineMessage, HotlineMessage.thread_id == HotlineThread.id)
        .where(
            local == (actor.agency or ""),
            HotlineMessage.ack_due_at.is_not(None),
            HotlineMessage.acked_at.is_(None),
            HotlineMessage.ack_due_at < utcnow(),
        )
        .order_by(HotlineMessage.ack_due_at)
    ).all()
    return [(thread, message) for thread, message in rows]


def read_attachment(
    session: Session, node: HotlineNode, actor: Actor, attachment_id: int
) -> HotlineAttachment:
    attachment = session.get(HotlineAttachment, attachment_id)
    if attachment is None:
        raise NotFound(T("no attachment %(attachment_id)s", attachment_id=attachment_id))
    message = session.get(HotlineMessage, attachment.message_id)
    if message is None:
        raise NotFound(T("no attachment %(attachment_id)s", attachment_id=attachment_id))
    visible_thread(session, node, actor, message.thread_id)
    if not attachment.verified:
        raise Conflict(
            T(
                "attachment %(filename)s failed its integrity check on arrival (its "
                "SHA-256 does not match what the sender recorded); it is not served",
                filename=repr(attachment.filename),
            )
        )
    record(
        session,
        actor,
        AttachmentRead(
            record_id=attachment.sha256, message=message.global_id, filename=attachment.filename
        ),
    )
    return attachment


def cooperation_series(
    session: Session, node_name: str, since: datetime, until: datetime
) -> list[Item]:
    """The overview's items: every message written from `since` until before `until`, sent
    by its origin node to the other node of the thread (this node and the thread's peer);
    its one step is the acknowledgement its priority asked for (`due_at`, the deadline)."""
    rows = session.execute(
        sa.select(HotlineMessage, HotlineThread, Peer.name)
        .join(HotlineThread, HotlineMessage.thread_id == HotlineThread.id)
        .join(Peer, Peer.id == HotlineThread.peer_id)
        .where(HotlineMessage.created_at >= since, HotlineMessage.created_at < until)
    ).all()
    return [
        Item(
            sender=message.owner_node,
            receiver=peer_name if message.owner_node == node_name else node_name,
            agency=thread.to_agency
            if message.owner_node == thread.owner_node
            else thread.from_agency,
            created_at=message.created_at,
            finished=(message.acked_at,),
            due_at=message.ack_due_at,
        )
        for message, thread, peer_name in rows
    ]
