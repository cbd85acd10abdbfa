"""Signing in and out, the language switch, the user's preferences, and the home page."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from liaison.capabilities import Capability, may
from liaison.errors import InvalidInput, NotAuthenticated, RateLimited
from liaison.messages import T
from liaison.services.accounts import (
    LANGUAGES,
    authenticate,
    end_web_session,
    set_preferences,
    start_web_session,
    user_actor,
    web_session_for,
)
from liaison.web.auth import (
    Principal,
    client_address,
    current_user,
    db_session,
    login_form_token,
    node_of,
    public_endpoint,
    session_cookie_name,
)
from liaison.web.context import runtime_of
from liaison.web.i18n import (
    LANGUAGE_COOKIE,
    LANGUAGE_NAMES,
    _,
    time_zone_names,
    use_user_preferences,
)
from liaison.web.ui import render, see_other

router = APIRouter(include_in_schema=False)
LOGIN_NONCE_COOKIE = "liaison_login_nonce"


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
            "login_token": login_form_token(runtime_of(request).secret, nonce),
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
    expected = login_form_token(runtime_of(request).secret, nonce)
    if not nonce or not secrets.compare_digest(csrf_token, expected):
        return _login_page(
            request, next, _("The form expired or was not sent from this page; try again."), 403
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
    response = see_other(_safe_next(next))
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


@router.post("/language", dependencies=[Depends(public_endpoint)])
def switch_language(
    request: Request,
    language: str = Form(..., max_length=8),
    next: str = Form("/", max_length=2000),
    csrf_token: str = Form("", max_length=200),
    session: Session = Depends(db_session),
) -> Response:
    """The language switch on every page: a cookie, and the signed-in user's preference.

    Public, so that the login page has it too; the preference is stored only for a
    session whose CSRF token the form carries.
    """
    if language not in LANGUAGES:
        raise InvalidInput(
            T(
                "language must be one of %(languages)s, not %(language)s",
                languages=", ".join(LANGUAGES),
                language=repr(language),
            )
        )
    node = node_of(request)
    cookie = request.cookies.get(session_cookie_name(node))
    found = web_session_for(session, cookie) if cookie else None
    if found is not None and secrets.compare_digest(csrf_token, found[0].csrf_token):
        user = found[1]
        set_preferences(session, user, user_actor(user, client_address(request)), language=language)
        session.commit()
    response = see_other(_safe_next(next))
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="strict",
        secure=node.secure_cookies,
        path="/",
    )
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
    response = see_other("/login")
    response.delete_cookie(session_cookie_name(node_of(request)), path="/")
    return response


@router.get("/")
def home(principal: Principal = Depends(current_user)) -> Response:
    role = principal.user.role
    if not may(role, Capability.SCREEN_SUBSTANCES) and may(role, Capability.READ_AUDIT):
        return see_other("/audit")
    return see_other("/desk")


def _preferences_page(
    request: Request, principal: Principal, *, notice: str | None = None, error: str | None = None
) -> Response:
    return render(
        request,
        "preferences.html",
        {
            "languages": LANGUAGE_NAMES,
            "zones": time_zone_names(),
            "notice": notice,
            "error": error,
        },
        status_code=422 if error else 200,
    )


@router.get("/preferences")
def preferences_page(request: Request, principal: Principal = Depends(current_user)) -> Response:
    return _preferences_page(request, principal)


@router.post("/preferences")
def save_preferences(
    request: Request,
    language: str = Form("", max_length=8),
    time_zone: str = Form("", max_length=64),
    principal: Principal = Depends(current_user),
    session: Session = Depends(db_session),
) -> Response:
    user = session.merge(principal.user)
    try:
        set_preferences(
            session,
            user,
            principal.actor,
            language=language or None,
            time_zone=time_zone or None,
        )
    except InvalidInput as error:
        session.rollback()
        return _preferences_page(request, principal, error=error.detail)
    session.commit()
    # This page already shows in the new language and zone.
    use_user_preferences(user)
    response = _preferences_page(request, principal, notice=_("Preferences saved."))
    if user.language:
        response.set_cookie(
            LANGUAGE_COOKIE,
            user.language,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="strict",
            secure=node_of(request).secure_cookies,
            path="/",
        )
    return response
