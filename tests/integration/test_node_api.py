"""The REST API against the real application and database (both backends)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from fastapi.testclient import TestClient

from liaison.config import NodeConfig
from liaison.errors import NotAuthenticated
from liaison.services.accounts import LoginRateLimited, authenticate
from liaison.services.substances import MAX_QUERIES_PER_REQUEST
from liaison.store import Database

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
PROBLEM = "application/problem+json"


def _audit_actions(node: NodeConfig) -> list[str]:
    engine = Database(node.database_url).engine
    with engine.connect() as connection:
        actions = connection.execute(sa.text("select action from audit_entries order by seq"))
        found = [row[0] for row in actions]
    engine.dispose()
    return found


def test_token_life_cycle(client: TestClient, accounts: Accounts, node: NodeConfig) -> None:
    issued = client.post(
        "/api/v1/auth/token", json={"username": "olivia", "password": accounts.password("olivia")}
    )
    assert issued.status_code == 200
    body = issued.json()
    assert body["token_type"] == "bearer" and body["expires_at"]
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).json()["role"] == "officer"

    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    revoked = client.get("/api/v1/auth/me", headers=headers)
    assert revoked.status_code == 401
    assert "unknown, expired or revoked" in revoked.json()["detail"]
    assert "auth.token_revoke" in _audit_actions(node)

    engine = Database(node.database_url).engine
    with engine.connect() as connection:
        stored = connection.execute(sa.text("select token_hash from api_tokens")).scalars().all()
    engine.dispose()
    assert body["access_token"] not in stored  # only the SHA-256 is kept


def test_tokens_expire(
    node: NodeConfig, accounts: Accounts, client_for: Callable[..., TestClient]
) -> None:
    with client_for(node, token_ttl_hours=0) as client:
        headers = accounts.bearer(client, "olivia")
        expired = client.get("/api/v1/auth/me", headers=headers)
    assert expired.status_code == 401


def test_disabled_users_cannot_log_in_or_use_tokens(client: TestClient, accounts: Accounts) -> None:
    officer = accounts.bearer(client, "olivia")
    admin = accounts.bearer(client, "admin")
    disabled = client.post("/api/v1/users/olivia/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert client.get("/api/v1/auth/me", headers=officer).status_code == 401
    login = client.post(
        "/api/v1/auth/token", json={"username": "olivia", "password": accounts.password("olivia")}
    )
    assert login.status_code == 401
    own = client.post("/api/v1/users/admin/disable", headers=admin)
    assert own.status_code == 409 and "your own account" in own.json()["detail"]


def test_user_administration(client: TestClient, accounts: Accounts, node: NodeConfig) -> None:
    admin = accounts.bearer(client, "admin")
    created = client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "wei", "password": "a long password", "role": "analyst", "agency": "MPS"},
    )
    assert created.status_code == 201
    assert created.json()["agency"] == "MPS"
    default_agency = client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "bo", "password": "a long password", "role": "auditor"},
    )
    assert default_agency.json()["agency"] == node.default_agency
    duplicate = client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "wei", "password": "a long password", "role": "analyst"},
    )
    assert duplicate.status_code == 409 and duplicate.headers["content-type"] == PROBLEM
    invalid = client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "x y", "password": "short", "role": "boss"},
    )
    assert invalid.status_code == 422 and invalid.headers["content-type"] == PROBLEM
    detail = invalid.json()["detail"]
    assert "username" in detail and "password" in detail and "role" in detail
    assert client.get("/api/v1/users/wei", headers=admin).json()["role"] == "analyst"
    missing = client.get("/api/v1/users/nobody", headers=admin)
    assert missing.status_code == 404 and missing.json()["detail"] == "no user named 'nobody'"
    names = {agency["name"] for agency in client.get("/api/v1/agencies", headers=admin).json()}
    assert {"MPS", "US CBP", node.default_agency} <= names
    actions = _audit_actions(node)
    assert {"user.create", "user.read", "agency.create"} <= set(actions)


def test_identify_one_and_a_batch(client: TestClient, accounts: Accounts) -> None:
    headers = accounts.bearer(client, "anna")
    one = client.post("/api/v1/substances/identify", headers=headers, json={"query": FENTANYL})
    assert one.status_code == 200, one.text
    result = one.json()["results"][0]
    assert set(result["verdicts"]) == {"US", "CN", "UN"}
    assert result["verdicts"]["US"]["status"] == "controlled"
    assert result["verdicts"]["US"]["basis"][0]["citation"]
    assert "<svg" in result["svg"]

    batch = client.post(
        "/api/v1/substances/identify",
        headers=headers,
        json={
            "queries": [FENTANYL, "not a molecule ((", "CCO"],
            "as_of": "2015-01-01",
            "jurisdictions": ["CN", "US"],
        },
    )
    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert [list(r["verdicts"]) for r in results] == [["CN", "US"]] * 3
    assert results[1]["verdicts"]["US"]["status"] == "invalid" and results[1]["error"]
    assert results[2]["verdicts"]["US"]["status"] == "no_match"


def test_identify_names_what_is_invalid(client: TestClient, accounts: Accounts) -> None:
    headers = accounts.bearer(client, "olivia")
    cases = {
        "as_of": ({"query": "CCO", "as_of": "2024-02-30"}, "as_of"),
        "jurisdiction": ({"query": "CCO", "jurisdictions": ["US", "XX"]}, "'XX' is not known"),
        "both": ({"query": "CCO", "queries": ["CCO"]}, "exactly one of 'query' or 'queries'"),
        "too many": (
            {"queries": ["CCO"] * (MAX_QUERIES_PER_REQUEST + 1)},
            f"at most {MAX_QUERIES_PER_REQUEST} items",
        ),
    }
    for name, (body, expected) in cases.items():
        response = client.post("/api/v1/substances/identify", headers=headers, json=body)
        assert response.status_code == 422, name
        assert response.headers["content-type"] == PROBLEM
        assert expected in response.json()["detail"], (name, response.json())


def test_problems_for_unknown_routes_and_methods(client: TestClient, accounts: Accounts) -> None:
    headers = accounts.bearer(client, "admin")
    missing = client.get("/api/v1/nothing", headers=headers)
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert set(missing.json()) == {"type", "title", "status", "detail", "instance"}
    wrong_method = client.put("/api/v1/users", headers=headers)
    assert wrong_method.status_code == 405 and wrong_method.headers["content-type"] == PROBLEM
    bad_json = client.post(
        "/api/v1/auth/token", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 422 and bad_json.headers["content-type"] == PROBLEM


def test_login_rate_limit_per_account_holds_across_processes(
    node: NodeConfig, accounts: Accounts, client_for: Callable[..., TestClient]
) -> None:
    with client_for(node) as client:
        for _ in range(5):
            failed = client.post(
                "/api/v1/auth/token", json={"username": "olivia", "password": "wrong password"}
            )
            assert failed.status_code == 401
        right = {"username": "olivia", "password": accounts.password("olivia")}
        limited = client.post("/api/v1/auth/token", json=right)
    assert limited.status_code == 429
    assert "too many failed logins for this account from your address" in limited.json()["detail"]
    assert "try again after" in limited.json()["detail"]
    assert int(limited.headers["retry-after"]) > 0
    # A second application instance (as another server process would be) sees the same count.
    with client_for(node) as other_process:
        assert other_process.post("/api/v1/auth/token", json=right).status_code == 429
        page = other_process.get("/login")
        form = other_process.post(
            "/login", data=right | {"csrf_token": accounts.form_token(page.text)}
        )
        assert form.status_code == 429 and "Too many failed logins" in form.text
        # Other accounts are not affected by this account's block.
        assert (
            other_process.post(
                "/api/v1/auth/token",
                json={"username": "anna", "password": accounts.password("anna")},
            ).status_code
            == 200
        )


def test_login_rate_limit_per_address(
    node: NodeConfig, accounts: Accounts, client_for: Callable[..., TestClient]
) -> None:
    with client_for(node, login_failures_per_address=3) as client:
        for username in ("a1", "a2", "a3"):
            client.post("/api/v1/auth/token", json={"username": username, "password": "nope"})
        limited = client.post(
            "/api/v1/auth/token",
            json={"username": "anna", "password": accounts.password("anna")},
        )
    assert limited.status_code == 429
    assert "your address" in limited.json()["detail"]


def test_refused_logins_are_audited_once_per_blocked_account_or_address(
    node: NodeConfig, client_for: Callable[..., TestClient]
) -> None:
    """A refused (429) login is audited, but once per blocked account or address per window:
    an attacker hammering a blocked account cannot flood the trail."""
    with client_for(node, login_failures_per_address=7) as client:

        def attempt(username: str) -> int:
            wrong = {"username": username, "password": "wrong password"}
            return client.post("/api/v1/auth/token", json=wrong).status_code

        assert [attempt("olivia") for _ in range(9)] == [401] * 5 + [429] * 4
        assert [attempt(name) for name in ("a1", "a2", "a3", "a4", "a5")] == [401] * 2 + [429] * 3
    engine = Database(node.database_url).engine
    with engine.connect() as connection:
        blocked = connection.execute(
            sa.text(
                "select record_type, record_id, address from audit_entries "
                "where action = 'auth.login_blocked' order by seq"
            )
        ).all()
    engine.dispose()
    assert [tuple(row) for row in blocked] == [
        ("user", "olivia", "testclient"),
        ("address", "testclient", "testclient"),
    ]
    assert _audit_actions(node).count("auth.login_failed") == 7


def test_parallel_wrong_passwords_get_at_most_the_limit_checked(node: NodeConfig) -> None:
    """40 wrong passwords for one account at once, from 40 addresses: the count of recent
    failures and the record of this attempt are one atomic step, so at most the account's
    limit over all addresses reach the password check; the others are refused."""
    database = Database(node.database_url)
    attempts = 40
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []

    def attempt(number: int) -> None:
        barrier.wait()
        with database.session() as session:
            try:
                authenticate(
                    session, "olivia", "wrong password", f"198.51.100.{number}", node.settings
                )
            except LoginRateLimited:
                outcomes.append("refused")
            except NotAuthenticated:
                outcomes.append("checked")
            except Exception as error:  # surfaced by the assertion below
                outcomes.append(repr(error))

    threads = [threading.Thread(target=attempt, args=(number,)) for number in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    database.dispose()
    assert sorted(set(outcomes)) == ["checked", "refused"], outcomes
    assert len(outcomes) == attempts
    assert outcomes.count("checked") == node.settings.login_failures_per_account_all_addresses


def test_health_and_readiness(client: TestClient, node: NodeConfig) -> None:
    assert client.get("/healthz").json() == {"status": "alive", "node": "US"}
    assert client.get("/readyz").json()["status"] == "ready"
    engine = Database(node.database_url).engine
    with engine.begin() as connection:
        connection.execute(sa.text("update alembic_version set version_num = '0001_node'"))
    engine.dispose()
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.headers["content-type"] == PROBLEM
    assert "0001_node" in not_ready.json()["detail"]


def test_openapi_needs_login_and_documents_problems(client: TestClient, accounts: Accounts) -> None:
    assert client.get("/openapi.json").status_code == 401
    schema = client.get("/openapi.json", headers=accounts.bearer(client, "audrey"))
    assert schema.status_code == 200
    operation = schema.json()["paths"]["/api/v1/substances/identify"]["post"]
    assert PROBLEM in operation["responses"]["422"]["content"]
    assert "/login" not in schema.json()["paths"]


def test_audit_api_for_auditors(client: TestClient, accounts: Accounts) -> None:
    headers = accounts.bearer(client, "audrey")
    page = client.get("/api/v1/audit", params={"limit": 3}, headers=headers)
    assert page.status_code == 200
    entries = page.json()["entries"]
    assert [entry["seq"] for entry in entries] == [1, 2, 3]
    assert entries[1]["prev_hash"] == entries[0]["hash"]
    assert page.json()["next_after"] == 3
    verified = client.get("/api/v1/audit/verify", headers=headers).json()
    assert verified["intact"] is True
    tail = client.get("/api/v1/audit", params={"after": 3, "limit": 1000}, headers=headers)
    assert tail.json()["entries"][-1]["action"] == "audit.read"
