"""The hotline's shared records: their payloads, owners, what the peer may do, handlers.

A thread and each message belong to the node that wrote them. The other node may reply
in a thread (`PeerMay.REPLY`) and acknowledge or read-receipt the messages it received
(`PeerMay.ACKNOWLEDGE`); liaison.federation.records checks that before the handlers
below run. `RECORD_TYPES` is registered by the runtime (liaison.runtime), not here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.audit import (
    AckReceived,
    Actor,
    MessageReceived,
    ReadReceiptReceived,
    ThreadMisaddressed,
    ThreadReceived,
    record,
)
from liaison.config import Settings
from liaison.errors import InvalidInput
from liaison.federation.context import LocalNode
from liaison.federation.notify import LiveEvent, publish_after_commit
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
from liaison.services.entities import Entity, entities_of_payload, entity_wire, mention
from liaison.services.hotline.rules import (
    MAX_ATTACHMENTS,
    MAX_BODY,
    MAX_SUBJECT,
    AttachmentUpload,
    check_attachment,
    normalized_content_type,
)
from liaison.store.accounts import Agency
from liaison.store.federation_tables import Peer
from liaison.store.hotline_tables import (
    KINDS,
    PRIORITIES,
    HotlineAttachment,
    HotlineMessage,
    HotlineThread,
    Priority,
)
from liaison.store.incident_tables import ACCURACIES, HANDLING_CODES, RELIABILITIES

MAX_NAME = 200


def _name(data: dict[str, Any], name: str) -> str:
    """A person or agency name from the peer, cut to what the columns hold."""
    return str(require(data, name))[:MAX_NAME]


def _optional_name(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return None if value is None else str(value)[:MAX_NAME]


# ---------------------------------------------------------------- payloads


@dataclass(frozen=True)
class ThreadPayload:
    global_id: str
    owner_node: str
    created_at: datetime
    subject: str
    priority: str
    kind: str
    from_agency: str
    to_agency: str
    created_by: str

    @property
    def within_id(self) -> None:
        return None

    @classmethod
    def of(cls, thread: HotlineThread) -> Self:
        payload: Self = of_row(cls, thread)
        return payload

    def to_payload(self) -> dict[str, Any]:
        return wire(self)

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        priority, kind = require(data, "priority"), require(data, "kind")
        if priority not in PRIORITIES or kind not in KINDS:
            raise ProtocolViolation(f"unknown priority {priority!r} or kind {kind!r}")
        return cls(
            global_id=global_id(data, "global_id"),
            owner_node=require(data, "owner_node"),
            created_at=parse_stamp(data.get("created_at"), "created_at"),
            subject=require(data, "subject")[:MAX_SUBJECT],
            priority=priority,
            kind=kind,
            from_agency=_name(data, "from_agency"),
            to_agency=_name(data, "to_agency"),
            created_by=_name(data, "created_by"),
        )


@dataclass(frozen=True)
class AttachmentPayload:
    filename: str
    content_type: str
    size: int  # as the writer recorded it, like `sha256`
    sha256: str
    content: bytes

    @classmethod
    def of(cls, attachment: HotlineAttachment) -> Self:
        payload: Self = of_row(cls, attachment)
        return payload

    def to_payload(self) -> dict[str, Any]:
        return wire(self, content=base64.b64encode(self.content).decode("ascii"))

    def received(self, settings: Settings) -> dict[str, Any]:
        """The columns of an attachment row for what a peer sent: kept as it came, marked
        verified only if its bytes hash to what the writer recorded and pass the checks of
        an upload here (size, type, and that the bytes are what the type says)."""
        verified = (
            hashlib.sha256(self.content).hexdigest() == self.sha256
            and len(self.content) == self.size
        )
        try:
            check_attachment(
                AttachmentUpload(self.filename, self.content_type, self.content), settings
            )
        except InvalidInput:
            verified = False
        return {
            "filename": self.filename,
            "content_type": self.content_type[:100],
            "size": self.size,
            "sha256": self.sha256[:64],
            "content": self.content,
            "verified": verified,
        }

    @classmethod
    def from_payload(cls, item: Any, index: int) -> Self:
        if not isinstance(item, dict):
            raise ProtocolViolation(f"attachments[{index}] must be an object")
        sha256 = require(item, "sha256")
        size = require(item, "size", int)
        try:
            content = base64.b64decode(require(item, "content"), validate=True)
        except (binascii.Error, ValueError) as error:
            raise ProtocolViolation(f"attachments[{index}].content is not base64") from error
        return cls(
            filename=str(require(item, "filename"))[:255],
            # Stored as a local upload's would be: the peer's parameters and case are not served.
            content_type=normalized_content_type(require(item, "content_type")),
            size=size,
            sha256=sha256,
            content=content,
        )


def uploaded(upload: AttachmentUpload) -> dict[str, Any]:
    """The columns of an attachment row for an upload here (`check_attachment` passed)."""
    return {
        "filename": upload.filename[:255] or "attachment",
        "content_type": normalized_content_type(upload.content_type),
        "size": len(upload.content),
        "sha256": hashlib.sha256(upload.content).hexdigest(),
        "content": upload.content,
        "verified": True,
    }


def _choice_or(
    data: dict[str, Any], name: str, choices: tuple[str, ...], default: str | None
) -> str | None:
    value = data.get(name, default)
    if value is not None and value not in choices:
        raise ProtocolViolation(f"unknown {name} {value!r}")
    return None if value is None else str(value)


def _received_deadline(value: Any, priority: str, created_at: datetime) -> datetime | None:
    """The writer fixes the deadline, but only as its priority allows: none for routine,
    and not before the message was written for urgent and flash (equal is a deadline of
    zero minutes, which a node may be configured with: overdue at once)."""
    if priority == Priority.ROUTINE:
        if value is not None:
            raise ProtocolViolation("a routine message has no ack_due_at")
        return None
    if value is None:
        raise ProtocolViolation(f"{priority} messages need an ack_due_at")
    due = parse_stamp(value, "ack_due_at")
    if due < created_at:
        raise ProtocolViolation(f"ack_due_at {value} is before created_at")
    return due


@dataclass(frozen=True)
class MessagePayload:
    global_id: str
    thread: str  # the thread's global id
    owner_node: str
    created_at: datetime
    author: str
    author_agency: str
    body: str
    priority: str
    ack_due_at: datetime | None
    attachments: tuple[AttachmentPayload, ...]
    # Entities mentioned, handling code and grading (issue 10); absent from older peers'.
    entities: tuple[Entity, ...] = ()
    handling_code: str = "none"
    source_reliability: str | None = None
    information_accuracy: str | None = None

    @property
    def within_id(self) -> str:
        return self.thread

    @classmethod
    def of(
        cls, message: HotlineMessage, thread: HotlineThread, entities: Sequence[Entity] = ()
    ) -> Self:
        attachments = tuple(AttachmentPayload.of(item) for item in message.attachments)
        payload: Self = of_row(
            cls,
            message,
            thread=thread.global_id,
            attachments=attachments,
            entities=tuple(entities),
        )
        return payload

    def to_payload(self) -> dict[str, Any]:
        return wire(
            self,
            attachments=[item.to_payload() for item in self.attachments],
            entities=entity_wire(self.entities),
        )

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        priority = require(data, "priority")
        if priority not in PRIORITIES:
            raise ProtocolViolation(f"unknown priority {priority!r}")
        attachments = data.get("attachments", [])
        if not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS:
            raise ProtocolViolation(
                f"attachments must be a list of at most {MAX_ATTACHMENTS} items"
            )
        created_at = parse_stamp(data.get("created_at"), "created_at")
        return cls(
            global_id=global_id(data, "global_id"),
            thread=global_id(data, "thread"),
            owner_node=require(data, "owner_node"),
            created_at=created_at,
            author=_name(data, "author"),
            author_agency=str(data.get("author_agency", ""))[:MAX_NAME],
            body=require(data, "body")[:MAX_BODY],
            priority=priority,
            ack_due_at=_received_deadline(data.get("ack_due_at"), priority, created_at),
            attachments=tuple(
                AttachmentPayload.from_payload(item, index)
                for index, item in enumerate(attachments)
            ),
            entities=entities_of_payload(data),
            handling_code=_choice_or(data, "handling_code", HANDLING_CODES, "none") or "none",
            source_reliability=_choice_or(data, "source_reliability", RELIABILITIES, None),
            information_accuracy=_choice_or(data, "information_accuracy", ACCURACIES, None),
        )


@dataclass(frozen=True)
class AckPayload:
    message: str  # the acknowledged message's global id
    acked_at: datetime
    acked_by: str | None

    @property
    def target_ids(self) -> tuple[str]:
        return (self.message,)

    def to_payload(self) -> dict[str, Any]:
        return wire(self)

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        return cls(
            message=require(data, "message"),
            acked_at=parse_stamp(data.get("acked_at"), "acked_at"),
            acked_by=_optional_name(data, "acked_by"),
        )


@dataclass(frozen=True)
class ReadPayload:
    messages: tuple[str, ...]  # global ids of the messages read
    read_at: datetime
    read_by: str | None

    @property
    def target_ids(self) -> tuple[str, ...]:
        return self.messages

    def to_payload(self) -> dict[str, Any]:
        return wire(self, messages=list(self.messages))

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        messages = data.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
            raise ProtocolViolation("'messages' must be a list of message ids")
        return cls(
            messages=tuple(messages),
            read_at=parse_stamp(data.get("read_at"), "read_at"),
            read_by=_optional_name(data, "read_by"),
        )


# ---------------------------------------------------------------- handlers


def _local_agency_for_peer(thread: HotlineThread, peer: Peer) -> str:
    return thread.to_agency if thread.owner_node == peer.name else thread.from_agency


def receive_thread(
    session: Session, node: LocalNode, peer: Peer, payload: ThreadPayload, related: Sequence[Any]
) -> None:
    to_agency = payload.to_agency
    if session.execute(sa.select(Agency.id).where(Agency.name == to_agency)).first() is None:
        # Dropping it would hide it from everyone (and let its deadlines pass unseen): the
        # default agency gets it, and the audit trail says it was misaddressed.
        to_agency = node.default_agency
        record(
            session,
            Actor.peer(peer.name),
            ThreadMisaddressed(
                record_id=payload.global_id, addressed_to=payload.to_agency, filed_under=to_agency
            ),
        )
    thread = _thread_row(payload, peer.name, peer, to_agency)
    session.add(thread)
    session.flush()
    record(
        session,
        Actor.peer(peer.name, thread.from_agency),
        ThreadReceived(
            record_id=thread.global_id,
            to_agency=thread.to_agency,
            addressed_to=payload.to_agency,
            priority=thread.priority,
            kind=thread.kind,
        ),
    )
    publish_after_commit(
        session,
        # The priority lets the page notify the user of urgent and flash messages.
        LiveEvent(
            "thread",
            {"thread": thread.id, "priority": thread.priority, "incoming": True},
            frozenset({thread.to_agency}),
        ),
    )


def _thread_row(payload: ThreadPayload, owner: str, peer: Peer, to_agency: str) -> HotlineThread:
    return HotlineThread(
        global_id=payload.global_id,
        owner_node=owner,
        created_at=payload.created_at,
        peer_id=peer.id,
        subject=payload.subject,
        priority=payload.priority,
        kind=payload.kind,
        from_agency=payload.from_agency,
        to_agency=to_agency,
        created_by=payload.created_by,
        last_message_at=payload.created_at,
    )


def _add_message(
    session: Session, node: LocalNode, payload: MessagePayload, owner: str, thread: HotlineThread
) -> HotlineMessage:
    message = HotlineMessage(
        global_id=payload.global_id,
        owner_node=owner,
        created_at=payload.created_at,
        thread_id=thread.id,
        author=payload.author,
        author_agency=payload.author_agency,
        body=payload.body,
        priority=payload.priority,
        ack_due_at=payload.ack_due_at,
        handling_code=payload.handling_code or "none",
        source_reliability=payload.source_reliability,
        information_accuracy=payload.information_accuracy,
    )
    message.attachments = [
        HotlineAttachment(**item.received(node.settings)) for item in payload.attachments
    ]
    session.add(message)
    thread.last_message_at = max(thread.last_message_at, message.created_at)
    session.flush()
    session.add_all(mention(e, hotline_message_id=message.id) for e in payload.entities)
    return message


def recover_thread(
    session: Session, node: LocalNode, peer: Peer, payload: ThreadPayload, related: Sequence[Any]
) -> None:
    """A thread this node opened with `peer`, lost in a restore, as the peer sent it back
    (audited by liaison.federation.resync with the rest it took back)."""
    session.add(_thread_row(payload, node.name, peer, payload.to_agency))
    session.flush()


def recover_message(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: MessagePayload,
    related: Sequence[HotlineThread],
) -> None:
    """A message this node wrote, lost in a restore, as the peer sent it back."""
    [thread] = related
    _add_message(session, node, payload, node.name, thread)


def receive_message(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: MessagePayload,
    related: Sequence[HotlineThread],
) -> None:
    [thread] = related
    message = _add_message(session, node, payload, peer.name, thread)
    record(
        session,
        Actor.peer(peer.name, message.author_agency),
        MessageReceived(
            record_id=message.global_id,
            thread=thread.global_id,
            attachments=[{"sha256": a.sha256, "verified": a.verified} for a in message.attachments],
        ),
    )
    publish_after_commit(
        session,
        LiveEvent(
            "message",
            {
                "thread": thread.id,
                "message": message.id,
                "global_id": message.global_id,
                "priority": message.priority,
                "incoming": True,
            },
            frozenset({_local_agency_for_peer(thread, peer)}),
        ),
    )


def receive_ack(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: AckPayload,
    related: Sequence[HotlineMessage],
) -> None:
    [message] = related
    if message.ack_due_at is None:
        raise ProtocolViolation(f"message {message.global_id} needs no acknowledgement")
    if message.acked_at is None:
        message.acked_at = payload.acked_at
        message.acked_by = peer.name if payload.acked_by is None else payload.acked_by
        if message.read_at is None:
            message.read_at, message.read_by = message.acked_at, message.acked_by
    record(
        session,
        Actor.peer(peer.name),
        AckReceived(record_id=message.global_id, acked_by=message.acked_by or ""),
    )
    publish_after_commit(
        session,
        LiveEvent(
            "ack",
            {"thread": message.thread.id, "message": message.id},
            frozenset({_local_agency_for_peer(message.thread, peer)}),
        ),
    )


def receive_read(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: ReadPayload,
    related: Sequence[HotlineMessage],
) -> None:
    read_by = peer.name if payload.read_by is None else payload.read_by
    threads: set[int] = set()
    audience: set[str] = set()
    for message in related:
        if message.read_at is None:
            message.read_at, message.read_by = payload.read_at, read_by
        threads.add(message.thread.id)
        audience.add(_local_agency_for_peer(message.thread, peer))
    record(
        session,
        Actor.peer(peer.name),
        ReadReceiptReceived(messages=list(payload.messages), read_by=read_by),
    )
    for thread_id in threads:
        publish_after_commit(session, LiveEvent("read", {"thread": thread_id}, frozenset(audience)))


# ---------------------------------------------------------------- the record types

THREAD: RecordType[ThreadPayload] = RecordType(
    name="hotline.thread",
    payload=ThreadPayload,
    model=HotlineThread,
    peer_may=PeerMay.REPLY,
    handle=receive_thread,
    shared_with=lambda thread: thread.peer_id,
    recover=recover_thread,
)
MESSAGE: RecordType[MessagePayload] = RecordType(
    name="hotline.message",
    payload=MessagePayload,
    model=HotlineMessage,
    peer_may=PeerMay.ACKNOWLEDGE,
    handle=receive_message,
    shared_with=lambda message: message.thread.peer_id,
    within=THREAD,
    recover=recover_message,
)
ACK: RecordType[AckPayload] = RecordType(
    name="hotline.ack",
    payload=AckPayload,
    handle=receive_ack,
    acts_on=MESSAGE,
    action=PeerMay.ACKNOWLEDGE,
)
READ: RecordType[ReadPayload] = RecordType(
    name="hotline.read",
    payload=ReadPayload,
    handle=receive_read,
    acts_on=MESSAGE,
    action=PeerMay.ACKNOWLEDGE,
)
RECORD_TYPES: tuple[RecordType[Any], ...] = (THREAD, MESSAGE, ACK, READ)
