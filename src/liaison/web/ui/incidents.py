"""Incident pages: the list with filters, the report form, one incident with its
depictions and follow-up thread, entity search, and the seizure dashboard.

Pages work without scripts: forms post back with the CSRF token; the dashboard's chart
is an SVG drawn here, with a CSV of the same figures.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import Response
from markupsafe import escape
from PIL import ImageFont
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from liaison.capabilities import Capability, may
from liaison.chem.bulk import spreadsheet_safe
from liaison.errors import Forbidden, InvalidInput, LiaisonError
from liaison.pdf_fonts import cjk_font_path
from liaison.services import incidents
from liaison.services.hotline import AttachmentUpload, display_filename
from liaison.services.peering import peer_states
from liaison.services.substances import identify_queries
from liaison.store.federation_tables import PeerStatus
from liaison.store.incident_tables import (
    ACCURACIES,
    CONVEYANCES,
    ENTITY_KINDS,
    FOLLOW_UP_STATUSES,
    FORMS,
    HANDLING_CODES,
    INCIDENT_KINDS,
    RELIABILITIES,
    UNITS,
    Incident,
)
from liaison.web.auth import Principal, db_session, node_of, require
from liaison.web.i18n import _
from liaison.web.problems import RowId
from liaison.web.ui import render, see_other
from liaison.web.ui.desk import Panel, register_panel

router = APIRouter(include_in_schema=False)
readers = require(Capability.READ_INCIDENTS)
reporters = require(Capability.REPORT_INCIDENTS)
FORM_ITEMS = 4  # item rows on the form (no scripts needed to add one)
FORM_ENTITIES = 4


def _choices() -> dict[str, Any]:
    return {
        "kinds": INCIDENT_KINDS,
        "conveyances": CONVEYANCES,
        "units": UNITS,
        "forms": FORMS,
        "entity_kinds": ENTITY_KINDS,
        "handling_codes": HANDLING_CODES,
        "reliabilities": RELIABILITIES,
        "accuracies": ACCURACIES,
        "follow_up_statuses": FOLLOW_UP_STATUSES,
    }


# ---------------------------------------------------------------- list


@router.get("/incidents")
def list_page(
    request: Request,
    q: str = Query("", max_length=200),
    kind: str = Query("", max_length=32),
    substance_status: str = Query("", max_length=20),
    date_from: date | None = Query(None, alias="from"),
    date_to: date | None = Query(None, alias="to"),
    country: str = Query("", max_length=2),
    origin: str = Query("", max_length=32),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    filters = incidents.IncidentFilters(
        q or None,
        kind or None,
        substance_status or None,
        date_from,
        date_to,
        country or None,
        origin or None,
    )
    found = incidents.list_incidents(session, principal.actor, filters)
    alerts = incidents.alerts_for(session, principal.user.username)
    session.commit()
    return render(
        request,
        "incidents_list.html",
        {
            "incidents": found,
            "alerts": alerts,
            "filters": filters,
            "query": str(request.url.query),
            "node_name": node_of(request).name,
            **_choices(),
        },
    )


# ---------------------------------------------------------------- report


def _active_peers(session: Session) -> list[str]:
    return [state.name for state in peer_states(session) if state.status == PeerStatus.ACTIVE]


def _form_page(
    request: Request,
    session: Session,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    peers = _active_peers(session)
    session.commit()  # end the read before the page renders (SQLite's one writer)
    return render(
        request,
        "incident_form.html",
        {
            "form": form or {},
            "error": error,
            "peers": peers,
            "item_rows": range(FORM_ITEMS),
            "entity_rows": range(FORM_ENTITIES),
            **_choices(),
        },
        status_code=status_code,
    )


@router.get("/incidents/new")
def form_page(
    request: Request,
    principal: Principal = Depends(reporters),
    session: Session = Depends(db_session),
) -> Response:
    return _form_page(request, session)


def _number(text: str, where: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError as error:
        raise InvalidInput(
            _("%(field)s: %(value)r is not a number", field=where, value=text)
        ) from error


async def _uploads(submitted: FormData) -> list[AttachmentUpload]:
    """The files of the form's `attachments` field (an empty file input sends no name)."""
    return [
        AttachmentUpload(
            item.filename, item.content_type or "application/octet-stream", await item.read()
        )
        for item in submitted.getlist("attachments")
        if isinstance(item, StarletteUpload) and item.filename
    ]


def _form_items(form: dict[str, Any]) -> list[incidents.ItemInput]:
    """The item rows with a substance (an edit page may show more rows than FORM_ITEMS)."""
    items = []
    for index in range(incidents.MAX_ITEMS):
        substance = str(form.get(f"item{index}_substance", "")).strip()
        if not substance:
            continue
        quantity = _number(str(form.get(f"item{index}_quantity", "")), f"items[{index}].quantity")
        items.append(
            incidents.ItemInput(
                substance,
                quantity if quantity is not None else 0.0,
                str(form.get(f"item{index}_unit", "g")),
                _number(str(form.get(f"item{index}_purity", "")), f"items[{index}].purity"),
                str(form.get(f"item{index}_form", "")) or None,
                str(form.get(f"item{index}_packaging", "")).strip(),
            )
        )
    return items


def _form_entities(form: dict[str, Any]) -> list[incidents.EntityInput]:
    return [
        incidents.EntityInput(
            str(form.get(f"entity{index}_kind", "")),
            str(form.get(f"entity{index}_value", "")).strip(),
            str(form.get(f"entity{index}_role", "")).strip(),
            str(form.get(f"entity{index}_chain", "")).strip() or None,
        )
        for index in range(incidents.MAX_ENTITIES)
        if str(form.get(f"entity{index}_value", "")).strip()
    ]


def _given(form: dict[str, Any]) -> incidents.IncidentInput:
    items = _form_items(form)
    entities = _form_entities(form)
    try:
        occurred_on = date.fromisoformat(str(form.get("occurred_on", "")))
    except ValueError as error:
        raise InvalidInput(_("occurred_on: give the date as YYYY-MM-DD")) from error
    share_with = form.get("share_with", [])
    return incidents.IncidentInput(
        kind=str(form.get("kind", "")),
        occurred_on=occurred_on,
        country=str(form.get("country", "")),
        place=str(form.get("place", "")),
        port_code=str(form.get("port_code", "")) or None,
        conveyance=str(form.get("conveyance", "other")),
        route=str(form.get("route", "")),
        narrative=str(form.get("narrative", "")),
        items=items,
        entities=entities,
        share_with=share_with if isinstance(share_with, list) else [share_with],
        urgent=form.get("urgent") == "on",
        handling_code=str(form.get("handling_code", "none")),
        source_reliability=str(form.get("source_reliability", "")) or None,
        information_accuracy=str(form.get("information_accuracy", "")) or None,
    )


@router.post("/incidents/new")
async def report(
    request: Request,
    principal: Principal = Depends(reporters),
    session: Session = Depends(db_session),
) -> Response:
    submitted = await request.form()
    form: dict[str, Any] = {
        key: (submitted.getlist(key) if key == "share_with" else submitted.get(key))
        for key in submitted
        if key != "attachments"
    }
    uploads = await _uploads(submitted)
    node = node_of(request)
    try:
        given = dataclasses.replace(_given(form), attachments=uploads)
        incident = incidents.report_incident(
            session, node.name, principal.actor, given, node.settings
        )
        session.commit()
    except LiaisonError as error:
        session.rollback()
        return _form_page(request, session, form, error.detail, error.status)
    return see_other(f"/incidents/{incident.id}")


@router.post("/incidents/import")
async def import_page(
    request: Request,
    file: UploadFile,
    principal: Principal = Depends(reporters),
    session: Session = Depends(db_session),
) -> Response:
    node = node_of(request)
    content = await file.read()
    try:
        result = incidents.import_csv(
            session,
            node.name,
            principal.actor,
            file.filename or "upload.csv",
            content,
            node.settings,
        )
        session.commit()
    except LiaisonError as error:
        return render(
            request, "incidents_import.html", {"error": error.detail}, status_code=error.status
        )
    return render(request, "incidents_import.html", {"result": result})


# ---------------------------------------------------------------- view


@dataclass(frozen=True)
class ItemNow:
    """An item's structure depicted, and the verdicts on today's rules beside the snapshot."""

    svg: str
    verdicts: dict[str, str]  # jurisdiction -> status today
    as_of: date | None


def _today(substances: list[str], request: Request) -> list[ItemNow]:
    answers = identify_queries(substances, None, None, settings=node_of(request).settings)
    return [
        ItemNow(
            answer.depictions.get(answer.headline_jurisdiction, ""),
            {code: v.status for code, v in answer.identification.verdicts.items()},
            answer.identification.as_of,
        )
        for answer in answers
    ]


def _view_page(
    request: Request,
    session: Session,
    principal: Principal,
    incident_id: int,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    view = incidents.read_incident(session, principal.actor, incident_id)
    session.commit()
    items = view.incident.items
    today = _today([item.substance for item in items], request) if items else []
    node_name = node_of(request).name
    return render(
        request,
        "incident_view.html",
        {
            "view": view,
            "incident": view.incident,
            "items_now": list(zip(items, today, strict=True)),
            "may_pass_on": incidents.may_pass_on(view.incident, node_name),
            "display_filename": display_filename,
            "may_edit": view.incident.owner_node == node_name
            and view.incident.reporting_agency == principal.actor.agency
            and may(principal.user.role, Capability.REPORT_INCIDENTS),
            "node_name": node_name,
            "error": error,
            **_choices(),
        },
        status_code=status_code,
    )


@router.get("/incidents/{incident_id}")
def view_page(
    incident_id: RowId,
    request: Request,
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    return _view_page(request, session, principal, incident_id)


# ---------------------------------------------------------------- edit


def _editable(session: Session, node_name: str, principal: Principal, incident_id: int) -> Incident:
    """The incident if this user may edit it (this node's, of the user's agency)."""
    incident = incidents.visible_incident(session, incident_id)
    if incident.owner_node != node_name or incident.reporting_agency != principal.actor.agency:
        raise Forbidden(
            _(
                "Only users of %(agency)s on %(node)s edit this incident; add a follow-up.",
                agency=incident.reporting_agency,
                node=incident.owner_node,
            )
        )
    return incident


def _edit_page(
    request: Request,
    incident: Incident,
    form: dict[str, Any],
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "incident_edit.html",
        {
            "incident": incident,
            "form": form,
            "error": error,
            # A row for each item and entity it has, and one more to add.
            "item_rows": range(min(max(FORM_ITEMS, len(incident.items) + 1), incidents.MAX_ITEMS)),
            "entity_rows": range(
                min(max(FORM_ENTITIES, len(incident.entities) + 1), incidents.MAX_ENTITIES)
            ),
            **_choices(),
        },
        status_code=status_code,
    )


def _edit_form(incident: Incident) -> dict[str, Any]:
    """The edit page's fields as the incident has them now."""
    form = {name: incidents.current_value(incident, name) for name in incidents.REVISABLE_FIELDS}
    for n, item in enumerate(incident.items):
        form |= {
            f"item{n}_substance": item.substance,
            f"item{n}_quantity": f"{item.quantity:g}",
            f"item{n}_unit": item.unit,
            f"item{n}_purity": "" if item.purity_percent is None else f"{item.purity_percent:g}",
            f"item{n}_form": item.form or "",
            f"item{n}_packaging": item.packaging,
        }
    for n, mention in enumerate(incident.entities):
        form |= {
            f"entity{n}_kind": mention.kind,
            f"entity{n}_value": mention.value,
            f"entity{n}_role": mention.role,
            f"entity{n}_chain": mention.chain or "",
        }
    return form


@router.get("/incidents/{incident_id}/edit")
def edit_page(
    incident_id: RowId,
    request: Request,
    principal: Principal = Depends(reporters),
    session: Session = Depends(db_session),
) -> Response:
    incident = _editable(session, node_of(request).name, principal, incident_id)
    form = _edit_form(incident)
    session.commit()
    return _edit_page(request, incident, form)


@dataclass(frozen=True)
class Edit:
    """What an edit form changes: header fields, and the items or entities when any
    differs (each replaced whole, as the API's edit does)."""

    fields: dict[str, Any]
    items: list[incidents.ItemInput] | None
    entities: list[incidents.EntityInput] | None


def _changes(incident: Incident, form: dict[str, Any]) -> Edit:
    """The revisable fields whose submitted value differs from the incident's."""
    submitted: dict[str, Any] = {
        name: (str(form.get(name, "")).strip() or None)
        for name in incidents.REVISABLE_FIELDS
        if name != "urgent"
    }
    submitted["urgent"] = form.get("urgent") == "on"
    submitted["place"] = submitted["place"] or ""
    # Browsers send a textarea's line breaks as CRLF; the stored text has LF.
    submitted["narrative"] = (submitted["narrative"] or "").replace("\r\n", "\n")
    submitted["route"] = ">".join(incidents.parse_route(submitted["route"] or ""))
    if submitted["port_code"]:
        submitted["port_code"] = submitted["port_code"].upper()
    items = _form_items(form)
    now_items = [
        incidents.ItemInput(i.substance, i.quantity, i.unit, i.purity_percent, i.form, i.packaging)
        for i in incident.items
    ]
    entities = _form_entities(form)
    now_entities = [
        incidents.EntityInput(e.kind, e.value, e.role, e.chain) for e in incident.entities
    ]
    # A form without the rows (a client that shows only the header) leaves them as they are.
    return Edit(
        {
            name: value
            for name, value in submitted.items()
            if value != incidents.current_value(incident, name)
        },
        items if "item0_substance" in form and items != now_items else None,
        entities if "entity0_value" in form and entities != now_entities else None,
    )


@router.post("/incidents/{incident_id}/edit")
async def edit(
    incident_id: RowId,
    request: Request,
    principal: Principal = Depends(reporters),
    session: Session = Depends(db_session),
) -> Response:
    submitted = await request.form()
    form: dict[str, Any] = {k: v for k, v in submitted.items() if k != "attachments"}
    uploads = await _uploads(submitted)
    node = node_of(request)
    incident = _editable(session, node.name, principal, incident_id)
    try:
        changes = _changes(incident, form)
        if changes == Edit({}, None, None) and not uploads:
            raise InvalidInput(_("Nothing was changed."))
        incidents.revise_incident(
            session,
            node.name,
            principal.actor,
            incident_id,
            changes.fields,
            items=changes.items,
            entities=changes.entities,
            attachments=uploads,
            settings=node.settings,
        )
        session.commit()
    except LiaisonError as error:
        session.rollback()
        incident = _editable(session, node.name, principal, incident_id)
        return _edit_page(request, incident, form, error.detail, error.status)
    return see_other(f"/incidents/{incident_id}#versions")


@router.post("/incidents/{incident_id}/follow-ups")
async def follow_up(
    incident_id: RowId,
    request: Request,
    body: str = Form("", max_length=20_000),
    status: str = Form("", max_length=32),
    entity_kind: str = Form("", max_length=32),
    entity_value: str = Form("", max_length=500),
    entity_role: str = Form("", max_length=64),
    entity_chain: str = Form("", max_length=32),
    principal: Principal = Depends(reporters),
    session: Session = Depends(db_session),
) -> Response:
    entities = (
        [incidents.EntityInput(entity_kind, entity_value, entity_role, entity_chain or None)]
        if entity_value.strip()
        else []
    )
    uploads = await _uploads(await request.form())
    node = node_of(request)
    try:
        incidents.post_follow_up(
            session,
            node.name,
            principal.actor,
            incident_id,
            body,
            status=status or None,
            entities=entities,
            attachments=uploads,
            settings=node.settings,
        )
        session.commit()
    except LiaisonError as error:
        session.rollback()
        return _view_page(request, session, principal, incident_id, error.detail, error.status)
    return see_other(f"/incidents/{incident_id}#follow-ups")


@router.post("/incident-alerts/{alert_id}/seen")
def alert_seen(
    alert_id: RowId,
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    incidents.mark_alert_seen(session, principal.user.username, alert_id)
    session.commit()
    return see_other("/incidents")


# ---------------------------------------------------------------- entities


@router.get("/entities")
def entity_page(
    request: Request,
    value: str = Query("", max_length=500),
    kind: str = Query("", max_length=32),
    chain: str = Query("", max_length=32),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    found = error = None
    if value.strip():
        try:
            found = incidents.search_entity(
                session, principal.actor, kind or None, value, chain or None
            )
            session.commit()
        except LiaisonError as failure:
            session.rollback()
            error = failure.detail
    return render(
        request,
        "entities.html",
        {
            "found": found,
            "error": error,
            "value": value,
            "kind": kind,
            "chain": chain,
            **_choices(),
        },
    )


# ---------------------------------------------------------------- dashboard

# Okabe-Ito blue and vermilion: distinct under the common colour blindnesses; the peer's
# bars are also hatched, so they differ in greyscale too.
OWN_COLOUR = "#0072B2"
PEER_COLOUR = "#D55E00"
CHART_WIDTH = 720
BAR_HEIGHT = 14
LABEL_WIDTH = 200
SEIZURE_COLUMNS = ("own_count", "own_grams", "own_doses", "peer_count", "peer_grams", "peer_doses")


def _chart(board: incidents.SeizureDashboard, measure: str, font: str = "sans-serif") -> str:
    """A horizontal bar chart of own and peer figures per group, as SVG text."""
    rows = board.rows
    values = [(getattr(r, f"own_{measure}"), getattr(r, f"peer_{measure}")) for r in rows]
    top = max([max(pair) for pair in values] + [1])
    scale = (CHART_WIDTH - LABEL_WIDTH - 90) / top
    height = 40 + len(rows) * (2 * BAR_HEIGHT + 10)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{height}" '
        f'viewBox="0 0 {CHART_WIDTH} {height}" role="img" font-family="{escape(font)}" '
        'font-size="12">',
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="' + PEER_COLOUR + '"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>',
        f'<rect x="{LABEL_WIDTH}" y="6" width="12" height="12" fill="{OWN_COLOUR}"/>'
        f'<text x="{LABEL_WIDTH + 16}" y="16">{escape(_("own"))}</text>'
        f'<rect x="{LABEL_WIDTH + 90}" y="6" width="12" height="12" fill="url(#hatch)"/>'
        f'<text x="{LABEL_WIDTH + 106}" y="16">{escape(_("shared by the peer"))}</text>',
    ]
    y = 30
    for row, (own, peer) in zip(rows, values, strict=True):
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT + 4}" text-anchor="end">'
            f"{escape(row.key[:30])}</text>"
        )
        for offset, value, fill in ((0, own, OWN_COLOUR), (BAR_HEIGHT, peer, "url(#hatch)")):
            width = max(value * scale, 0)
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + offset}" width="{width:.1f}" '
                f'height="{BAR_HEIGHT - 2}" fill="{fill}" stroke="#000" stroke-width="0.5"/>'
                f'<text x="{LABEL_WIDTH + width + 4:.1f}" y="{y + offset + BAR_HEIGHT - 3}">'
                f"{value:,.0f}</text>"
            )
        y += 2 * BAR_HEIGHT + 10
    parts.append("</svg>")
    return "".join(parts)


def _board(
    request: Request,
    principal: Principal,
    session: Session,
    group_by: str,
    date_from: date | None,
    date_to: date | None,
) -> incidents.SeizureDashboard:
    return incidents.seizure_dashboard(
        session, principal.actor, node_of(request).name, group_by, date_from, date_to
    )


@router.get("/dashboard")
def dashboard_page(
    request: Request,
    group_by: str = Query("month", max_length=16),
    date_from: date | None = Query(None, alias="from"),
    date_to: date | None = Query(None, alias="to"),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    error = None
    try:
        board = _board(request, principal, session, group_by, date_from, date_to)
    except LiaisonError as failure:
        error, group_by = failure.detail, "month"
        board = _board(request, principal, session, group_by, date_from, date_to)
    session.commit()
    return render(
        request,
        "dashboard.html",
        {
            "board": board,
            "error": error,
            "groupings": incidents.GROUPINGS,
            "count_chart": _chart(board, "count"),
            "grams_chart": _chart(board, "grams"),
            "query": str(request.url.query),
        },
    )


@router.get("/dashboard/seizures.svg")
def dashboard_svg(
    request: Request,
    group_by: str = Query("month", max_length=16),
    measure: str = Query("count", pattern="^(count|grams|doses)$"),
    date_from: date | None = Query(None, alias="from"),
    date_to: date | None = Query(None, alias="to"),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    board = _board(request, principal, session, group_by, date_from, date_to)
    session.commit()
    return Response(_chart(board, measure), media_type="image/svg+xml")


@functools.cache
def _cjk_family() -> str:
    """The family name of the CJK font (liaison.pdf_fonts): cairo draws each text run in
    the one font named, so the PNG names one that has Latin and Chinese glyphs."""
    family, _style = ImageFont.truetype(str(cjk_font_path()), 12).getname()
    return str(family)


def chart_png(board: incidents.SeizureDashboard, measure: str) -> bytes:
    """The chart's SVG drawn as a PNG at twice its size, its text in the CJK font."""
    import cairosvg  # loads libcairo: only the PNG needs it, a node without it still serves

    svg = _chart(board, measure, _cjk_family())
    png: bytes = cairosvg.svg2png(bytestring=svg.encode(), background_color="white", scale=2)
    return png


@router.get("/dashboard/seizures.png")
def dashboard_png(
    request: Request,
    group_by: str = Query("month", max_length=16),
    measure: str = Query("count", pattern="^(count|grams|doses)$"),
    date_from: date | None = Query(None, alias="from"),
    date_to: date | None = Query(None, alias="to"),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    """The chart as a PNG, drawn from the same SVG (for documents that take no SVG)."""
    board = _board(request, principal, session, group_by, date_from, date_to)
    session.commit()
    return Response(
        chart_png(board, measure),
        media_type="image/png",
        headers={
            "Content-Disposition": f'attachment; filename="seizures-{group_by}-{measure}.png"'
        },
    )


@router.get("/dashboard/seizures.csv")
def dashboard_csv(
    request: Request,
    group_by: str = Query("month", max_length=16),
    date_from: date | None = Query(None, alias="from"),
    date_to: date | None = Query(None, alias="to"),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    board = _board(request, principal, session, group_by, date_from, date_to)
    session.commit()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([group_by, *SEIZURE_COLUMNS])
    for row in board.rows:
        writer.writerow([spreadsheet_safe(row.key), *(getattr(row, c) for c in SEIZURE_COLUMNS)])
    writer.writerows([f"# {assumption}"] for assumption in board.assumptions)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="seizures-{group_by}.csv"'},
    )


# ---------------------------------------------------------------- desk panel


def _desk_panel(request: Request, principal: Principal, session: Session) -> dict[str, Any]:
    return {
        "desk": incidents.awaiting_follow_up(session, principal.actor, node_of(request).name),
        "alerts": incidents.alerts_for(session, principal.user.username),
    }


register_panel(
    Panel("incidents", Capability.READ_INCIDENTS, "desk/incidents.html", _desk_panel, 30)
)
