"""The audit trail page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from liaison.audit import read_entries, verify_recent
from liaison.capabilities import Capability
from liaison.federation.checkpoints import check_against_peers
from liaison.web.auth import (
    Principal,
    db_session,
    require,
)
from liaison.web.context import local_node
from liaison.web.ui import render

router = APIRouter(include_in_schema=False)
auditors = require(Capability.READ_AUDIT)


@router.get("/audit")
def audit_page(
    request: Request,
    after: int = Query(0, ge=0, le=2**62),
    peers: bool = Query(False, description="Also ask the peers for the checkpoints they hold."),
    principal: Principal = Depends(auditors),
    session: Session = Depends(db_session),
) -> Response:
    page_size = 50
    # Check before writing: the check reads, the page view's one entry is the only write.
    verification = verify_recent(session)
    session.commit()  # the verified checkpoint, before any slow peer is asked
    peer_checks = check_against_peers(session, local_node(request)) if peers else None
    entries = read_entries(session, after, page_size, principal.actor)
    session.commit()
    return render(
        request,
        "audit.html",
        {
            "entries": entries,
            "verification": verification,
            "peer_checks": peer_checks,
            "after": after,
            "next_after": entries[-1]["seq"] if len(entries) == page_size else None,
        },
    )
