"""Hotline API: threads, messages, acknowledgements, attachments, and live events (SSE).

Contract other tools rely on: `POST /api/v1/threads` {"peer", "subject", "priority",
"kind", "body"} returns the thread with its `id`; `POST /api/v1/threads/{id}/messages`
{"body"} returns the message; `GET /api/v1/threads` and `GET /api/v1/threads/{id}/messages`
list them, each message with `id`, `body`, `origin` (node name) and `created_at`, in the
order written on their origin node.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from liaison.capabilities import Capability
from liaison.services import hotline
from liaison.store.hotline_tables import HotlineMessage, HotlineThread, Kind, Priority
from liaison.store.incident_tables import HandlingCode, InformationAccuracy, SourceReliability
from liaison.web.api.attachments import AttachmentIn, attachment_disposition
from liaison.web.api.incidents import EntityIn, EntityOut
from liaison.web.auth import Principal, db_session, node_of, require
from liaison.web.context import runtime_of
from liaison.web.idempotency import IdempotencyKeyHeader, create_once
from liaison.web.problems import RowId

router = APIRouter(prefix="/api/v1", tags=["hotline"])
hotline_users = require(Capability.USE_HOTLINE)
# Comment lines keep proxies and the browser from timing out an idle stream.
SSE_HEARTBEAT_SECONDS = 15.0


class ThreadCreate(BaseModel):
    peer: str = Field(min_length=1, max_length=32, description="Name of the peer node.")
    subject: str = Field(min_length=1, max_length=hotline.MAX_SUBJECT)
    priority: Priority = Priority.ROUTINE
    kind: Kind = Kind.NOTE
    body: str = Field(min_length=1, max_length=hotline.MAX_BODY)
    to_agency: str | None = Field(
        default=None, max_length=200, description="Agency on the peer; default: its default."
    )
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=5)
    entities: list[EntityIn] = Field(
        default_factory=list, max_length=50, description="Entities the first message mentions."
    )
    handling_code: HandlingCode = HandlingCode.NONE
    source_reliability: SourceReliability | None = None
    information_accuracy: InformationAccuracy | None = None

    def handling(self) -> hotline.Handling:
        return hotline.Handling(
            self.handling_code, self.source_reliability, self.information_accuracy
        )


class MessageCreate(BaseModel):
    body: str = Field(min_length=1, max_length=hotline.MAX_BODY)
    priority: Priority | None = Field(
        default=None, description="Default: routine (never inherited from the thread)."
    )
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=5)
    entities: list[EntityIn] = Field(default_factory=list, max_length=50)
    handling_code: HandlingCode = HandlingCode.NONE
    source_reliability: SourceReliability | None = None
    information_accuracy: InformationAccuracy | None = None

    def handling(self) -> hotline.Handling:
        return hotline.Handling(
            self.handling_code, self.source_reliability, self.information_accuracy
        )

    acknowledge: bool = Field(
        default=False,
        description="Also acknowledge the received messages of the thread awaiting it.",
    )


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    verified: bool

    model_config = ConfigDict(from_attributes=True)


class MessageOut(BaseModel):
    id: int
    global_id: str
    thread_id: int
    body: str
    origin: str
    created_at: datetime
    author: str
    author_agency: str
    priority: str
    ack_due_at: datetime | None
    acked_at: datetime | None
    acked_by: str | None
    read_at: datetime | None
    read_by: str | None
    overdue: bool
    attachments: list[AttachmentOut]
    entities: list[EntityOut] = Field(default_factory=list)
    handling_code: str = Field(
        default="none", description="none | no_onward (do not pass on) | info_only"
    )
    source_reliability: str | None = None
    information_accuracy: str | None = None
    refused_by_peer: str | None = Field(
        default=None, description="Why the peer refused this message (it was not delivered)."
    )

    @classmethod
    def of(cls, message: HotlineMessage, refused_by_peer: str | None = None) -> MessageOut:
        return cls(
            id=message.id,
            global_id=message.global_id,
            thread_id=message.thread_id,
            body=message.body,
            origin=message.owner_node,
            created_at=message.created_at,
            author=message.author,
            author_agency=message.author_agency,
            priority=message.priority,
            ack_due_at=message.ack_due_at,
            acked_at=message.acked_at,
            acked_by=message.acked_by,
            read_at=message.read_at,
            read_by=message.read_by,
            overdue=hotline.is_overdue(message),
            attachments=[AttachmentOut.model_validate(a) for a in message.attachments],
            entities=[EntityOut.of(e) for e in message.entities],
            handling_code=message.handling_code,
            source_reliability=message.source_reliability,
            information_accuracy=message.information_accuracy,
            refused_by_peer=refused_by_peer,
        )


class ThreadOut(BaseModel):
    id: int
    global_id: str
    peer: str
    origin: str
    subject: str
    priority: str
    kind: str
    from_agency: str
    to_agency: str
    created_by: str
    created_at: datetime
    last_message_at: datetime
    messages: int
    unread: int
    overdue: int

    @classmethod
    def of(cls, summary: hotline.ThreadSummary) -> ThreadOut:
        thread = summary.thread
        return cls(
            id=thread.id,
            global_id=thread.global_id,
            peer=summary.peer,
            origin=thread.owner_node,
            subject=thread.subject,
            priority=thread.priority,
            kind=thread.kind,
            from_agency=thread.from_agency,
            to_agency=thread.to_agency,
            created_by=thread.created_by,
            created_at=thread.created_at,
            last_message_at=thread.last_message_at,
            messages=summary.messages,
            unread=summary.unread,
            overdue=summary.overdue,
        )


class OverdueOut(BaseModel):
    thread_id: int
    subject: str
    message: MessageOut


class InboxOut(BaseModel):
    unread: int
    overdue: int
    overdue_messages: list[OverdueOut]


def _new_thread_out(thread: HotlineThread, peer: str) -> ThreadOut:
    return ThreadOut.of(hotline.ThreadSummary(thread, peer, messages=1, unread=0, overdue=0))


@router.post("/threads", response_model=ThreadOut, status_code=201)
def create_thread(
    body: ThreadCreate,
    request: Request,
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
    idempotency_key: str | None = IdempotencyKeyHeader,
) -> Any:
    """Open a thread with a peer's agency; the first message is `body`."""

    def create() -> ThreadOut:
        thread = hotline.open_thread(
            session,
            node_of(request),
            principal.actor,
            peer=body.peer,
            subject=body.subject,
            priority=body.priority,
            kind=body.kind,
            body=body.body,
            to_agency=body.to_agency,
            attachments=[a.upload() for a in body.attachments],
            entities=[e.given() for e in body.entities],
            handling=body.handling(),
        )
        return _new_thread_out(thread, body.peer)

    return create_once(request, session, principal, idempotency_key, body, create)


@router.get("/threads", response_model=list[ThreadOut])
def threads(
    request: Request,
    q: str | None = Query(None, max_length=200, description="Search subjects and text."),
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
) -> list[ThreadOut]:
    """Your agency's threads, most recent activity first, with unread and overdue counts."""
    summaries = hotline.list_threads(session, node_of(request), principal.actor, query=q)
    result = [ThreadOut.of(s) for s in summaries]
    session.commit()
    return result


@router.get("/threads/{thread_id}/messages", response_model=list[MessageOut])
def thread_messages(
    thread_id: RowId,
    request: Request,
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
) -> list[MessageOut]:
    """The thread's messages in the order written on their origin node; reading them sends
    the read receipt for what this side received."""
    thread, messages = hotline.read_thread(session, node_of(request), principal.actor, thread_id)
    refused = hotline.refused_by_peer(session, thread, messages)
    result = [MessageOut.of(m, refused.get(m.global_id)) for m in messages]
    session.commit()
    return result


@router.post("/threads/{thread_id}/messages", response_model=MessageOut, status_code=201)
def create_message(
    thread_id: RowId,
    body: MessageCreate,
    request: Request,
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
    idempotency_key: str | None = IdempotencyKeyHeader,
) -> Any:
    """Write a message (a reply, when the thread came from the peer)."""

    def create() -> MessageOut:
        message = hotline.post_message(
            session,
            node_of(request),
            principal.actor,
            thread_id,
            body.body,
            priority=body.priority,
            attachments=[a.upload() for a in body.attachments],
            entities=[e.given() for e in body.entities],
            handling=body.handling(),
            acknowledge_received=body.acknowledge,
        )
        return MessageOut.of(message)

    return create_once(request, session, principal, idempotency_key, body, create)


@router.post("/messages/{message_id}/ack", response_model=MessageOut)
def acknowledge(
    message_id: RowId,
    request: Request,
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
) -> MessageOut:
    """Acknowledge an urgent or flash message received from the peer."""
    message = hotline.acknowledge(session, node_of(request), principal.actor, message_id)
    result = MessageOut.of(message)
    session.commit()
    return result


@router.get("/hotline/inbox", response_model=InboxOut)
def inbox(
    request: Request,
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
) -> InboxOut:
    """Unread and overdue counts, and the overdue messages (either side's)."""
    node = node_of(request)
    counts = hotline.count_inbox(session, node, principal.actor)
    overdue = [
        OverdueOut(thread_id=thread.id, subject=thread.subject, message=MessageOut.of(message))
        for thread, message in hotline.overdue_messages(session, node, principal.actor)
    ]
    session.commit()
    return InboxOut(unread=counts.unread, overdue=counts.overdue, overdue_messages=overdue)


@router.get("/attachments/{attachment_id}", response_class=Response)
def attachment(
    attachment_id: RowId,
    request: Request,
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
) -> Response:
    """The attachment's bytes (only when their SHA-256 matched on arrival)."""
    found = hotline.read_attachment(session, node_of(request), principal.actor, attachment_id)
    session.commit()
    return Response(
        found.content,
        media_type=found.content_type,
        headers={
            "Content-Disposition": attachment_disposition(found.filename),
            "X-Content-SHA256": found.sha256,
        },
    )


@router.get("/events", response_class=StreamingResponse)
async def events(
    request: Request, principal: Principal = Depends(hotline_users)
) -> StreamingResponse:
    """Server-Sent Events: `thread`, `message`, `ack` and `read` events for your agency,
    each with the local `thread` id (and `message` id)."""
    feed = runtime_of(request).feeds.live
    subscriber = feed.subscribe(principal.user.agency.name)

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n: connected\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(
                        subscriber.queue.get(), timeout=SSE_HEARTBEAT_SECONDS
                    )
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": heartbeat\n\n"
                    continue
                yield f"event: {event.name}\ndata: {json.dumps(event.data)}\n\n"
        finally:
            feed.unsubscribe(subscriber)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
