"""Pre-export notification pages: the desk (reminders, outgoing and incoming lists with
deadline colouring), the form (screened before it is lodged), the detail with the
depiction and the answer forms, the figures with server-drawn SVG charts.

Pages work without scripts: forms post back with the CSRF token.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from liaison.capabilities import Capability
from liaison.errors import InvalidInput, LiaisonError
from liaison.messages import T
from liaison.services import notifications
from liaison.services.as_of import parse_date
from liaison.services.hotline import AttachmentUpload
from liaison.services.peering import peer_states
from liaison.store.base import utcnow
from liaison.store.federation_tables import PeerStatus
from liaison.store.notification_tables import PenNotification
from liaison.web.auth import Principal, db_session, node_of, require
from liaison.web.i18n import N_
from liaison.web.problems import RowId
from liaison.web.ui import render, see_other
from liaison.web.ui.desk import Panel, register_panel

router = APIRouter(include_in_schema=False)
readers = require(Capability.READ_NOTIFICATIONS)
regulators = require(Capability.ANSWER_NOTIFICATIONS)
SOON = timedelta(days=3)
STATUS_LABELS = {
    "pending": N_("Pending"),
    "overdue": N_("Overdue"),
    "no_objection": N_("No objection"),
    "objection": N_("Objection"),
    "information_requested": N_("Information requested"),
    "withdrawn": N_("Withdrawn"),
}
STEP_LABELS = {
    "acknowledge": N_("Receipt acknowledged"),
    "no_objection": N_("No objection"),
    "objection": N_("Objection"),
    "information_requested": N_("Information requested"),
    "information_answer": N_("Information given"),
    "withdraw": N_("Withdrawn"),
    "outcome": N_("Outcome recorded"),
}


def deadline_class(notification: PenNotification, now: datetime) -> str:
    """The row's colour: overdue, due within three days, or neither."""
    status = notifications.status_of(notification, now)
    if status == notifications.Status.OVERDUE:
        return "deadline-overdue"
    if status == notifications.Status.PENDING and notification.respond_by < now + SOON:
        return "deadline-soon"
    return ""


def _context() -> dict[str, Any]:
    return {
        "status_names": STATUS_LABELS,
        "step_names": STEP_LABELS,
        "status_of": notifications.status_of,
        "deadline_class": deadline_class,
        "now": utcnow(),
    }


def _reminders_panel(request: Request, principal: Principal, session: Session) -> dict[str, Any]:
    return {**_context(), "reminders": notifications.reminders(session, node_of(request))}


register_panel(
    Panel(
        "notifications",
        Capability.ANSWER_NOTIFICATIONS,
        "desk/notifications.html",
        _reminders_panel,
        30,
    )
)


@router.get("/notifications")
def desk(
    request: Request,
    direction: str = Query("incoming", max_length=16),
    status: str = Query("", max_length=32),
    q: str = Query("", max_length=200),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    node = node_of(request)
    if direction not in tuple(notifications.Direction):
        direction = notifications.Direction.INCOMING
    filters = notifications.Filters(direction, status or None, None, None, q or None)
    try:
        found = notifications.list_notifications(session, node, principal.actor, filters)
        error = None
    except LiaisonError as problem:
        found, error = [], problem.detail
    reminders = notifications.reminders(session, node)
    session.commit()
    return render(
        request,
        "notifications_desk.html",
        {
            **_context(),
            "items": found,
            "direction": direction,
            "status": status,
            "q": q,
            "error": error,
            "reminders": reminders,
            "statuses": list(notifications.Status),
        },
    )


def _form_page(
    request: Request,
    session: Session,
    *,
    form: dict[str, Any] | None = None,
    screening: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    session.rollback()
    peers = [s.name for s in peer_states(session) if s.status == PeerStatus.ACTIVE]
    session.commit()
    return render(
        request,
        "notifications_form.html",
        {
            "form": form or {"exporter": {}, "importer": {}, "consignee": {}},
            "peers": peers,
            "screening": screening,
            "error": error,
            "units": list(notifications.rules.UNITS),
            "modes": list(notifications.TransportMode),
            "if_no_reply": list(notifications.IfNoReply),
            "response_days": node_of(request).settings.pen_response_days,
        },
        status_code=status_code,
    )


@router.get("/notifications/new")
def form_page(
    request: Request,
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
) -> Response:
    return _form_page(request, session)


@router.post("/notifications/new")
async def lodge(
    request: Request,
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
) -> Response:
    data = await request.form()
    form = notifications.rules.form_from_flat(data)
    node = node_of(request)
    try:
        if data.get("action") != "lodge":
            # First the screening, shown above the form; then the regulator lodges.
            ship_date = parse_date(form["ship_date"], "ship_date")
            screened = notifications.preview_screening(session, node, form["substance"], ship_date)
            return _form_page(request, session, form=form, screening=screened)
        uploads = [
            AttachmentUpload(
                item.filename, item.content_type or "application/octet-stream", await item.read()
            )
            for item in data.getlist("attachments")
            if isinstance(item, StarletteUpload) and item.filename
        ]
        notification = notifications.lodge(
            session, node, principal.actor, form, attachments=uploads
        )
        session.commit()
    except LiaisonError as problem:
        return _form_page(
            request, session, form=form, error=problem.detail, status_code=problem.status
        )
    return see_other(f"/notifications/{notification.id}")


@router.post("/notifications/import")
async def import_batch(
    request: Request,
    file: UploadFile = File(...),
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
) -> Response:
    node = node_of(request)
    try:
        batch = notifications.import_csv(
            session, node, principal.actor, await file.read(), name=file.filename or "batch.csv"
        )
        session.commit()
    except LiaisonError as problem:
        return _form_page(request, session, error=problem.detail, status_code=problem.status)
    return render(
        request,
        "notifications_import.html",
        {**_context(), "lodged": batch.lodged, "errors": batch.errors},
    )


def _detail_page(
    request: Request,
    principal: Principal,
    session: Session,
    notification_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    session.rollback()
    node = node_of(request)
    notification = notifications.read_notification(session, node, principal.actor, notification_id)
    remaining = notifications.remaining_quantity(notification)
    session.commit()
    return render(
        request,
        "notifications_detail.html",
        {
            **_context(),
            "n": notification,
            "outgoing": notifications.is_outgoing(notification, node.name),
            "remaining": remaining,
            "error": error,
            "decisions": list(notifications.Decision),
            "outcomes": list(notifications.Outcome),
        },
        status_code=status_code,
    )


@router.get("/notifications/figures")
def figures_page(
    request: Request,
    since: str = Query("", alias="from", max_length=10),
    until: str = Query("", alias="to", max_length=10),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    error = None
    try:
        start = date.fromisoformat(since) if since else None
        end = date.fromisoformat(until) if until else None
        figures = notifications.metrics(session, node_of(request), since=start, until=end)
    except (ValueError, LiaisonError) as problem:
        error = getattr(problem, "detail", str(problem))
        figures = notifications.metrics(session, node_of(request))
    session.commit()
    peak = max((m["sent"] + m["received"] for m in figures["per_month"]), default=0)
    registers = notifications.registers(session)
    year = utcnow().year
    own = [e for e in registers if e.node == node_of(request).name and e.year == year]
    return render(
        request,
        "notifications_figures.html",
        {
            "figures": figures,
            "since": since,
            "until": until,
            "error": error,
            "peak": peak,
            "registers": registers,
            "year": year,
            "own_lines": "\n".join(
                f"{e.substance} | {e.annual_kg or ''} | {e.citation}" for e in own
            ),
        },
    )


@router.post("/notifications/register")
async def set_register(
    request: Request,
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
) -> Response:
    """This node's register for a year, one line per substance: `name | annual kg | source`
    (the annual requirement may be empty)."""
    data = await request.form()
    node = node_of(request)
    try:
        year = int(str(data.get("year", "")))
        entries = []
        for number, line in enumerate(str(data.get("lines", "")).splitlines(), start=1):
            if not line.strip():
                continue
            cells = [cell.strip() for cell in line.split("|")] + ["", ""]
            entries.append(
                {"substance": cells[0], "annual_kg": cells[1] or None, "citation": cells[2]}
            )
            if not cells[0]:
                raise InvalidInput(T("line %(number)s: the substance is missing", number=number))
        notifications.set_register(session, node, principal.actor, year, entries)
        session.commit()
    except ValueError:
        return see_other("/notifications/figures")
    except LiaisonError as problem:
        session.rollback()
        return render(request, "error.html", {"detail": problem.detail}, status_code=problem.status)
    return see_other("/notifications/figures#registers")


@router.get("/notifications/{notification_id}")
def detail_page(
    notification_id: RowId,
    request: Request,
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    return _detail_page(request, principal, session, notification_id)


@router.post("/notifications/{notification_id}/{action}")
async def act(
    notification_id: RowId,
    action: str,
    request: Request,
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
) -> Response:
    data = await request.form()
    node = node_of(request)
    actor = principal.actor

    def text(name: str) -> str:
        return str(data.get(name, ""))

    try:
        if action == "acknowledge":
            notifications.acknowledge(session, node, actor, notification_id)
        elif action == "response":
            notifications.respond(
                session, node, actor, notification_id, text("decision"), text("reason")
            )
        elif action == "information":
            notifications.answer_information(session, node, actor, notification_id, text("answer"))
        elif action == "withdraw":
            notifications.withdraw(session, node, actor, notification_id, text("reason"))
        elif action == "outcome":
            notifications.record_outcome(
                session,
                node,
                actor,
                notification_id,
                text("outcome"),
                incident=text("incident") or None,
                quantity=text("quantity") or None,
                note=text("note"),
            )
        else:
            return Response(status_code=404)
        session.commit()
    except LiaisonError as problem:
        return _detail_page(
            request,
            principal,
            session,
            notification_id,
            error=problem.detail,
            status_code=problem.status,
        )
    return see_other(f"/notifications/{notification_id}")
