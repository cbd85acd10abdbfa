"""Pre-export notifications (PEN) of precursor chemicals, replicated between the two nodes.

A notification belongs to the exporting node (`owner_node`); the importing node holds a
replica and answers it. Every step after lodging (acknowledgement, decision, request for
information and its answer, withdrawal, outcome) is a `PenEvent` owned by the node that
took it; the notification's summary columns (`decision`, `answered_at`, ...) are derived
from the events the same way on both nodes, so both read the same status and figures.
The register (`PenRequirement`) holds what each node requires notification for and its
annual legitimate requirements, the local node's own rows and the peer's copy.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from liaison.store.attachments import AttachmentColumns
from liaison.store.base import Base, SharedRecord, UTCDateTime, utcnow


class PenNotification(SharedRecord, Base):
    __tablename__ = "pen_notifications"
    __table_args__ = (
        sa.CheckConstraint("if_no_reply in ('proceeds', 'does_not_proceed')", name="if_no_reply"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The node at the other end: the importing peer on the exporting node, and vice versa.
    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("peers.id"), index=True)
    exporting_node: Mapped[str] = mapped_column(sa.String(32))
    importing_node: Mapped[str] = mapped_column(sa.String(32))
    from_agency: Mapped[str] = mapped_column(sa.String(200))  # the exporting authority
    # The importing authority: the peer's default agency until an agency answers.
    to_agency: Mapped[str] = mapped_column(sa.String(200))
    lodged_by: Mapped[str] = mapped_column(sa.String(200))
    substance: Mapped[str] = mapped_column(sa.String(500))
    ship_date: Mapped[date] = mapped_column(sa.Date, index=True)
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    if_no_reply: Mapped[str] = mapped_column(sa.String(20))
    # The declared form as lodged (parties, quantities, route, transport, authorisations).
    declared: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    # This node's screening as of the ship date: per jurisdiction status and basis, alerts.
    screening: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(200))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first decision
    decision: Mapped[str | None] = mapped_column(sa.String(32))  # the latest decision
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    incident: Mapped[str | None] = mapped_column(sa.String(100))

    events: Mapped[list[PenEvent]] = relationship(
        back_populates="notification", order_by="PenEvent.id"
    )
    attachments: Mapped[list[PenAttachment]] = relationship(order_by="PenAttachment.id")


class PenAttachment(AttachmentColumns, Base):
    """A document lodged with a notification (the same rules as a hotline attachment)."""

    __tablename__ = "pen_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(sa.ForeignKey("pen_notifications.id"), index=True)


class PenEvent(SharedRecord, Base):
    """One step on a notification, by the side allowed to take it; local `id` order is the
    order applied here (each side's own steps in the order its node wrote them)."""

    __tablename__ = "pen_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(sa.ForeignKey("pen_notifications.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    incident: Mapped[str | None] = mapped_column(sa.String(100))
    quantity: Mapped[str | None] = mapped_column(sa.String(40))  # a shipment drawn down
    author: Mapped[str] = mapped_column(sa.String(200))
    author_agency: Mapped[str] = mapped_column(sa.String(200))

    notification: Mapped[PenNotification] = relationship(back_populates="events")


class PenRequirement(Base):
    """One line of a node's register: a substance it requires pre-export notification for,
    and (for the substances with estimates) its annual legitimate requirement in kg."""

    __tablename__ = "pen_requirements"
    __table_args__ = (sa.UniqueConstraint("node", "year", "substance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    node: Mapped[str] = mapped_column(sa.String(32), index=True)  # whose register
    year: Mapped[int] = mapped_column()
    substance: Mapped[str] = mapped_column(sa.String(200))
    requires_notification: Mapped[bool] = mapped_column(default=True)
    annual_kg: Mapped[str | None] = mapped_column(sa.String(40))  # a decimal, as text
    citation: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
