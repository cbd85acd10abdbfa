"""The append-only audit trail, the head row that pins its last entry, the verified
checkpoint, and the checkpoints exchanged with peers (this node's sent, the peers' kept)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from liaison.store.base import Base, UTCDateTime, utcnow

GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(sa.String(100))
    # "user", "system" or "peer"; NULL on entries written before migration 0005.
    actor_kind: Mapped[str | None] = mapped_column(sa.String(8))
    role: Mapped[str | None] = mapped_column(sa.String(32))
    agency: Mapped[str | None] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    record_type: Mapped[str | None] = mapped_column(sa.String(64))
    record_id: Mapped[str | None] = mapped_column(sa.String(100))
    address: Mapped[str | None] = mapped_column(sa.String(64))
    # Canonical JSON text, hashed as stored: a JSON column could re-serialise it.
    detail: Mapped[str] = mapped_column(sa.Text)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditHead(Base):
    """Single row (id 1): the seq and hash of the last entry.

    Writers lock this row to serialise the chain; verification compares the chain's end
    with it, so deleting the newest entries is detected too.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditVerified(Base):
    """Single row (id 1): the last entry a verification found intact, so the audit page
    and the verify API check only what was added since."""

    __tablename__ = "audit_verified"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    hash: Mapped[str] = mapped_column(sa.String(64))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditCheckpointSent(Base):
    """A signed checkpoint of this node's audit head, as shared with its peers."""

    __tablename__ = "audit_checkpoints_sent"

    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    signature: Mapped[str] = mapped_column(sa.String(128))


class AuditCheckpointHeld(Base):
    """A checkpoint of a peer's audit head that the peer sent (its signature verified)."""

    __tablename__ = "audit_checkpoints_held"
    __table_args__ = (sa.UniqueConstraint("peer_id", "seq", name="uq_audit_checkpoints_held_peer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("peers.id"))
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    hash: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    signature: Mapped[str] = mapped_column(sa.String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
