"""The per-peer delivery locks (liaison.federation.peer_locks) between processes.

Each `PeerLocks` here has its own `Database` (its own connections), as each server
process of a node has."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from liaison.federation.peer_locks import DELIVERY_LOCK_CLASS, LockLost, PeerLocks
from liaison.store import Database


def _terminate_holder(database: Database, peer_id: int) -> None:
    """Cut the connection holding the peer's lock, as the death of its process does."""
    with database.engine.connect() as connection:
        terminated = connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = :class_id AND objid = :peer_id AND granted"
            ),
            {"class_id": DELIVERY_LOCK_CLASS, "peer_id": peer_id},
        ).all()
    assert terminated == [(True,)]


def test_one_process_at_a_time_serves_a_peer_and_a_dead_holders_lock_passes_on(
    database_url: str,
) -> None:
    first_db, second_db = Database(database_url), Database(database_url)
    first, second = PeerLocks(first_db), PeerLocks(second_db)
    try:
        if database_url.startswith("sqlite"):
            # One process on SQLite: every lock is granted, nothing is asked of the database.
            with first.hold(1) as held, second.hold(1) as also:
                assert (held, also) == (True, True)
            assert not first.shared
            return
        with first.hold(1) as held:
            assert held
            with second.hold(1) as other:
                assert not other
            with second.hold(2) as another_peer:
                assert another_peer
            first.confirm()  # still held
        with second.hold(1) as after_release:
            assert after_release

        with first.hold(1) as held:
            assert held
            _terminate_holder(second_db, 1)
            with second.hold(1) as taken_over:
                assert taken_over
                with pytest.raises(LockLost):
                    first.confirm()
        # The holder that lost its connection gets a fresh one on its next round.
        with first.hold(1) as again:
            assert again
    finally:
        first.close()
        second.close()
        first_db.dispose()
        second_db.dispose()
