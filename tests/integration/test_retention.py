"""Retention of delivered outbox rows: old acknowledged rows go, the recent and the last N
per peer stay (a restored peer may ask for them again), and the peers view says so."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from liaison.config import NodeConfig, Settings
from liaison.federation.outbox import prune_delivered
from liaison.services.peering import peer_states
from liaison.store import Database
from liaison.store.base import utcnow
from liaison.store.federation_tables import (
    OutboxRecord,
    Peer,
    PeerDelivery,
    PeerInbound,
    PeerInboundRecord,
)


def test_pruning_keeps_undelivered_recent_and_the_last_delivered_rows(node: NodeConfig) -> None:
    database = Database(node.database_url)
    old, recent = utcnow() - timedelta(days=40), utcnow() - timedelta(days=1)
    with database.session() as session:
        peer = Peer(
            name="CN",
            base_url="https://cn.example",
            public_key="k" * 43,
            default_agency="CN administration",
            last_seq=50,
        )
        session.add(peer)
        session.flush()
        for seq in range(1, 51):
            # 1..40 written long ago, 41..50 yesterday; the peer acknowledged up to 45.
            created = old if seq <= 40 else recent
            session.add(
                OutboxRecord(
                    peer_id=peer.id,
                    seq=seq,
                    record_type="hotline.message",
                    payload="{}",
                    created_at=created,
                )
            )
        session.add(PeerDelivery(peer_id=peer.id, acked_seq=45))
        session.commit()

        settings = Settings(outbox_retention_days=30, outbox_keep_delivered=10)
        pruned = prune_delivered(session, settings)
        session.commit()
        # Old AND at least 10 behind the acknowledgement (seq <= 35): pruned.
        assert pruned.outbox_rows == 35
        kept = list(session.scalars(sa.select(OutboxRecord.seq).order_by(OutboxRecord.seq)))
        assert kept == list(range(36, 51))
        assert prune_delivered(session, settings).outbox_rows == 0

        [state] = peer_states(session)
        assert (state.kept_from_seq, state.kept_delivered, state.pending) == (36, 10, 5)
        assert state.to_json()["retention"] == {"kept_delivered": 10, "kept_from_seq": 36}
    database.dispose()


def test_pruning_keeps_the_recent_and_last_records_applied_from_a_peer(node: NodeConfig) -> None:
    """The records applied from a peer, kept for it to ask back after a restore, follow the
    same policy, counted from the last one applied."""
    database = Database(node.database_url)
    old, recent = utcnow() - timedelta(days=40), utcnow() - timedelta(days=1)
    with database.session() as session:
        peer = Peer(
            name="CN",
            base_url="https://cn.example",
            public_key="k" * 43,
            default_agency="CN administration",
        )
        session.add(peer)
        session.flush()
        for seq in range(1, 31):
            session.add(
                PeerInboundRecord(
                    peer_id=peer.id,
                    seq=seq,
                    record_type="hotline.message",
                    payload="{}",
                    received_at=old if seq <= 25 else recent,
                )
            )
        session.add(PeerInbound(peer_id=peer.id, last_applied_seq=30))
        session.commit()

        settings = Settings(outbox_retention_days=30, outbox_keep_delivered=10)
        pruned = prune_delivered(session, settings)
        session.commit()
        # Old AND at least 10 behind the last applied (seq <= 20): pruned.
        assert pruned.inbound_records == 20
        kept = session.scalars(sa.select(PeerInboundRecord.seq).order_by(PeerInboundRecord.seq))
        assert list(kept) == list(range(21, 31))
        assert prune_delivered(session, settings).inbound_records == 0
    database.dispose()
