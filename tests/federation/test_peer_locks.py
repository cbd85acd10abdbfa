"""The per-peer delivery locks (liaison.federation.peer_locks) between processes.

Each `PeerLocks` here has its own `Database` (its own connections), as each server
process of a node has."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from liaison.config import Settings
from liaison.federation import envelope as env
from liaison.federation.context import LocalNode
from liaison.federation.crossing import Listener, shared_feeds
from liaison.federation.delivery import DeliveryWorker
from liaison.federation.outbox import share
from liaison.federation.peer_locks import DELIVERY_LOCK_CLASS, HOUSEKEEPING, LockLost, PeerLocks
from liaison.store import Database
from liaison.store.federation_tables import Peer


def _terminate_holder(database: Database, peer_id: int) -> None:
    """Cut the connection holding the peer's lock, as the death of its process does."""
    with database.engine.connect() as connection:
        terminated = connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = :class_id AND objid = :peer_id AND granted "
                # pg_locks is the server's: only this test's database, not another's
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"class_id": DELIVERY_LOCK_CLASS, "peer_id": peer_id},
        ).all()
    assert terminated == [(True,)]


def _eventually(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_one_process_at_a_time_serves_a_peer_and_a_dead_holders_lock_passes_on(
    database_url: str,
) -> None:
    first_db, second_db = Database(database_url), Database(database_url)
    first, second = PeerLocks(first_db), PeerLocks(second_db)
    try:
        if database_url.startswith("sqlite"):
            # One process on SQLite: every lock is granted, nothing is asked of the database.
            assert first.take(1) and second.take(1) and second.holds(HOUSEKEEPING)
            assert not first.shared and not first.held
            return
        assert first.take(1) and first.holds(1)
        assert not second.take(1) and not second.holds(1)
        assert second.take(2)
        assert first.take(HOUSEKEEPING) and not second.take(HOUSEKEEPING)
        first.confirm()  # still held
        second.close()  # a process that stops releases its locks with its lock connection
        # (the server ends the session a moment after the connection closes)
        _eventually(lambda: first.take(2))
        assert first.held == {1, 2, HOUSEKEEPING}

        _terminate_holder(second_db, 1)
        assert second.take(1) and second.take(HOUSEKEEPING)
        with pytest.raises(LockLost):
            first.confirm()
        assert not first.held  # every lock went with the connection
        # The holder that lost its connection gets a fresh one for its next tries.
        assert not first.take(1) and first.take(2)
    finally:
        first.close()
        second.close()
        first_db.dispose()
        second_db.dispose()


class CountingPeer:
    """An inbox that applies in order, acknowledges as the peer would, and counts how many
    batches are in flight at once and how often each record was sent."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.applied = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.sent: Counter[int] = Counter()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        sealed = env.parse(json.loads(request.content))
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(0.005)  # a request takes time: room for a second sender to overlap
        with self.lock:
            for record in sealed.body["records"]:
                self.sent[record["seq"]] += 1
                if record["seq"] == self.applied + 1:
                    self.applied = record["seq"]
            applied = self.applied
            self.in_flight -= 1
        answer = env.seal(
            self.key,
            sender="CN",
            recipient="US",
            kind="ack",
            body={"acknowledged": applied, "batch_nonce": sealed.nonce},
        )
        return httpx.Response(200, json=answer.to_json())


def _two_processes(
    database_url: str, settings: Settings
) -> tuple[Database, CountingPeer, list[Database], list[DeliveryWorker]]:
    """A node's database with the peer CN, and the delivery workers of two processes."""
    setup = Database(database_url)
    setup.upgrade()
    peer_key = Ed25519PrivateKey.generate()
    with setup.session() as session:
        session.add(
            Peer(
                name="CN",
                base_url="http://cn.invalid",
                public_key=env.public_key_text(peer_key.public_key()),
                default_agency="CN agency",
                status="active",
                last_seq=0,
            )
        )
        session.commit()
    fake = CountingPeer(peer_key)
    key = Ed25519PrivateKey.generate()
    databases = [Database(database_url) for _ in range(2)]
    workers = [
        DeliveryWorker(
            database,
            LocalNode("US", "http://us.invalid", "US agency", key, settings),
            client=httpx.Client(transport=httpx.MockTransport(fake)),
        )
        for database in databases
    ]
    return setup, fake, databases, workers


def _queue(setup: Database, count: int, total: int) -> int:
    """Queue `count` records for CN (numbered on from `total`); the new total."""
    with setup.session() as session:
        cn = session.scalars(sa.select(Peer).where(Peer.name == "CN")).one()
        for number in range(total, total + count):
            share(session, cn, "test.record", {"n": number})
        session.commit()
    return total + count


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_processes_delivery_workers_never_send_a_peer_records_in_parallel(
    database_url: str,
) -> None:
    setup, fake, databases, workers = _two_processes(
        database_url, Settings(federation_batch_size=7)
    )
    total = 0
    try:
        for _round in range(5):
            total = _queue(setup, 40, total)
            rounds = [threading.Thread(target=worker.deliver_due) for worker in workers]
            for thread in rounds:
                thread.start()
            for thread in rounds:
                thread.join(60)
        # Whichever worker did not get the lock in a round left the peer to the other;
        # together they delivered everything, each record once, one batch at a time.
        assert fake.applied == total
        assert fake.most_in_flight == 1
        assert set(fake.sent) == set(range(1, total + 1))
        assert max(fake.sent.values()) == 1
    finally:
        for worker in workers:
            worker.stop()
        for database in (*databases, setup):
            database.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_process_holding_no_lock_does_no_work_on_a_wake_up_and_takes_over_when_the_holder_stops(
    database_url: str,
) -> None:
    setup, fake, databases, [holder, other] = _two_processes(
        database_url, Settings(federation_poll_seconds=60)
    )
    statements: list[str] = []
    sa.event.listen(
        databases[1].engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_: statements.append(statement),
    )
    try:
        holder.deliver_due()  # takes CN's lock and the housekeeping lock
        other.deliver_due()  # tries for them, in vain
        assert statements and not other.locks.held
        total = _queue(setup, 20, 0)
        statements.clear()
        other.deliver_due()  # a wake-up: the commit's NOTIFY reaches every process
        assert statements == []
        assert fake.applied == 0
        holder.deliver_due()
        assert fake.applied == total

        total = _queue(setup, 20, total)
        holder.stop()  # its locks go with its lock connection
        deadline = time.monotonic() + 30
        while fake.applied < total and time.monotonic() < deadline:
            other._next_claim = 0.0  # its next poll interval has come: it tries for the locks
            other.deliver_due()
            time.sleep(0.05)
        assert fake.applied == total and len(other.locks.held - {HOUSEKEEPING}) == 1
        assert max(fake.sent.values()) == 1
    finally:
        for worker in (holder, other):
            worker.stop()
        for database in (*databases, setup):
            database.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_first_record_to_a_new_peer_goes_at_once_not_at_the_next_poll(
    database_url: str,
) -> None:
    setup, fake, databases, [holder, other] = _two_processes(
        database_url, Settings(federation_poll_seconds=60)
    )
    statements: list[str] = []
    sa.event.listen(
        databases[1].engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_: statements.append(statement),
    )
    try:
        holder.deliver_due()  # takes CN's lock and the housekeeping lock
        other.deliver_due()  # tries for them, in vain
        with setup.session() as session:
            cn_id = session.scalars(sa.select(Peer.id).where(Peer.name == "CN")).one()
        # A wake-up for CN, whose lock `other` found held by another: still no SQL at all.
        other.wakeup.wake(cn_id)
        statements.clear()
        other.deliver_due()
        assert statements == [] and not other.locks.held

        # A peer added now (the poll interval is a minute away) and its first record.
        mx_key = Ed25519PrivateKey.generate()
        with setup.session() as session:
            mx = Peer(
                name="MX",
                base_url="http://mx.invalid",
                public_key=env.public_key_text(mx_key.public_key()),
                default_agency="MX agency",
                status="active",
                last_seq=0,
            )
            session.add(mx)
            session.flush()
            mx_id = mx.id
            share(session, mx, "test.record", {"n": 0})
            session.commit()
        for worker in (holder, other):  # the commit's NOTIFY, naming the peer, reaches both
            worker.wakeup.wake(mx_id)
        other.deliver_due()  # nobody holds MX's lock: taken now, and the record sent
        assert other.locks.held == {mx_id} and fake.sent == Counter({1: 1})
        holder.deliver_due()  # tries for it once, in vain, and remembers who serves it
        assert not holder.locks.holds(mx_id) and fake.sent == Counter({1: 1})
        holder.wakeup.wake(mx_id)
        statements.clear()
        other.wakeup.wake(cn_id)
        other.deliver_due()  # holds MX's lock only: nothing pending, CN is another's
        assert not any("pg_try_advisory_lock" in statement for statement in statements)
    finally:
        for worker in (holder, other):
            worker.stop()
        for database in (*databases, setup):
            database.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_delivery_wake_up_names_its_peer_in_every_process(database_url: str) -> None:
    feeds = shared_feeds()
    listener = Listener(database_url, feeds, poll_seconds=0.1)
    database = Database(database_url)
    listener.start()
    try:
        assert listener.listening.wait(30)
        with database.session() as session:  # a commit that queued a record for peer 42
            feeds.delivery.wake_after_commit(session, 42)
            session.commit()
        woken: set[int] = set()

        def named() -> bool:
            woken.update(feeds.delivery.woken_peers())
            return 42 in woken

        _eventually(named)
        assert woken == {42}
    finally:
        listener.stop()
        database.dispose()
