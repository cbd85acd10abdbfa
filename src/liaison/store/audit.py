"""The append-only audit trail and the head row that pins its last entry."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from liaison.store.base import Base, UTCDateTime

GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(sa.String(100))
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
