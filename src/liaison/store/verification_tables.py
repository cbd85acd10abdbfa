"""Nationality verification cases, their events (decision, steps, holds), the per-peer
agreement that sets deadlines and refused fields, and the registry extract's imports.

A case belongs to the requesting node (`owner_node`); each event belongs to the node that
wrote it, within the case. Every field that identifies a person is sealed (AES-GCM, the
node's own key, see liaison.services.verification.sealing) in `subject_sealed` and
`data_sealed`; what stays in clear is what statistics and deadlines need: statuses,
kinds, times and counts.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from liaison.store.base import Base, SharedRecord, UTCDateTime, utcnow


class CaseStatus(StrEnum):
    REQUESTED = "requested"
    INFORMATION_REQUESTED = "information_requested"
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not_confirmed"
    TRAVEL_DOCUMENT_ISSUED = "travel_document_issued"
    TRAVEL_SCHEDULED = "travel_scheduled"
    RETURNED = "returned"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Decision(StrEnum):
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not_confirmed"
    INFORMATION_REQUESTED = "information_requested"


class Step(StrEnum):
    TRAVEL_DOCUMENT_ISSUED = "travel_document_issued"  # verifying side
    TRAVEL_SCHEDULED = "travel_scheduled"  # requesting side, from here on
    RETURNED = "returned"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    CONSULAR_INTERVIEW = "consular_interview"  # verifying side, when evidence is lacking
    DEADLINE_EXTENDED = "deadline_extended"  # verifying side, a reasoned request
    RETURNED_IN_ERROR = "returned_in_error"  # verifying side: taken back through the case
    # Requesting side: the information asked for; the case goes back to matching.
    INFORMATION_SUPPLIED = "information_supplied"


class HoldKind(StrEnum):
    ASYLUM = "asylum"
    NON_REFOULEMENT = "non_refoulement"
    TORTURE_CONVENTION = "torture_convention"
    COURT_ORDER = "court_order"
    OTHER = "other"


class EventKind(StrEnum):
    DECISION = "decision"
    STEP = "step"
    HOLD = "hold"
    LIFT = "lift"


class EvidenceTier(StrEnum):
    PROVING = "proving"  # a passport, an identity card: prove nationality
    STARTING = "starting"  # a photocopy, a driving licence, a statement: start a check
    NONE = "none"


CASE_STATUSES: tuple[CaseStatus, ...] = tuple(CaseStatus)
DECISIONS: tuple[Decision, ...] = tuple(Decision)
STEPS: tuple[Step, ...] = tuple(Step)
HOLD_KINDS: tuple[HoldKind, ...] = tuple(HoldKind)
EVENT_KINDS: tuple[EventKind, ...] = tuple(EventKind)
EVIDENCE_TIERS: tuple[EvidenceTier, ...] = tuple(EvidenceTier)


def _in(column: str, values: tuple[StrEnum, ...]) -> str:
    return f"{column} in ({', '.join(repr(str(v)) for v in values)})"


class VerificationCase(SharedRecord, Base):
    __tablename__ = "verification_cases"
    __table_args__ = (
        sa.CheckConstraint(_in("status", CASE_STATUSES), name="status"),
        sa.CheckConstraint(_in("evidence", EVIDENCE_TIERS), name="evidence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The node at the other end: the verifying node on the requesting side, and back.
    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("peers.id"), index=True)
    reference: Mapped[str] = mapped_column(sa.String(100), index=True)
    status: Mapped[str] = mapped_column(sa.String(32), index=True)
    evidence: Mapped[str] = mapped_column(sa.String(16))
    # Some document relates to a protection claim (the person says so): shown on both sides.
    protection_claim: Mapped[bool] = mapped_column(default=False)
    requester_agency: Mapped[str] = mapped_column(sa.String(200))
    created_by: Mapped[str] = mapped_column(sa.String(200))
    # The deadline of the step the case now waits for, fixed by the side that wrote the
    # last event and carried with it, so both sides flag the same moment as overdue.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    due_step: Mapped[str | None] = mapped_column(sa.String(32))
    # Whether the agreement with the peer lets silence past `due_at` count as agreement.
    silence_agrees: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Set by `liaison verification purge`: the sealed fields are gone, statistics remain.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    subject_sealed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    events: Mapped[list[VerificationEvent]] = relationship(
        back_populates="case", order_by="VerificationEvent.id"
    )


class VerificationEvent(SharedRecord, Base):
    """A decision, a step, a hold or the lifting of one, written within a case."""

    __tablename__ = "verification_events"
    __table_args__ = (sa.CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("verification_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    # The decision, the step or the hold kind; for a lift, the lifted hold's kind.
    name: Mapped[str] = mapped_column(sa.String(32))
    author: Mapped[str] = mapped_column(sa.String(200))
    author_agency: Mapped[str] = mapped_column(sa.String(200))
    # For a lift: the global id of the hold it lifts.
    target: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    data_sealed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    case: Mapped[VerificationCase] = relationship(back_populates="events")


class VerificationAgreement(Base):
    """What the readmission agreement with one peer sets: deadlines per step (days, the
    longer limit a reasoned request may extend to, whether silence counts as agreement)
    and the fields the law forbids sharing with that peer, each with its reason."""

    __tablename__ = "verification_agreements"

    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("peers.id"), primary_key=True)
    # JSON: {"decision": {"days": 30, "extendable_to": 60, "silence_agrees": false}, ...}
    deadlines: Mapped[str] = mapped_column(sa.Text, default="{}")
    # JSON: {"criminal_record": "why it may not be shared", ...}
    refused_fields: Mapped[str] = mapped_column(sa.Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RegistryImport(Base):
    """One import of the population registry extract; the newest is the one in use."""

    __tablename__ = "registry_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(sa.String(500))
    file: Mapped[str] = mapped_column(sa.String(200))  # in the node directory
    people: Mapped[int] = mapped_column(sa.Integer)
    problems: Mapped[int] = mapped_column(sa.Integer)
    imported_by: Mapped[str] = mapped_column(sa.String(200))
