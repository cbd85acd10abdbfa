"""Agencies, users, passwords, login rate limiting, browser sessions and API tokens.

Secrets handed to clients (session cookies, bearer tokens) are random 256-bit values;
the database keeps only their SHA-256, so a copy of the database cannot be replayed as a
login. Passwords are hashed with argon2id (argon2-cffi's default).
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from liaison.audit import (
    Actor,
    AgencyCreated,
    LoggedIn,
    LoggedOut,
    LoginBlocked,
    LoginFailed,
    PreferencesChanged,
    TokenIssued,
    TokenRevoked,
    UserCreated,
    UserDisabled,
    UserRead,
    UsersListed,
    record,
)
from liaison.config import Settings
from liaison.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, RateLimited
from liaison.messages import T
from liaison.store.accounts import ROLES, Agency, ApiToken, LoginFailure, User, WebSession
from liaison.store.audit import AuditEntry
from liaison.store.base import utcnow

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
# The interface's languages, as BCP 47 tags (liaison.web.i18n has their catalogs).
LANGUAGES = ("en", "zh-CN")

# PostgreSQL advisory lock key serialising login-attempt claims (any constant unique to this use).
LOGIN_ATTEMPTS_LOCK = 0x4C49_4C47


class LoginRateLimited(RateLimited):
    """A refused login; `record_type` and `record_id` name what is blocked (a user or an
    address), for the audit trail."""

    def __init__(
        self, detail: str, retry_after: datetime, record_type: str, record_id: str
    ) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.record_type = record_type
        self.record_id = record_id


def user_actor(user: User, address: str) -> Actor:
    """A signed-in user as the audit trail records them."""
    return Actor(user.username, user.agency.name, address, user.role)


@dataclass(frozen=True)
class PasswordHashing:
    hasher: PasswordHasher
    # Verified against when the account does not exist, so timing does not reveal which exist.
    unknown_user_hash: str


@functools.cache
def _password_hashing(time_cost: int, memory_kib: int) -> PasswordHashing:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    return PasswordHashing(hasher, hasher.hash(secrets.token_hex(16)))


def password_hashing(settings: Settings) -> PasswordHashing:
    """The argon2 parameters of the node's settings; built on first use, not on import."""
    return _password_hashing(settings.password_hash_time_cost, settings.password_hash_memory_kib)


def hash_password(password: str, settings: Settings) -> str:
    return password_hashing(settings).hasher.hash(password)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            T("password must have at least %(count)s characters", count=MIN_PASSWORD_LENGTH)
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            T("password must have at most %(count)s characters", count=MAX_PASSWORD_LENGTH)
        )


def agency_named(session: Session, name: str, actor: Actor, *, create: bool = True) -> Agency:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput(T("agency name must have 1 to 200 characters"))
    agency = session.execute(sa.select(Agency).where(Agency.name == name)).scalar_one_or_none()
    if agency is not None:
        return agency
    if not create:
        raise NotFound(T("no agency named %(name)s", name=repr(name)))
    agency = Agency(name=name)
    session.add(agency)
    session.flush()
    record(session, actor, AgencyCreated(record_id=agency.id, name=name))
    return agency


def list_agencies(session: Session) -> list[Agency]:
    return list(session.execute(sa.select(Agency).order_by(Agency.name)).scalars())


def check_new_account(username: str, password: str, role: str) -> None:
    """Refuse a username, password or role that add_user would refuse, before any change."""
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput(
            T(
                "username %(name)s must be 2-64 letters, digits, '.', '_' or '-', starting with "
                "a letter or digit",
                name=repr(username),
            )
        )
    if role not in ROLES:
        raise InvalidInput(
            T("role %(role)s is not one of %(roles)s", role=repr(role), roles=", ".join(ROLES))
        )
    _check_password(password)


def add_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    agency_name: str,
    actor: Actor,
    settings: Settings,
) -> User:
    """Create an account (the agency is created when the node has none of that name)."""
    check_new_account(username, password, role)
    if session.execute(sa.select(User.id).where(User.username == username)).first():
        raise Conflict(T("a user named %(name)s already exists", name=repr(username)))
    agency = agency_named(session, agency_name, actor)
    user = User(
        username=username, password_hash=hash_password(password, settings), role=role, agency=agency
    )
    session.add(user)
    session.flush()
    record(session, actor, UserCreated(record_id=user.username, role=role, agency=agency.name))
    return user


def user_named(session: Session, username: str) -> User:
    user = session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(T("no user named %(username)s", username=repr(username)))
    return user


def list_users(session: Session, actor: Actor) -> list[User]:
    """All accounts; a read of personal data, so it is audited."""
    users = list(session.execute(sa.select(User).order_by(User.username)).scalars())
    record(session, actor, UsersListed(count=len(users)))
    return users


def read_user(session: Session, username: str, actor: Actor) -> User:
    user = user_named(session, username)
    record(session, actor, UserRead(record_id=user.username))
    return user


def disable_user(session: Session, username: str, actor: Actor) -> User:
    """Disable an account and end its sessions and tokens at once."""
    user = user_named(session, username)
    if user.username == actor.name:
        raise Conflict(T("you cannot disable your own account"))
    if not user.disabled:
        user.disabled = True
        user.disabled_at = utcnow()
        session.execute(sa.delete(WebSession).where(WebSession.user_id == user.id))
        session.execute(
            sa.update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        record(session, actor, UserDisabled(record_id=user.username))
    return user


def check_time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidInput(
            T(
                "time_zone %(name)s is not an IANA time zone name such as Asia/Shanghai",
                name=repr(name),
            )
        ) from error


def set_preferences(
    session: Session,
    user: User,
    actor: Actor,
    *,
    language: str | None = None,
    time_zone: str | None = None,
) -> User:
    """Change the interface language and/or time zone of `user` (None: leave as it is)."""
    if language is not None and language not in LANGUAGES:
        raise InvalidInput(
            T(
                "language must be one of %(languages)s, not %(language)s",
                languages=", ".join(LANGUAGES),
                language=repr(language),
            )
        )
    if time_zone is not None:
        check_time_zone(time_zone)
    changed = {
        name: value
        for name, value in (("language", language), ("time_zone", time_zone))
        if value is not None and getattr(user, name) != value
    }
    if changed:
        for name, value in changed.items():
            setattr(user, name, value)
        record(
            session,
            actor,
            PreferencesChanged(
                record_id=user.username,
                language=changed.get("language"),
                time_zone=changed.get("time_zone"),
            ),
        )
    return user


def _refuse_when_rate_limited(
    session: Session, username: str, address: str, settings: Settings
) -> None:
    """Refuse a login past one of three limits. An account is limited per client address
    (so a stranger who knows the username locks out only their own address) and, more
    loosely, over all addresses together (so guessing from many addresses is bounded);
    an address is limited over all the accounts it tries."""
    now = utcnow()
    since = now - timedelta(minutes=settings.login_window_minutes)
    for conditions, limit, what, record_type, record_id in (
        (
            (LoginFailure.username == username, LoginFailure.address == address),
            settings.login_failures_per_account,
            "this account from your address",
            "user",
            username,
        ),
        (
            (LoginFailure.username == username,),
            settings.login_failures_per_account_all_addresses,
            "this account",
            "user",
            username,
        ),
        (
            (LoginFailure.address == address,),
            settings.login_failures_per_address,
            "your address",
            "address",
            address,
        ),
    ):
        recent = (*conditions, LoginFailure.at > since)
        count, oldest = session.execute(
            sa.select(sa.func.count(), sa.func.min(LoginFailure.at)).where(*recent)
        ).one()
        if count >= limit:
            # The window slides: the block lifts when enough old failures age out of it.
            ages_out = session.execute(
                sa.select(LoginFailure.at)
                .where(*recent)
                .order_by(LoginFailure.at.desc())
                .offset(limit - 1)
                .limit(1)
            ).scalar_one_or_none()
            retry_at = (ages_out or oldest or now) + timedelta(
                minutes=settings.login_window_minutes
            )
            minutes = max(1, int((retry_at - now).total_seconds() // 60) + 1)
            raise LoginRateLimited(
                T(
                    "too many failed logins for %(what)s (%(count)s in the last "
                    "%(login_window_minutes)s minutes); try again after %(retry_at)s UTC "
                    "(in about %(minutes)s minutes)",
                    what=what,
                    count=count,
                    login_window_minutes=settings.login_window_minutes,
                    retry_at=format(retry_at, "%H:%M"),
                    minutes=minutes,
                ),
                retry_at,
                record_type,
                record_id,
            )


def _record_login_blocked(
    session: Session, refusal: LoginRateLimited, username: str, address: str, settings: Settings
) -> None:
    """Audit a refused login once per blocked account (or address) per window: every
    refusal would let an attacker flood the trail; their failures are already in it."""
    since = utcnow() - timedelta(minutes=settings.login_window_minutes)
    already = session.execute(
        sa.select(AuditEntry.seq)
        .where(
            AuditEntry.action == "auth.login_blocked",
            AuditEntry.record_type == refusal.record_type,
            AuditEntry.record_id == refusal.record_id[:100],
            AuditEntry.at > since,
        )
        .limit(1)
    ).first()
    if already is None:
        record(
            session,
            Actor(username[:100] or "(empty)", address=address),
            LoginBlocked(
                blocked=refusal.record_type,
                record_id=refusal.record_id[:100],
                until=refusal.retry_after.isoformat(),
            ),
        )


def _serialise_login_attempts(session: Session) -> None:
    """Make counting the recent attempts and recording this one a single atomic step.

    SQLite already serialises it (every transaction begins IMMEDIATE, holding the write
    lock); on PostgreSQL a transaction-scoped advisory lock does, held only for the count
    and the insert, never during the password check.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(LOGIN_ATTEMPTS_LOCK)))


def _claim_login_attempt(
    session: Session, username: str, address: str, settings: Settings
) -> LoginFailure:
    """Refuse a rate-limited login, else record the attempt as a failure and commit it.

    Recorded before the password is checked, so parallel attempts see each other: at most
    the limit of them get a password checked. A successful login removes the record.
    """
    _serialise_login_attempts(session)
    try:
        _refuse_when_rate_limited(session, username, address, settings)
    except LoginRateLimited as refusal:
        _record_login_blocked(session, refusal, username, address, settings)
        session.commit()
        raise
    # Failures older than the window no longer count; dropping them keeps the table small.
    window_start = utcnow() - timedelta(minutes=settings.login_window_minutes)
    session.execute(sa.delete(LoginFailure).where(LoginFailure.at <= window_start))
    attempt = LoginFailure(username=username, address=address)
    session.add(attempt)
    session.commit()
    return attempt


def authenticate(
    session: Session, username: str, password: str, address: str, settings: Settings
) -> User:
    """Check a username and password; failures are recorded and committed before raising."""
    address = address[:64]
    _claim_login_attempt(session, username[:64], address, settings)
    user = session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    hashing = password_hashing(settings)
    try:
        hashing.hasher.verify(user.password_hash if user else hashing.unknown_user_hash, password)
        valid = user is not None and not user.disabled
    except (VerificationError, InvalidHashError):
        valid = False
    if not valid or user is None:
        record(
            session,
            Actor(username[:100] or "(empty)", address=address),
            LoginFailed(
                record_id=username[:100],
                reason="disabled" if user is not None and user.disabled else "password",
            ),
        )
        session.commit()
        raise NotAuthenticated(T("wrong username or password, or the account is disabled"))
    # This attempt (claimed above) and the account's earlier failures stop counting.
    session.execute(sa.delete(LoginFailure).where(LoginFailure.username == user.username))
    if hashing.hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password, settings)
    return user


def start_web_session(
    session: Session, user: User, address: str, settings: Settings
) -> tuple[str, WebSession]:
    session.execute(
        sa.delete(WebSession).where(
            WebSession.user_id == user.id, WebSession.expires_at <= utcnow()
        )
    )
    token = secrets.token_urlsafe(32)
    web_session = WebSession(
        token_hash=secret_digest(token),
        csrf_token=secrets.token_urlsafe(32),
        user_id=user.id,
        address=address[:64],
        expires_at=utcnow() + timedelta(hours=settings.session_ttl_hours),
    )
    session.add(web_session)
    session.flush()
    record(session, user_actor(user, address), LoggedIn(record_id=user.username))
    return token, web_session


def web_session_for(session: Session, token: str) -> tuple[WebSession, User] | None:
    row = session.execute(
        sa.select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == secret_digest(token))
    ).first()
    if row is None:
        return None
    web_session, user = row
    if web_session.expires_at <= utcnow() or user.disabled:
        return None
    return web_session, user


def end_web_session(session: Session, web_session: WebSession, user: User, address: str) -> None:
    session.delete(web_session)
    record(session, user_actor(user, address), LoggedOut(record_id=user.username))


def issue_api_token(
    session: Session, user: User, address: str, settings: Settings
) -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    api_token = ApiToken(
        token_hash=secret_digest(token),
        user_id=user.id,
        expires_at=utcnow() + timedelta(hours=settings.token_ttl_hours),
    )
    session.add(api_token)
    session.flush()
    record(
        session,
        user_actor(user, address),
        TokenIssued(record_id=api_token.id, expires_at=api_token.expires_at.isoformat()),
    )
    return token, api_token


def api_token_for(session: Session, token: str) -> tuple[ApiToken, User] | None:
    row = session.execute(
        sa.select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == secret_digest(token))
    ).first()
    if row is None:
        return None
    api_token, user = row
    if api_token.revoked_at is not None or api_token.expires_at <= utcnow() or user.disabled:
        return None
    return api_token, user


def revoke_api_token(session: Session, api_token: ApiToken, user: User, address: str) -> None:
    api_token.revoked_at = utcnow()
    record(session, user_actor(user, address), TokenRevoked(record_id=api_token.id))
