"""Node fixtures: a real node directory on each database backend, and clients for it."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from liaison.audit import Actor
from liaison.config import NodeConfig, Settings
from liaison.node import create_node
from liaison.services.accounts import add_user
from liaison.store import Database
from liaison.web.app import create_app
from support import MIGRATED_TEMPLATES, free_port

ADMIN_PASSWORD = "admin password 1"
PASSWORD = "user password 1"
ROLE_USERS = {
    "admin": "admin",
    "officer": "olivia",
    "analyst": "anna",
    "auditor": "audrey",
    "regulator": "rita",
    "immigration_officer": "imogen",
    "verifier": "vera",
    "supervisor": "sully",
}
# A page each user may open (it carries the session's CSRF token).
HOME_PAGES = {
    "audrey": "/audit",
    "imogen": "/verifications",
    "vera": "/verifications",
    "sully": "/verifications",
}


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> NodeConfig:
    """A node created as `liaison init` would, with one user per role; its database is a
    copy of the migrated template (the migrations' own tests run them from empty)."""
    directory = tmp_path / "node"
    with MIGRATED_TEMPLATES.instead_of_migrations():
        node = create_node(directory, "US", "admin", ADMIN_PASSWORD, database_url)
    database = Database(node.database_url)
    with database.session() as session:
        for role, username in ROLE_USERS.items():
            if role != "admin":
                add_user(session, username, PASSWORD, role, "US CBP", Actor("admin"), node.settings)
        session.commit()
    database.dispose()
    return node


class Accounts:
    """The fixture node's accounts, and the ways a client logs in with them."""

    users = ROLE_USERS

    @staticmethod
    def password(username: str) -> str:
        return ADMIN_PASSWORD if username == "admin" else PASSWORD

    def bearer(self, client: TestClient | httpx.Client, username: str) -> dict[str, str]:
        response = client.post(
            "/api/v1/auth/token",
            json={"username": username, "password": self.password(username)},
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def browser_login(self, client: TestClient, username: str) -> str:
        """Log in through the login form; returns the session's CSRF token."""
        form = client.get("/login")
        response = client.post(
            "/login",
            data={
                "username": username,
                "password": self.password(username),
                "csrf_token": self.form_token(form.text),
                "next": "/",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return self.csrf_token_on(client, HOME_PAGES.get(username, "/substances"))

    def csrf_token_on(self, client: TestClient, path: str) -> str:
        page = client.get(path)
        assert page.status_code == 200, page.text
        return self.form_token(page.text)

    @staticmethod
    def form_token(html: str) -> str:
        return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


@pytest.fixture
def accounts() -> Accounts:
    return Accounts()


def make_client(node: NodeConfig, **settings: object) -> TestClient:
    """A client for the node's app, optionally with other Settings (e.g. a short token life)."""
    if settings:
        node = dataclasses.replace(node, settings=Settings(**settings))  # type: ignore[arg-type]
    return TestClient(create_app(node), base_url="http://testserver")


@pytest.fixture
def client_for() -> Callable[..., TestClient]:
    return make_client


@pytest.fixture
def client(node: NodeConfig) -> Iterator[TestClient]:
    with make_client(node) as test_client:
        yield test_client


def liaison_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from liaison.cli import main; main()", *args]


@pytest.fixture
def liaison_argv() -> Callable[..., list[str]]:
    """argv that runs the `liaison` command with this interpreter."""
    return liaison_command


@pytest.fixture
def served_node(node: NodeConfig) -> Iterator[str]:
    """The node run by a real `liaison serve` process on a free port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        liaison_command("serve", str(node.directory), "--port", str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"liaison serve exited early:\n{output}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("liaison serve did not answer within 60 s")
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
