"""API tokens: issue with a username and password, revoke the one presented; who am I."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from liaison.errors import InvalidInput
from liaison.services.accounts import authenticate, issue_api_token, revoke_api_token
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
        raise InvalidInput("present the bearer token to revoke in the Authorization header")
    api_token = session.merge(principal.api_token)
    revoke_api_token(session, api_token, principal.user, principal.address)
    session.commit()
    return Response(status_code=204)


@router.get("/me", response_model=Me)
def me(request: Request, principal: Principal = Depends(current_user)) -> Me:
    """The account this request is authenticated as."""
    user = principal.user
    return Me(
        username=user.username,
        role=user.role,
        agency=user.agency.name,
        node=node_of(request).name,
    )
