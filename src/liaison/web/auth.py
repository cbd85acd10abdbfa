"""Who is calling, and may they: FastAPI dependencies every router uses.

A request is authenticated by a bearer token (API clients) or by the session cookie
(browsers). Cookie-authenticated requests with unsafe methods must also present the
session's CSRF token, in the `X-CSRF-Token` header or the `csrf_token` form field.
Routes declare the capability they need with `require(...)`; the roles it admits come
from liaison.capabilities when the request is checked. The capability stays readable on
the dependency (`.capability`), which is how the security test enumerates them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from liaison.audit import Actor
from liaison.capabilities import Capability, may, roles_with
from liaison.config import NodeConfig
from liaison.errors import Forbidden, NotAuthenticated
from liaison.messages import T
from liaison.services.accounts import api_token_for, user_actor, web_session_for
from liaison.services.hotline import InboxCounts, count_inbox
from liaison.services.notifications import reminder_count
from liaison.store.accounts import ApiToken, User, WebSession
from liaison.web.context import runtime_of
from liaison.web.i18n import use_user_preferences

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Principal:
    """An authenticated user and how they proved it."""

    user: User
    address: str
    web_session: WebSession | None = None
    api_token: ApiToken | None = None

    @property
    def actor(self) -> Actor:
        return user_actor(self.user, self.address)

    @property
    def csrf_token(self) -> str:
        return self.web_session.csrf_token if self.web_session else ""


def node_of(request: Request) -> NodeConfig:
    return runtime_of(request).config


async def db_session(request: Request) -> AsyncIterator[Session]:
    """A session from the node's one session factory, closed when the request ends.

    Async, though the session is used from the thread pool: opening a session touches no
    database, and closing it (returning its connection, a rollback only after a failure)
    is brief, so two thread-pool hops per request are saved.
    """
    with runtime_of(request).database.session() as session:
        yield session


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def session_cookie_name(node: NodeConfig) -> str:
    # Named per node: two nodes on one host (the demo) share cookies across ports.
    return f"liaison_session_{node.name}"


async def presented_csrf_token(request: Request) -> str | None:
    """The CSRF token the request carries, from its header or its form body."""
    if request.method in SAFE_METHODS:
        return None
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated(T("the Authorization header must be 'Bearer <token>'"))
    return token.strip()


def authenticated_principal(
    request: Request,
    session: Session = Depends(db_session),
    csrf_token: str | None = Depends(presented_csrf_token),
) -> Principal:
    address = client_address(request)
    bearer = _bearer_token(request)
    if bearer is not None:
        found_token = api_token_for(session, bearer)
        if found_token is None:
            raise NotAuthenticated(T("the bearer token is unknown, expired or revoked"))
        api_token, user = found_token
        principal = Principal(user=user, address=address, api_token=api_token)
    else:
        cookie = request.cookies.get(session_cookie_name(node_of(request)))
        found_session = web_session_for(session, cookie) if cookie else None
        if found_session is None:
            raise NotAuthenticated(T("log in first: no valid session or bearer token"))
        web_session, user = found_session
        if request.method not in SAFE_METHODS and not (
            csrf_token and secrets.compare_digest(csrf_token, web_session.csrf_token)
        ):
            raise Forbidden(
                T(
                    "the CSRF token is missing or wrong; reload the page and try again (API "
                    "clients using the session cookie send it in %(header)s)",
                    header=CSRF_HEADER,
                )
            )
        principal = Principal(user=user, address=address, web_session=web_session)
        if request.method == "GET" and not request.url.path.startswith("/api/"):
            # The navigation's badges (and the tab title's unread count), counted in this
            # read transaction (a page must not open a second one: on SQLite each holds
            # the write lock).
            if may(user.role, Capability.USE_HOTLINE):
                request.state.inbox = count_inbox(session, node_of(request), principal.actor)
                request.state.unread = request.state.inbox.unread
            if may(user.role, Capability.ANSWER_NOTIFICATIONS):
                request.state.pen_reminders = reminder_count(session, node_of(request))
    # End the read transaction now: on SQLite it holds the write lock until it ends.
    session.commit()
    # Detach the principal's objects (fully loaded): a later rollback in the request would
    # otherwise expire them, and the error page that follows could not say who is signed in.
    session.expunge_all()
    request.state.principal = principal  # for the page layout (who is signed in)
    return principal


def inbox_counts(request: Request, session: Session, actor: Actor) -> InboxCounts:
    """The actor's inbox counts: those `require` counted for this page's badge, else counted
    now (one count per request, not one for the badge and one for the page)."""
    counted = getattr(request.state, "inbox", None)
    if isinstance(counted, InboxCounts):
        return counted
    return count_inbox(session, node_of(request), actor)


CapabilityDependency = Callable[..., Awaitable[Principal]]


def require(capability: Capability) -> CapabilityDependency:
    """A dependency admitting authenticated users whose role has `capability`."""

    # Async although it waits for nothing: a sync dependency would cost a hop through the
    # thread pool on every request, for a comparison.
    async def capability_check(
        principal: Principal = Depends(authenticated_principal),
    ) -> Principal:
        # Here, not in authenticated_principal: a sync dependency runs in a copied context.
        use_user_preferences(principal.user)
        if not may(principal.user.role, capability):
            roles = ", ".join(sorted(roles_with(capability)))
            raise Forbidden(
                T(
                    "this needs one of the roles %(roles)s; your role is %(role)s",
                    roles=roles,
                    role=principal.user.role,
                )
            )
        return principal

    capability_check.capability = capability  # type: ignore[attr-defined]
    return capability_check


current_user = require(Capability.SIGN_IN)


async def public_endpoint() -> None:
    """Marks a route that needs no login (health checks, the login page, the token endpoint).

    Async so that the marker costs no thread-pool hop.
    """


public_endpoint.public = True  # type: ignore[attr-defined]


def login_form_token(secret: bytes, nonce: str) -> str:
    """CSRF token of the login form, bound to a nonce cookie by an HMAC with the node secret."""
    return hmac.new(secret, nonce.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
