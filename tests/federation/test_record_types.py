"""Record types: registered when a runtime is built (not on import), and the ownership
rules checked in one place (liaison.federation.records) for every type, before its
handler runs."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from liaison.config import Settings
from liaison.federation import envelope as env
from liaison.federation.capabilities import (
    ADVERTISEMENT,
    TELLING_RECORD_TYPES,
    RecordTypesPayload,
    tell_changes,
)
from liaison.federation.context import LocalNode
from liaison.federation.inbox import receive_batch
from liaison.federation.outbox import share
from liaison.federation.peer_locks import one_process_at_a_time
from liaison.federation.records import (
    PeerMay,
    ProtocolViolation,
    RecordType,
    RecordTypes,
)
from liaison.node import create_node
from liaison.runtime import build_runtime, node_record_types
from liaison.services.hotline.records import (
    AckPayload,
    AttachmentPayload,
    MessagePayload,
    ReadPayload,
    ThreadPayload,
)
from liaison.store import Database
from liaison.store.base import utcnow
from liaison.store.federation_tables import OutboxRecord, Peer
from liaison.store.hotline_tables import HotlineMessage, HotlineThread
from support import us_with_stopped_cn

NODE_TYPES = [
    "audit.checkpoint",
    "hotline.ack",
    "hotline.message",
    "hotline.read",
    "hotline.thread",
    "incident.follow_up",
    "incident.report",
    "incident.revision",
    "node.record_types",
    "pen.notification",
    "pen.register",
    "pen.response",
    "pen.update",
    "verification.case",
    "verification.event",
]


def test_importing_every_module_registers_nothing_and_building_the_runtime_does(
    tmp_path: Path, database_url: str
) -> None:
    """A batch of hotline records, after every module of liaison is imported: an inbox
    given no record types applies none of it; the runtime's record types apply it."""
    config = create_node(tmp_path / "us", "US", "admin", "admin password 1", database_url)
    cn_key = Ed25519PrivateKey.generate()
    runtime = build_runtime(config)
    with runtime.database.session() as session:
        session.add(
            Peer(
                name="CN",
                base_url="http://127.0.0.1:9",
                public_key=env.public_key_text(cn_key.public_key()),
                default_agency="NNCC",
                status="active",
                last_seq=0,
            )
        )
        session.commit()
    thread = {
        "global_id": str(uuid.uuid4()),
        "owner_node": "CN",
        "created_at": "2026-11-28T10:00:00+00:00",
        "subject": "Precursor shipment",
        "priority": "routine",
        "kind": "alert",
        "from_agency": "NNCC",
        "to_agency": "US",
        "created_by": "wang",
    }

    def batch() -> dict[str, Any]:
        records = [{"seq": 1, "type": "hotline.thread", "payload": thread}]
        return env.seal(
            cn_key, sender="CN", recipient="US", kind="batch", body={"records": records}
        ).to_json()

    try:
        with runtime.database.session() as session:
            answer = receive_batch(
                session, runtime.node, RecordTypes(), batch(), address="127.0.0.1"
            )
        assert answer["body"]["unknown_type_at"] == 1
        assert answer["body"]["applied"] == 0

        assert runtime.record_types.names() == NODE_TYPES
        with runtime.database.session() as session:
            answer = receive_batch(
                session, runtime.node, runtime.record_types, batch(), address="127.0.0.1"
            )
            assert answer["body"]["applied"] == 1
            assert session.scalar(sa.select(HotlineThread.subject)) == "Precursor shipment"
    finally:
        runtime.database.dispose()


def test_no_module_of_liaison_keeps_a_record_type_registry() -> None:
    """After importing every module, no module-level dict or RecordTypes holds a record type
    name: the runtime's registry is the only one."""
    script = """
import importlib, pkgutil, liaison
from liaison.federation.records import RecordTypes
names = {"hotline.thread", "hotline.message", "hotline.ack", "hotline.read",
         "pen.notification", "pen.response", "pen.update", "pen.register"}
found = []
for info in pkgutil.walk_packages(liaison.__path__, "liaison."):
    if ".migrations" in info.name or info.name.endswith("__main__"):
        continue
    module = importlib.import_module(info.name)
    for attribute, value in vars(module).items():
        if isinstance(value, RecordTypes) or (isinstance(value, dict) and names & set(value)):
            found.append(f"{info.name}.{attribute}")
print(found)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------- ownership, one place


@dataclass(frozen=True)
class Written:
    global_id: str
    owner_node: str
    within_id: str | None = None

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        return cls(**data)


@dataclass(frozen=True)
class Acting:
    target_ids: tuple[str, ...]

    def to_payload(self) -> dict[str, Any]:
        return {"target_ids": list(self.target_ids)}

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        return cls(tuple(data["target_ids"]))


@dataclass
class Fixture:
    database: Database
    node: LocalNode
    cn: Peer
    handled: list[tuple[str, Any, Sequence[Any]]]
    ids: dict[str, str]

    def record_types(self, thread_peer_may: PeerMay, message_peer_may: PeerMay) -> RecordTypes:
        """A thread-like and a message-like type over the hotline tables, with spy handlers."""

        def spy(name: str) -> Any:
            def handle(
                session: Session, node: LocalNode, peer: Peer, payload: Any, related: Any
            ) -> None:
                self.handled.append((name, payload, list(related)))

            return handle

        parent: RecordType[Written] = RecordType(
            name="test.parent",
            payload=Written,
            handle=spy("test.parent"),
            peer_may=thread_peer_may,
            model=HotlineThread,
            shared_with=lambda thread: thread.peer_id,
        )
        child: RecordType[Written] = RecordType(
            name="test.child",
            payload=Written,
            handle=spy("test.child"),
            peer_may=message_peer_may,
            model=HotlineMessage,
            shared_with=lambda message: message.thread.peer_id,
            within=parent,
        )
        acting: RecordType[Acting] = RecordType(
            name="test.acknowledge",
            payload=Acting,
            handle=spy("test.acknowledge"),
            acts_on=child,
            action=PeerMay.ACKNOWLEDGE,
        )
        return RecordTypes([parent, child, acting])

    def apply(self, record_types: RecordTypes, name: str, payload: dict[str, Any]) -> None:
        with self.database.session() as session:
            peer = session.get(Peer, self.cn.id)
            assert peer is not None
            record_types.apply(session, self.node, peer, name, payload)


@pytest.fixture
def owned(tmp_path: Path, database_url: str) -> Iterator[Fixture]:
    """US holds: a thread of its own shared with CN, one shared with MX, a thread CN owns;
    in US's thread with CN, a message US wrote and one CN wrote."""
    database = Database(database_url)
    database.upgrade()
    ids: dict[str, str] = {}
    with database.session() as session:
        peers = {}
        for name in ("CN", "MX"):
            peers[name] = Peer(
                name=name,
                base_url="http://127.0.0.1:9",
                public_key=env.public_key_text(Ed25519PrivateKey.generate().public_key()),
                default_agency="X",
                status="active",
                last_seq=0,
            )
            session.add(peers[name])
        session.flush()

        def thread(key: str, owner: str, peer: Peer) -> HotlineThread:
            row = HotlineThread(
                owner_node=owner,
                peer_id=peer.id,
                subject=key,
                priority="routine",
                kind="note",
                from_agency="A",
                to_agency="B",
                created_by="x",
                last_message_at=utcnow(),
            )
            session.add(row)
            session.flush()
            ids[key] = row.global_id
            return row

        ours = thread("ours_with_cn", "US", peers["CN"])
        thread("ours_with_mx", "US", peers["MX"])
        thread("theirs", "CN", peers["CN"])
        for key, owner in (("our_message", "US"), ("their_message", "CN")):
            message = HotlineMessage(
                thread_id=ours.id,
                owner_node=owner,
                author="x",
                author_agency="A",
                body="b",
                priority="routine",
            )
            session.add(message)
            session.flush()
            ids[key] = message.global_id
        session.commit()
        cn = peers["CN"]
    node = LocalNode("US", "http://us.invalid", "A", Ed25519PrivateKey.generate(), Settings())
    yield Fixture(database, node, cn, [], ids)
    database.dispose()


@pytest.mark.parametrize(
    ("name", "payload", "thread_peer_may", "complaint"),
    [
        # Writing a record: it must be the peer's and new here.
        ("test.parent", {"global_id": "new", "owner_node": "US"}, PeerMay.REPLY, "it owns"),
        ("test.parent", {"global_id": "theirs", "owner_node": "CN"}, PeerMay.REPLY, "exists"),
        # Within a record: that record must be shared with the peer, and let it reply.
        (
            "test.child",
            {"global_id": "new", "owner_node": "CN", "within_id": "ours_with_mx"},
            PeerMay.REPLY,
            "not shared with 'CN'",
        ),
        (
            "test.child",
            {"global_id": "new", "owner_node": "CN", "within_id": "ours_with_cn"},
            PeerMay.NOTHING,
            "cannot reply",
        ),
        (
            "test.child",
            {"global_id": "new", "owner_node": "CN", "within_id": "missing"},
            PeerMay.REPLY,
            "unknown parent",
        ),
        # Acting on records: they must be this node's, shared with the peer.
        ("test.acknowledge", {"target_ids": ["their_message"]}, PeerMay.REPLY, "its own child"),
        ("test.acknowledge", {"target_ids": ["missing"]}, PeerMay.REPLY, "unknown child"),
    ],
)
def test_a_record_the_protocol_does_not_allow_never_reaches_its_handler(
    owned: Fixture, name: str, payload: dict[str, Any], thread_peer_may: PeerMay, complaint: str
) -> None:
    payload = {
        key: [owned.ids.get(v, v) for v in value] if isinstance(value, list) else value
        for key, value in payload.items()
    }
    for key in ("global_id", "within_id"):
        if key in payload:
            payload[key] = owned.ids.get(payload[key], payload[key])
    record_types = owned.record_types(thread_peer_may, PeerMay.ACKNOWLEDGE)
    with pytest.raises(ProtocolViolation, match=complaint):
        owned.apply(record_types, name, payload)
    assert owned.handled == []


def test_acting_on_a_record_needs_the_right_its_type_gives_the_peer(owned: Fixture) -> None:
    target = {"target_ids": [owned.ids["our_message"]]}
    with pytest.raises(ProtocolViolation, match="may not acknowledge a child"):
        owned.apply(owned.record_types(PeerMay.REPLY, PeerMay.ANSWER), "test.acknowledge", target)
    assert owned.handled == []

    owned.apply(owned.record_types(PeerMay.REPLY, PeerMay.ACKNOWLEDGE), "test.acknowledge", target)
    [(name, payload, related)] = owned.handled
    assert name == "test.acknowledge" and payload == Acting((owned.ids["our_message"],))
    assert [message.global_id for message in related] == [owned.ids["our_message"]]


def test_a_reply_in_a_record_that_allows_it_reaches_the_handler_with_that_record(
    owned: Fixture,
) -> None:
    reply = {"global_id": "new-reply", "owner_node": "CN", "within_id": owned.ids["ours_with_cn"]}
    owned.apply(owned.record_types(PeerMay.REPLY, PeerMay.ACKNOWLEDGE), "test.child", reply)
    [(name, payload, related)] = owned.handled
    assert name == "test.child" and payload == Written(**reply)
    assert [thread.global_id for thread in related] == [owned.ids["ours_with_cn"]]


def test_a_record_type_writes_records_acts_on_them_or_is_a_statement(owned: Fixture) -> None:
    with pytest.raises(ValueError, match="must write records"):
        RecordType(name="test.half", payload=Written, handle=print, model=HotlineThread)
    with pytest.raises(ValueError, match="must write records"):
        RecordType(
            name="test.both",
            payload=Acting,
            handle=print,
            model=HotlineMessage,
            shared_with=lambda message: message.thread.peer_id,
            acts_on=RecordType(name="test.statement", payload=Written, handle=print),
        )
    # A statement: no lookup, whatever ids it carries; its handler keeps it under the peer.
    statements: list[Any] = []
    statement: RecordType[Written] = RecordType(
        name="test.statement",
        payload=Written,
        handle=lambda session, node, peer, payload, related: statements.append(
            (peer.name, payload, list(related))
        ),
    )
    owned.apply(RecordTypes([statement]), "test.statement", {"global_id": "x", "owner_node": "US"})
    assert statements == [("CN", Written("x", "US"), [])]


def test_the_hotline_payloads_survive_the_wire() -> None:
    """to_payload, then through JSON, then from_payload gives the same typed payload."""
    written = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    thread = ThreadPayload(
        str(uuid.uuid4()), "CN", written, "Lead", "urgent", "lead", "NNCC", "DEA", "wang"
    )
    attachment = AttachmentPayload("a.txt", "text/plain", 3, "0" * 64, b"abc")
    message = MessagePayload(
        str(uuid.uuid4()),
        thread.global_id,
        "CN",
        written,
        "wang",
        "NNCC",
        "Body",
        "flash",
        written + timedelta(minutes=30),
        (attachment,),
    )
    ack = AckPayload(message.global_id, written, "olivia (DEA)")
    read = ReadPayload((message.global_id,), written, "olivia (DEA)")
    for payload in (thread, message, ack, read):
        wire = json.loads(json.dumps(payload.to_payload()))
        assert type(payload).from_payload(wire) == payload
    assert message.to_payload()["attachments"][0]["content"] == "YWJj"
    assert thread.to_payload()["created_at"] == "2026-11-28T10:00:00+00:00"


def _add_mx(database: Database) -> None:
    """A peer MX that said it handles the record-types statement."""
    with database.session() as session:
        session.add(
            Peer(
                name="MX",
                base_url="http://127.0.0.1:9",
                public_key=env.public_key_text(Ed25519PrivateKey.generate().public_key()),
                default_agency="FGR",
                status="active",
                last_seq=0,
                record_types=["hotline.thread", "node.record_types"],
            )
        )
        session.commit()


def test_a_changed_set_of_record_types_is_told_on_start_only_to_peers_that_handle_it(
    tmp_path: Path, database_url: str
) -> None:
    """An older peer (it never said what it handles) is not sent the statement: its inbox
    would stop at the unknown type and hold back the stream."""
    with us_with_stopped_cn(tmp_path / "us", database_url) as us:
        runtime = build_runtime(us.config, us.database)
        _add_mx(us.database)
        assert tell_changes(us.database, runtime.record_types) == 1  # MX, not CN
        assert tell_changes(us.database, runtime.record_types) == 0  # told already
        with us.database.session() as session:
            queued = session.execute(
                sa.select(Peer.name, OutboxRecord.record_type, OutboxRecord.payload).join(
                    Peer, Peer.id == OutboxRecord.peer_id
                )
            ).all()
        assert [(name, kind) for name, kind, _ in queued] == [("MX", "node.record_types")]
        assert json.loads(queued[0][2]) == {"record_types": NODE_TYPES}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_processes_starting_together_tell_the_record_types_once(
    tmp_path: Path, database_url: str
) -> None:
    """`serve --workers N`: the second process to start waits for the first one's telling
    to commit, then finds the peer told."""
    with us_with_stopped_cn(tmp_path / "us", database_url) as us:
        names = node_record_types().names()
        _add_mx(us.database)
        second = Database(us.config.database_url)
        told: list[int] = []
        starting = threading.Thread(
            target=lambda: told.append(tell_changes(second, node_record_types()))
        )
        with us.database.session() as first:
            # The first process, between telling MX and its commit.
            one_process_at_a_time(first, TELLING_RECORD_TYPES)
            mx = first.scalars(sa.select(Peer).where(Peer.name == "MX")).one()
            share(first, mx, ADVERTISEMENT.name, RecordTypesPayload(tuple(names)).to_payload())
            mx.told_record_types = names
            first.flush()
            starting.start()
            starting.join(0.5)  # room for the second to read, had it not waited
            first.commit()
        starting.join(30)
        second.dispose()
        assert told == [0]
        with us.database.session() as session:
            statements = session.scalars(
                sa.select(OutboxRecord.seq).where(OutboxRecord.record_type == ADVERTISEMENT.name)
            ).all()
        assert statements == [1]
