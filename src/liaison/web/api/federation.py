"""Federation endpoints (peer to peer) and the admin API for peers.

`/federation/v1/...` is called by other nodes, not by users: it carries no session or
token, and is authenticated by the Ed25519 signature on every envelope instead
(see liaison.federation.inbox and .peers). `/api/v1/peers` is for this node's admins.

`FederationRuntime` is what the node's app starts and stops with it: the delivery worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, FastAPI, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from liaison.errors import LiaisonError
from liaison.federation import envelope as env
from liaison.federation.checkpoints import answer_checkpoint_request
from liaison.federation.context import LocalNode
from liaison.federation.delivery import SENDER_HEADER, DeliveryWorker
from liaison.federation.inbox import receive_batch, refusals_counted
from liaison.federation.peers import (
    accept_invite,
    handle_peering_request,
    issue_invite,
    peer_states,
    revoke_peer,
)
from liaison.federation.refusals import Throttle, record_turned_away
from liaison.store.base import utcnow
from liaison.store.federation_tables import Peer
from liaison.web.auth import Principal, client_address, db_session, public_endpoint, require_role
from liaison.web.limits import MAX_UNKNOWN_SENDER_BYTES, max_batch_envelope_bytes

peer_router = APIRouter(prefix="/federation/v1", tags=["federation"])
admin_router = APIRouter(prefix="/api/v1/peers", tags=["peers"])
admins = require_role("admin")


def local_node(request: Request) -> LocalNode:
    """The node's identity with its signing key, loaded once per app."""
    node: LocalNode | None = getattr(request.app.state, "federation_node", None)
    if node is None:
        node = LocalNode.from_config(request.app.state.node)
        request.app.state.federation_node = node
    return node


class FederationRuntime:
    """Starts the delivery worker with the app and stops it on shutdown."""

    def __init__(self, app: FastAPI) -> None:
        node = LocalNode.from_config(app.state.node)
        app.state.federation_node = node
        self.worker = DeliveryWorker(app.state.database, node)

    def start(self) -> None:
        self.worker.start()
        self.worker.wake()  # deliver whatever was queued while the node was down

    def stop(self) -> None:
        self.worker.stop()


ENVELOPE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "A signed envelope (see liaison.federation.envelope).",
    }
}


class FederationBusy(LiaisonError):
    status = 503
    title = "Busy"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.retry_after = utcnow() + timedelta(seconds=1)


class UnverifiedRequests:
    """How many federation requests are being read and checked at once (all in the event
    loop's thread, so a plain counter); past the cap the next is answered 503 unread."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.running = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        if self.running >= self.cap:
            raise FederationBusy(
                f"{self.running} federation requests are being checked; try again shortly"
            )
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1


def _unverified_requests(request: Request) -> UnverifiedRequests:
    requests: UnverifiedRequests | None = getattr(request.app.state, "unverified_requests", None)
    if requests is None:
        cap = request.app.state.node.settings.federation_unverified_concurrency
        requests = request.app.state.unverified_requests = UnverifiedRequests(cap)
    return requests


def _throttle(request: Request) -> Throttle:
    throttle: Throttle | None = getattr(request.app.state, "federation_throttle", None)
    if throttle is None:
        throttle = request.app.state.federation_throttle = Throttle(request.app.state.node.settings)
    return throttle


def _record_turned_away(request: Request, address: str, count: int) -> None:
    with request.app.state.database.session() as session:
        record_turned_away(session, address, count)


def _admit(request: Request, address: str, claimed: str | None, full_limit: int) -> int:
    """Before a byte of the body is read: refuse a throttled address and a sender named in
    the header that is no active peer; return how many bytes the body may have."""
    node = local_node(request)
    with request.app.state.database.session() as session:
        _throttle(request).check_database(session, address)
        if claimed is None:
            return MAX_UNKNOWN_SENDER_BYTES
        with refusals_counted(session, node, {"sender": claimed}, address):
            status = session.execute(
                sa.select(Peer.status).where(Peer.name == claimed)
            ).scalar_one_or_none()
            session.rollback()
            if status != "active":
                raise env.EnvelopeRejected(
                    "unknown_peer", f"{claimed!r} ({SENDER_HEADER}) is not an active peer"
                )
        return full_limit


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, read up to `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise env.EnvelopeTooLarge(f"the envelope has {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise env.EnvelopeTooLarge(f"the envelope is larger than the limit of {limit} bytes")
    return bytes(body)


def _decode_and_handle(
    request: Request,
    action: Callable[..., dict[str, Any]],
    address: str,
    claimed: str | None,
    body: bytes | env.EnvelopeTooLarge,
) -> dict[str, Any]:
    node = local_node(request)
    with request.app.state.database.session() as session:
        with refusals_counted(session, node, {"sender": claimed}, address):
            if isinstance(body, env.EnvelopeTooLarge):
                raise body
            document = env.decode(body)
        return action(session, node, document, address=address)


async def _handle_envelope(
    request: Request, action: Callable[..., dict[str, Any]], full_limit: int
) -> dict[str, Any]:
    address = client_address(request)
    claimed = request.headers.get(SENDER_HEADER)
    known = _throttle(request).check_memory(address)
    if known is not None:
        refusal, unrecorded = known
        if unrecorded:
            await run_in_threadpool(_record_turned_away, request, address, unrecorded)
        raise refusal
    with _unverified_requests(request).slot():
        limit = await run_in_threadpool(_admit, request, address, claimed, full_limit)
        body: bytes | env.EnvelopeTooLarge
        try:
            body = await _read_body(request, limit)
        except env.EnvelopeTooLarge as too_large:
            body = too_large  # counted like any other refusal, then raised
        return await run_in_threadpool(_decode_and_handle, request, action, address, claimed, body)


@peer_router.post("/inbox", dependencies=[Depends(public_endpoint)], openapi_extra=ENVELOPE_BODY)
async def inbox(request: Request) -> dict[str, Any]:
    """Apply a signed batch from a peer; answers with a signed acknowledgement.

    The sender names itself in the X-Liaison-Sender header: only an active peer may send
    a full batch, anyone else is refused or limited to a small body before it is read.
    """
    limit = max_batch_envelope_bytes(request.app.state.node.settings)
    return await _handle_envelope(request, receive_batch, limit)


@peer_router.post("/peering", dependencies=[Depends(public_endpoint)], openapi_extra=ENVELOPE_BODY)
async def peering(request: Request) -> dict[str, Any]:
    """Complete a handshake started with one of this node's invite codes."""
    return await _handle_envelope(request, handle_peering_request, MAX_UNKNOWN_SENDER_BYTES)


@peer_router.post(
    "/audit-checkpoints", dependencies=[Depends(public_endpoint)], openapi_extra=ENVELOPE_BODY
)
async def audit_checkpoints(request: Request) -> dict[str, Any]:
    """A peer asks, signed, for the checkpoints of its audit chain this node holds."""
    return await _handle_envelope(request, answer_checkpoint_request, MAX_UNKNOWN_SENDER_BYTES)


class InviteRequest(BaseModel):
    ttl_hours: float = Field(default=24.0, gt=0, le=24 * 30)


class InviteOut(BaseModel):
    code: str


class AcceptRequest(BaseModel):
    code: str = Field(min_length=10, max_length=4000)


@admin_router.get("")
def peers(
    principal: Principal = Depends(admins), session: Session = Depends(db_session)
) -> list[dict[str, Any]]:
    """Every peer with the state of the outbox to it (pending, oldest pending, last error
    and success) and of the stream from it."""
    states = [state.to_json() for state in peer_states(session)]
    session.commit()
    return states


@admin_router.post("/invite", response_model=InviteOut)
def invite(
    request: Request,
    body: InviteRequest = Body(default_factory=InviteRequest),
    principal: Principal = Depends(admins),
    session: Session = Depends(db_session),
) -> InviteOut:
    """Issue a one-time invite code for another node's admin to accept."""
    code = issue_invite(session, local_node(request), principal.actor, int(body.ttl_hours * 3600))
    session.commit()
    return InviteOut(code=code)


@admin_router.post("/accept")
def accept(
    request: Request,
    body: AcceptRequest,
    principal: Principal = Depends(admins),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """Peer with the node that issued the code (it must be running)."""
    peer = accept_invite(session, local_node(request), body.code, principal.actor)
    return {"name": peer.name, "base_url": peer.base_url, "status": peer.status}


@admin_router.post("/{name}/revoke")
def revoke(
    name: str, principal: Principal = Depends(admins), session: Session = Depends(db_session)
) -> dict[str, Any]:
    """Stop trusting the peer: its envelopes are refused and nothing more is sent to it."""
    peer = revoke_peer(session, name, principal.actor)
    return {"name": peer.name, "status": peer.status}
