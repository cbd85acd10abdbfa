"""The audit trail page: newest first, filtered by who, what and when; CSV export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from liaison.audit import AuditFilter, audit_actions, search_entries, verify_recent
from liaison.capabilities import Capability
from liaison.federation.checkpoints import check_against_peers
from liaison.store.audit import AuditEntry
from liaison.web.auth import Principal, db_session, require
from liaison.web.context import local_node
from liaison.web.i18n import current_zone, local_datetime, utc_text
from liaison.web.ui import render, templates

router = APIRouter(include_in_schema=False)
auditors = require(Capability.READ_AUDIT)
PAGE_SIZE = 50
EXPORT_LIMIT = 100_000
SEQ_LIMIT = 2**62


def _day_start(day: date | None) -> datetime | None:
    """Midnight of `day` in the user's time zone: the dates the auditor picks are local."""
    if day is None:
        return None
    return datetime.combine(day, time(), tzinfo=current_zone()).astimezone(UTC)


def _filter(
    actor: str, action: str, since: date | None, until: date | None, before: int | None
) -> AuditFilter:
    end = _day_start(until + timedelta(days=1)) if until else None  # `until` is inclusive
    return AuditFilter(
        actor=actor.strip() or None,
        action=action or None,
        since=_day_start(since),
        until=end,
        before=before,
    )


def audit_detail(entry: AuditEntry) -> list[tuple[str, Any]]:
    """The entry's detail as (name, value) pairs; times (ISO text or Unix seconds in
    fields named *_at or until) become <time> elements in the user's zone."""
    pairs: list[tuple[str, Any]] = []
    for name, value in json.loads(entry.detail).items():
        if name.endswith("_at") or name == "until":
            try:
                moment = (
                    datetime.fromtimestamp(value, UTC)
                    if isinstance(value, int)
                    else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
                )
            except (ValueError, OverflowError, OSError):
                pass
            else:
                value = local_datetime(moment)
        elif not isinstance(value, str | int | bool) and value is not None:
            value = json.dumps(value, ensure_ascii=False)
        pairs.append((name, value))
    return pairs


templates.env.filters["audit_detail"] = audit_detail
# "hotline.thread_read" -> "hotline.": the filter's groups of actions.
templates.env.filters["truncate_action"] = lambda action: action.split(".", 1)[0] + "."


@router.get("/audit")
def audit_page(
    request: Request,
    actor: str = Query("", max_length=100),
    action: str = Query("", max_length=64),
    since: date | None = Query(None),
    until: date | None = Query(None),
    before: int | None = Query(None, ge=1, le=SEQ_LIMIT),
    peers: bool = Query(False, description="Also ask the peers for the checkpoints they hold."),
    principal: Principal = Depends(auditors),
    session: Session = Depends(db_session),
) -> Response:
    # Check before writing: the check reads, the page view's one entry is the only write.
    verification = verify_recent(session)
    session.commit()  # the verified checkpoint, before any slow peer is asked
    peer_checks = check_against_peers(session, local_node(request)) if peers else None
    where = _filter(actor, action, since, until, before)
    entries = search_entries(session, principal.actor, where, PAGE_SIZE)
    session.commit()
    query = {
        "actor": actor,
        "action": action,
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
    }
    return render(
        request,
        "audit.html",
        {
            "entries": entries,
            "verification": verification,
            "peer_checks": peer_checks,
            "filters": query,
            "actions": audit_actions(),
            "next_before": entries[-1].seq if len(entries) == PAGE_SIZE else None,
            "before": before,
        },
    )


CSV_COLUMNS = (
    "seq",
    "at_utc",
    "actor",
    "actor_kind",
    "role",
    "agency",
    "action",
    "record_type",
    "record_id",
    "address",
    "detail",
    "hash",
)


@router.get("/audit.csv")
def audit_csv(
    actor: str = Query("", max_length=100),
    action: str = Query("", max_length=64),
    since: date | None = Query(None),
    until: date | None = Query(None),
    principal: Principal = Depends(auditors),
    session: Session = Depends(db_session),
) -> Response:
    """The filtered trail as CSV, newest first, times in UTC; UTF-8 with a BOM for Excel."""
    where = _filter(actor, action, since, until, None)
    entries = search_entries(session, principal.actor, where, EXPORT_LIMIT, export=True)
    session.commit()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(
            (
                entry.seq,
                utc_text(entry.at),
                entry.actor,
                entry.actor_kind or "",
                entry.role or "",
                entry.agency or "",
                entry.action,
                entry.record_type or "",
                entry.record_id or "",
                entry.address or "",
                entry.detail,
                entry.hash,
            )
        )
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
