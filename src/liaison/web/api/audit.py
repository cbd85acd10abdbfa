"""The audit trail, for auditors and admins; reading it is itself audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from liaison.audit import read_entries, verify_recent
from liaison.capabilities import Capability
from liaison.federation.checkpoints import check_against_peers
from liaison.web.auth import Principal, db_session, require
from liaison.web.context import local_node

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
auditors = require(Capability.READ_AUDIT)


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    actor: str
    actor_kind: str | None = Field(description="user, system or peer (null before 0005)")
    role: str | None
    agency: str | None
    action: str
    record_type: str | None
    record_id: str | None
    address: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_after: int | None


class PeerCheckOut(BaseModel):
    peer: str
    matches: bool
    held: int = Field(description="Checkpoints of this chain the peer holds (signed by this node).")
    mismatched: list[int] = Field(description="Their seqs this chain no longer matches.")
    error: str | None
    message: str


class ChainStatus(BaseModel):
    intact: bool
    entries: int
    first_bad_seq: int | None
    reason: str | None
    message: str
    peers: list[PeerCheckOut] | None = Field(
        None, description="With against_peers: what each peer holds of this chain."
    )


@router.get("", response_model=AuditPage)
def audit_entries(
    after: int = Query(0, ge=0, le=2**62, description="Entries with seq greater than this."),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = Depends(auditors),
    session: Session = Depends(db_session),
) -> AuditPage:
    """Entries in seq order, a page at a time."""
    entries = read_entries(session, after, limit, principal.actor)
    session.commit()
    return AuditPage(
        entries=[AuditEntryOut(**entry) for entry in entries],
        next_after=entries[-1]["seq"] if len(entries) == limit else None,
    )


@router.get("/verify", response_model=ChainStatus)
def verify(
    request: Request,
    against_peers: bool = Query(False, description="Also ask each peer for its checkpoints."),
    principal: Principal = Depends(auditors),
    session: Session = Depends(db_session),
) -> ChainStatus:
    """Check the entries added since the chain was last verified (`liaison audit verify`
    checks the whole chain)."""
    result = verify_recent(session)
    session.commit()  # the verified checkpoint moves forward
    checks = check_against_peers(session, local_node(request)) if against_peers else None
    return ChainStatus(
        peers=None
        if checks is None
        else [
            PeerCheckOut(
                peer=check.peer,
                matches=check.matches,
                held=check.held,
                mismatched=[mismatch.seq for mismatch in check.mismatches],
                error=check.error,
                message=check.message(),
            )
            for check in checks
        ],
        intact=result.intact,
        entries=result.entries,
        first_bad_seq=result.first_bad_seq,
        reason=result.reason,
        message=result.message(),
    )
