"""The cooperation overview over the API: `GET /api/v1/cooperation` (JSON) and
`GET /api/v1/cooperation.csv`, both with optional `from` and `to` (YYYY-MM-DD)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from liaison.capabilities import Capability
from liaison.errors import InvalidInput
from liaison.messages import T
from liaison.runtime import cooperation_providers
from liaison.services import cooperation
from liaison.store.base import utcnow
from liaison.web.auth import Principal, db_session, require
from liaison.web.context import runtime_of

router = APIRouter(prefix="/api/v1", tags=["cooperation"])
viewers = require(Capability.VIEW_COOPERATION)
FROM = Query(None, alias="from", max_length=10, description="First day (YYYY-MM-DD, UTC).")
TO = Query(None, alias="to", max_length=10, description="Last day (YYYY-MM-DD, UTC).")


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise InvalidInput(
            T("%(name)s: %(value)s is not a date (YYYY-MM-DD)", name=name, value=repr(value))
        ) from error


def compute(
    request: Request, session: Session, since: str | None, until: str | None
) -> cooperation.Overview:
    """The overview of this node's shared records, for the API and the pages alike."""
    runtime = runtime_of(request)
    now = utcnow()
    first, last = cooperation.period(_day(since, "from"), _day(until, "to"), now.date())
    return cooperation.overview(
        session,
        runtime.config.name,
        cooperation_providers(),
        runtime.record_types.names(),
        cooperation.peer_record_types(session),
        first,
        last,
        now,
    )


@router.get("/cooperation")
def overview(
    request: Request,
    since: str | None = FROM,
    until: str | None = TO,
    principal: Principal = Depends(viewers),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """Per month and direction (`from` node to `to` node), each series' count and, per
    step, how many were done and the median hours it took; `waiting`: items past their
    deadline now, by the node and agency that owe them. A series whose record types this
    node does not hold has `available: false` and no rows (not zeros)."""
    document = cooperation.as_document(compute(request, session, since, until))
    document["node"] = runtime_of(request).config.name
    return document


@router.get("/cooperation.csv")
def overview_csv(
    request: Request,
    since: str | None = FROM,
    until: str | None = TO,
    principal: Principal = Depends(viewers),
    session: Session = Depends(db_session),
) -> Response:
    result = compute(request, session, since, until)
    return Response(
        cooperation.as_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="cooperation-{result.since}'
            f'-{result.until}.csv"'
        },
    )
