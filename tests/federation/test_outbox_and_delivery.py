"""The outbox and the delivery worker in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from liaison.audit import Actor
from liaison.cli.peer import invite
from liaison.config import Settings, load_node
from liaison.demo import conversation
from liaison.errors import Conflict
from liaison.federation import envelope as env
from liaison.federation.context import LocalNode
from liaison.federation.delivery import DeliveryWorker
from liaison.federation.outbox import share
from liaison.federation.peers import handle_peering_request
from liaison.node import add_node_user, create_node
from liaison.runtime import node_record_types
from liaison.services.peering import accept_invite, peer_states
from liaison.store import Database
from liaison.store.federation_tables import OutboxRecord, Peer, PeerDelivery
from liaison.store.hotline_tables import HotlineAttachment, HotlineMessage, HotlineThread

SETTINGS = Settings(federation_backoff_base_seconds=0.01, federation_backoff_cap_seconds=0.02)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.upgrade()
    yield db
    db.dispose()


def _add_peer(database: Database, name: str, key: Ed25519PrivateKey) -> int:
    with database.session() as session:
        peer = Peer(
            name=name,
            base_url=f"http://{name.lower()}.invalid",
            public_key=env.public_key_text(key.public_key()),
            default_agency=f"{name} agency",
            status="active",
            last_seq=0,
        )
        session.add(peer)
        session.commit()
        return peer.id


def _share(database: Database, peer_id: int, count: int, *, commit: bool = True) -> None:
    with database.session() as session:
        peer = session.get(Peer, peer_id)
        assert peer is not None
        for index in range(count):
            share(session, peer, "test.record", {"n": index})
        if commit:
            session.commit()
        else:
            session.rollback()


def _seqs(database: Database, peer_id: int) -> list[int]:
    with database.session() as session:
        return list(
            session.execute(
                sa.select(OutboxRecord.seq)
                .where(OutboxRecord.peer_id == peer_id)
                .order_by(OutboxRecord.id)
            ).scalars()
        )


def test_each_peer_has_its_own_gapless_sequence_and_a_rollback_takes_no_number(
    database: Database,
) -> None:
    cn = _add_peer(database, "CN", Ed25519PrivateKey.generate())
    mx = _add_peer(database, "MX", Ed25519PrivateKey.generate())
    _share(database, cn, 3)
    _share(database, mx, 2)
    _share(database, cn, 4, commit=False)
    _share(database, cn, 1)
    assert _seqs(database, cn) == [1, 2, 3, 4]
    assert _seqs(database, mx) == [1, 2]


def test_concurrent_writers_get_distinct_consecutive_sequence_numbers(
    database: Database,
) -> None:
    cn = _add_peer(database, "CN", Ed25519PrivateKey.generate())
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(10):
                _share(database, cn, 1)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Insertion (commit) order is sequence order: the worker never sees 7 before 6.
    assert _seqs(database, cn) == list(range(1, 41))


def test_nothing_can_be_queued_for_a_revoked_peer(database: Database) -> None:
    cn = _add_peer(database, "CN", Ed25519PrivateKey.generate())
    with database.session() as session:
        peer = session.get(Peer, cn)
        assert peer is not None
        peer.status = "revoked"
        with pytest.raises(Conflict, match="revoked"):
            share(session, peer, "test.record", {})


class FakePeer:
    """An inbox that answers as the peer would, or fails as told."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key
        self.status = 200
        self.applied = 0
        self.take: int | None = None  # how many records of a batch to apply (None: all)
        self.batches: list[list[int]] = []
        self.answers: list[dict[str, object]] = []
        self.replay: dict[str, object] | None = None  # an old answer to send instead

    def __call__(self, request: httpx.Request) -> httpx.Response:
        sealed = env.parse(json.loads(request.content))
        seqs = [record["seq"] for record in sealed.body["records"]]
        self.batches.append(seqs)
        if self.status != 200:
            return httpx.Response(self.status, json={"detail": "peer is busy"})
        taken = seqs if self.take is None else seqs[: self.take]
        for seq in taken:
            if seq == self.applied + 1:
                self.applied = seq
        answer = env.seal(
            self.key,
            sender="CN",
            recipient="US",
            kind="ack",
            body={"acknowledged": self.applied, "batch_nonce": sealed.nonce},
        ).to_json()
        self.answers.append(answer)
        return httpx.Response(200, json=self.replay or answer)


@pytest.fixture
def delivery(database: Database) -> Iterator[tuple[DeliveryWorker, FakePeer, int]]:
    peer_key = Ed25519PrivateKey.generate()
    peer_id = _add_peer(database, "CN", peer_key)
    fake = FakePeer(peer_key)
    node = LocalNode("US", "http://us.invalid", "US agency", Ed25519PrivateKey.generate(), SETTINGS)
    worker = DeliveryWorker(
        database, node, client=httpx.Client(transport=httpx.MockTransport(fake))
    )
    yield worker, fake, peer_id
    worker.client.close()


def _state(database: Database, peer_id: int) -> PeerDelivery:
    with database.session() as session:
        state = session.get(PeerDelivery, peer_id)
        assert state is not None
        return state


def test_delivery_sends_batches_in_order_and_records_the_acknowledgement(
    database: Database, delivery: tuple[DeliveryWorker, FakePeer, int]
) -> None:
    worker, fake, peer_id = delivery
    _share(database, peer_id, 250)
    worker.deliver_due()
    assert fake.batches == [list(range(1, 101)), list(range(101, 201)), list(range(201, 251))]
    state = _state(database, peer_id)
    assert (state.acked_seq, state.failures, state.last_error) == (250, 0, None)
    assert state.last_success_at is not None
    with database.session() as session:
        [view] = peer_states(session)
    assert (view.pending, view.oldest_pending_at) == (0, None)


def test_a_failing_peer_is_backed_off_with_the_error_recorded_then_caught_up(
    database: Database, delivery: tuple[DeliveryWorker, FakePeer, int]
) -> None:
    worker, fake, peer_id = delivery
    _share(database, peer_id, 3)
    fake.status = 503
    worker.deliver_due()
    state = _state(database, peer_id)
    assert state.failures == 1 and state.acked_seq == 0
    assert state.last_error == "HTTP 503: peer is busy"
    assert state.next_attempt_at is not None and state.next_attempt_at > state.last_error_at
    with database.session() as session:
        [view] = peer_states(session)
    assert view.pending == 3 and view.oldest_pending_at is not None
    assert view.to_json()["outbox"]["last_error"] == "HTTP 503: peer is busy"

    fake.status = 200
    while _state(database, peer_id).acked_seq < 3:
        worker.deliver_due()  # returns at once while backing off; retried once it is due
    assert fake.batches[-1] == [1, 2, 3]
    assert _state(database, peer_id).failures == 0


def test_a_peer_that_applies_nothing_is_backed_off_not_hammered(
    database: Database, delivery: tuple[DeliveryWorker, FakePeer, int]
) -> None:
    worker, fake, peer_id = delivery
    _share(database, peer_id, 3)
    fake.take = 0
    worker.deliver_due()
    assert fake.batches == [[1, 2, 3]]
    state = _state(database, peer_id)
    assert state.failures == 1 and "applied nothing" in (state.last_error or "")


def test_an_acknowledgement_not_signed_by_the_peer_is_not_believed(
    database: Database, delivery: tuple[DeliveryWorker, FakePeer, int]
) -> None:
    worker, fake, peer_id = delivery
    fake.key = Ed25519PrivateKey.generate()
    _share(database, peer_id, 2)
    worker.deliver_due()
    state = _state(database, peer_id)
    assert state.acked_seq == 0
    assert "unusable acknowledgement" in (state.last_error or "")


def test_an_old_acknowledgement_replayed_is_not_taken_for_this_batch(
    database: Database, delivery: tuple[DeliveryWorker, FakePeer, int]
) -> None:
    worker, fake, peer_id = delivery
    _share(database, peer_id, 2)
    worker.deliver_due()
    assert _state(database, peer_id).acked_seq == 2
    # The peer is restored from a backup that has none of the records and says so...
    with database.session() as session:
        state = session.get(PeerDelivery, peer_id)
        assert state is not None
        state.acked_seq = 0
        session.commit()
    fake.applied = 0
    # ...and someone on the path answers the resend with the old (validly signed) ack.
    fake.replay = fake.answers[0]
    worker.deliver_due()
    state = _state(database, peer_id)
    assert state.acked_seq == 0
    assert "not for this batch" in (state.last_error or "")


def test_demo_conversation_is_seeded_on_both_nodes(
    tmp_path: Path, database_url: str, second_database_url: str
) -> None:
    us_dir, cn_dir = tmp_path / "us", tmp_path / "cn"
    create_node(us_dir, "US", "admin", "admin password 1", database_url, agency="DEA")
    create_node(cn_dir, "CN", "admin", "admin password 1", second_database_url, agency="NNCC")
    add_node_user(us_dir, "olivia", "officer password", "officer", "DEA")
    add_node_user(cn_dir, "wang", "officer password", "officer", "NNCC")
    us_node = LocalNode.from_config(load_node(us_dir))
    us_db = Database(load_node(us_dir).database_url)

    def us_peering_endpoint(request: httpx.Request) -> httpx.Response:
        with us_db.session() as session:
            answer = handle_peering_request(
                session,
                us_node,
                node_record_types(),
                json.loads(request.content),
                address="127.0.0.1",
            )
        return httpx.Response(200, json=answer)

    cn_config = load_node(cn_dir)
    cn_db = Database(cn_config.database_url)
    try:
        with (
            cn_db.session() as session,
            httpx.Client(transport=httpx.MockTransport(us_peering_endpoint)) as client,
        ):
            accept_invite(
                session,
                LocalNode.from_config(cn_config),
                node_record_types(),
                invite(us_dir),
                Actor.system("test"),
                client=client,
            )
        conversation.seed_demo_conversation(
            us_dir,
            cn_dir,
            us_username="olivia",
            cn_username="wang",
            record_types=node_record_types(),
        )
        for database in (us_db, cn_db):
            with database.session() as session:
                assert session.scalar(sa.select(sa.func.count()).select_from(HotlineThread)) == 2
                assert session.scalar(sa.select(sa.func.count()).select_from(HotlineMessage)) == 5
                assert (
                    session.scalar(
                        sa.select(sa.func.count())
                        .select_from(HotlineAttachment)
                        .where(HotlineAttachment.verified.is_(True))
                    )
                    == 2
                )
                unacknowledged = session.scalar(
                    sa.select(sa.func.count())
                    .select_from(HotlineMessage)
                    .where(
                        HotlineMessage.ack_due_at.is_not(None), HotlineMessage.acked_at.is_(None)
                    )
                )
                assert unacknowledged == 0
                [state] = peer_states(session)
                assert state.pending == 0
    finally:
        us_db.dispose()
        cn_db.dispose()


def test_a_batch_stops_at_the_byte_limit_but_always_carries_one_record(
    database: Database,
    delivery: tuple[DeliveryWorker, FakePeer, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker, fake, peer_id = delivery
    monkeypatch.setattr("liaison.federation.delivery.MAX_BATCH_BYTES", 20)
    _share(database, peer_id, 5)  # each payload is '{"n":0}', 7 bytes
    worker.deliver_due()
    assert fake.batches == [[1, 2], [3, 4], [5]]
    assert _state(database, peer_id).acked_seq == 5
