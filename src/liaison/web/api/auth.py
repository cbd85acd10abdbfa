"""API tokens: issue with a username and password, revoke the one presented; who am I."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from liaison.errors import InvalidInput
from liaison.messages import T
from liaison.services.accounts import (
    authenticate,
    issue_api_token,
    revoke_api_token,
    set_preferences,
)
from liaison.store.accounts import User
from liaison.web.auth import (
    Principal,
    client_address,
    current_user,
    db_session,
    node_of,
    public_endpoint,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class Me(BaseModel):
    username: str
    role: str
    agency: str
    node: str
    language: Literal["en", "zh-CN"] | None = Field(
        description="Interface language; null: from the browser's Accept-Language"
    )
    time_zone: str | None = Field(description="IANA time zone of the times shown; null: the node's")
    node_time_zone: str


class MePatch(BaseModel):
    """Preferences to change; a field left out keeps its value."""

    language: Literal["en", "zh-CN"] | None = None
    time_zone: str | None = Field(default=None, max_length=64, examples=["Asia/Shanghai"])


@router.post(
    "/token",
    response_model=TokenResponse,
    dependencies=[Depends(public_endpoint)],
    openapi_extra={"security": []},
)
def issue_token(
    body: TokenRequest, request: Request, session: Session = Depends(db_session)
) -> TokenResponse:
    """Exchange a username and password for a bearer token (rate-limited like the login page)."""
    node = node_of(request)
    address = client_address(request)
    user = authenticate(session, body.username, body.password, address, node.settings)
    token, api_token = issue_api_token(session, user, address, node.settings)
    session.commit()
    return TokenResponse(access_token=token, expires_at=api_token.expires_at)


@router.delete("/token", status_code=204)
def revoke_token(
    principal: Principal = Depends(current_user), session: Session = Depends(db_session)
) -> Response:
    """Revoke the bearer token this request presents."""
    if principal.api_token is None:
        raise InvalidInput(T("present the bearer token to revoke in the Authorization header"))
    api_token = session.merge(principal.api_token)
    revoke_api_token(session, api_token, principal.user, principal.address)
    session.commit()
    return Response(status_code=204)


def _me(request: Request, user: User) -> Me:
    node = node_of(request)
    return Me(
        username=user.username,
        role=user.role,
        agency=user.agency.name,
        node=node.name,
        language=user.language,  # type: ignore[arg-type]  # checked when stored
        time_zone=user.time_zone,
        node_time_zone=node.time_zone,
    )


@router.get("/me", response_model=Me)
def me(request: Request, principal: Principal = Depends(current_user)) -> Me:
    """The account this request is authenticated as, with its interface preferences."""
    return _me(request, principal.user)


@router.patch("/me", response_model=Me)
def update_me(
    body: MePatch,
    request: Request,
    principal: Principal = Depends(current_user),
    session: Session = Depends(db_session),
) -> Me:
    """Change the interface language (`en`, `zh-CN`) and/or time zone (an IANA name)."""
    user = session.merge(principal.user)
    set_preferences(
        session, user, principal.actor, language=body.language, time_zone=body.time_zone
    )
    session.commit()
    return _me(request, user)
