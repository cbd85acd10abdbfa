"""`liaison backup` and `liaison restore` through the real command, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from liaison.cli import app
from liaison.config import NodeConfig, load_node
from liaison.node import add_node_user
from liaison.store import Database
from liaison.store.accounts import User
from liaison.store.audit import AuditEntry
from support import postgres_database

runner = CliRunner()
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def spare_url(database_url: str) -> Iterator[str]:
    """A second empty database on the same backend, to restore into."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield ""  # a SQLite node's database goes into the restored directory
        return
    with postgres_database(database_url) as spare:
        yield spare


def _usernames(url: str) -> set[str]:
    database = Database(url)
    with database.session() as session:
        names = set(session.scalars(sa.select(User.username)))
    database.dispose()
    return names


def test_a_backup_restores_the_node_as_it_was_and_the_audit_says_where(
    node: NodeConfig, spare_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "backups" / "us.lbk"
    result = runner.invoke(
        app, ["backup", str(node.directory), str(out), "--passphrase-stdin"], input=PASSPHRASE
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    # Encrypted: neither the key nor the database shows through.
    sealed = out.read_bytes()
    assert b"PRIVATE KEY" not in sealed and b"SQLite format" not in sealed
    # Written after the backup: the restored node must not have it.
    add_node_user(node.directory, "late", "a later password", "officer", None)

    target = tmp_path / "restored"
    args = ["restore", str(out), str(target), "--passphrase-stdin"]
    if spare_url:
        args += ["--database-url", spare_url]
    result = runner.invoke(app, args, input=PASSPHRASE)
    assert result.exit_code == 0, result.output

    restored = load_node(target)
    assert restored.name == node.name and restored.public_key == node.public_key
    assert (target / "node_key.pem").read_bytes() == (node.directory / "node_key.pem").read_bytes()
    assert (target / "secret").read_bytes() == (node.directory / "secret").read_bytes()
    assert restored.database_url != node.database_url
    assert "late" in _usernames(node.database_url)
    assert "late" not in _usernames(restored.database_url)
    assert "admin" in _usernames(restored.database_url)

    verify = runner.invoke(app, ["audit", "verify", str(target)])
    assert verify.exit_code == 0, verify.output
    database = Database(restored.database_url)
    with database.session() as session:
        last = session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    database.dispose()
    assert last is not None and last.action == "node.restore"
    detail = json.loads(last.detail)
    assert detail["restored_into"] == str(target.resolve())
    assert detail["backup_file"] == str(out.resolve())


def test_a_wrong_passphrase_or_a_changed_byte_restores_nothing(
    node: NodeConfig, tmp_path: Path
) -> None:
    out = tmp_path / "us.lbk"
    backup = ["backup", str(node.directory), str(out), "--passphrase-stdin"]
    assert runner.invoke(app, backup, input=PASSPHRASE).exit_code == 0
    again = runner.invoke(app, backup, input=PASSPHRASE)
    assert again.exit_code == 1 and "exists" in again.output

    wrong = runner.invoke(
        app, ["restore", str(out), str(tmp_path / "a"), "--passphrase-stdin"], input="not it at all"
    )
    assert wrong.exit_code == 1
    assert "wrong passphrase, or the file was changed" in wrong.output
    assert not (tmp_path / "a" / "node.toml").exists()

    damaged = bytearray(out.read_bytes())
    damaged[-5] ^= 1
    (tmp_path / "damaged.lbk").write_bytes(bytes(damaged))
    result = runner.invoke(
        app,
        ["restore", str(tmp_path / "damaged.lbk"), str(tmp_path / "b"), "--passphrase-stdin"],
        input=PASSPHRASE,
    )
    assert result.exit_code == 1 and "wrong passphrase, or the file was changed" in result.output

    short = runner.invoke(
        app,
        ["backup", str(node.directory), str(tmp_path / "c"), "--passphrase-stdin"],
        input="short",
    )
    assert short.exit_code == 1 and "at least 12 characters" in short.output


def test_restore_refuses_a_directory_that_holds_anything(node: NodeConfig, tmp_path: Path) -> None:
    out = tmp_path / "us.lbk"
    backup = ["backup", str(node.directory), str(out), "--passphrase-stdin"]
    assert runner.invoke(app, backup, input=PASSPHRASE).exit_code == 0
    result = runner.invoke(
        app, ["restore", str(out), str(node.directory), "--passphrase-stdin"], input=PASSPHRASE
    )
    assert result.exit_code == 1 and "is not empty" in result.output
