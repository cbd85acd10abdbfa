"""Federation endpoints (peer to peer) and the admin API for peers.

`/federation/v1/...` is called by other nodes, not by users: it carries no session or
token, and is authenticated by the Ed25519 signature on every envelope instead
(see liaison.federation.inbox and .peers). `/api/v1/peers` is for this node's admins.

`FederationRuntime` is what the node's app starts and stops with it: the delivery worker.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, FastAPI, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from liaison.errors import InvalidInput, LiaisonError
from liaison.federation.checkpoints import answer_checkpoint_request
from liaison.federation.context import LocalNode
from liaison.federation.delivery import DeliveryWorker
from liaison.federation.inbox import receive_batch
from liaison.federation.peers import (
    accept_invite,
    handle_peering_request,
    issue_invite,
    peer_states,
    revoke_peer,
)
from liaison.web.auth import Principal, db_session, public_endpoint, require_role

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


# A batch is cut at about 8 MiB of records (base64 attachments included); this leaves room
# for the envelope and refuses anything larger before reading it whole.
MAX_BATCH_ENVELOPE_BYTES = 32 * 1024 * 1024
MAX_PEERING_ENVELOPE_BYTES = 64 * 1024
ENVELOPE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "A signed envelope (see liaison.federation.envelope).",
    }
}


class EnvelopeTooLarge(LiaisonError):
    status = 413
    title = "Envelope too large"


async def _read_envelope(request: Request, limit: int) -> Any:
    """The JSON body, read up to `limit` bytes (checked before the signature can be)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise EnvelopeTooLarge(f"the envelope has {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise EnvelopeTooLarge(f"the envelope is larger than the limit of {limit} bytes")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"the request body is not JSON: {error}") from error


def _with_session(
    request: Request,
    action: Callable[[Session, LocalNode, Any], dict[str, Any]],
    document: Any,
) -> dict[str, Any]:
    with request.app.state.database.session() as session:
        return action(session, local_node(request), document)


@peer_router.post("/inbox", dependencies=[Depends(public_endpoint)], openapi_extra=ENVELOPE_BODY)
async def inbox(request: Request) -> dict[str, Any]:
    """Apply a signed batch from a peer; answers with a signed acknowledgement."""
    document = await _read_envelope(request, MAX_BATCH_ENVELOPE_BYTES)
    return await run_in_threadpool(_with_session, request, receive_batch, document)


@peer_router.post("/peering", dependencies=[Depends(public_endpoint)], openapi_extra=ENVELOPE_BODY)
async def peering(request: Request) -> dict[str, Any]:
    """Complete a handshake started with one of this node's invite codes."""
    document = await _read_envelope(request, MAX_PEERING_ENVELOPE_BYTES)
    return await run_in_threadpool(_with_session, request, handle_peering_request, document)


@peer_router.post(
    "/audit-checkpoints", dependencies=[Depends(public_endpoint)], openapi_extra=ENVELOPE_BODY
)
async def audit_checkpoints(request: Request) -> dict[str, Any]:
    """A peer asks, signed, for the checkpoints of its audit chain this node holds."""
    document = await _read_envelope(request, MAX_PEERING_ENVELOPE_BYTES)
    return await run_in_threadpool(_with_session, request, answer_checkpoint_request, document)


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
