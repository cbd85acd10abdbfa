"""The audit trail page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from liaison.capabilities import Capability
from liaison.services.audit import read_audit_entries, verify_audit_chain
from liaison.web.auth import (
    Principal,
    db_session,
    require,
)
from liaison.web.ui import render

router = APIRouter(include_in_schema=False)
auditors = require(Capability.READ_AUDIT)


@router.get("/audit")
def audit_page(
    request: Request,
    after: int = Query(0, ge=0, le=2**62),
    principal: Principal = Depends(auditors),
    session: Session = Depends(db_session),
) -> Response:
    page_size = 50
    entries = read_audit_entries(session, after, page_size, principal.actor)
    verification = verify_audit_chain(session)
    session.commit()
    return render(
        request,
        "audit.html",
        {
            "entries": entries,
            "verification": verification,
            "after": after,
            "next_after": entries[-1]["seq"] if len(entries) == page_size else None,
        },
    )
