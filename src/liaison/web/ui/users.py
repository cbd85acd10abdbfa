"""User administration pages: list, add, disable."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from liaison.capabilities import Capability
from liaison.errors import LiaisonError
from liaison.services.accounts import (
    add_user,
    disable_user,
    list_agencies,
    list_users,
)
from liaison.store.accounts import ROLES
from liaison.web.auth import (
    Principal,
    db_session,
    node_of,
    require,
)
from liaison.web.i18n import _
from liaison.web.ui import render

router = APIRouter(include_in_schema=False)
admins = require(Capability.MANAGE_USERS)


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
            node_of(request).settings,
        )
        session.commit()
    except LiaisonError as error:
        return _users_page(
            request, principal, session, error=error.detail, status_code=error.status
        )
    return _users_page(
        request, principal, session, notice=_("Added %(user)s.", user=username.strip())
    )


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
    return _users_page(request, principal, session, notice=_("Disabled %(user)s.", user=username))
