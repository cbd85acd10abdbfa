"""Federation endpoints, peer to peer (the admin API for peers is in api/peers.py).

`/federation/v1/...` is called by other nodes, not by users: it carries no session or
token, and is authenticated by the Ed25519 signature on every envelope instead
(see liaison.federation.inbox and .peers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from liaison.errors import LiaisonError
from liaison.federation import envelope as env
from liaison.federation.checkpoints import answer_checkpoint_request
from liaison.federation.context import LocalNode
from liaison.federation.delivery import SENDER_HEADER
from liaison.federation.inbox import receive_batch, refusals_counted
from liaison.federation.key_rotation import answer_key_rotation
from liaison.federation.peers import handle_peering_request
from liaison.federation.refusals import Throttle, record_turned_away
from liaison.federation.resync import answer_own_records_request
from liaison.messages import T
from liaison.store.base import utcnow
from liaison.store.federation_tables import Peer, PeerStatus
from liaison.web.auth import client_address, public_endpoint
from liaison.web.context import local_node, runtime_of
from liaison.web.limits import MAX_UNKNOWN_SENDER_BYTES, max_batch_envelope_bytes

peer_router = APIRouter(prefix="/federation/v1", tags=["federation"])


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
                T(
                    "%(running)s federation requests are being checked; try again shortly",
                    running=self.running,
                )
            )
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1


def _unverified_requests(request: Request) -> UnverifiedRequests:
    requests: UnverifiedRequests | None = getattr(request.app.state, "unverified_requests", None)
    if requests is None:
        cap = runtime_of(request).unverified_concurrency
        requests = request.app.state.unverified_requests = UnverifiedRequests(cap)
    return requests


def _throttle(request: Request) -> Throttle:
    throttle: Throttle | None = getattr(request.app.state, "federation_throttle", None)
    if throttle is None:
        throttle = request.app.state.federation_throttle = Throttle(runtime_of(request).settings)
    return throttle


def _record_turned_away(request: Request, address: str, count: int) -> None:
    with runtime_of(request).database.session() as session:
        record_turned_away(session, address, count)


def _admit(request: Request, address: str, claimed: str | None, full_limit: int) -> int:
    """Before a byte of the body is read: refuse a throttled address and a sender named in
    the header that is no active peer; return how many bytes the body may have."""
    node = local_node(request)
    with runtime_of(request).database.session() as session:
        _throttle(request).check_database(session, address)
        if claimed is None:
            return MAX_UNKNOWN_SENDER_BYTES
        with refusals_counted(session, node, {"sender": claimed}, address):
            status = session.execute(
                sa.select(Peer.status).where(Peer.name == claimed)
            ).scalar_one_or_none()
            session.rollback()
            if status != PeerStatus.ACTIVE:
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
    with runtime_of(request).database.session() as session:
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
    limit = max_batch_envelope_bytes(runtime_of(request).settings)
    record_types = runtime_of(request).record_types

    def apply_batch(
        session: Session, node: LocalNode, document: Any, *, address: str
    ) -> dict[str, Any]:
        return receive_batch(session, node, record_types, document, address=address)

    return await _handle_envelope(request, apply_batch, limit)


@peer_router.post("/peering", dependencies=[Depends(public_endpoint)], openapi_extra=ENVELOPE_BODY)
async def peering(request: Request) -> dict[str, Any]:
    """Complete a handshake started with one of this node's invite codes."""
    record_types = runtime_of(request).record_types

    def answer(session: Session, node: LocalNode, document: Any, *, address: str) -> dict[str, Any]:
        return handle_peering_request(session, node, record_types, document, address=address)

    return await _handle_envelope(request, answer, MAX_UNKNOWN_SENDER_BYTES)


@peer_router.post(
    "/audit-checkpoints", dependencies=[Depends(public_endpoint)], openapi_extra=ENVELOPE_BODY
)
async def audit_checkpoints(request: Request) -> dict[str, Any]:
    """A peer asks, signed, for the checkpoints of its audit chain this node holds."""
    return await _handle_envelope(request, answer_checkpoint_request, MAX_UNKNOWN_SENDER_BYTES)


@peer_router.post(
    "/own-records", dependencies=[Depends(public_endpoint)], openapi_extra=ENVELOPE_BODY
)
async def own_records(request: Request) -> dict[str, Any]:
    """A peer restored from an older backup asks, signed, for the records of its own stream
    this node applied past a position (liaison.federation.resync)."""
    return await _handle_envelope(request, answer_own_records_request, MAX_UNKNOWN_SENDER_BYTES)


@peer_router.post(
    "/key-rotation", dependencies=[Depends(public_endpoint)], openapi_extra=ENVELOPE_BODY
)
async def key_rotation(request: Request) -> dict[str, Any]:
    """A peer announces its new signing key, signed by its old one
    (liaison.federation.key_rotation)."""
    return await _handle_envelope(request, answer_key_rotation, MAX_UNKNOWN_SENDER_BYTES)
