"""User and agency administration (admins only); reads of accounts are audited."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from liaison.capabilities import Capability
from liaison.services.accounts import (
    add_user,
    disable_user,
    list_agencies,
    list_users,
    read_user,
)
from liaison.store.accounts import User
from liaison.web.auth import Principal, db_session, node_of, require

router = APIRouter(prefix="/api/v1", tags=["users"])
admin_only = require(Capability.MANAGE_USERS)
USERNAME = Path(min_length=1, max_length=64)


class UserOut(BaseModel):
    username: str
    role: str
    agency: str
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            username=user.username,
            role=user.role,
            agency=user.agency.name,
            disabled=user.disabled,
            created_at=user.created_at,
        )


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=1024)
    role: str = Field(pattern="^(admin|officer|analyst|auditor)$")
    agency: str | None = Field(
        default=None, min_length=1, max_length=200, description="Default: the node's agency."
    )


class AgencyOut(BaseModel):
    name: str
    created_at: datetime


@router.get("/users", response_model=list[UserOut])
def users(
    principal: Principal = Depends(admin_only), session: Session = Depends(db_session)
) -> list[UserOut]:
    """All user accounts of the node."""
    found = [UserOut.of(user) for user in list_users(session, principal.actor)]
    session.commit()
    return found


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(
    body: UserCreate,
    request: Request,
    principal: Principal = Depends(admin_only),
    session: Session = Depends(db_session),
) -> UserOut:
    """Add an account; an unknown agency is created."""
    node = node_of(request)
    agency = body.agency or node.default_agency
    user = add_user(
        session, body.username, body.password, body.role, agency, principal.actor, node.settings
    )
    session.commit()
    return UserOut.of(user)


@router.get("/users/{username}", response_model=UserOut)
def user(
    username: str = USERNAME,
    principal: Principal = Depends(admin_only),
    session: Session = Depends(db_session),
) -> UserOut:
    """One account."""
    found = UserOut.of(read_user(session, username, principal.actor))
    session.commit()
    return found


@router.post("/users/{username}/disable", response_model=UserOut)
def disable(
    username: str = USERNAME,
    principal: Principal = Depends(admin_only),
    session: Session = Depends(db_session),
) -> UserOut:
    """Disable an account: it can no longer log in, its sessions and tokens end."""
    user = disable_user(session, username, principal.actor)
    session.commit()
    return UserOut.of(user)


@router.get("/agencies", response_model=list[AgencyOut])
def agencies(
    principal: Principal = Depends(admin_only), session: Session = Depends(db_session)
) -> list[AgencyOut]:
    """The node's agencies."""
    return [AgencyOut(name=a.name, created_at=a.created_at) for a in list_agencies(session)]
