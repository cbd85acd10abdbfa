"""Security of the node's routes: every route is enumerated from the application itself
and must refuse anonymous callers and every role it does not declare; CSRF and session
cookie rules hold."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from liaison import capabilities
from liaison.capabilities import Capability, roles_with
from liaison.config import NodeConfig
from liaison.federation.envelope import public_key_text
from liaison.node import node_server
from liaison.store import Database
from liaison.store.accounts import ROLES, Role
from liaison.web.app import create_app

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

# The list of routes that need no login.
PUBLIC_ROUTES = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/api/v1/auth/token"),
    # The language switch: the login page has it too (it stores a preference only for a
    # session whose CSRF token it carries).
    ("POST", "/language"),
    # Prometheus scrapes with its own bearer token, no user login (test_metrics.py).
    ("GET", "/metrics"),
}
# Peer-to-peer federation endpoints authenticate the calling node by its signature, not a
# user login; they are public to users by design and their refusal of unsigned requests
# is checked below as a 4xx.
PEER_PREFIX = "/federation/"
# Open to every signed-in role: the home page, the API description and the caller's own
# session and token. Nothing else (hotline routes, for one, are not open to auditors).
OPEN_TO_ALL_ROLES = {
    "GET /",
    "GET /openapi.json",
    "GET /api/v1/auth/me",
    "PATCH /api/v1/auth/me",
    # The landing page (each panel needs its own capability) and the user's preferences.
    "GET /desk",
    "GET /preferences",
    "POST /preferences",
    "DELETE /api/v1/auth/token",
    "POST /logout",
}


# Bodies the peer endpoints would accept from a signed envelope: only the signature is wrong.
PEER_BODIES: dict[str, Any] = {
    "/federation/v1/inbox": {"records": []},
    "/federation/v1/audit-checkpoints": {},
    "/federation/v1/own-records": {"after": 0},
    "/federation/v1/key-rotation": {
        "new_public_key": public_key_text(Ed25519PrivateKey.generate().public_key()),
        "proof": "AAAA",
    },
    "/federation/v1/peering": {
        "node": "CN",
        "base_url": "https://cn.example",
        "public_key": public_key_text(Ed25519PrivateKey.generate().public_key()),
        "secret": "an invite secret",
        "default_agency": "CN Customs",
    },
}


def _declarations(route: Any) -> tuple[frozenset[str] | None, bool]:
    """The roles a route admits (from the capability it declares through require, and the
    capability table) and whether it is marked public."""
    roles: frozenset[str] | None = None
    public = False
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        call: Any = dependency.call
        if hasattr(call, "capability"):
            admitted = frozenset(roles_with(call.capability))
            roles = admitted if roles is None else roles & admitted
        public = public or bool(getattr(call, "public", False))
        pending.extend(dependency.dependencies)
    return roles, public


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "olivia", path)


def _is_api(path: str) -> bool:
    return path.startswith("/api/") or path == "/openapi.json"


def _routes(node: NodeConfig) -> list[tuple[str, str, frozenset[str] | None, bool]]:
    app = create_app(node)
    found = []
    # Route contexts: the routes as served, with the prefixes of the routers they came from.
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            # The stylesheet: the login page needs it before anyone is logged in.
            assert route.path == "/static", f"unexpected mount {route.path}"
            continue
        assert isinstance(route.original_route, APIRoute), f"{route.path} is not an APIRoute"
        roles, public = _declarations(route)
        for method in sorted(route.methods or ()):
            found.append((method, route.path, roles, public))
    return found


def test_every_route_declares_its_access(node: NodeConfig) -> None:
    routes = _routes(node)
    assert len(routes) >= 20
    public = {(method, path) for method, path, _roles, is_public in routes if is_public}
    assert {route for route in public if not route[1].startswith(PEER_PREFIX)} == PUBLIC_ROUTES
    for method, path, roles, is_public in routes:
        if not is_public:
            assert roles, f"{method} {path} declares no capability (use require)"
            assert roles <= set(ROLES)


def test_every_route_refuses_anonymous_and_wrong_roles(
    node: NodeConfig, client: TestClient, accounts: Accounts
) -> None:
    bearer = {role: accounts.bearer(client, user) for role, user in accounts.users.items()}
    browsers: dict[str, tuple[TestClient, str]] = {}
    for role, user in accounts.users.items():
        browser = TestClient(create_app(node), base_url="http://testserver")
        browsers[role] = (browser, accounts.browser_login(browser, user))
    anonymous = TestClient(create_app(node), base_url="http://testserver")
    open_to_all: list[str] = []
    checked = peer_checked = 0
    for method, path, roles, is_public in _routes(node):
        url = _concrete(path)
        if is_public:
            if path.startswith(PEER_PREFIX):
                # A well-formed envelope from a would-be peer, but not signed by any peer key.
                unsigned = {
                    "sender": "CN",
                    "recipient": node.name,
                    "kind": path.rsplit("/", 1)[-1],
                    "timestamp": int(time.time()),
                    "nonce": "unsigned-request",
                    "body": PEER_BODIES[path],
                    "signature": "bm90IGEgc2lnbmF0dXJl",
                }
                refused = anonymous.request(method, url, json=unsigned)
                assert refused.status_code in (401, 403), f"{method} {path}: {refused.text}"
                assert refused.headers["content-type"] == "application/problem+json"
                peer_checked += 1
            continue
        response = anonymous.request(method, url, follow_redirects=False)
        if _is_api(path):
            assert response.status_code == 401, f"{method} {path}: {response.status_code}"
            assert response.headers["content-type"] == "application/problem+json"
        else:
            assert response.status_code == 303, f"{method} {path}: {response.status_code}"
            assert response.headers["location"].startswith("/login?next=")
        assert roles is not None
        wrong_roles = sorted(set(ROLES) - roles)
        if not wrong_roles:
            # Declared open to every signed-in role: there is no wrong role to try.
            assert roles == frozenset(ROLES)
            open_to_all.append(f"{method} {path}")
        for role in wrong_roles:
            if _is_api(path):
                refused = client.request(method, url, headers=bearer[role])
                assert refused.status_code == 403, f"{method} {path} as {role}"
                assert "needs one of the roles" in refused.json()["detail"]
            else:
                browser, csrf = browsers[role]
                refused = browser.request(
                    method, url, headers={"X-CSRF-Token": csrf}, follow_redirects=False
                )
                assert refused.status_code == 403, f"{method} {path} as {role}"
                assert "needs one of the roles" in refused.text
            checked += 1
    assert checked > 20
    assert peer_checked == len(PEER_BODIES)
    assert set(open_to_all) == OPEN_TO_ALL_ROLES


def test_a_flood_of_anonymous_requests_to_every_route_writes_nothing(node: NodeConfig) -> None:
    """Refusing a caller who is nobody costs no audit entry and no row: every non-public
    route, the new record types' included, asked three times without credentials."""
    database = Database(node.database_url)

    def rows() -> tuple[int, int]:
        with database.engine.connect() as connection:
            return (
                connection.execute(sa.text("select count(*) from audit_entries")).scalar_one(),
                connection.execute(sa.text("select count(*) from web_sessions")).scalar_one(),
            )

    anonymous = TestClient(create_app(node), base_url="http://testserver")
    before = rows()
    asked = 0
    for _ in range(3):
        for method, path, _roles, is_public in _routes(node):
            if not is_public:
                response = anonymous.request(method, _concrete(path), follow_redirects=False)
                assert response.status_code in (303, 401), f"{method} {path}"
                asked += 1
    assert asked > 300
    assert rows() == before
    database.dispose()


def test_csrf_token_missing_or_wrong_is_refused(client: TestClient, accounts: Accounts) -> None:
    csrf = accounts.browser_login(client, "admin")
    new_user = {"username": "carl", "password": "password 123", "role": "analyst", "agency": ""}
    missing = client.post("/admin/users", data=new_user)
    assert missing.status_code == 403 and "CSRF token is missing or wrong" in missing.text
    wrong = client.post("/admin/users", data={**new_user, "csrf_token": csrf[::-1]})
    assert wrong.status_code == 403
    api_missing = client.post("/api/v1/users", json=new_user | {"agency": "DEA"})
    assert api_missing.status_code == 403
    assert api_missing.headers["content-type"] == "application/problem+json"
    assert "CSRF" in api_missing.json()["detail"]
    listed = client.get("/api/v1/users").json()
    assert "carl" not in {user["username"] for user in listed}

    accepted = client.post("/admin/users", data={**new_user, "csrf_token": csrf})
    assert accepted.status_code == 200 and "Added carl" in accepted.text
    by_header = client.post(
        "/api/v1/users",
        json={"username": "dana", "password": "password 123", "role": "officer"},
        headers={"X-CSRF-Token": csrf},
    )
    assert by_header.status_code == 201


def test_login_form_needs_its_own_csrf_token(client: TestClient, accounts: Accounts) -> None:
    forged = client.post(
        "/login",
        data={"username": "admin", "password": accounts.password("admin"), "csrf_token": "x"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert "liaison_session_US" not in forged.headers.get("set-cookie", "")


def test_session_cookie_flags(node: NodeConfig, accounts: Accounts) -> None:
    for base_url, secure in (("http://127.0.0.1:8000", False), ("https://us.example", True)):
        app = create_app(dataclasses.replace(node, base_url=base_url))
        # A Secure nonce cookie only comes back over https, as in a real browser.
        browser = TestClient(app, base_url="https://testserver" if secure else "http://testserver")
        form = browser.get("/login")
        response = browser.post(
            "/login",
            data={
                "username": "admin",
                "password": accounts.password("admin"),
                "csrf_token": accounts.form_token(form.text),
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        cookie = next(
            value
            for value in response.headers.get_list("set-cookie")
            if value.startswith("liaison_session_US=")
        )
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert ("Secure" in cookie) is secure


def test_logout_ends_the_session(client: TestClient, accounts: Accounts) -> None:
    csrf = accounts.browser_login(client, "olivia")
    assert client.get("/substances").status_code == 200
    stolen = dict(client.cookies)
    client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    client.cookies.clear()
    client.cookies.update(stolen)
    assert client.get("/substances", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_forwarded_for_is_believed_only_from_configured_proxies(
    node: NodeConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The address a failed login is recorded with, through the server's own middleware."""

    async def failed_login_address() -> str:
        server = node_server(node.directory, "127.0.0.1", 0)
        server.config.load()
        transport = httpx.ASGITransport(server.config.loaded_app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
            failed = await client.post(
                "/api/v1/auth/token",
                json={"username": "olivia", "password": "wrong password"},
                headers={"X-Forwarded-For": "203.0.113.7"},
            )
        assert failed.status_code == 401
        engine = Database(node.database_url).engine
        with engine.connect() as connection:
            address = connection.execute(
                sa.text(
                    "select address from audit_entries where action = 'auth.login_failed' "
                    "order by seq desc limit 1"
                )
            ).scalar_one()
        engine.dispose()
        return str(address)

    assert asyncio.run(failed_login_address()) == "127.0.0.1"
    monkeypatch.setenv("LIAISON_FORWARDED_ALLOW_IPS", "127.0.0.1")
    assert asyncio.run(failed_login_address()) == "203.0.113.7"


def test_pages_send_security_headers(client: TestClient, accounts: Accounts) -> None:
    accounts.browser_login(client, "admin")
    for path in ("/login", "/substances", "/admin/users", "/audit"):
        response = client.get(path)
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"


def test_the_route_policy_is_derived_from_the_capability_table(
    client: TestClient, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Granting a capability in liaison.capabilities (and nowhere else) opens its routes."""
    auditor = accounts.bearer(client, accounts.users["auditor"])
    assert client.get("/api/v1/threads", headers=auditor).status_code == 403
    grants = {**capabilities.GRANTS}
    grants[Role.AUDITOR] = grants[Role.AUDITOR] | {Capability.USE_HOTLINE}
    monkeypatch.setattr(capabilities, "GRANTS", grants)
    assert client.get("/api/v1/threads", headers=auditor).status_code == 200
    assert client.get("/api/v1/audit", headers=auditor).status_code == 200
    grants[Role.AUDITOR] = frozenset({Capability.SIGN_IN})
    assert client.get("/api/v1/audit", headers=auditor).status_code == 403
