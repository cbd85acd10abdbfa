"""Seizure and incident reports, their items, entities and follow-ups, replicated between nodes.

An incident belongs to the node that wrote it (`owner_node`) and is shared with the peers
in `incident_shares`; a received incident is shared with the peer it came from. Each item
keeps the quantity as given and, for a mass, the grams; its verdicts are the snapshot the
writing node took with the substance engine on `as_of` (never rewritten). Follow-ups are
written by either side within an incident. Entities (a wallet, a company, ...) hang off an
incident, a follow-up or a hotline message and are found by `(kind, normalized)`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from liaison.store.attachments import AttachmentColumns
from liaison.store.base import Base, SharedRecord, UTCDateTime, utcnow


class IncidentKind(StrEnum):
    SEIZURE = "seizure"
    SUSPICIOUS_SHIPMENT = "suspicious_shipment"
    STOPPED_SHIPMENT = "stopped_shipment"
    ATTEMPTED_DIVERSION = "attempted_diversion"
    CLANDESTINE_LAB = "clandestine_lab"
    OTHER = "other"


class Conveyance(StrEnum):
    AIR_CARGO = "air_cargo"
    POSTAL = "postal"
    EXPRESS_COURIER = "express_courier"
    SEA_CONTAINER = "sea_container"
    VEHICLE = "vehicle"
    PERSON = "person"
    OTHER = "other"


class Unit(StrEnum):
    G = "g"
    KG = "kg"
    LB = "lb"
    OZ = "oz"
    MG = "mg"
    L = "L"
    ML = "mL"
    TABLETS = "tablets"
    UNITS = "units"


class Form(StrEnum):
    POWDER = "powder"
    TABLETS = "tablets"
    LIQUID = "liquid"
    BLOTTER = "blotter"
    OTHER = "other"


class EntityKind(StrEnum):
    COMPANY = "company"
    ADDRESS = "address"
    PHONE = "phone"
    EMAIL = "email"
    BANK_ACCOUNT = "bank_account"
    CRYPTO_WALLET = "crypto_wallet"
    VESSEL = "vessel"
    FLIGHT = "flight"
    TRACKING_NUMBER = "tracking_number"


class FollowUpStatus(StrEnum):
    INVESTIGATION_OPENED = "investigation_opened"
    ARRESTS = "arrests"
    NO_ACTION = "no_action"
    INFORMATION = "information"


class HandlingCode(StrEnum):
    """Europol-style handling codes, chosen by the writer, honoured by the receiver."""

    NONE = "none"  # no restriction beyond the agreement
    NO_ONWARD = "no_onward"  # do not pass on without the sender's permission
    INFO_ONLY = "info_only"  # for information only, not for use as evidence


class SourceReliability(StrEnum):
    """The 4x4 grading: how far the source is trusted (A-D)."""

    A = "A"  # no doubt of authenticity, trustworthiness, competence
    B = "B"  # source proven reliable in most instances
    C = "C"  # source proven unreliable in most instances
    D = "D"  # reliability cannot be assessed


class InformationAccuracy(StrEnum):
    """The 4x4 grading: how accurate the information is (1-4)."""

    KNOWN = "1"  # known to be true without reservation
    KNOWN_TO_SOURCE = "2"  # known personally to the source, not to the official passing it
    NOT_KNOWN = "3"  # not known personally to the source, corroborated by other information
    UNCORROBORATED = "4"  # not known personally to the source, cannot be corroborated


INCIDENT_KINDS: tuple[str, ...] = tuple(IncidentKind)
CONVEYANCES: tuple[str, ...] = tuple(Conveyance)
UNITS: tuple[str, ...] = tuple(Unit)
FORMS: tuple[str, ...] = tuple(Form)
ENTITY_KINDS: tuple[str, ...] = tuple(EntityKind)
FOLLOW_UP_STATUSES: tuple[str, ...] = tuple(FollowUpStatus)
HANDLING_CODES: tuple[str, ...] = tuple(HandlingCode)
RELIABILITIES: tuple[str, ...] = tuple(SourceReliability)
ACCURACIES: tuple[str, ...] = tuple(InformationAccuracy)


class Incident(SharedRecord, Base):
    __tablename__ = "incidents"
    __table_args__ = (
        sa.Index("ix_incidents_occurred_on_owner", "occurred_on", "owner_node"),
        sa.Index("ix_incidents_kind_occurred_on", "kind", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    kind: Mapped[str] = mapped_column(sa.String(32))
    occurred_on: Mapped[date] = mapped_column(sa.Date)
    reporting_agency: Mapped[str] = mapped_column(sa.String(200))
    created_by: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str] = mapped_column(sa.String(2), index=True)
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    port_code: Mapped[str | None] = mapped_column(sa.String(8))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    conveyance: Mapped[str] = mapped_column(sa.String(32))
    # Country codes in travel order, joined by ">" (origin, transits, destination).
    route: Mapped[str] = mapped_column(sa.String(200), default="")
    narrative: Mapped[str] = mapped_column(sa.Text, default="")
    urgent: Mapped[bool] = mapped_column(default=False)
    handling_code: Mapped[str] = mapped_column(sa.String(16), default=HandlingCode.NONE)
    source_reliability: Mapped[str | None] = mapped_column(sa.String(1))
    information_accuracy: Mapped[str | None] = mapped_column(sa.String(1))

    items: Mapped[list[IncidentItem]] = relationship(
        back_populates="incident", order_by="IncidentItem.position"
    )
    entities: Mapped[list[IncidentEntity]] = relationship(
        foreign_keys="IncidentEntity.incident_id", order_by="IncidentEntity.id"
    )
    shares: Mapped[list[IncidentShare]] = relationship(back_populates="incident")
    follow_ups: Mapped[list[IncidentFollowUp]] = relationship(
        back_populates="incident", order_by="IncidentFollowUp.id"
    )
    attachments: Mapped[list[IncidentAttachment]] = relationship(
        primaryjoin="IncidentAttachment.incident_id == Incident.id",
        order_by="IncidentAttachment.id",
    )

    def peer_ids(self) -> frozenset[int]:
        return frozenset(share.peer_id for share in self.shares)


class IncidentShare(Base):
    """A peer an incident is shared with (for a received one: the peer it came from)."""

    __tablename__ = "incident_shares"
    __table_args__ = (sa.UniqueConstraint("incident_id", "peer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(sa.ForeignKey("incidents.id"), index=True)
    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("peers.id"), index=True)

    incident: Mapped[Incident] = relationship(back_populates="shares")


class IncidentItem(Base):
    __tablename__ = "incident_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(sa.ForeignKey("incidents.id"), index=True)
    position: Mapped[int] = mapped_column()
    substance: Mapped[str] = mapped_column(sa.String(2000))
    quantity: Mapped[float] = mapped_column(sa.Float)
    unit: Mapped[str] = mapped_column(sa.String(16))
    grams: Mapped[float | None] = mapped_column(sa.Float)  # None: not a mass (L, tablets)
    purity_percent: Mapped[float | None] = mapped_column(sa.Float)
    form: Mapped[str | None] = mapped_column(sa.String(16))
    packaging: Mapped[str] = mapped_column(sa.String(200), default="")
    # The snapshot: {jurisdiction: {"status", "basis", "explanation"}} on `as_of`.
    verdicts: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    as_of: Mapped[date] = mapped_column(sa.Date)
    # The distinct statuses of `verdicts`, ",a,b,", so that a filter is one LIKE.
    statuses: Mapped[str] = mapped_column(sa.String(120), index=True)
    # What the engine called it (the headline substance name), for grouping.
    substance_label: Mapped[str] = mapped_column(sa.String(200), index=True)
    standardized_smiles: Mapped[str | None] = mapped_column(sa.Text)

    incident: Mapped[Incident] = relationship(back_populates="items")


class IncidentFollowUp(SharedRecord, Base):
    __tablename__ = "incident_follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(sa.ForeignKey("incidents.id"), index=True)
    author: Mapped[str] = mapped_column(sa.String(200))
    author_agency: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str | None] = mapped_column(sa.String(32))

    incident: Mapped[Incident] = relationship(back_populates="follow_ups")
    entities: Mapped[list[IncidentEntity]] = relationship(
        primaryjoin="IncidentEntity.follow_up_id == IncidentFollowUp.id",
        order_by="IncidentEntity.id",
        viewonly=True,
    )
    attachments: Mapped[list[IncidentAttachment]] = relationship(
        primaryjoin="IncidentAttachment.follow_up_id == IncidentFollowUp.id",
        order_by="IncidentAttachment.id",
    )


class IncidentEntity(Base):
    """One mention of an entity, on exactly one of an incident, a follow-up or a hotline
    message; `(kind, normalized)` is the entity itself."""

    __tablename__ = "entity_mentions"
    __table_args__ = (sa.Index("ix_entity_mentions_kind_normalized", "kind", "normalized"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("incidents.id"), index=True)
    follow_up_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("incident_follow_ups.id"), index=True
    )
    hotline_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("hotline_messages.id"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(32))
    chain: Mapped[str | None] = mapped_column(sa.String(32))
    value: Mapped[str] = mapped_column(sa.String(500))  # as written
    normalized: Mapped[str] = mapped_column(sa.String(500))
    role: Mapped[str] = mapped_column(sa.String(64), default="")


class FocalPoint(Base):
    """A user of an agency told when an urgent incident arrives from a peer."""

    __tablename__ = "incident_focal_points"
    __table_args__ = (sa.UniqueConstraint("agency", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency: Mapped[str] = mapped_column(sa.String(200), index=True)
    username: Mapped[str] = mapped_column(sa.String(200))


class IncidentAlert(Base):
    """A desk notice to one focal point about one arrived urgent incident."""

    __tablename__ = "incident_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(sa.ForeignKey("incidents.id"), index=True)
    agency: Mapped[str] = mapped_column(sa.String(200))
    username: Mapped[str] = mapped_column(sa.String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IncidentRevision(SharedRecord, Base):
    """An edit of an incident by its owner: the version it made and the values it replaced,
    so nothing is overwritten without a trace (on both nodes)."""

    __tablename__ = "incident_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(sa.ForeignKey("incidents.id"), index=True)
    version: Mapped[int] = mapped_column()
    changed_by: Mapped[str] = mapped_column(sa.String(200))
    previous: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  # field -> value before
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  # field -> value after

    incident: Mapped[Incident] = relationship()


class SeizureSummary(Base):
    """The seizure dashboard's figures per dimension, group, day, owner and substance, kept
    on write (liaison.services.incidents.summary) so that the dashboard sums a few
    thousand rows instead of every item. Masses, not doses: the dose defaults are applied
    when the dashboard is read, so a change of a default needs no rebuild.

    `incidents` counts each incident once per group: for `substance` once per substance
    it has; for the other dimensions on the row of its first substance (in sort order),
    so that the rows of a group add up to its incidents. `items` is how many items the
    row sums (a row of no item is deleted)."""

    __tablename__ = "incident_seizure_summary"
    __table_args__ = (sa.Index("ix_incident_seizure_summary_day", "dimension", "occurred_on"),)

    dimension: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    occurred_on: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    owner_node: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    substance: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    incidents: Mapped[int] = mapped_column()
    items: Mapped[int] = mapped_column()
    grams: Mapped[float] = mapped_column(sa.Float)
    pure_grams: Mapped[float] = mapped_column(sa.Float)


class IncidentAttachment(AttachmentColumns, Base):
    """A document on an incident or on one of its follow-ups (exactly one of the two), under
    the hotline's rules: size and type limits, the bytes checked against their SHA-256 on
    arrival."""

    __tablename__ = "incident_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("incidents.id"), index=True)
    follow_up_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("incident_follow_ups.id"), index=True
    )
