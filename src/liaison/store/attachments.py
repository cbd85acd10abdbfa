"""The columns every stored document has (a hotline attachment, a notification's document,
an incident's or a follow-up's attachment), apart so that each table module can use them
without importing another's."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column


class AttachmentColumns:
    """The columns of a stored document."""

    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # False when the bytes that arrived do not hash to the SHA-256 their sender recorded.
    verified: Mapped[bool] = mapped_column(default=True)
