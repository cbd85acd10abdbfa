"""Audit checkpoints in one process: when a node shares one (after N entries, or after the
interval once the chain grew), and what the receiving side keeps or refuses."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from liaison.audit import Actor, Checkpoint, UserRead, canonical_json, record
from liaison.config import Settings
from liaison.federation import envelope as env
from liaison.federation.checkpoints import (
    CHECKPOINT,
    REQUEST_KIND,
    answer_checkpoint_request,
    share_checkpoint_if_due,
)
from liaison.store import utcnow
from liaison.store.audit import AuditCheckpointHeld, AuditCheckpointSent, AuditEntry
from liaison.store.federation_tables import OutboxRecord, Peer, RefusalWindow
from support import UsNode, batch_from_cn, us_with_stopped_cn

EVERY_FIVE = Settings(audit_checkpoint_entries=5, audit_checkpoint_interval_seconds=3600)


@pytest.fixture
def us(tmp_path: Path, database_url: str) -> Iterator[UsNode]:
    with us_with_stopped_cn(tmp_path / "us", database_url) as us:
        yield dataclasses.replace(us, node=dataclasses.replace(us.node, settings=EVERY_FIVE))


def _write_entries(us: UsNode, count: int) -> None:
    with us.database.session() as session:
        for _ in range(count):
            record(session, Actor("olivia", role="officer"), UserRead(record_id="anna"))
        session.commit()


def _shared(us: UsNode) -> list[dict[str, Any]]:
    with us.database.session() as session:
        payloads = session.scalars(
            sa.select(OutboxRecord.payload)
            .where(OutboxRecord.record_type == CHECKPOINT.name)
            .order_by(OutboxRecord.seq)
        )
        return [json.loads(payload) for payload in payloads]


def test_a_checkpoint_is_shared_after_n_entries_or_after_the_interval(us: UsNode) -> None:
    # The first one: after N entries, or after the interval counted from the peering.
    assert share_checkpoint_if_due(us.database, us.node) is None
    with us.database.session() as session:
        session.execute(sa.update(Peer).values(created_at=utcnow() - timedelta(hours=2)))
        session.commit()
    first = share_checkpoint_if_due(us.database, us.node)
    assert first is not None
    assert share_checkpoint_if_due(us.database, us.node) is None  # the chain did not grow
    _write_entries(us, 4)
    assert share_checkpoint_if_due(us.database, us.node) is None
    _write_entries(us, 1)
    second = share_checkpoint_if_due(us.database, us.node)
    assert second is not None and second.seq == first.seq + 5

    _write_entries(us, 1)
    assert share_checkpoint_if_due(us.database, us.node) is None
    with us.database.session() as session:  # the interval has passed since the last one
        session.execute(sa.update(AuditCheckpointSent).values(at=utcnow() - timedelta(hours=2)))
        session.commit()
    third = share_checkpoint_if_due(us.database, us.node)
    assert third is not None and third.seq == second.seq + 1

    shared = _shared(us)
    assert [item["seq"] for item in shared] == [first.seq, second.seq, third.seq]
    with us.database.session() as session:
        head_hash = session.scalar(sa.select(AuditEntry.hash).where(AuditEntry.seq == third.seq))
    assert shared[-1]["hash"] == head_hash
    # Signed by US over its name and the checkpoint, so CN can show what US committed to.
    signed = canonical_json(
        {"node": "US", **Checkpoint(third.seq, third.hash, third.at).to_payload()}
    )
    us.node.private_key.public_key().verify(env.b64decode(shared[-1]["signature"], "s"), signed)


def _checkpoint_from_cn(key: Ed25519PrivateKey, seq: int, hash_: str) -> dict[str, Any]:
    checkpoint = Checkpoint(seq, hash_, utcnow())
    signature = key.sign(canonical_json({"node": "CN", **checkpoint.to_payload()}))
    return {**checkpoint.to_payload(), "signature": env.b64encode(signature)}


def _from_cn(us: UsNode, records: list[dict[str, Any]]) -> dict[str, Any]:
    return batch_from_cn(us.database, us.node, us.cn_key, records)


def _held(us: UsNode) -> list[tuple[int, str]]:
    with us.database.session() as session:
        rows = session.execute(
            sa.select(AuditCheckpointHeld.seq, AuditCheckpointHeld.hash).order_by(
                AuditCheckpointHeld.seq
            )
        )
        return [(seq, hash_) for seq, hash_ in rows]


def _refusals(us: UsNode) -> list[str]:
    """The refused records' reasons, as audited under the peer that sent them."""
    with us.database.session() as session:
        rows = session.execute(
            sa.select(AuditEntry.actor, AuditEntry.actor_kind, AuditEntry.detail)
            .where(AuditEntry.action == "federation.record_refused")
            .order_by(AuditEntry.seq)
        )
        return [
            json.loads(detail)["reason"]
            for actor, kind, detail in rows
            if (actor, kind) == ("CN", "peer")
        ]


def test_the_peer_keeps_checkpoints_it_signed_and_refuses_the_rest(us: UsNode) -> None:
    a, b = "a" * 64, "b" * 64
    stranger = Ed25519PrivateKey.generate()
    records = [
        _checkpoint_from_cn(us.cn_key, 7, a),
        _checkpoint_from_cn(us.cn_key, 7, a),  # the same again: kept once
        _checkpoint_from_cn(us.cn_key, 7, b),  # the same seq with another hash
        _checkpoint_from_cn(stranger, 9, b),  # not signed by CN
        {**_checkpoint_from_cn(us.cn_key, 10, b), "hash": "not hex"},
        _checkpoint_from_cn(us.cn_key, 12, b),
    ]
    answer = _from_cn(
        us,
        [
            {"seq": index, "type": CHECKPOINT.name, "payload": payload}
            for index, payload in enumerate(records, start=1)
        ],
    )
    assert (answer["acknowledged"], answer["applied"], answer["refused"]) == (6, 3, 3)
    assert _held(us) == [(7, a), (12, b)]
    assert _refusals(us) == [
        "'CN' sent checkpoint 7 again with another hash",
        "checkpoint 9 is not signed by 'CN'",
        "checkpoint.hash must be 64 lowercase hexadecimal digits",
    ]


def test_the_peer_answers_its_own_checkpoints_signed_and_only_to_it(us: UsNode) -> None:
    _from_cn(
        us,
        [
            {
                "seq": 1,
                "type": CHECKPOINT.name,
                "payload": _checkpoint_from_cn(us.cn_key, 7, "a" * 64),
            }
        ],
    )
    request = env.seal(us.cn_key, sender="CN", recipient="US", kind=REQUEST_KIND, body={})
    with us.database.session() as session:
        answer = env.parse(
            answer_checkpoint_request(session, us.node, request.to_json(), address="127.0.0.1")
        )
    body = env.verify(
        answer, us.node.private_key.public_key(), recipient="CN", kind="audit-checkpoints"
    )
    assert body["request_nonce"] == request.nonce
    assert [(item["seq"], item["hash"]) for item in body["checkpoints"]] == [(7, "a" * 64)]

    forged = env.seal(
        Ed25519PrivateKey.generate(), sender="CN", recipient="US", kind=REQUEST_KIND, body={}
    )
    with us.database.session() as session, pytest.raises(env.EnvelopeRejected, match="signature"):
        answer_checkpoint_request(session, us.node, forged.to_json(), address="10.9.8.7")
    with us.database.session() as session:  # counted against the address, as every refusal
        reason = session.scalar(
            sa.select(RefusalWindow.first_reason).where(RefusalWindow.address == "10.9.8.7")
        )
    assert reason is not None and reason.startswith("bad_signature")
