"""Verification pages: the case list, the open form, the case (with the registry's
candidates side by side with the request on the verifying node) and its forms: decision,
steps, holds and lifting them.

Opening a case's personal data asks why first (the reason goes to the audit trail with
the reader); the forms carry it back so the page after a post opens without asking again.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from liaison.capabilities import Capability, may
from liaison.errors import LiaisonError, NotFound
from liaison.identity import PERSON_FIELDS
from liaison.services import verification
from liaison.services.peering import peer_states
from liaison.services.verification.rules import (
    LIST_FIELDS,
    MAX_PHOTOGRAPH_BYTES,
    MAX_PHOTOGRAPHS,
    PHOTOGRAPH_TYPES,
    TEXT_FIELDS,
)
from liaison.store.base import utcnow
from liaison.store.federation_tables import PeerStatus
from liaison.store.verification_tables import CASE_STATUSES, DECISIONS, HOLD_KINDS, STEPS, Step
from liaison.web.auth import Principal, db_session, node_of, require
from liaison.web.i18n import N_, _
from liaison.web.problems import RowId
from liaison.web.ui import render, see_other

router = APIRouter(include_in_schema=False)
readers = require(Capability.READ_VERIFICATIONS)
requesters = require(Capability.REQUEST_VERIFICATION)
# The open form shows the subject's text fields, then its lists (one item per line); the
# side-by-side comparison shows the fields a registry record has. All from one place.
DOCUMENT_ROWS = 3
# The MRZ fields shown as read, in the order of the passport's data page.
MRZ_FIELDS = (
    "surname",
    "given_names",
    "document_number",
    "nationality",
    "date_of_birth",
    "sex",
    "date_of_expiry",
)

# Values the pages show through `_(value)`: statuses, steps, decisions, kinds, tiers and
# field names, marked here so that the catalog test finds them.
LABELS = (
    N_("requested"),
    N_("information_requested"),
    N_("confirmed"),
    N_("not_confirmed"),
    N_("travel_document_issued"),
    N_("travel_scheduled"),
    N_("returned"),
    N_("closed"),
    N_("withdrawn"),
    N_("consular_interview"),
    N_("deadline_extended"),
    N_("returned_in_error"),
    N_("information_supplied"),
    N_("information"),
    N_("decision"),
    N_("step"),
    N_("hold"),
    N_("lift"),
    N_("asylum"),
    N_("non_refoulement"),
    N_("torture_convention"),
    N_("court_order"),
    N_("other"),
    N_("proving"),
    N_("starting"),
    N_("none"),
    N_("passport"),
    N_("identity_card"),
    N_("travel_document"),
    N_("passport_photocopy"),
    N_("identity_card_photocopy"),
    N_("driving_licence"),
    N_("birth_certificate"),
    N_("household_register"),
    N_("statement"),
    N_("family_name"),
    N_("given_name"),
    N_("family_name_native"),
    N_("given_name_native"),
    N_("sex"),
    N_("date_of_birth"),
    N_("place_of_birth"),
    N_("id_number"),
    N_("address"),
    N_("passport_mrz"),
    N_("school"),
    N_("work"),
    N_("criminal_record"),
    N_("aliases"),
    N_("parents"),
    N_("family_members"),
    N_("past_addresses"),
    N_("photographs"),
    N_("number"),
    N_("valid_until"),
    N_("date"),
    N_("flight"),
    N_("place"),
    N_("outcome"),
    N_("reason"),
    N_("person_id"),
    N_("name"),
    N_("surname"),
    N_("given_names"),
    N_("document_number"),
    N_("nationality"),
    N_("date_of_expiry"),
    N_("optional_data"),
    N_("composite"),
    N_("layout"),
    N_("mrz_check_digits"),
    N_("mrz_name"),
    N_("mrz_date_of_birth"),
    N_("mrz_sex"),
    N_("mrz_document_number"),
    N_("mrz_nationality"),
    N_("mrz_expiry"),
)


def _mrz(subject: dict[str, Any]) -> Any:
    if not subject.get("passport_mrz"):
        return None
    # Imported here: names and pypinyin's tables are not needed to start the server.
    from liaison.identity.passport import read_passport_mrz

    return read_passport_mrz(subject["passport_mrz"], utcnow().date())


def _case_url(case_id: int, why: str) -> str:
    return f"/verifications/{case_id}?{urlencode({'reason': why})}"


@router.get("/verifications")
def list_page(
    request: Request,
    direction: str = Query("", pattern="^(|outgoing|incoming)$"),
    status: str = Query("", max_length=32),
    reference: str = Query("", max_length=100),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    node = node_of(request)
    summaries = verification.list_cases(
        session,
        node,
        principal.actor,
        reference=reference or None,
        status=status or None,
        direction=direction or None,
    )
    registry = verification.current_registry(session)
    times = verification.step_statistics(session)
    session.commit()
    return render(
        request,
        "verifications.html",
        {
            "summaries": summaries,
            "registry": registry,
            "times": times,
            "statuses": CASE_STATUSES,
            "filters": {"direction": direction, "status": status, "reference": reference},
            "may_open": may(principal.user.role, Capability.REQUEST_VERIFICATION),
        },
    )


def _new_page(
    request: Request,
    session: Session,
    *,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    session.rollback()
    peers = [s.name for s in peer_states(session) if s.status == PeerStatus.ACTIVE]
    session.commit()
    return render(
        request,
        "verification_new.html",
        {
            "peers": peers,
            "form": form or {},
            "text_fields": TEXT_FIELDS,
            "list_fields": LIST_FIELDS,
            "document_kinds": verification.DOCUMENT_KINDS,
            "document_rows": range(DOCUMENT_ROWS),
            "photograph_types": PHOTOGRAPH_TYPES,
            "max_photographs": MAX_PHOTOGRAPHS,
            "max_photograph_kib": MAX_PHOTOGRAPH_BYTES // 1024,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/verifications/new")
def new_page(
    request: Request,
    principal: Principal = Depends(requesters),
    session: Session = Depends(db_session),
) -> Response:
    return _new_page(request, session)


@router.post("/verifications/new")
async def open_case(
    request: Request,
    principal: Principal = Depends(requesters),
    session: Session = Depends(db_session),
) -> Response:
    submitted = await request.form()
    form = {key: str(value) for key, value in submitted.items() if isinstance(value, str)}
    subject: dict[str, Any] = {name: form.get(name, "") for name in TEXT_FIELDS}
    for name in LIST_FIELDS:
        subject[name] = [line for line in form.get(name, "").splitlines() if line.strip()]
    subject["documents"] = [
        {
            "kind": form[f"document_kind_{i}"],
            "number": form.get(f"document_number_{i}", ""),
            "description": form.get(f"document_description_{i}", ""),
            "protection_claim": form.get(f"document_claim_{i}") == "on",
        }
        for i in range(DOCUMENT_ROWS)
        if form.get(f"document_kind_{i}")
    ]
    # The API's photographs (base64 in the subject), so the same checks apply: type by
    # content, count, total size.
    subject["photographs"] = [
        {
            "content_type": upload.content_type or "",
            "data": base64.b64encode(await upload.read()).decode("ascii"),
        }
        for upload in submitted.getlist("photographs")
        if isinstance(upload, UploadFile) and upload.filename
    ]
    try:
        case = verification.open_case(
            session,
            node_of(request),
            principal.actor,
            peer=form.get("peer", ""),
            subject=subject,
            grounds=form.get("grounds", ""),
            reference=form.get("reference", ""),
        )
        session.commit()
    except LiaisonError as error:
        return _new_page(request, session, form=form, error=error.detail, status_code=error.status)
    return see_other(_case_url(case.id, _("opened this case")))


def _case_page(
    request: Request,
    principal: Principal,
    session: Session,
    case_id: int,
    why: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    session.rollback()
    node = node_of(request)
    if not why.strip():
        summary = verification.summary_of(session, node, verification.get_case(session, case_id))
        session.commit()
        return render(request, "verification_reason.html", {"summary": summary})
    view = verification.read_case(session, node, principal.actor, case_id, why)
    registry = verification.current_registry(session)
    candidates: list[Any] = []
    candidates_error = None
    side = view.summary.side
    role = principal.user.role
    if (
        side is verification.Side.VERIFYING
        and registry is not None
        and may(role, Capability.VERIFY_NATIONALITY)
        and view.subject
    ):
        from liaison.services.verification import registry as registry_service

        try:
            candidates = registry_service.candidates(session, node, principal.actor, case_id, why)
        except LiaisonError as failure:
            candidates_error = failure.detail
    session.commit()
    return render(
        request,
        "verification_case.html",
        {
            "view": view,
            "case": view.summary.case,
            "why": why,
            "side": side.value,
            "registry": registry,
            "candidates": candidates,
            "candidates_error": candidates_error,
            "compared": PERSON_FIELDS,
            "mrz": _mrz(view.subject),
            "mrz_fields": MRZ_FIELDS,
            "decisions": DECISIONS,
            # information_supplied has a form of its own (supply-form).
            "steps": [
                s
                for s in STEPS
                if verification.STEP_SIDE[s] is side and s != Step.INFORMATION_SUPPLIED
            ],
            "supplied_fields": TEXT_FIELDS,
            "step_fields": verification.STEP_FIELDS,
            "hold_kinds": HOLD_KINDS,
            "may_decide": may(role, Capability.VERIFY_NATIONALITY),
            "may_step": may(
                role,
                Capability.VERIFY_NATIONALITY
                if side is verification.Side.VERIFYING
                else Capability.REQUEST_VERIFICATION,
            ),
            "may_hold": may(role, Capability.RECORD_HOLDS),
            "may_lift": may(role, Capability.LIFT_HOLDS),
            "has_document": any(
                e.event.kind == "step" and e.event.name == "travel_document_issued"
                for e in view.events
            ),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/verifications/{case_id}")
def case_page(
    case_id: RowId,
    request: Request,
    reason: str = Query("", max_length=500),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    return _case_page(request, principal, session, case_id, reason)


def _after(
    request: Request,
    principal: Principal,
    session: Session,
    case_id: int,
    why: str,
    action: Any,
) -> Response:
    try:
        action()
        session.commit()
    except LiaisonError as error:
        if isinstance(error, NotFound):
            raise
        return _case_page(
            request, principal, session, case_id, why, error=error.detail, status_code=error.status
        )
    return see_other(_case_url(case_id, why))


@router.post("/verifications/{case_id}/decision")
def decide(
    case_id: RowId,
    request: Request,
    decision: str = Form("", max_length=32),
    person_id: str = Form("", max_length=100),
    reason: str = Form("", max_length=2000),
    why: str = Form("", max_length=500),
    principal: Principal = Depends(require(Capability.VERIFY_NATIONALITY)),
    session: Session = Depends(db_session),
) -> Response:
    return _after(
        request,
        principal,
        session,
        case_id,
        why,
        lambda: verification.decide(
            session,
            node_of(request),
            principal.actor,
            case_id,
            decision=decision,
            reason=reason,
            person_id=person_id or None,
        ),
    )


@router.post("/verifications/{case_id}/steps")
async def take_step(
    case_id: RowId,
    request: Request,
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    submitted = await request.form()
    form = {k: str(v)[:2000] for k, v in submitted.items() if isinstance(v, str)}
    step = form.pop("step", "")
    why = form.pop("why", "")
    form.pop("csrf_token", None)
    return _after(
        request,
        principal,
        session,
        case_id,
        why,
        lambda: verification.take_step(
            session, node_of(request), principal.actor, case_id, step, form
        ),
    )


@router.post("/verifications/{case_id}/holds")
def record_hold(
    case_id: RowId,
    request: Request,
    kind: str = Form("", max_length=32),
    reason: str = Form("", max_length=2000),
    why: str = Form("", max_length=500),
    principal: Principal = Depends(require(Capability.RECORD_HOLDS)),
    session: Session = Depends(db_session),
) -> Response:
    return _after(
        request,
        principal,
        session,
        case_id,
        why,
        lambda: verification.record_hold(
            session, node_of(request), principal.actor, case_id, kind=kind, reason=reason
        ),
    )


@router.post("/verifications/{case_id}/holds/{hold_id}/lift")
def lift_hold(
    case_id: RowId,
    hold_id: RowId,
    request: Request,
    reason: str = Form("", max_length=2000),
    why: str = Form("", max_length=500),
    principal: Principal = Depends(require(Capability.LIFT_HOLDS)),
    session: Session = Depends(db_session),
) -> Response:
    return _after(
        request,
        principal,
        session,
        case_id,
        why,
        lambda: verification.lift_hold(
            session, node_of(request), principal.actor, case_id, hold_id, reason=reason
        ),
    )
