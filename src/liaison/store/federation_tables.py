"""Federation state: peers, invites, the outbox, delivery and inbound state, seen nonces.

A peer's outbound stream is the outbox rows for it, numbered 1, 2, 3... by `Peer.last_seq`
(taken under the peer row's lock, so sequence order is commit order). `PeerDelivery`
holds what the sending side knows (last acknowledged sequence, retry state, last error
and success); `PeerInbound` what the receiving side has applied from that peer.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from liaison.store.base import Base, UTCDateTime, utcnow


class PeerStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"  # its envelopes are refused and nothing more is sent to it


class Peer(Base):
    __tablename__ = "peers"
    __table_args__ = (sa.CheckConstraint("status in ('active', 'revoked')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(32), unique=True)
    base_url: Mapped[str] = mapped_column(sa.String(500))
    public_key: Mapped[str] = mapped_column(sa.String(64))
    # The agency hotline threads are addressed to unless the author names another one.
    default_agency: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(16), default=PeerStatus.ACTIVE)
    last_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # After a restore: last_seq as the backup held it, until the peer says how far it
    # applied this node's stream (liaison.federation.delivery resynchronises, then clears it).
    resync_from: Mapped[int | None] = mapped_column(sa.BigInteger)
    # The shared record types the peer said it handles, in the handshake or since (None: it
    # never said: an older node); and those this node last told it (sent again on start
    # when they differ: liaison.federation.capabilities).
    record_types: Mapped[list[str] | None] = mapped_column(sa.JSON)
    told_record_types: Mapped[list[str] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PeerInvite(Base):
    """An invite this node issued; only the SHA-256 of the one-time secret is kept."""

    __tablename__ = "peer_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_node: Mapped[str | None] = mapped_column(sa.String(32))
    used_by_key: Mapped[str | None] = mapped_column(sa.String(64))


class OutboxRecord(Base):
    """One record queued for one peer, written in the transaction that wrote the record."""

    __tablename__ = "outbox"
    __table_args__ = (sa.UniqueConstraint("peer_id", "seq", name="uq_outbox_peer_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("peers.id"), index=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    record_type: Mapped[str] = mapped_column(sa.String(64))
    # Canonical JSON text: sent as stored, so what was committed is exactly what is signed.
    payload: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PeerDelivery(Base):
    """The sending side's view of one peer: how far it acknowledged, and retry state."""

    __tablename__ = "peer_delivery"

    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("peers.id"), primary_key=True)
    acked_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    failures: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PeerInbound(Base):
    """The receiving side's view of one peer: the last sequence applied from it."""

    __tablename__ = "peer_inbound"

    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("peers.id"), primary_key=True)
    last_applied_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SeenNonce(Base):
    """Nonces of accepted envelopes, kept for twice the clock window to refuse replays."""

    __tablename__ = "seen_nonces"
    __table_args__ = (sa.UniqueConstraint("peer_id", "nonce", name="uq_seen_nonces_peer_nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("peers.id"))
    nonce: Mapped[str] = mapped_column(sa.String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class RefusalWindow(Base):
    """Envelopes refused from one client address before their sender was verified, counted
    over one window. The audit trail gets one entry per address and window, written when
    the window closes (append-only rows cannot be updated as a count goes up)."""

    __tablename__ = "federation_refusal_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(64), unique=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # Refusals that were looked at, and requests turned away unread once over the limit.
    refused: Mapped[int] = mapped_column(default=0)
    throttled: Mapped[int] = mapped_column(default=0)
    first_reason: Mapped[str] = mapped_column(sa.String(300))
    last_reason: Mapped[str] = mapped_column(sa.String(300))
    last_claimed_sender: Mapped[str] = mapped_column(sa.String(64))


class RefusedRecord(Base):
    """A record of this node's outbox that the peer refused (its acknowledgement said why):
    never counted as delivered, shown with the record and in the peers view."""

    __tablename__ = "refused_records"
    __table_args__ = (sa.UniqueConstraint("peer_id", "seq", name="uq_refused_records_peer_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("peers.id"))
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    record_type: Mapped[str] = mapped_column(sa.String(64))
    # The record's global id (from its payload), so the record's own page can show it.
    record_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    refused_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
