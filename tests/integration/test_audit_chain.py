"""The audit chain: every change is recorded, concurrent writers chain correctly, and
`liaison audit verify` finds edits, deletions, reordering and a truncated tail made
directly in the database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from liaison.audit import (
    Actor,
    AuditEvent,
    ChainVerification,
    record,
    verify_chain,
    verify_recent,
)
from liaison.cli import app
from liaison.config import NodeConfig
from liaison.store import Database

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

runner = CliRunner()


@dataclass(frozen=True, kw_only=True)
class WriterEvent(AuditEvent):
    action = "test.write"
    i: int


def _verify(node: NodeConfig) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", str(node.directory)])
    return result.exit_code, result.output


# The append-only triggers (migration 0003) on each backend.
DROP_APPEND_ONLY_TRIGGERS = {
    "sqlite": ["drop trigger audit_entries_no_update", "drop trigger audit_entries_no_delete"],
    "postgresql": ["drop trigger audit_entries_append_only on audit_entries"],
}


def _execute(node: NodeConfig, *statements: str, drop_triggers: bool = False) -> None:
    engine = Database(node.database_url).engine
    with engine.begin() as connection:
        if drop_triggers:
            for statement in DROP_APPEND_ONLY_TRIGGERS[engine.dialect.name]:
                connection.execute(sa.text(statement))
        for statement in statements:
            connection.execute(sa.text(statement))
    engine.dispose()


def _tamper(node: NodeConfig, *statements: str) -> None:
    """What an attacker with the table owner's rights does: drop the triggers, then edit."""
    _execute(node, *statements, drop_triggers=True)


def _last_seq(node: NodeConfig) -> int:
    engine = Database(node.database_url).engine
    with engine.connect() as connection:
        last = connection.execute(sa.text("select max(seq) from audit_entries")).scalar_one()
    engine.dispose()
    return int(last)


TAMPERINGS: dict[str, tuple[Callable[[int], list[str]], Callable[[int], int]]] = {
    "edit an actor": (
        lambda last: ["update audit_entries set actor = 'mallory' where seq = 3"],
        lambda last: 3,
    ),
    "edit a detail": (
        lambda last: ['update audit_entries set detail = \'{"role":"admin"}\' where seq = 4'],
        lambda last: 4,
    ),
    "delete an entry": (
        lambda last: ["delete from audit_entries where seq = 3"],
        lambda last: 3,
    ),
    "swap two entries": (
        lambda last: [
            "update audit_entries set seq = -1 where seq = 2",
            "update audit_entries set seq = 2 where seq = 3",
            "update audit_entries set seq = 3 where seq = -1",
        ],
        lambda last: 2,
    ),
    "truncate the tail": (
        lambda last: [f"delete from audit_entries where seq >= {last - 1}"],
        lambda last: last - 1,
    ),
    "truncate the tail and wind the head back": (
        lambda last: [
            f"delete from audit_entries where seq = {last}",
            f"update audit_head set seq = {last - 1}",
        ],
        lambda last: last - 1,
    ),
}


@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
def test_tampering_is_found_and_named(node: NodeConfig, tampering: str) -> None:
    assert _verify(node)[0] == 0
    statements, first_bad = TAMPERINGS[tampering]
    last = _last_seq(node)
    assert last >= 6
    _tamper(node, *statements(last))
    exit_code, output = _verify(node)
    assert exit_code == 1
    assert f"broken at entry {first_bad(last)}:" in output


@pytest.mark.parametrize(
    "statement",
    [
        "update audit_entries set actor = 'mallory' where seq = 3",
        "delete from audit_entries where seq = 3",
        "delete from audit_entries",
    ],
)
def test_the_database_refuses_to_change_audit_entries(node: NodeConfig, statement: str) -> None:
    with pytest.raises(sa.exc.DatabaseError, match="audit entries are append-only"):
        _execute(node, statement)
    assert _verify(node)[0] == 0


def test_concurrent_writers_chain_correctly(database_url: str, node: NodeConfig) -> None:
    """Eight threads append 20 entries each; the chain stays linear and intact."""
    database = Database(node.database_url)
    before = _last_seq(node)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for index in range(20):
                with database.session() as session:
                    record(session, Actor(f"writer{number}"), WriterEvent(i=index))
                    session.commit()
        except BaseException as error:  # surfaced in the main thread below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with database.session() as session:
        result = verify_chain(session)
    database.dispose()
    assert result.intact, result.message()
    assert result.entries == before + 160


def test_the_audit_page_and_verify_api_check_only_what_was_added_since_the_last_check(
    client: TestClient, accounts: Accounts, node: NodeConfig
) -> None:
    headers = accounts.bearer(client, "audrey")
    first = client.get("/api/v1/audit/verify", headers=headers).json()
    assert first["intact"] is True
    verified = first["entries"]

    # Before the verified checkpoint: the quick check does not read it again; the full does.
    _tamper(node, "update audit_entries set actor = 'mallory' where seq = 2")
    assert client.get("/api/v1/audit", headers=headers).status_code == 200
    quick = client.get("/api/v1/audit/verify", headers=headers).json()
    assert quick["intact"] is True, quick
    assert quick["entries"] == verified + 1
    assert f"entries after {verified} checked now" in quick["message"]
    assert "broken at entry 2:" in _verify(node)[1]

    # After it: found by the quick check, on the page as in the API.
    assert client.get("/api/v1/audit", headers=headers).status_code == 200
    _execute(node, f"update audit_entries set actor = 'mallory' where seq = {verified + 2}")
    quick = client.get("/api/v1/audit/verify", headers=headers).json()
    assert (quick["intact"], quick["first_bad_seq"]) == (False, verified + 2)
    accounts.browser_login(client, "audrey")
    page = client.get("/audit")
    assert f"audit chain broken at entry {verified + 2}: content does not match" in page.text


def test_the_quick_check_sees_the_verified_entry_itself_replaced(
    client: TestClient, accounts: Accounts, node: NodeConfig
) -> None:
    headers = accounts.bearer(client, "audrey")
    verified = client.get("/api/v1/audit/verify", headers=headers).json()["entries"]
    _tamper(node, f"update audit_entries set hash = '{'f' * 64}' where seq = {verified}")
    quick = client.get("/api/v1/audit/verify", headers=headers).json()
    assert (quick["intact"], quick["first_bad_seq"]) == (False, verified)
    assert "no longer has the hash it had when the chain was last verified" in quick["reason"]


# The walk reads the chain 1,000 seqs at a time: these chains span several reads, and the
# tampering below sits on the edges of reads and across them.
LONG_CHAIN = 2_500


def _append(node: NodeConfig, count: int) -> int:
    """Append `count` entries in one transaction; returns the last seq."""
    database = Database(node.database_url)
    with database.session() as session:
        for index in range(count):
            record(session, Actor("bulk"), WriterEvent(i=index))
        session.commit()
    database.dispose()
    return _last_seq(node)


def _check(node: NodeConfig, check: Callable[[Session], ChainVerification]) -> ChainVerification:
    database = Database(node.database_url)
    with database.session() as session:
        result = check(session)
        session.commit()
    database.dispose()
    return result


def test_a_chain_of_several_reads_is_walked_whole_by_the_full_and_the_quick_check(
    node: NodeConfig,
) -> None:
    middle = _append(node, 1_234)  # the checkpoint falls inside a read
    full = _check(node, verify_chain)
    assert (full.intact, full.entries, full.checked_from) == (True, middle, 0)
    last = _append(node, LONG_CHAIN)
    quick = _check(node, verify_recent)
    assert (quick.intact, quick.entries, quick.checked_from) == (True, last, middle)
    full = _check(node, verify_chain)
    assert (full.intact, full.entries, full.checked_from) == (True, last, 0)


LONG_TAMPERINGS: dict[str, tuple[Callable[[int], list[str]], Callable[[int], tuple[int, str]]]] = {
    "edit the last entry of a read": (
        lambda last: ["update audit_entries set actor = 'mallory' where seq = 1000"],
        lambda last: (1000, "content does not match its hash"),
    ),
    "edit the first entry of the next read": (
        lambda last: ["update audit_entries set actor = 'mallory' where seq = 1001"],
        lambda last: (1001, "content does not match its hash"),
    ),
    "delete more than a read": (
        lambda last: ["delete from audit_entries where seq between 1000 and 2200"],
        lambda last: (1000, "entry missing (next entry found is 2201)"),
    ),
    "move the head a trillion entries ahead": (
        lambda last: ["update audit_head set seq = 1000000000000"],
        lambda last: (
            last + 1,
            f"entry missing: the chain ends at {last} but the head records 1000000000000",
        ),
    ),
}


@pytest.mark.parametrize("tampering", sorted(LONG_TAMPERINGS))
def test_tampering_in_a_chain_of_several_reads_is_found_and_named(
    node: NodeConfig, tampering: str
) -> None:
    last = _append(node, LONG_CHAIN)
    assert _verify(node)[0] == 0
    statements, found = LONG_TAMPERINGS[tampering]
    _tamper(node, *statements(last))
    exit_code, output = _verify(node)
    first_bad, reason = found(last)
    assert exit_code == 1
    assert f"broken at entry {first_bad}: {reason}" in output
