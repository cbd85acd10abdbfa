"""Hostile input at the node's API, pages and commands: each test reproduces a defect found
by probing (issue 7, items 8 and 9), on SQLite and PostgreSQL where a database is involved."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from liaison.audit import Actor
from liaison.config import NodeConfig
from liaison.errors import NotAuthenticated
from liaison.node import create_node
from liaison.services.accounts import LoginRateLimited, add_user, authenticate
from liaison.store import Database
from liaison.store.hotline_tables import HotlineMessage, HotlineThread
from support import add_stopped_peer

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts


@pytest.fixture
def with_peer(node: NodeConfig) -> NodeConfig:
    """The node with CN as a peer (not running: nothing is delivered during the test)."""
    add_stopped_peer(node.database_url, "A" * 43)
    return node


def _thread(**changes: Any) -> dict[str, Any]:
    fields = {"peer": "CN", "subject": "s", "priority": "routine", "kind": "note", "body": "b"}
    return {**fields, **changes}


def _count(node: NodeConfig, model: type[Any]) -> int:
    database = Database(node.database_url)
    with database.session() as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(model))
    database.dispose()
    return int(count or 0)


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("subject", "lead\x00hidden", "U+0000"),
        ("body", "text\x1b[31m", "U+001B"),
        ("body", "next line\x85", "U+0085"),
        ("body", "not a character \ufffe", "U+FFFE"),
    ],
)
def test_text_no_backend_stores_alike_is_refused_at_the_api(
    client: TestClient,
    accounts: Accounts,
    with_peer: NodeConfig,
    field: str,
    value: str,
    named: str,
) -> None:
    headers = accounts.bearer(client, "olivia")
    response = client.post("/api/v1/threads", json=_thread(**{field: value}), headers=headers)
    assert response.status_code == 422, response.text
    assert named in response.json()["detail"] and field in response.json()["detail"]
    assert _count(with_peer, HotlineThread) == 0
    # Tabs and line breaks are text.
    fine = client.post("/api/v1/threads", json=_thread(body="a\tb\r\nc"), headers=headers)
    assert fine.status_code == 201, fine.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/threads/18446744073709551616/messages",
        "/api/v1/attachments/99999999999999999999999999",
        "/hotline/threads/18446744073709551616",
    ],
)
def test_ids_beyond_64_bits_are_invalid_input(
    client: TestClient, accounts: Accounts, path: str
) -> None:
    headers = accounts.bearer(client, "olivia")
    response = client.get(path, headers=headers)
    assert response.status_code == 422, response.text
    assert "less than or equal to 9223372036854775807" in response.text


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(
    client: TestClient, accounts: Accounts, with_peer: NodeConfig
) -> None:
    headers = accounts.bearer(client, "olivia")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = client.post("/api/v1/threads", json=_thread(), headers=headers | key)
    retry = client.post("/api/v1/threads", json=_thread(), headers=headers | key)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json() and retry.headers["idempotent-replayed"] == "true"
    assert _count(with_peer, HotlineThread) == 1
    path = f"/api/v1/threads/{first.json()['id']}/messages"
    reply_key = {"Idempotency-Key": "reply-1"}
    replies = [client.post(path, json={"body": "r"}, headers=headers | reply_key) for _ in "ab"]
    assert [r.status_code for r in replies] == [201, 201]
    assert replies[0].json()["id"] == replies[1].json()["id"]
    assert _count(with_peer, HotlineMessage) == 2  # the thread's first message and the reply
    # The same key for another request is refused; keys are per user; no key, no dedup.
    other = client.post(path, json={"body": "different"}, headers=headers | reply_key)
    assert other.status_code == 422 and "already used for another request" in other.text
    database = Database(with_peer.database_url)
    with database.session() as session:
        add_user(
            session,
            "oscar",
            accounts.password("olivia"),
            "officer",
            "US CBP",
            Actor("admin"),
            with_peer.settings,
        )
        session.commit()
    database.dispose()
    colleague = client.post(
        path, json={"body": "r"}, headers=accounts.bearer(client, "oscar") | reply_key
    )
    assert colleague.status_code == 201 and "idempotent-replayed" not in colleague.headers
    for _ in range(2):
        assert client.post(path, json={"body": "r"}, headers=headers).status_code == 201
    assert _count(with_peer, HotlineMessage) == 5
    bad = client.post(path, json={"body": "r"}, headers=headers | {"Idempotency-Key": "a b"})
    assert bad.status_code == 422 and "visible ASCII" in bad.text


def test_bidi_controls_in_attachment_names_are_neutralised_on_pages_and_downloads(
    client: TestClient, accounts: Accounts, with_peer: NodeConfig
) -> None:
    headers = accounts.bearer(client, "olivia")
    attachment = {
        "filename": "report\u202etxt.exe",
        "content_type": "text/plain",
        "content_base64": base64.b64encode(b"hello").decode(),
    }
    opened = client.post("/api/v1/threads", json=_thread(attachments=[attachment]), headers=headers)
    assert opened.status_code == 201, opened.text
    [message] = client.get(
        f"/api/v1/threads/{opened.json()['id']}/messages", headers=headers
    ).json()
    download = client.get(f"/api/v1/attachments/{message['attachments'][0]['id']}", headers=headers)
    assert "\u202e" not in download.headers["content-disposition"]
    accounts.browser_login(client, "olivia")
    page = client.get(f"/hotline/threads/{opened.json()['id']}").text
    assert "reporttxt.exe" in page and "\u202e" not in page


def test_parallel_retries_with_one_idempotency_key_create_one_record(
    node: NodeConfig,
    accounts: Accounts,
    with_peer: NodeConfig,
    client_for: Callable[..., TestClient],
) -> None:
    attempts = 6
    barrier = threading.Barrier(attempts)
    statuses: list[int] = []
    with client_for(node) as client:
        headers = accounts.bearer(client, "olivia") | {"Idempotency-Key": "same"}

        def attempt() -> None:
            barrier.wait()
            statuses.append(
                client.post("/api/v1/threads", json=_thread(), headers=headers).status_code
            )

        threads = [threading.Thread(target=attempt) for _ in range(attempts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [201] * attempts
    assert _count(with_peer, HotlineThread) == 1


def test_a_stranger_cannot_lock_an_account_out_from_every_address(node: NodeConfig) -> None:
    database = Database(node.database_url)
    settings = node.settings

    def login(password: str, address: str) -> str:
        with database.session() as session:
            try:
                authenticate(session, "olivia", password, address, settings)
            except LoginRateLimited as refusal:
                return f"blocked: {refusal.detail}"
            except NotAuthenticated:
                return "wrong"
            session.commit()
            return "in"

    stranger, officer = "203.0.113.9", "198.51.100.7"
    assert [login("guess", stranger) for _ in range(6)][-1].startswith(
        "blocked: too many failed logins for this account from your address"
    )
    assert login("user password 1", stranger).startswith("blocked")
    assert login("user password 1", officer) == "in"
    # Many addresses together meet the slower limit of the account itself.
    for number in range(settings.login_failures_per_account_all_addresses):
        login("guess", f"192.0.2.{number}")
    assert login("user password 1", officer).startswith(
        "blocked: too many failed logins for this account ("
    )
    database.dispose()


def test_readiness_fails_when_the_database_refuses_writes(
    client: TestClient, node: NodeConfig
) -> None:
    assert client.get("/readyz").json()["status"] == "ready"
    engine = client.app.state.runtime.database.engine  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        # Reads work, every write is refused: as on a replica or a database set read-only.
        def refuse_writes(connection: Any, _record: Any) -> None:
            with connection.cursor() as cursor:
                cursor.execute("SET SESSION default_transaction_read_only = on")
            connection.commit()

        sa.event.listen(engine, "connect", refuse_writes)
        engine.dispose()
    else:
        # SQLite reads on while its writes fail with an I/O error: the write is refused
        # the same way here (a read-only mode would stop reads too, as BEGIN IMMEDIATE).
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TRIGGER disk_fails BEFORE UPDATE ON write_probe "
                "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
            )
    try:
        response = client.get("/readyz")
        assert response.status_code == 503, response.text
        assert "does not accept writes" in response.json()["detail"]
        assert client.get("/healthz").status_code == 200
    finally:
        if engine.dialect.name == "postgresql":
            sa.event.remove(engine, "connect", refuse_writes)
            engine.dispose()
        else:
            with engine.begin() as connection:
                connection.exec_driver_sql("DROP TRIGGER disk_fails")
    assert client.get("/readyz").status_code == 200


def test_init_under_umask_000_makes_an_owner_only_node_directory(
    tmp_path: Path, liaison_argv: Callable[..., list[str]]
) -> None:
    directory = tmp_path / "node"
    result = subprocess.run(
        liaison_argv(
            "init",
            str(directory),
            "--name",
            "US",
            "--admin-user",
            "admin",
            "--admin-password-stdin",
        ),
        input="admin password 1\n",
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(0),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_db_upgrade_against_an_unreachable_database_says_so_in_one_line(
    tmp_path: Path, liaison_argv: Callable[..., list[str]]
) -> None:
    create_node(tmp_path / "node", "US", "admin", "admin password 1")
    unreachable = "postgresql+psycopg://liaison:s3cret@127.0.0.1:1/liaison"
    result = subprocess.run(
        liaison_argv("db", "upgrade", str(tmp_path / "node")),
        capture_output=True,
        text=True,
        env={**os.environ, "LIAISON_DATABASE_URL": unreachable},
        check=False,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot reach the database postgresql+psycopg://liaison:***@")
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr
