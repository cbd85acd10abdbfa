"""The web UI's pages. Forms post back with the session's CSRF token; no script is needed."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from liaison.audit import read_entries, verify_recent
from liaison.errors import InvalidInput, LiaisonError, NotAuthenticated, RateLimited
from liaison.federation.checkpoints import check_against_peers
from liaison.services.accounts import (
    add_user,
    authenticate,
    disable_user,
    end_web_session,
    list_agencies,
    list_users,
    start_web_session,
)
from liaison.services.substances import (
    MAX_QUERIES_PER_REQUEST,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_RECORDS,
    UPLOAD_SUFFIXES,
    identify_queries,
    jurisdiction_titles,
    screen_upload,
    screening_csv,
)
from liaison.store.accounts import ROLES
from liaison.web.api.federation import local_node
from liaison.web.auth import (
    Principal,
    client_address,
    current_user,
    db_session,
    login_form_token,
    node_of,
    public_endpoint,
    require_role,
    session_cookie_name,
)
from liaison.web.ui import render

router = APIRouter(include_in_schema=False)
identifiers = require_role("officer", "analyst", "admin")
admins = require_role("admin")
auditors = require_role("auditor", "admin")
LOGIN_NONCE_COOKIE = "liaison_login_nonce"


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    """Only local paths: a login link must not be able to send the user elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(
    request: Request,
    next_url: str,
    error: str | None = None,
    status_code: int = 200,
    username: str = "",
) -> Response:
    nonce = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {
            "login_token": login_form_token(request.app.state.secret, nonce),
            "next_url": _safe_next(next_url),
            "error": error,
            "username": username,
        },
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_NONCE_COOKIE,
        nonce,
        httponly=True,
        samesite="strict",
        secure=node_of(request).secure_cookies,
        path="/login",
    )
    return response


@router.get("/login", dependencies=[Depends(public_endpoint)])
def login_form(request: Request, next: str = Query("/", max_length=2000)) -> Response:
    return _login_page(request, next)


@router.post("/login", dependencies=[Depends(public_endpoint)])
def login(
    request: Request,
    username: str = Form("", max_length=64),
    password: str = Form("", max_length=1024),
    csrf_token: str = Form(""),
    next: str = Form("/", max_length=2000),
    session: Session = Depends(db_session),
) -> Response:
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE, "")
    expected = login_form_token(request.app.state.secret, nonce)
    if not nonce or not secrets.compare_digest(csrf_token, expected):
        return _login_page(
            request, next, "The form expired or was not sent from this page; try again.", 403
        )
    node = node_of(request)
    address = client_address(request)
    try:
        user = authenticate(session, username, password, address, node.settings)
    except (NotAuthenticated, RateLimited) as error:
        message = error.detail[:1].upper() + error.detail[1:]
        return _login_page(request, next, message, error.status, username)
    token, _web_session = start_web_session(session, user, address, node.settings)
    session.commit()
    response = _see_other(_safe_next(next))
    response.set_cookie(
        session_cookie_name(node),
        token,
        max_age=int(node.settings.session_ttl_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=node.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_NONCE_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request,
    principal: Principal = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    if principal.web_session is not None:
        end_web_session(
            session, session.merge(principal.web_session), principal.user, principal.address
        )
        session.commit()
    response = _see_other("/login")
    response.delete_cookie(session_cookie_name(node_of(request)), path="/")
    return response


@router.get("/")
def home(principal: Principal = Depends(current_user)) -> Response:
    if principal.user.role == "auditor":
        return _see_other("/audit")
    return _see_other("/substances")


def _substance_page(
    request: Request,
    *,
    query: str = "",
    as_of: str = "",
    selected: list[str] | None = None,
    answers: list[Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    titles = jurisdiction_titles()
    return render(
        request,
        "substances.html",
        {
            "query": query,
            "as_of": as_of,
            "titles": titles,
            "selected": selected or list(titles),
            "answers": answers,
            "error": error,
            "max_queries": MAX_QUERIES_PER_REQUEST,
        },
        status_code=status_code,
    )


@router.get("/substances")
def substance_form(request: Request, principal: Principal = Depends(identifiers)) -> Response:
    return _substance_page(request)


def _parse_as_of(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise InvalidInput(f"“as of” date {text!r} is not a date in the form YYYY-MM-DD") from error


@router.post("/substances")
def substance_identify(
    request: Request,
    query: str = Form("", max_length=100_000),
    as_of: str = Form("", max_length=40),
    jurisdictions: list[str] = Form([]),
    principal: Principal = Depends(identifiers),
) -> Response:
    """Identify what was typed: one query per line (a MOL block is taken whole)."""
    text = query.strip()
    queries = [text] if "M  END" in text else [q.strip() for q in text.splitlines() if q.strip()]
    try:
        if not queries:
            raise InvalidInput("type a SMILES, InChI, CAS number or name")
        answers = identify_queries(
            queries,
            _parse_as_of(as_of),
            jurisdictions or None,
            depict_each_jurisdiction=True,
            settings=request.app.state.node.settings,
        )
    except LiaisonError as error:
        return _substance_page(
            request,
            query=query,
            as_of=as_of,
            selected=jurisdictions,
            error=error.detail,
            status_code=error.status,
        )
    return _substance_page(
        request, query=query, as_of=as_of, selected=jurisdictions, answers=answers
    )


def _screen_page(
    request: Request,
    *,
    as_of: str = "",
    selected: list[str] | None = None,
    screened: Any = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    titles = jurisdiction_titles()
    return render(
        request,
        "screen.html",
        {
            "as_of": as_of,
            "titles": titles,
            "selected": selected or list(titles),
            "screened": screened,
            "error": error,
            "suffixes": ", ".join(UPLOAD_SUFFIXES),
            "max_megabytes": MAX_UPLOAD_BYTES // (1024 * 1024),
            "max_records": MAX_UPLOAD_RECORDS,
        },
        status_code=status_code,
    )


@router.get("/substances/screen")
def screen_form(request: Request, principal: Principal = Depends(identifiers)) -> Response:
    return _screen_page(request)


@router.post("/substances/screen")
async def screen_file(
    request: Request,
    upload: UploadFile = File(...),
    as_of: str = Form("", max_length=40),
    jurisdictions: list[str] = Form([]),
    principal: Principal = Depends(identifiers),
) -> Response:
    """Screen an uploaded file; the results table links to its CSV."""
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    filename = upload.filename or "upload"
    database = request.app.state.database
    settings = request.app.state.node.settings

    def screen() -> Any:
        with database.session() as session:
            screened = screen_upload(
                session,
                principal.user,
                principal.actor,
                filename,
                content,
                _parse_as_of(as_of),
                jurisdictions or None,
                settings,
            )
            session.commit()
            return screened

    try:
        # Chemistry is CPU-bound: run it off the event loop.
        screened = await run_in_threadpool(screen)
    except LiaisonError as error:
        return _screen_page(
            request,
            as_of=as_of,
            selected=jurisdictions,
            error=error.detail,
            status_code=error.status,
        )
    return _screen_page(request, as_of=as_of, selected=jurisdictions, screened=screened)


@router.get("/substances/screen/{run_id}.csv")
def screen_download(
    run_id: str,
    principal: Principal = Depends(identifiers),
    session: Session = Depends(db_session),
) -> Response:
    run = screening_csv(session, run_id, principal.user)
    stem = run.filename.rsplit(".", 1)[0]
    return Response(
        run.results_csv,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{stem}-screened.csv"'},
    )


def _users_page(
    request: Request,
    principal: Principal,
    session: Session,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    session.rollback()  # a failed change must not be listed as if it had happened
    users = list_users(session, principal.actor)
    agencies = list_agencies(session)
    session.commit()
    return render(
        request,
        "users.html",
        {
            "users": users,
            "agencies": agencies,
            "roles": ROLES,
            "error": error,
            "notice": notice,
        },
        status_code=status_code,
    )


@router.get("/admin/users")
def users_page(
    request: Request,
    principal: Principal = Depends(admins),
    session: Session = Depends(db_session),
) -> Response:
    return _users_page(request, principal, session)


@router.post("/admin/users")
def users_add(
    request: Request,
    username: str = Form("", max_length=64),
    password: str = Form("", max_length=1024),
    role: str = Form("", max_length=16),
    agency: str = Form("", max_length=200),
    principal: Principal = Depends(admins),
    session: Session = Depends(db_session),
) -> Response:
    try:
        add_user(
            session,
            username.strip(),
            password,
            role,
            agency.strip() or node_of(request).default_agency,
            principal.actor,
        )
        session.commit()
    except LiaisonError as error:
        return _users_page(
            request, principal, session, error=error.detail, status_code=error.status
        )
    return _users_page(request, principal, session, notice=f"Added {username.strip()}.")


@router.post("/admin/users/{username}/disable")
def users_disable(
    request: Request,
    username: str,
    principal: Principal = Depends(admins),
    session: Session = Depends(db_session),
) -> Response:
    try:
        disable_user(session, username, principal.actor)
        session.commit()
    except LiaisonError as error:
        return _users_page(
            request, principal, session, error=error.detail, status_code=error.status
        )
    return _users_page(request, principal, session, notice=f"Disabled {username}.")


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
