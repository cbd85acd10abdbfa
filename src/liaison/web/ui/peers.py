"""Peer administration pages: this node's peers, invite codes, accepting one, revoking."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from liaison.capabilities import Capability
from liaison.errors import InvalidInput, LiaisonError
from liaison.federation.refusals import open_windows
from liaison.messages import T
from liaison.services.peering import accept_invite, issue_invite, peer_states, revoke_peer
from liaison.web.auth import Principal, db_session, require
from liaison.web.context import local_node, runtime_of
from liaison.web.i18n import _
from liaison.web.ui import render

router = APIRouter(include_in_schema=False)
admins = require(Capability.MANAGE_PEERS)


def _peers_page(
    request: Request,
    session: Session,
    *,
    code: str | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    session.rollback()
    states = peer_states(session)
    refusals = open_windows(session)
    session.commit()
    return render(
        request,
        "peers.html",
        {
            "states": states,
            "refusals": refusals,
            "code": code,
            "error": error,
            "notice": notice,
        },
        status_code=status_code,
    )


@router.get("/admin/peers")
def peers_page(
    request: Request,
    principal: Principal = Depends(admins),
    session: Session = Depends(db_session),
) -> Response:
    return _peers_page(request, session)


@router.post("/admin/peers/invite")
def peers_invite(
    request: Request,
    ttl_hours: float = Form(24.0, gt=0, le=24 * 30),
    principal: Principal = Depends(admins),
    session: Session = Depends(db_session),
) -> Response:
    code = issue_invite(session, local_node(request), principal.actor, int(ttl_hours * 3600))
    session.commit()
    return _peers_page(request, session, code=code)


@router.post("/admin/peers/accept")
def peers_accept(
    request: Request,
    code: str = Form("", max_length=4000),
    principal: Principal = Depends(admins),
    session: Session = Depends(db_session),
) -> Response:
    try:
        if not code.strip():
            raise InvalidInput(T("paste the invite code the other node's admin gave you"))
        runtime = runtime_of(request)
        peer = accept_invite(session, runtime.node, runtime.record_types, code, principal.actor)
    except LiaisonError as error:
        return _peers_page(request, session, error=error.detail, status_code=error.status)
    return _peers_page(request, session, notice=_("Peered with %(peer)s.", peer=peer.name))


@router.post("/admin/peers/{name}/revoke")
def peers_revoke(
    name: str,
    request: Request,
    principal: Principal = Depends(admins),
    session: Session = Depends(db_session),
) -> Response:
    try:
        revoke_peer(session, name, principal.actor)
    except LiaisonError as error:
        return _peers_page(request, session, error=error.detail, status_code=error.status)
    return _peers_page(request, session, notice=_("Revoked %(peer)s.", peer=name))
