"""Agencies, user accounts, browser sessions, API tokens and failed-login records."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from liaison.store.base import Base, UTCDateTime, utcnow


class Role(StrEnum):
    """What a user is; what each role may do is in liaison.capabilities."""

    ADMIN = "admin"
    OFFICER = "officer"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    REGULATOR = "regulator"  # precursor authority: pre-export notifications
    IMMIGRATION_OFFICER = "immigration_officer"  # requests nationality verifications
    VERIFIER = "verifier"  # answers them from the registry extract
    SUPERVISOR = "supervisor"  # both sides' casework, and lifts protection holds


ROLES: tuple[Role, ...] = tuple(Role)


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "role in ('admin', 'officer', 'analyst', 'auditor', 'regulator', "
            "'immigration_officer', 'verifier', 'supervisor')",
            name="role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(32))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Interface preferences; None: from the browser's Accept-Language / the node's zone.
    language: Mapped[str | None] = mapped_column(sa.String(8))
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))

    agency: Mapped[Agency] = relationship(lazy="joined")


class WebSession(Base):
    """A browser session; only the SHA-256 of its cookie value is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    address: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A bearer token for the API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginFailure(Base):
    """One failed login; counted over a window per account and per address (rate limit)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), index=True)
    address: Mapped[str] = mapped_column(sa.String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
