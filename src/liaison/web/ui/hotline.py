"""Hotline pages: inbox, thread, compose.

Pages work without scripts (forms post back with the CSRF token). With scripts, the
static `hotline.js` listens to the node's event stream and refreshes the part of the
page marked `#live-region`, so new messages appear without reloading.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from liaison.capabilities import Capability
from liaison.errors import LiaisonError
from liaison.services import hotline
from liaison.services.hotline import is_incoming
from liaison.store.hotline_tables import KINDS, PRIORITIES
from liaison.web.auth import Principal, db_session, inbox_counts, node_of, require
from liaison.web.problems import RowId
from liaison.web.ui import render, see_other

router = APIRouter(include_in_schema=False)
hotline_users = require(Capability.USE_HOTLINE)


async def _uploads(files: list[UploadFile]) -> list[hotline.AttachmentUpload]:
    uploads = []
    for file in files:
        if not file.filename:
            continue  # an empty file input
        content = await file.read()
        uploads.append(
            hotline.AttachmentUpload(
                file.filename, file.content_type or "application/octet-stream", content
            )
        )
    return uploads


# ---------------------------------------------------------------- inbox


@router.get("/hotline")
def inbox_page(
    request: Request,
    q: str = Query("", max_length=200),
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
) -> Response:
    node = node_of(request)
    summaries = hotline.list_threads(session, node, principal.actor, query=q or None)
    # One page view, one audit entry: the totals of a filtered list are only counted.
    counts = (
        inbox_counts(request, session, principal.actor) if q else hotline.inbox_counts(summaries)
    )
    overdue = hotline.overdue_messages(session, node, principal.actor)
    awaiting = hotline.awaiting_acknowledgement(session, node, principal.actor)
    next_due = hotline.next_deadline(session, node, principal.actor)
    session.commit()
    return render(
        request,
        "hotline_inbox.html",
        {
            "summaries": summaries,
            "counts": counts,
            "overdue": overdue,
            "awaiting": awaiting,
            "q": q,
            "next_due": next_due,
        },
    )


# ---------------------------------------------------------------- compose


def _compose_page(
    request: Request,
    session: Session,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    session.rollback()
    peers = hotline.addressees(session)
    session.commit()
    return render(
        request,
        "hotline_compose.html",
        {
            "peers": peers,
            "priorities": PRIORITIES,
            "kinds": KINDS,
            "form": form or {},
            "error": error,
            "max_bytes": node_of(request).settings.hotline_attachment_max_bytes,
            "content_types": list(hotline.ALLOWED_CONTENT_TYPES),
        },
        status_code=status_code,
    )


@router.get("/hotline/new")
def compose_page(
    request: Request,
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
) -> Response:
    return _compose_page(request, session)


@router.post("/hotline/new")
async def compose(
    request: Request,
    peer: str = Form("", max_length=32),
    to_agency: str = Form("", max_length=200),
    subject: str = Form("", max_length=hotline.MAX_SUBJECT),
    priority: str = Form("routine", max_length=16),
    kind: str = Form("note", max_length=16),
    body: str = Form("", max_length=hotline.MAX_BODY),
    attachments: list[UploadFile] = Form([]),
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
) -> Response:
    form = {
        "peer": peer,
        "to_agency": to_agency,
        "subject": subject,
        "priority": priority,
        "kind": kind,
        "body": body,
    }
    try:
        uploads = await _uploads(attachments)
        thread = hotline.open_thread(
            session,
            node_of(request),
            principal.actor,
            peer=peer,
            subject=subject,
            priority=priority,
            kind=kind,
            body=body,
            to_agency=to_agency.strip() or None,
            attachments=uploads,
        )
        session.commit()
    except LiaisonError as error:
        return _compose_page(
            request, session, form=form, error=error.detail, status_code=error.status
        )
    return see_other(f"/hotline/threads/{thread.id}")


# ---------------------------------------------------------------- thread


def _thread_page(
    request: Request,
    principal: Principal,
    session: Session,
    thread_id: int,
    *,
    error: str | None = None,
    draft: str = "",
    status_code: int = 200,
) -> Response:
    session.rollback()
    node = node_of(request)
    # No read receipt for rendering the page: hotline.js reports what a visible tab showed.
    thread, messages = hotline.read_thread(
        session, node, principal.actor, thread_id, mark_read=False
    )
    waiting = [
        m.ack_due_at
        for m in messages
        if m.ack_due_at is not None and hotline.needs_ack(m) and not hotline.is_overdue(m)
    ]
    refused = hotline.refused_by_peer(session, thread, messages)
    session.commit()
    return render(
        request,
        "hotline_thread.html",
        {
            "thread": thread,
            "messages": messages,
            "node_name": node.name,
            "priorities": PRIORITIES,
            "is_incoming": is_incoming,
            "display_filename": hotline.display_filename,
            "is_overdue": hotline.is_overdue,
            "error": error,
            "draft": draft,
            "next_due": min(waiting, default=None),
            "awaiting_ack": sum(
                1 for m in messages if is_incoming(m, node.name) and hotline.needs_ack(m)
            ),
            "refused": refused,
        },
        status_code=status_code,
    )


@router.get("/hotline/threads/{thread_id}")
def thread_page(
    thread_id: RowId,
    request: Request,
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
) -> Response:
    return _thread_page(request, principal, session, thread_id)


@router.post("/hotline/threads/{thread_id}/messages")
async def reply(
    thread_id: RowId,
    request: Request,
    body: str = Form("", max_length=hotline.MAX_BODY),
    priority: str = Form("", max_length=16),
    acknowledge: bool = Form(False),
    attachments: list[UploadFile] = Form([]),
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
) -> Response:
    try:
        uploads = await _uploads(attachments)
        hotline.post_message(
            session,
            node_of(request),
            principal.actor,
            thread_id,
            body,
            priority=priority or None,
            attachments=uploads,
            acknowledge_received=acknowledge,
        )
        session.commit()
    except LiaisonError as error:
        return _thread_page(
            request,
            principal,
            session,
            thread_id,
            error=error.detail,
            draft=body,
            status_code=error.status,
        )
    return see_other(f"/hotline/threads/{thread_id}")


class Shown(BaseModel):
    messages: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(max_length=1000)


@router.post("/hotline/threads/{thread_id}/shown", status_code=204)
def shown(
    thread_id: RowId,
    body: Shown,
    request: Request,
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
) -> Response:
    """hotline.js: these messages were on screen in a visible tab (the read receipt)."""
    hotline.mark_shown(session, node_of(request), principal.actor, thread_id, body.messages)
    session.commit()
    return Response(status_code=204)


@router.post("/hotline/messages/{message_id}/ack")
def acknowledge(
    message_id: RowId,
    request: Request,
    principal: Principal = Depends(hotline_users),
    session: Session = Depends(db_session),
) -> Response:
    message = hotline.acknowledge(session, node_of(request), principal.actor, message_id)
    session.commit()
    return see_other(f"/hotline/threads/{message.thread_id}")
