"""The transactional outbox: queue a record for a peer in the caller's transaction.

`share` numbers the record in the peer's stream by incrementing `peers.last_seq` with an
UPDATE ... RETURNING. On PostgreSQL that row lock is held until commit, so a second
writer waits and gets the next number only after the first has committed: sequence
order is commit order, and the delivery worker never sees 7 before 6. On SQLite every
transaction holds the database write lock, which gives the same guarantee.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.audit import canonical_json
from liaison.config import Settings
from liaison.errors import Conflict
from liaison.federation.notify import feeds_of
from liaison.store.base import utcnow
from liaison.store.federation_tables import (
    OutboxRecord,
    Peer,
    PeerDelivery,
    PeerInbound,
    PeerInboundRecord,
    PeerStatus,
    RefusedRecord,
)

# Built once rather than per shared record.
_NEXT_SEQ = (
    sa.update(Peer)
    .where(Peer.id == sa.bindparam("target"))
    .values(last_seq=Peer.last_seq + 1)
    .returning(Peer.last_seq)
)
_QUEUE = sa.insert(OutboxRecord)


def share(session: Session, peer: Peer, record_type: str, payload: dict[str, Any]) -> int:
    """Queue `payload` for `peer` and return its sequence number; it is sent only if the
    caller's transaction commits."""
    if peer.status != PeerStatus.ACTIVE:
        raise Conflict(f"peer {peer.name!r} is {peer.status}; nothing can be sent to it")
    text = canonical_json(payload).decode("utf-8")
    # Core statements on the session's connection: the same transaction, without the ORM's
    # bookkeeping (this runs once per shared record).
    connection = session.connection()
    seq = connection.execute(_NEXT_SEQ, {"target": peer.id}).scalar_one()
    connection.execute(
        _QUEUE,
        {
            "peer_id": peer.id,
            "seq": seq,
            "record_type": record_type,
            "payload": text,
            "created_at": utcnow(),
        },
    )
    feeds = feeds_of(session)
    if feeds is not None:
        feeds.delivery.wake_after_commit(session, peer.id)
    return int(seq)


def refusals_of(session: Session, record_ids: Iterable[str]) -> dict[str, str]:
    """Why the peer refused each of these records (by global id) that it refused."""
    rows = session.execute(
        sa.select(RefusedRecord.record_id, Peer.name, RefusedRecord.reason)
        .join(Peer, Peer.id == RefusedRecord.peer_id)
        .where(RefusedRecord.record_id.in_(list(record_ids)))
    ).all()
    return {str(record_id): f"{peer} refused it: {reason}" for record_id, peer, reason in rows}


@dataclass(frozen=True)
class Pruned:
    outbox_rows: int
    inbound_records: int = 0


def prune_delivered(session: Session, settings: Settings) -> Pruned:
    """Delete outbox rows the peer acknowledged, keeping those younger than
    `outbox_retention_days` and the last `outbox_keep_delivered` per peer: a peer restored
    from a backup acknowledges less than before, and is sent again from what is kept."""
    cutoff = utcnow() - timedelta(days=settings.outbox_retention_days)
    deleted = 0
    for peer_id, acked in session.execute(sa.select(PeerDelivery.peer_id, PeerDelivery.acked_seq)):
        result = session.execute(
            sa.delete(OutboxRecord).where(
                OutboxRecord.peer_id == peer_id,
                OutboxRecord.seq <= acked - settings.outbox_keep_delivered,
                OutboxRecord.created_at < cutoff,
            )
        )
        deleted += result.rowcount  # type: ignore[attr-defined]
    # The records applied from each peer, kept for it to ask back after a restore: the same
    # policy, counted from the last one applied.
    inbound = 0
    for peer_id, applied in session.execute(
        sa.select(PeerInbound.peer_id, PeerInbound.last_applied_seq)
    ):
        result = session.execute(
            sa.delete(PeerInboundRecord).where(
                PeerInboundRecord.peer_id == peer_id,
                PeerInboundRecord.seq <= applied - settings.outbox_keep_delivered,
                PeerInboundRecord.received_at < cutoff,
            )
        )
        inbound += result.rowcount  # type: ignore[attr-defined]
    return Pruned(outbox_rows=deleted, inbound_records=inbound)
