"""The admin API for this node's peers: states, invite codes, accepting one, revoking."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from liaison.capabilities import Capability
from liaison.services.peering import accept_invite, issue_invite, peer_states, revoke_peer
from liaison.web.auth import Principal, db_session, require
from liaison.web.context import local_node, runtime_of

router = APIRouter(prefix="/api/v1/peers", tags=["peers"])
admins = require(Capability.MANAGE_PEERS)


class InviteRequest(BaseModel):
    ttl_hours: float = Field(default=24.0, gt=0, le=24 * 30)


class InviteOut(BaseModel):
    code: str


class AcceptRequest(BaseModel):
    code: str = Field(min_length=10, max_length=4000)


@router.get("")
def peers(
    principal: Principal = Depends(admins), session: Session = Depends(db_session)
) -> list[dict[str, Any]]:
    """Every peer with the state of the outbox to it (pending, oldest pending, last error
    and success) and of the stream from it."""
    states = [state.to_json() for state in peer_states(session)]
    session.commit()
    return states


@router.post("/invite", response_model=InviteOut)
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


@router.post("/accept")
def accept(
    request: Request,
    body: AcceptRequest,
    principal: Principal = Depends(admins),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """Peer with the node that issued the code (it must be running)."""
    runtime = runtime_of(request)
    peer = accept_invite(session, runtime.node, runtime.record_types, body.code, principal.actor)
    return {"name": peer.name, "base_url": peer.base_url, "status": peer.status}


@router.post("/{name}/revoke")
def revoke(
    name: str, principal: Principal = Depends(admins), session: Session = Depends(db_session)
) -> dict[str, Any]:
    """Stop trusting the peer: its envelopes are refused and nothing more is sent to it."""
    peer = revoke_peer(session, name, principal.actor)
    return {"name": peer.name, "status": peer.status}
