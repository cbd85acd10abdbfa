"""The hotline: threads between the agencies of two peered nodes, with deadlines.

Agencies across nodes: a thread runs between one agency on each node. `from_agency` is
the author's agency on the node that opened it; `to_agency` is an agency of the peer,
named as the peer names it (by default the peer's default agency, learned when the two
nodes peered). On each node the thread is visible to the users of its local agency:
`from_agency` on the node that opened it, `to_agency` on the other.

Ownership: a thread and each message belong to the node that wrote them. The other node
may only add messages to the thread, acknowledge the messages it received and send read
receipts for them; the inbox handlers below refuse anything else.

Deadlines: an `urgent` or `flash` message must be acknowledged by the receiving side by
`ack_due_at`, fixed by the writing node from its settings (defaults 4 h and 30 min) and
carried with the message, so both sides flag the same moment as overdue.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from liaison.audit import (
    AckReceived,
    Actor,
    AttachmentRead,
    MessageAcknowledged,
    MessagePosted,
    MessageReceived,
    ReadReceiptReceived,
    ThreadMisaddressed,
    ThreadOpened,
    ThreadRead,
    ThreadReceived,
    ThreadsListed,
    record,
)
from liaison.config import Settings
from liaison.errors import Conflict, Forbidden, InvalidInput, NotFound
from liaison.federation import inbox, outbox
from liaison.federation.context import LocalNode
from liaison.federation.notify import LiveEvent, live_feed
from liaison.federation.peers import active_peer
from liaison.store.accounts import Agency
from liaison.store.base import utcnow
from liaison.store.federation_tables import Peer
from liaison.store.hotline_tables import (
    KINDS,
    PRIORITIES,
    HotlineAttachment,
    HotlineMessage,
    HotlineThread,
)
from liaison.text import check_storable_text

THREAD_RECORD = "hotline.thread"
MESSAGE_RECORD = "hotline.message"
ACK_RECORD = "hotline.ack"
READ_RECORD = "hotline.read"

MAX_SUBJECT = 300
MAX_BODY = 20_000
MAX_ATTACHMENTS = 5
# Content types an attachment may have, and the leading bytes each must start with.
ALLOWED_CONTENT_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "text/plain": (),
    "text/csv": (),
}


class HotlineNode(Protocol):
    """What the hotline needs of the local node (a NodeConfig or a LocalNode)."""

    @property
    def name(self) -> str: ...

    @property
    def settings(self) -> Settings: ...


@dataclass(frozen=True)
class AttachmentUpload:
    filename: str
    content_type: str
    content: bytes


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


# ---------------------------------------------------------------- helpers


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse_stamp(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise inbox.ProtocolViolation(f"{where} must be an ISO 8601 timestamp")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise inbox.ProtocolViolation(f"{where} is not an ISO 8601 timestamp: {value!r}") from error
    if moment.tzinfo is None:
        raise inbox.ProtocolViolation(f"{where} has no time zone")
    return moment


def local_agency(thread: HotlineThread, node_name: str) -> str:
    """The agency of this node that the thread belongs to."""
    return thread.from_agency if thread.owner_node == node_name else thread.to_agency


def is_incoming(message: HotlineMessage, node_name: str) -> bool:
    return message.owner_node != node_name


def needs_ack(message: HotlineMessage) -> bool:
    return message.ack_due_at is not None and message.acked_at is None


def is_overdue(message: HotlineMessage, now: datetime | None = None) -> bool:
    return (
        needs_ack(message)
        and message.ack_due_at is not None
        and (message.ack_due_at < (now or utcnow()))
    )


def ack_deadline(settings: Settings, priority: str) -> timedelta | None:
    if priority == "urgent":
        return timedelta(minutes=settings.hotline_urgent_ack_minutes)
    if priority == "flash":
        return timedelta(minutes=settings.hotline_flash_ack_minutes)
    return None


def _check_choice(value: str, choices: Sequence[str], what: str) -> None:
    if value not in choices:
        raise InvalidInput(f"{what} must be one of {', '.join(choices)} (got {value!r})")


def _check_text(value: str, what: str, limit: int) -> str:
    check_storable_text(value, what)
    value = value.strip()
    if not value:
        raise InvalidInput(f"{what} must not be empty")
    if len(value) > limit:
        raise InvalidInput(f"{what} has {len(value)} characters; the limit is {limit}")
    return value


def normalized_content_type(value: str) -> str:
    """The media type alone, lower case: `Text/Plain; charset=x` is `text/plain`."""
    return value.split(";")[0].strip().lower()


def display_filename(filename: str) -> str:
    """An attachment's name as pages and downloads show it: without control and format
    characters (a CR/LF would end a header; a right-to-left override makes
    `invoice\u202egpj.exe` read as `invoiceexe.jpg`)."""
    return "".join(c for c in filename if unicodedata.category(c)[0] != "C") or "attachment"


def check_attachment(upload: AttachmentUpload, settings: Settings) -> None:
    """Refuse an attachment that is too large, of a type not allowed, or not what it says."""
    name = upload.filename or "attachment"
    check_storable_text(name, "the attachment's file name")
    limit = settings.hotline_attachment_max_bytes
    if not upload.content:
        raise InvalidInput(f"attachment {name!r} is empty")
    if len(upload.content) > limit:
        raise InvalidInput(
            f"attachment {name!r} has {len(upload.content)} bytes; the limit is {limit}"
        )
    content_type = normalized_content_type(upload.content_type)
    if content_type not in ALLOWED_CONTENT_TYPES:
        raise InvalidInput(
            f"attachment {name!r} has content type {content_type!r}; allowed: "
            + ", ".join(ALLOWED_CONTENT_TYPES)
        )
    signatures = ALLOWED_CONTENT_TYPES[content_type]
    if signatures and not upload.content.startswith(signatures):
        raise InvalidInput(f"attachment {name!r} does not look like {content_type}")
    if not signatures:
        try:
            upload.content.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidInput(f"attachment {name!r} is not UTF-8 text") from error


def _visible_thread(
    session: Session, node: HotlineNode, actor: Actor, thread_id: int
) -> HotlineThread:
    thread = session.get(HotlineThread, thread_id)
    if thread is None or local_agency(thread, node.name) != actor.agency:
        # The same answer for "absent" and "not yours": thread ids reveal nothing.
        raise NotFound(f"no hotline thread {thread_id} for your agency")
    return thread


def _peer_of(session: Session, thread: HotlineThread) -> Peer:
    peer = session.get(Peer, thread.peer_id)
    if peer is None:  # the foreign key makes this impossible short of corruption
        raise NotFound(f"thread {thread.id} has no peer")
    return peer


def _publish(
    session: Session, name: str, thread: HotlineThread, node_name: str, **data: Any
) -> None:
    live_feed(session.get_bind()).publish_after_commit(
        session,
        LiveEvent(
            name=name,
            data={"thread": thread.id, **data},
            audience=frozenset({local_agency(thread, node_name)}),
        ),
    )


def _message_payload(message: HotlineMessage, thread: HotlineThread) -> dict[str, Any]:
    return {
        "global_id": message.global_id,
        "thread": thread.global_id,
        "owner_node": message.owner_node,
        "created_at": _stamp(message.created_at),
        "author": message.author,
        "author_agency": message.author_agency,
        "body": message.body,
        "priority": message.priority,
        "ack_due_at": _stamp(message.ack_due_at),
        "attachments": [
            {
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
                "content": base64.b64encode(attachment.content).decode("ascii"),
            }
            for attachment in message.attachments
        ],
    }


# ---------------------------------------------------------------- writing


def _write_message(
    session: Session,
    node: HotlineNode,
    actor: Actor,
    thread: HotlineThread,
    body: str,
    priority: str,
    attachments: Iterable[AttachmentUpload],
) -> HotlineMessage:
    uploads = list(attachments)
    if len(uploads) > MAX_ATTACHMENTS:
        raise InvalidInput(f"a message may carry at most {MAX_ATTACHMENTS} attachments")
    for upload in uploads:
        check_attachment(upload, node.settings)
    now = utcnow()
    deadline = ack_deadline(node.settings, priority)
    message = HotlineMessage(
        thread_id=thread.id,
        owner_node=node.name,
        created_at=now,
        author=actor.name,
        author_agency=actor.agency or "",
        body=body,
        priority=priority,
        ack_due_at=None if deadline is None else now + deadline,
    )
    message.attachments = [
        HotlineAttachment(
            filename=upload.filename[:255] or "attachment",
            content_type=normalized_content_type(upload.content_type),
            size=len(upload.content),
            sha256=hashlib.sha256(upload.content).hexdigest(),
            content=upload.content,
            verified=True,
        )
        for upload in uploads
    ]
    session.add(message)
    thread.last_message_at = now
    session.flush()
    outbox.share(
        session, _peer_of(session, thread), MESSAGE_RECORD, _message_payload(message, thread)
    )
    record(
        session,
        actor,
        MessagePosted(
            record_id=message.global_id,
            thread=thread.global_id,
            priority=priority,
            attachments=[a.sha256 for a in message.attachments],
        ),
    )
    _publish(session, "message", thread, node.name, message=message.id, global_id=message.global_id)
    return message


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


def open_thread(
    session: Session,
    node: HotlineNode,
    actor: Actor,
    *,
    peer: str,
    subject: str,
    priority: str,
    kind: str,
    body: str,
    to_agency: str | None = None,
    attachments: Iterable[AttachmentUpload] = (),
) -> HotlineThread:
    """Open a thread with the first message and queue both for the peer; the caller commits."""
    _check_choice(priority, PRIORITIES, "priority")
    _check_choice(kind, KINDS, "kind")
    subject = _check_text(subject, "subject", MAX_SUBJECT)
    body = _check_text(body, "body", MAX_BODY)
    if not actor.agency:
        raise Forbidden("only users of an agency can write on the hotline")
    target = active_peer(session, peer)
    addressee = (to_agency or target.default_agency).strip()
    known = peer_agencies(session, target)
    if addressee not in known:
        raise InvalidInput(
            f"to_agency {addressee!r} is not an agency of {target.name!r} known to this node; "
            f"known: {', '.join(sorted(known))}"
        )
    now = utcnow()
    thread = HotlineThread(
        peer_id=target.id,
        owner_node=node.name,
        created_at=now,
        subject=subject,
        priority=priority,
        kind=kind,
        from_agency=actor.agency,
        to_agency=addressee,
        created_by=actor.name,
        last_message_at=now,
    )
    session.add(thread)
    session.flush()
    outbox.share(
        session,
        target,
        THREAD_RECORD,
        {
            "global_id": thread.global_id,
            "owner_node": thread.owner_node,
            "created_at": _stamp(thread.created_at),
            "subject": thread.subject,
            "priority": thread.priority,
            "kind": thread.kind,
            "from_agency": thread.from_agency,
            "to_agency": thread.to_agency,
            "created_by": thread.created_by,
        },
    )
    record(
        session,
        actor,
        ThreadOpened(
            record_id=thread.global_id,
            peer=peer,
            priority=priority,
            kind=kind,
            to_agency=thread.to_agency,
        ),
    )
    _publish(session, "thread", thread, node.name)
    _write_message(session, node, actor, thread, body, priority, attachments)
    return thread


def post_message(
    session: Session,
    node: HotlineNode,
    actor: Actor,
    thread_id: int,
    body: str,
    *,
    priority: str | None = None,
    attachments: Iterable[AttachmentUpload] = (),
) -> HotlineMessage:
    """Add a message (a reply, on the receiving side) to a thread; the caller commits."""
    thread = _visible_thread(session, node, actor, thread_id)
    if priority is not None:
        _check_choice(priority, PRIORITIES, "priority")
    peer = _peer_of(session, thread)
    if peer.status != "active":
        raise Conflict(f"the peer {peer.name!r} is {peer.status}; the thread is read-only")
    return _write_message(
        session,
        node,
        actor,
        thread,
        _check_text(body, "body", MAX_BODY),
        priority or thread.priority,
        attachments,
    )


def acknowledge(
    session: Session, node: HotlineNode, actor: Actor, message_id: int
) -> HotlineMessage:
    """Acknowledge an urgent or flash message this side received; the caller commits."""
    message = session.get(HotlineMessage, message_id)
    if message is None:
        raise NotFound(f"no hotline message {message_id}")
    thread = _visible_thread(session, node, actor, message.thread_id)
    if not is_incoming(message, node.name):
        raise Conflict("only the receiving side acknowledges a message")
    if message.ack_due_at is None:
        raise Conflict("this message is routine and needs no acknowledgement")
    if message.acked_at is not None:
        return message
    message.acked_at = utcnow()
    message.acked_by = f"{actor.name} ({actor.agency})"
    if message.read_at is None:
        message.read_at, message.read_by = message.acked_at, message.acked_by
    outbox.share(
        session,
        _peer_of(session, thread),
        ACK_RECORD,
        {
            "message": message.global_id,
            "acked_at": _stamp(message.acked_at),
            "acked_by": message.acked_by,
        },
    )
    record(
        session,
        actor,
        MessageAcknowledged(
            record_id=message.global_id, overdue=message.acked_at > message.ack_due_at
        ),
    )
    _publish(session, "ack", thread, node.name, message=message.id)
    return message


# ---------------------------------------------------------------- reading


def read_thread(
    session: Session, node: HotlineNode, actor: Actor, thread_id: int
) -> tuple[HotlineThread, list[HotlineMessage]]:
    """The thread and its messages; marks what this side received as read and sends the
    read receipt back. Audited as a read of the thread. The caller commits."""
    thread = _visible_thread(session, node, actor, thread_id)
    messages = list(
        session.execute(
            sa.select(HotlineMessage)
            .where(HotlineMessage.thread_id == thread.id)
            .options(selectinload(HotlineMessage.attachments))
            .order_by(HotlineMessage.id)
        ).scalars()
    )
    unread = [m for m in messages if is_incoming(m, node.name) and m.read_at is None]
    if unread:
        now = utcnow()
        reader = f"{actor.name} ({actor.agency})"
        for message in unread:
            message.read_at, message.read_by = now, reader
        outbox.share(
            session,
            _peer_of(session, thread),
            READ_RECORD,
            {"messages": [m.global_id for m in unread], "read_at": _stamp(now), "read_by": reader},
        )
        _publish(session, "read", thread, node.name)
    record(
        session,
        actor,
        ThreadRead(record_id=thread.global_id, messages=len(messages), newly_read=len(unread)),
    )
    return thread, messages


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
    """Unread and overdue counts of the actor's agency; only counts, so not audited."""
    return inbox_counts(_thread_summaries(session, node, actor, None))


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
    now = utcnow()
    incoming = HotlineMessage.owner_node != node.name
    rows = session.execute(
        sa.select(
            HotlineMessage.thread_id,
            sa.func.count(),
            sa.func.sum(sa.case((sa.and_(incoming, HotlineMessage.read_at.is_(None)), 1), else_=0)),
            sa.func.sum(
                sa.case(
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
            ),
        )
        .where(HotlineMessage.thread_id.in_(thread_ids))
        .group_by(HotlineMessage.thread_id)
    ).all()
    return {thread_id: (int(n), int(u or 0), int(o or 0)) for thread_id, n, u, o in rows}


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
        raise NotFound(f"no attachment {attachment_id}")
    message = session.get(HotlineMessage, attachment.message_id)
    if message is None:
        raise NotFound(f"no attachment {attachment_id}")
    _visible_thread(session, node, actor, message.thread_id)
    if not attachment.verified:
        raise Conflict(
            f"attachment {attachment.filename!r} failed its integrity check on arrival "
            "(its SHA-256 does not match what the sender recorded); it is not served"
        )
    record(
        session,
        actor,
        AttachmentRead(
            record_id=attachment.sha256, message=message.global_id, filename=attachment.filename
        ),
    )
    return attachment


# ---------------------------------------------------------------- from the peer


def _require(payload: dict[str, Any], name: str, kind: type = str) -> Any:
    value = payload.get(name)
    if not isinstance(value, kind) or (kind is str and not value):
        raise inbox.ProtocolViolation(f"{name!r} is missing or not a {kind.__name__}")
    return value


def _name(payload: dict[str, Any], name: str) -> str:
    """A person or agency name from the peer, cut to what the columns hold."""
    return str(_require(payload, name))[:200]


def _record_id(payload: dict[str, Any], name: str) -> str:
    """A global id from the peer: refused (not cut) when it cannot be one of ours."""
    value = str(_require(payload, name))
    if len(value) > 36:
        raise inbox.ProtocolViolation(f"{name!r} is longer than a global id (36 characters)")
    return value


def _thread_from_peer(session: Session, peer: Peer, global_id: str) -> HotlineThread:
    thread = session.execute(
        sa.select(HotlineThread).where(HotlineThread.global_id == global_id)
    ).scalar_one_or_none()
    if thread is None:
        raise inbox.ProtocolViolation(f"unknown thread {global_id}")
    if thread.peer_id != peer.id:
        raise inbox.ProtocolViolation(f"thread {global_id} is not shared with {peer.name!r}")
    return thread


def _new_record_id(
    session: Session,
    peer: Peer,
    payload: dict[str, Any],
    model: type[HotlineThread] | type[HotlineMessage],
    what: str,
) -> str:
    """The global id of a record the peer creates: it must own it, and it must be new here."""
    global_id = _record_id(payload, "global_id")
    if _require(payload, "owner_node") != peer.name:
        raise inbox.ProtocolViolation(f"a peer can only send a {what} it owns")
    exists = session.execute(sa.select(model.id).where(model.global_id == global_id)).first()
    if exists:
        raise inbox.ProtocolViolation(f"{what} {global_id} already exists")
    return global_id


def receive_thread(session: Session, node: LocalNode, peer: Peer, payload: dict[str, Any]) -> None:
    global_id = _new_record_id(session, peer, payload, HotlineThread, "thread")
    priority, kind = _require(payload, "priority"), _require(payload, "kind")
    if priority not in PRIORITIES or kind not in KINDS:
        raise inbox.ProtocolViolation(f"unknown priority {priority!r} or kind {kind!r}")
    created_at = _parse_stamp(payload.get("created_at"), "created_at")
    addressed_to = _name(payload, "to_agency")
    to_agency = addressed_to
    if session.execute(sa.select(Agency.id).where(Agency.name == addressed_to)).first() is None:
        # Dropping it would hide it from everyone (and let its deadlines pass unseen): the
        # default agency gets it, and the audit trail says it was misaddressed.
        to_agency = node.default_agency
        record(
            session,
            Actor.peer(peer.name),
            ThreadMisaddressed(
                record_id=global_id, addressed_to=addressed_to, filed_under=to_agency
            ),
        )
    thread = HotlineThread(
        global_id=global_id,
        owner_node=peer.name,
        created_at=created_at,
        peer_id=peer.id,
        subject=_require(payload, "subject")[:MAX_SUBJECT],
        priority=priority,
        kind=kind,
        from_agency=_name(payload, "from_agency"),
        to_agency=to_agency,
        created_by=_name(payload, "created_by"),
        last_message_at=created_at,
    )
    session.add(thread)
    session.flush()
    record(
        session,
        Actor.peer(peer.name, thread.from_agency),
        ThreadReceived(
            record_id=global_id,
            to_agency=thread.to_agency,
            addressed_to=addressed_to,
            priority=priority,
            kind=kind,
        ),
    )
    live_feed(session.get_bind()).publish_after_commit(
        session,
        LiveEvent("thread", {"thread": thread.id}, frozenset({thread.to_agency})),
    )


def _received_attachment(item: Any, index: int, settings: Settings) -> HotlineAttachment:
    if not isinstance(item, dict):
        raise inbox.ProtocolViolation(f"attachments[{index}] must be an object")
    declared_sha = _require(item, "sha256")
    declared_size = _require(item, "size", int)
    try:
        content = base64.b64decode(_require(item, "content"), validate=True)
    except (binascii.Error, ValueError) as error:
        raise inbox.ProtocolViolation(f"attachments[{index}].content is not base64") from error
    # Stored as a local upload's would be: the peer's parameters and case are not served.
    content_type = normalized_content_type(_require(item, "content_type"))
    filename = str(_require(item, "filename"))[:255]
    verified = hashlib.sha256(content).hexdigest() == declared_sha and len(content) == declared_size
    try:
        # The same rules as for an upload here: size, type, and that the bytes are what
        # the type says (file signature, UTF-8 for text).
        check_attachment(AttachmentUpload(filename, content_type, content), settings)
    except InvalidInput:
        verified = False
    return HotlineAttachment(
        filename=filename,
        content_type=content_type[:100],
        size=declared_size,
        sha256=declared_sha[:64],
        content=content,
        verified=verified,
    )


def _received_deadline(value: Any, priority: str, created_at: datetime) -> datetime | None:
    """The writer fixes the deadline, but only as its priority allows: none for routine,
    and not before the message was written for urgent and flash (equal is a deadline of
    zero minutes, which a node may be configured with: overdue at once)."""
    if priority == "routine":
        if value is not None:
            raise inbox.ProtocolViolation("a routine message has no ack_due_at")
        return None
    if value is None:
        raise inbox.ProtocolViolation(f"{priority} messages need an ack_due_at")
    due = _parse_stamp(value, "ack_due_at")
    if due < created_at:
        raise inbox.ProtocolViolation(f"ack_due_at {value} is before created_at")
    return due


def receive_message(session: Session, node: LocalNode, peer: Peer, payload: dict[str, Any]) -> None:
    global_id = _new_record_id(session, peer, payload, HotlineMessage, "message")
    thread = _thread_from_peer(session, peer, _record_id(payload, "thread"))
    priority = _require(payload, "priority")
    if priority not in PRIORITIES:
        raise inbox.ProtocolViolation(f"unknown priority {priority!r}")
    attachments = payload.get("attachments", [])
    if not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS:
        raise inbox.ProtocolViolation("attachments must be a list of at most 5 items")
    created_at = _parse_stamp(payload.get("created_at"), "created_at")
    message = HotlineMessage(
        global_id=global_id,
        owner_node=peer.name,
        created_at=created_at,
        thread_id=thread.id,
        author=_name(payload, "author"),
        author_agency=str(payload.get("author_agency", ""))[:200],
        body=_require(payload, "body")[:MAX_BODY],
        priority=priority,
        ack_due_at=_received_deadline(payload.get("ack_due_at"), priority, created_at),
    )
    message.attachments = [
        _received_attachment(item, index, node.settings) for index, item in enumerate(attachments)
    ]
    session.add(message)
    thread.last_message_at = max(thread.last_message_at, message.created_at)
    session.flush()
    record(
        session,
        Actor.peer(peer.name, message.author_agency),
        MessageReceived(
            record_id=global_id,
            thread=thread.global_id,
            attachments=[{"sha256": a.sha256, "verified": a.verified} for a in message.attachments],
        ),
    )
    live_feed(session.get_bind()).publish_after_commit(
        session,
        LiveEvent(
            "message",
            {"thread": thread.id, "message": message.id, "global_id": message.global_id},
            frozenset({_local_agency_for_peer(thread, peer)}),
        ),
    )


def _own_message_for_peer(
    session: Session, peer: Peer, global_id: str
) -> tuple[HotlineMessage, HotlineThread]:
    message = session.execute(
        sa.select(HotlineMessage).where(HotlineMessage.global_id == global_id)
    ).scalar_one_or_none()
    if message is None:
        raise inbox.ProtocolViolation(f"unknown message {global_id}")
    if message.owner_node == peer.name:
        raise inbox.ProtocolViolation("a peer cannot acknowledge or read-receipt its own message")
    thread = session.get(HotlineThread, message.thread_id)
    if thread is None or thread.peer_id != peer.id:
        raise inbox.ProtocolViolation(f"message {global_id} was not sent to {peer.name!r}")
    return message, thread


def _local_agency_for_peer(thread: HotlineThread, peer: Peer) -> str:
    return thread.to_agency if thread.owner_node == peer.name else thread.from_agency


def receive_ack(session: Session, node: LocalNode, peer: Peer, payload: dict[str, Any]) -> None:
    message, thread = _own_message_for_peer(session, peer, _require(payload, "message"))
    if message.ack_due_at is None:
        raise inbox.ProtocolViolation(f"message {message.global_id} needs no acknowledgement")
    if message.acked_at is None:
        message.acked_at = _parse_stamp(payload.get("acked_at"), "acked_at")
        message.acked_by = str(payload.get("acked_by", peer.name))[:200]
        if message.read_at is None:
            message.read_at, message.read_by = message.acked_at, message.acked_by
    record(
        session,
        Actor.peer(peer.name),
        AckReceived(record_id=message.global_id, acked_by=message.acked_by or ""),
    )
    live_feed(session.get_bind()).publish_after_commit(
        session,
        LiveEvent(
            "ack",
            {"thread": thread.id, "message": message.id},
            frozenset({_local_agency_for_peer(thread, peer)}),
        ),
    )


def receive_read(session: Session, node: LocalNode, peer: Peer, payload: dict[str, Any]) -> None:
    global_ids = payload.get("messages")
    if not isinstance(global_ids, list) or not all(isinstance(g, str) for g in global_ids):
        raise inbox.ProtocolViolation("'messages' must be a list of message ids")
    read_at = _parse_stamp(payload.get("read_at"), "read_at")
    read_by = str(payload.get("read_by", peer.name))[:200]
    threads: set[int] = set()
    audience: set[str] = set()
    for global_id in global_ids:
        message, thread = _own_message_for_peer(session, peer, global_id)
        if message.read_at is None:
            message.read_at, message.read_by = read_at, read_by
        threads.add(thread.id)
        audience.add(_local_agency_for_peer(thread, peer))
    record(
        session,
        Actor.peer(peer.name),
        ReadReceiptReceived(messages=global_ids, read_by=read_by),
    )
    for thread_id in threads:
        live_feed(session.get_bind()).publish_after_commit(
            session, LiveEvent("read", {"thread": thread_id}, frozenset(audience))
        )


inbox.register_record_type(THREAD_RECORD, receive_thread)
inbox.register_record_type(MESSAGE_RECORD, receive_message)
inbox.register_record_type(ACK_RECORD, receive_ack)
inbox.register_record_type(READ_RECORD, receive_read)
