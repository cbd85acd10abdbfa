"""Writing on the hotline: open a thread, post a message, acknowledge one.

Each command validates, writes, queues the record for the peer in the same transaction
(outbox), audits and publishes a live event; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.audit import (
    Actor,
    MessageAcknowledged,
    MessagePosted,
    MessagesShown,
    ThreadOpened,
    record,
)
from liaison.errors import Conflict, Forbidden, InvalidInput, NotFound
from liaison.federation import outbox
from liaison.federation.peers import active_peer
from liaison.messages import T
from liaison.services.entities import EntityInput, checked_entities, mention
from liaison.services.hotline.queries import (
    peer_agencies,
    peer_of,
    publish_thread_event,
    send_read_receipt,
    visible_thread,
)
from liaison.services.hotline.records import (
    ACK,
    MESSAGE,
    THREAD,
    AckPayload,
    MessagePayload,
    ThreadPayload,
    uploaded,
)
from liaison.services.hotline.rules import (
    MAX_ATTACHMENTS,
    MAX_BODY,
    MAX_SUBJECT,
    UNRESTRICTED,
    AttachmentUpload,
    Handling,
    HotlineNode,
    ack_deadline,
    check_attachment,
    check_choice,
    check_text,
    is_incoming,
)
from liaison.store.base import utcnow
from liaison.store.federation_tables import PeerStatus
from liaison.store.hotline_tables import (
    KINDS,
    PRIORITIES,
    HotlineAttachment,
    HotlineMessage,
    HotlineThread,
    Priority,
)


def _write_message(
    session: Session,
    node: HotlineNode,
    actor: Actor,
    thread: HotlineThread,
    body: str,
    priority: str,
    attachments: Iterable[AttachmentUpload],
    entities: Sequence[EntityInput] = (),
    handling: Handling = UNRESTRICTED,
) -> HotlineMessage:
    uploads = list(attachments)
    found = checked_entities(entities)
    handling.checked()
    if len(uploads) > MAX_ATTACHMENTS:
        raise InvalidInput(
            T(
                "a message may carry at most %(max_attachments)s attachments",
                max_attachments=MAX_ATTACHMENTS,
            )
        )
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
        handling_code=handling.code,
        source_reliability=handling.source_reliability,
        information_accuracy=handling.information_accuracy,
    )
    message.attachments = [HotlineAttachment(**uploaded(upload)) for upload in uploads]
    session.add(message)
    session.flush()
    session.add_all(mention(e, hotline_message_id=message.id) for e in found)
    payload = MessagePayload.of(message, thread, found).to_payload()
    outbox.share(session, peer_of(session, thread), MESSAGE.name, payload)
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
    # The thread row is updated only after the audit head is locked: the inbox applying the
    # peer's messages locks the head first, then the thread (the other order deadlocks).
    thread.last_message_at = now
    publish_thread_event(
        session, "message", thread, node.name, message=message.id, global_id=message.global_id
    )
    return message


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
    entities: Sequence[EntityInput] = (),
    handling: Handling = UNRESTRICTED,
) -> HotlineThread:
    """Open a thread with the first message and queue both for the peer; the caller commits."""
    check_choice(priority, PRIORITIES, "priority")
    check_choice(kind, KINDS, "kind")
    subject = check_text(subject, "subject", MAX_SUBJECT)
    body = check_text(body, "body", MAX_BODY)
    if not actor.agency:
        raise Forbidden(T("only users of an agency can write on the hotline"))
    target = active_peer(session, peer)
    addressee = (to_agency or target.default_agency).strip()
    known = peer_agencies(session, target)
    if addressee not in known:
        raise InvalidInput(
            T(
                "to_agency %(addressee)s is not an agency of %(target)s known to this "
                "node; known: %(known)s",
                addressee=repr(addressee),
                target=repr(target.name),
                known=", ".join(sorted(known)),
            )
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
    outbox.share(session, target, THREAD.name, ThreadPayload.of(thread).to_payload())
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
    publish_thread_event(session, "thread", thread, node.name)
    _write_message(session, node, actor, thread, body, priority, attachments, entities, handling)
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
    entities: Sequence[EntityInput] = (),
    handling: Handling = UNRESTRICTED,
    acknowledge_received: bool = False,
) -> HotlineMessage:
    """Add a message (a reply, on the receiving side) to a thread; the caller commits.

    Its priority is `routine` unless given: never inherited from the thread (a flash
    thread's replies would otherwise all demand acknowledgements). With
    `acknowledge_received`, the messages this side received that wait for an
    acknowledgement are acknowledged first: the reply answers them.
    """
    thread = visible_thread(session, node, actor, thread_id)
    if priority is not None:
        check_choice(priority, PRIORITIES, "priority")
    peer = peer_of(session, thread)
    if peer.status != PeerStatus.ACTIVE:
        raise Conflict(
            T(
                "the peer %(peer)s is %(status)s; the thread is read-only",
                peer=repr(peer.name),
                status=peer.status,
            )
        )
    text = check_text(body, "body", MAX_BODY)
    if acknowledge_received:
        waiting = session.execute(
            sa.select(HotlineMessage.id).where(
                HotlineMessage.thread_id == thread.id,
                HotlineMessage.owner_node != node.name,
                HotlineMessage.ack_due_at.is_not(None),
                HotlineMessage.acked_at.is_(None),
            )
        ).scalars()
        for message_id in list(waiting):
            acknowledge(session, node, actor, message_id)
    return _write_message(
        session,
        node,
        actor,
        thread,
        text,
        priority or Priority.ROUTINE,
        attachments,
        entities,
        handling,
    )


def mark_shown(
    session: Session, node: HotlineNode, actor: Actor, thread_id: int, message_ids: list[int]
) -> int:
    """Read receipts for the messages the page actually showed the user (a visible tab, on
    screen); returns how many were newly read. The caller commits."""
    thread = visible_thread(session, node, actor, thread_id)
    messages = session.execute(
        sa.select(HotlineMessage).where(
            HotlineMessage.thread_id == thread.id, HotlineMessage.id.in_(message_ids)
        )
    ).scalars()
    newly_read = send_read_receipt(session, node, actor, thread, messages)
    if newly_read:
        record(session, actor, MessagesShown(record_id=thread.global_id, newly_read=newly_read))
    return newly_read


def acknowledge(
    session: Session, node: HotlineNode, actor: Actor, message_id: int
) -> HotlineMessage:
    """Acknowledge an urgent or flash message this side received; the caller commits."""
    message = session.get(HotlineMessage, message_id)
    if message is None:
        raise NotFound(T("no hotline message %(message_id)s", message_id=message_id))
    thread = visible_thread(session, node, actor, message.thread_id)
    if not is_incoming(message, node.name):
        raise Conflict(T("only the receiving side acknowledges a message"))
    if message.ack_due_at is None:
        raise Conflict(T("this message is routine and needs no acknowledgement"))
    if message.acked_at is not None:
        return message
    message.acked_at = utcnow()
    message.acked_by = f"{actor.name} ({actor.agency})"
    if message.read_at is None:
        message.read_at, message.read_by = message.acked_at, message.acked_by
    acknowledgement = AckPayload(message.global_id, message.acked_at, message.acked_by)
    outbox.share(session, peer_of(session, thread), ACK.name, acknowledgement.to_payload())
    record(
        session,
        actor,
        MessageAcknowledged(
            record_id=message.global_id, overdue=message.acked_at > message.ack_due_at
        ),
    )
    publish_thread_event(session, "ack", thread, node.name, message=message.id)
    return message
