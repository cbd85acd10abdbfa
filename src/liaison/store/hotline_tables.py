"""Hotline threads, messages and attachments, replicated between the two nodes.

A thread and each message belong to the node that wrote them (`owner_node`); the other
node holds a replica. `acked_at` and `read_at` on a message always describe the
receiving side (the node that did not write it), so both replicas mean the same thing
by them; the receiving side sets them and sends them back.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from liaison.store.attachments import AttachmentColumns
from liaison.store.base import Base, SharedRecord, UTCDateTime
from liaison.store.incident_tables import IncidentEntity


class Priority(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"  # acknowledged within hours
    FLASH = "flash"  # acknowledged within minutes


class Kind(StrEnum):
    LEAD = "lead"
    ALERT = "alert"
    REQUEST = "request"
    RESPONSE = "response"
    NOTE = "note"


# For membership tests on plain strings (`"x" in Priority` is deprecated on Python 3.11).
PRIORITIES: tuple[Priority, ...] = tuple(Priority)
KINDS: tuple[Kind, ...] = tuple(Kind)


class HotlineThread(SharedRecord, Base):
    __tablename__ = "hotline_threads"
    __table_args__ = (
        sa.CheckConstraint("priority in ('routine', 'urgent', 'flash')", name="priority"),
        sa.CheckConstraint("kind in ('lead', 'alert', 'request', 'response', 'note')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The node at the other end of the thread (the peer it was sent to or came from).
    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("peers.id"), index=True)
    subject: Mapped[str] = mapped_column(sa.String(300))
    priority: Mapped[str] = mapped_column(sa.String(16))
    kind: Mapped[str] = mapped_column(sa.String(16))
    from_agency: Mapped[str] = mapped_column(sa.String(200))
    to_agency: Mapped[str] = mapped_column(sa.String(200))
    created_by: Mapped[str] = mapped_column(sa.String(200))
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    messages: Mapped[list[HotlineMessage]] = relationship(
        back_populates="thread", order_by="HotlineMessage.id"
    )


class HotlineMessage(SharedRecord, Base):
    """A message; its local `id` order is the order it was written on, or applied from, its
    origin, which is the origin's writing order because the inbox applies in sequence."""

    __tablename__ = "hotline_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("hotline_threads.id"), index=True)
    author: Mapped[str] = mapped_column(sa.String(200))
    author_agency: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    priority: Mapped[str] = mapped_column(sa.String(16))
    ack_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_by: Mapped[str | None] = mapped_column(sa.String(200))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_by: Mapped[str | None] = mapped_column(sa.String(200))
    # Handling code and 4x4 grading (issue 10), as on incidents; "none" for older messages.
    handling_code: Mapped[str] = mapped_column(sa.String(16), default="none", server_default="none")
    source_reliability: Mapped[str | None] = mapped_column(sa.String(1))
    information_accuracy: Mapped[str | None] = mapped_column(sa.String(1))

    thread: Mapped[HotlineThread] = relationship(back_populates="messages")
    attachments: Mapped[list[HotlineAttachment]] = relationship(
        back_populates="message", order_by="HotlineAttachment.id"
    )
    # The entities it mentions (issue 10), kept with the incidents' in entity_mentions.
    entities: Mapped[list[IncidentEntity]] = relationship(
        primaryjoin="IncidentEntity.hotline_message_id == HotlineMessage.id",
        order_by="IncidentEntity.id",
        viewonly=True,
    )


class HotlineAttachment(AttachmentColumns, Base):
    __tablename__ = "hotline_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("hotline_messages.id"), index=True)

    message: Mapped[HotlineMessage] = relationship(back_populates="attachments")
