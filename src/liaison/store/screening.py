"""Results of file screenings run from the web UI, kept so the user can download the CSV."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from liaison.store.base import Base, UTCDateTime, utcnow


class ScreeningRun(Base):
    __tablename__ = "screening_runs"

    # Random, so a run's download address cannot be guessed from another's.
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    filename: Mapped[str] = mapped_column(sa.String(255))
    record_count: Mapped[int] = mapped_column()
    results_csv: Mapped[str] = mapped_column(sa.Text)
