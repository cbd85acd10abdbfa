"""The write probe: one row that /readyz updates, so a node whose database reads but no
longer writes (a full disk, an I/O error, a read-only replica) is reported not ready."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from liaison.store.base import Base, UTCDateTime, utcnow

PROBE_ROW = 1


class WriteProbe(Base):
    __tablename__ = "write_probe"

    id: Mapped[int] = mapped_column(primary_key=True)
    probed_at: Mapped[datetime] = mapped_column(UTCDateTime())


def probe_writes(connection: sa.Connection) -> None:
    """Write the probe row in the caller's transaction (which commits it)."""
    connection.execute(
        sa.update(WriteProbe).where(WriteProbe.id == PROBE_ROW).values(probed_at=utcnow())
    )
