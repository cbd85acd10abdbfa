"""The node life cycle through the real `liaison` command: init, user, audit verify, db, serve."""

from __future__ import annotations

import json
import stat
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from liaison.cli import app
from liaison.config import NodeConfig
from liaison.federation.keys import load_private_key, public_key_base64
from liaison.store import Database
from liaison.store.database import head_revision

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

runner = CliRunner()


def test_init_creates_a_node_and_refuses_to_overwrite_it(tmp_path: Path, database_url: str) -> None:
    directory = tmp_path / "us"
    args = ["init", str(directory), "--name", "US", "--admin-user", "root"]
    args += ["--admin-password-stdin", "--database-url", database_url]
    result = runner.invoke(app, args, input="first admin pass\n")
    assert result.exit_code == 0, result.output

    config = tomllib.loads((directory / "node.toml").read_text())["node"]
    assert config["name"] == "US"
    assert config["database_url"] == database_url
    assert config["default_agency"] == "US administration"
    key_mode = stat.S_IMODE((directory / "node_key.pem").stat().st_mode)
    assert key_mode == 0o600
    assert stat.S_IMODE((directory / "secret").stat().st_mode) == 0o600
    # node.toml may hold the database password (--database-url postgresql://user:pw@...).
    assert stat.S_IMODE((directory / "node.toml").stat().st_mode) == 0o600
    assert config["public_key"] == public_key_base64(load_private_key(directory / "node_key.pem"))
    database = Database(database_url)
    assert database.current_revision() == head_revision()
    database.dispose()

    again = runner.invoke(app, args, input="another pass 1\n")
    assert again.exit_code == 1
    # One line, however long the path (errors used to be wrapped at 80 columns).
    assert again.output.splitlines() == [
        f"error: {directory} already holds a Liaison node (found node.toml, node_key.pem, "
        "secret); refusing to overwrite it"
    ]
    assert (directory / "node_key.pem").stat().st_mode & 0o777 == key_mode


def test_init_refuses_a_database_that_already_holds_a_node(
    node: NodeConfig, tmp_path: Path
) -> None:
    args = ["init", str(tmp_path / "other"), "--name", "CN", "--admin-user", "root"]
    args += ["--admin-password-stdin", "--database-url", node.database_url]
    result = runner.invoke(app, args, input="first admin pass\n")
    assert result.exit_code == 1
    assert "database already holds a Liaison node" in result.output
    assert not (tmp_path / "other" / "node.toml").exists()


def test_init_rejects_a_short_password_and_a_bad_node_code(tmp_path: Path) -> None:
    short = runner.invoke(
        app,
        [
            "init",
            str(tmp_path / "a"),
            "--name",
            "US",
            "--admin-user",
            "root",
            "--admin-password-stdin",
        ],
        input="short\n",
    )
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    assert not (tmp_path / "a" / "liaison.db").exists()
    retried = runner.invoke(
        app,
        [
            "init",
            str(tmp_path / "a"),
            "--name",
            "US",
            "--admin-user",
            "root",
            "--admin-password-stdin",
        ],
        input="long enough pass\n",
    )
    assert retried.exit_code == 0, retried.output
    bad_code = runner.invoke(
        app,
        [
            "init",
            str(tmp_path / "b"),
            "--name",
            "U S",
            "--admin-user",
            "root",
            "--admin-password-stdin",
        ],
        input="long enough pass\n",
    )
    assert bad_code.exit_code == 1 and "node name 'U S'" in bad_code.output


def test_user_add_list_disable(node: NodeConfig) -> None:
    directory = str(node.directory)
    added = runner.invoke(
        app,
        [
            "user",
            "add",
            directory,
            "chen",
            "--role",
            "analyst",
            "--agency",
            "DEA",
            "--password-stdin",
        ],
        input="analyst pass 1\n",
    )
    assert added.exit_code == 0, added.output
    duplicate = runner.invoke(
        app,
        ["user", "add", directory, "chen", "--role", "analyst", "--password-stdin"],
        input="analyst pass 1\n",
    )
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    bad_role = runner.invoke(
        app,
        ["user", "add", directory, "zed", "--role", "chief", "--password-stdin"],
        input="analyst pass 1\n",
    )
    assert bad_role.exit_code == 1 and "role 'chief' is not one of" in bad_role.output

    listed = runner.invoke(app, ["user", "list", directory])
    assert listed.exit_code == 0
    assert "chen" in listed.output and "DEA" in listed.output and "active" in listed.output

    disabled = runner.invoke(app, ["user", "disable", directory, "chen"])
    assert disabled.exit_code == 0, disabled.output
    assert "disabled" in runner.invoke(app, ["user", "list", directory]).output
    missing = runner.invoke(app, ["user", "disable", directory, "nobody"])
    assert missing.exit_code == 1 and "no user named 'nobody'" in missing.output


def test_cli_errors_print_user_input_as_text_on_one_line(node: NodeConfig, tmp_path: Path) -> None:
    """Input that looks like Rich markup is printed as it is, not interpreted (it crashed)."""
    missing = runner.invoke(app, ["user", "disable", str(node.directory), "x[/]"])
    assert missing.exit_code == 1
    assert missing.output.splitlines() == ["error: no user named 'x[/]'"]
    unreadable = tmp_path / ("[bold]" + "long-name-" * 12 + "[/].smi")
    screened = runner.invoke(app, ["screen", str(unreadable)])
    assert screened.exit_code == 2
    assert screened.output.splitlines() == [f"liaison screen: error: {unreadable}: no such file"]


def test_audit_verify_passes_on_an_intact_chain(node: NodeConfig) -> None:
    result = runner.invoke(app, ["audit", "verify", str(node.directory)])
    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.output


def test_serve_refuses_an_unmigrated_database_until_db_upgrade(
    node: NodeConfig, tmp_path: Path, liaison_argv: Callable[..., list[str]]
) -> None:
    """A node pointed at an empty database: serve names the fix; db upgrade applies it."""
    empty_url = f"sqlite:///{tmp_path / 'empty.db'}"
    node_file = node.directory / "node.toml"
    node_file.write_text(node_file.read_text().replace(node.database_url, empty_url))

    refused = subprocess.run(
        liaison_argv("serve", str(node.directory), "--port", "1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "run `liaison db upgrade DIR` first" in refused.stderr
    assert "none (empty)" in refused.stderr
    # Refused before connecting: asking SQLite about a missing file would create it.
    assert not (tmp_path / "empty.db").exists()

    upgraded = runner.invoke(app, ["db", "upgrade", str(node.directory)])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"to {head_revision()}" in upgraded.output
    assert stat.S_IMODE((tmp_path / "empty.db").stat().st_mode) == 0o600
    again = runner.invoke(app, ["db", "upgrade", str(node.directory)])
    assert "already at" in again.output
    # The upgrade is in the audit trail of the database it upgraded, once.
    database = Database(empty_url)
    with database.engine.connect() as connection:
        upgrades = connection.execute(
            sa.text("select actor, detail from audit_entries where action = 'db.upgrade'")
        ).all()
    database.dispose()
    assert len(upgrades) == 1
    assert upgrades[0].actor.startswith("cli:")
    assert json.loads(upgrades[0].detail) == {"from": None, "to": head_revision()}


@pytest.mark.slow
def test_a_real_liaison_serve_process_answers(served_node: str, accounts: Accounts) -> None:
    with httpx.Client(base_url=served_node) as client:
        assert client.get("/healthz").json()["status"] == "alive"
        assert client.get("/readyz").json()["status"] == "ready"
        headers = accounts.bearer(client, "admin")
        me = client.get("/api/v1/auth/me", headers=headers).json()
        assert me == {
            "username": "admin",
            "role": "admin",
            "agency": "US administration",
            "node": "US",
            "language": None,
            "time_zone": None,
            "node_time_zone": "UTC",
        }
        answer = client.post(
            "/api/v1/substances/identify",
            headers=headers,
            json={"query": "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"},
        )
        assert answer.status_code == 200, answer.text
        result = answer.json()["results"][0]
        assert result["verdicts"]["US"]["status"] == "controlled"
        assert result["svg"].lstrip().startswith(("<?xml", "<svg"))
        anonymous = client.get("/api/v1/users")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"


def test_tables_are_created_only_by_migrations(database_url: str) -> None:
    """The migrations produce exactly the tables the code declares (no drift)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from liaison.store import load_all_tables

    database = Database(database_url)
    database.upgrade()
    with database.engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), load_all_tables())
    database.dispose()
    assert drift == []


def test_sqlite_connections_are_durable(tmp_path: Path) -> None:
    """WAL, synchronous=FULL, foreign keys and a busy timeout on every SQLite connection."""
    database = Database(f"sqlite:///{tmp_path / 'node.db'}")
    with database.engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    database.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 30_000,
    }
