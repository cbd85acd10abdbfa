"""The audit chain anchored at the peer, between two real nodes on each backend: the
checkpoints one node sends are kept by the other, and `liaison audit verify
--against-peers` (and the verify API) catch a tail rewritten together with the head row,
which the chain alone no longer shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from federation.nodes import NodeProcess, Pair, start_pair, wait_until
from liaison.audit import entry_hash
from liaison.cli import app
from liaison.store.audit import AuditEntry, AuditHead, AuditVerified

pytestmark = pytest.mark.slow

runner = CliRunner()
# A checkpoint on every delivery round in which the chain grew.
EVERY_ENTRY = {"LIAISON_AUDIT_CHECKPOINT_ENTRIES": "1"}
DROP_APPEND_ONLY_TRIGGERS = {
    "sqlite": ["drop trigger audit_entries_no_update", "drop trigger audit_entries_no_delete"],
    "postgresql": ["drop trigger audit_entries_append_only on audit_entries"],
}


@pytest.fixture
def pair(tmp_path: Path, database_url: str, second_database_url: str) -> Iterator[Pair]:
    nodes = start_pair(tmp_path, database_url, second_database_url, EVERY_ENTRY, EVERY_ENTRY)
    yield nodes
    nodes.close()


def _held_by_cn(pair: Pair) -> list[int]:
    with pair.cn.database().engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "select h.seq from audit_checkpoints_held h join peers p on p.id = h.peer_id "
                "where p.name = 'US' order by h.seq"
            )
        )
        return [int(row[0]) for row in rows]


def _rewrite_tail(node: NodeProcess, from_seq: int) -> None:
    """What an attacker with the table owner's rights does: drop the triggers, change an
    entry, recompute every later hash, the head row and the verified checkpoint, so the
    chain verifies again."""
    engine = node.database().engine
    with engine.begin() as connection:
        for statement in DROP_APPEND_ONLY_TRIGGERS[engine.dialect.name]:
            connection.execute(sa.text(statement))
        with sa.orm.Session(bind=connection) as session:
            entries = session.scalars(
                sa.select(AuditEntry).where(AuditEntry.seq >= from_seq).order_by(AuditEntry.seq)
            ).all()
            previous = session.scalar(
                sa.select(AuditEntry.hash).where(AuditEntry.seq == from_seq - 1)
            )
            entries[0].actor = "mallory"
            for entry in entries:
                entry.prev_hash = previous
                entry.hash = entry_hash(entry)
                previous = entry.hash
            session.flush()
            session.execute(sa.update(AuditHead).values(seq=entries[-1].seq, hash=previous))
            # and the local record of the last verification, which would give it away
            session.execute(sa.update(AuditVerified).values(seq=entries[-1].seq, hash=previous))
            session.flush()


def _verify(pair: Pair, *options: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", str(pair.us.directory), *options])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_the_peer_held_checkpoints_catch_a_rewritten_tail(pair: Pair) -> None:
    us = pair.us.client()
    for _ in range(3):  # activity on US (each read is an audit entry), then its checkpoint
        assert us.get("/api/v1/threads").status_code == 200
        head = int(pair.us.scalar("select seq from audit_head"))
        wait_until(lambda h=head: (_held_by_cn(pair) or [0])[-1] >= h, "CN to hold US's head")
    us.close()
    pair.us.stop()  # nothing more is written on US while it is inspected and tampered with
    held = _held_by_cn(pair)
    assert len(held) >= 2, held

    exit_code, output = _verify(pair, "--against-peers")
    assert exit_code == 0, output
    assert f"peer CN: all {len(held)} checkpoints it holds match" in output

    first_bad = held[-2]
    _rewrite_tail(pair.us, first_bad)
    exit_code, output = _verify(pair)
    assert exit_code == 0, output  # the chain alone cannot tell
    exit_code, output = _verify(pair, "--against-peers")
    assert exit_code == 1
    mismatched = [seq for seq in held if seq >= first_bad]
    assert (
        f"peer CN: {len(mismatched)} of {len(held)} checkpoints no longer match; the first: "
        f"entry {first_bad} has another hash" in output
    ), output

    pair.us.start()
    us = pair.us.client("admin")
    answer = us.get("/api/v1/audit/verify", params={"against_peers": "true"})
    us.close()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["intact"] is True
    [cn] = body["peers"]
    assert cn["peer"] == "CN" and cn["matches"] is False
    assert cn["mismatched"] == mismatched
