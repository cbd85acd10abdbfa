"""Verification's shared records: the case (written by the requesting node) and the
events written within it by either node (decision, steps, holds, lifts).

The case lets the peer `REPLY`: the verifying node writes its decision and steps within
it. liaison.federation.records checks ownership before the handlers below run; the
handlers then check the rules of the case (which side takes which step, in which status,
whether a protection hold stands, which fields the law forbids receiving from that peer)
with the same functions the writing node used, so a step the sender should not have
taken is refused here too. `RECORD_TYPES` is registered by the runtime.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from sqlalchemy.orm import Session

from liaison.audit import Actor, CaseReceived, EventReceived, record
from liaison.errors import ConfigurationError, Conflict
from liaison.federation.context import LocalNode
from liaison.federation.notify import LiveEvent, publish_after_commit
from liaison.federation.records import (
    PeerMay,
    ProtocolViolation,
    RecordType,
    global_id,
    require,
)
from liaison.services.hotline.records import parse_stamp, stamp
from liaison.services.verification import rules
from liaison.services.verification.sealing import Keyring
from liaison.store.federation_tables import Peer
from liaison.store.verification_tables import (
    EVENT_KINDS,
    EVIDENCE_TIERS,
    CaseStatus,
    EventKind,
    HoldKind,
    VerificationCase,
    VerificationEvent,
)

MAX_NAME = 200
VERIFIERS = "verification"  # the live-event audience on each node


def keyring_of(node: rules.VerificationNode) -> Keyring:
    if node.directory is None:
        raise ConfigurationError("this node has no directory for its personal-data key")
    return Keyring.of(node.directory)


def _optional_stamp(value: Any, where: str) -> datetime | None:
    return None if value is None else parse_stamp(value, where)


@dataclass(frozen=True)
class CasePayload:
    global_id: str
    owner_node: str
    created_at: datetime
    reference: str
    requester_agency: str
    created_by: str
    evidence: str
    protection_claim: bool
    due_at: datetime | None
    due_step: str | None
    silence_agrees: bool
    grounds: str
    subject: dict[str, Any]

    @property
    def within_id(self) -> None:
        return None

    def to_payload(self) -> dict[str, Any]:
        return {
            "global_id": self.global_id,
            "owner_node": self.owner_node,
            "created_at": stamp(self.created_at),
            "reference": self.reference,
            "requester_agency": self.requester_agency,
            "created_by": self.created_by,
            "evidence": self.evidence,
            "protection_claim": self.protection_claim,
            "due_at": stamp(self.due_at),
            "due_step": self.due_step,
            "silence_agrees": self.silence_agrees,
            "grounds": self.grounds,
            "subject": self.subject,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        try:
            subject = rules.check_subject(data.get("subject"))
            grounds = rules.check_reason(data.get("grounds"), "grounds")
            reference = rules.check_reference(str(data.get("reference", "")))
        except ProtocolViolation:
            raise
        except Exception as error:  # InvalidInput from the rules: the peer's record is wrong
            raise ProtocolViolation(str(error)) from error
        evidence = require(data, "evidence")
        if evidence not in EVIDENCE_TIERS or evidence != rules.evidence_tier(subject):
            raise ProtocolViolation(f"evidence {evidence!r} does not match the documents")
        return cls(
            global_id=global_id(data, "global_id"),
            owner_node=require(data, "owner_node"),
            created_at=parse_stamp(data.get("created_at"), "created_at"),
            reference=reference,
            requester_agency=str(require(data, "requester_agency"))[:MAX_NAME],
            created_by=str(require(data, "created_by"))[:MAX_NAME],
            evidence=evidence,
            protection_claim=rules.has_protection_claim(subject),
            due_at=_optional_stamp(data.get("due_at"), "due_at"),
            due_step=data.get("due_step") if isinstance(data.get("due_step"), str) else None,
            silence_agrees=data.get("silence_agrees") is True,
            grounds=grounds,
            subject=subject,
        )


@dataclass(frozen=True)
class EventPayload:
    global_id: str
    owner_node: str
    created_at: datetime
    case: str  # the case's global id
    kind: str
    name: str
    author: str
    author_agency: str
    target: str | None
    due_at: datetime | None
    data: dict[str, Any]

    @property
    def within_id(self) -> str:
        return self.case

    def to_payload(self) -> dict[str, Any]:
        return {
            "global_id": self.global_id,
            "owner_node": self.owner_node,
            "created_at": stamp(self.created_at),
            "case": self.case,
            "kind": self.kind,
            "name": self.name,
            "author": self.author,
            "author_agency": self.author_agency,
            "target": self.target,
            "due_at": stamp(self.due_at),
            "data": self.data,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        kind = require(data, "kind")
        if kind not in EVENT_KINDS:
            raise ProtocolViolation(f"unknown event kind {kind!r}")
        body = data.get("data", {})
        if not isinstance(body, dict) or not all(
            isinstance(v, (str, type(None))) for v in body.values()
        ):
            raise ProtocolViolation("'data' must be an object of text values")
        target = data.get("target")
        return cls(
            global_id=global_id(data, "global_id"),
            owner_node=require(data, "owner_node"),
            created_at=parse_stamp(data.get("created_at"), "created_at"),
            case=global_id(data, "case"),
            kind=kind,
            name=str(require(data, "name"))[:32],
            author=str(require(data, "author"))[:MAX_NAME],
            author_agency=str(data.get("author_agency", ""))[:MAX_NAME],
            target=None if target is None else global_id(data, "target"),
            due_at=_optional_stamp(data.get("due_at"), "due_at"),
            data={k: v for k, v in body.items() if v},
        )


# ---------------------------------------------------------------- applying an event


def apply_event(
    case: VerificationCase,
    event: VerificationEvent,
    data: dict[str, Any],
    author_node: str,
    agreement: rules.Agreement,
    *,
    received: bool,
) -> None:
    """Check an event against the case's rules and apply it to the case (status, due
    date). The same function on the node that writes it and on the node that receives
    it: each refuses what the rules refuse. The writer fixes the next deadline from its
    agreement and sends it with the event; the receiving side keeps it as sent, so both
    flag the same moment as overdue."""
    side = rules.author_side(case, author_node)
    status: str | None = None
    if event.kind == EventKind.DECISION:
        status = rules.check_decision(case, side, {**data, "decision": event.name})
    elif event.kind == EventKind.STEP:
        status = rules.check_step(case, side, event.name, data, rules.standing_holds(case.events))
        if event.name == "deadline_extended":
            case.due_at = event.due_at if received else rules.extended_due(case, agreement)
            event.due_at = case.due_at
    elif event.kind == EventKind.HOLD:
        if event.name not in tuple(HoldKind):
            raise ProtocolViolation(f"unknown hold kind {event.name!r}")
        rules.check_reason(data.get("reason"))
    elif event.kind == EventKind.LIFT:
        standing = {h.global_id: h for h in rules.standing_holds(case.events)}
        if event.target not in standing:
            raise Conflict(f"hold {event.target} does not stand on this case")
        rules.check_reason(data.get("reason"))
        event.name = standing[event.target].name
    if status is not None:
        case.status = status
        if received:
            case.due_step, case.due_at = rules.DUE_AFTER.get(status), event.due_at
        else:
            case.due_step, case.due_at = rules.next_due(status, agreement, event.created_at)
            event.due_at = case.due_at
        if status in rules.FINAL:
            case.closed_at = event.created_at
    case.updated_at = event.created_at


def receive_case(
    session: Session, node: LocalNode, peer: Peer, payload: CasePayload, related: Sequence[Any]
) -> None:
    from liaison.services.verification.queries import agreement_with

    refused = rules.refused_fields(payload.subject, agreement_with(session, peer))
    if refused:
        raise ProtocolViolation(
            "the law forbids receiving "
            + "; ".join(f"{field} ({why})" for field, why in refused.items())
            + f" from {peer.name}"
        )
    case = VerificationCase(
        global_id=payload.global_id,
        owner_node=peer.name,
        created_at=payload.created_at,
        peer_id=peer.id,
        reference=payload.reference,
        status=CaseStatus.REQUESTED,
        evidence=payload.evidence,
        protection_claim=payload.protection_claim,
        requester_agency=payload.requester_agency,
        created_by=payload.created_by,
        due_at=payload.due_at,
        due_step=payload.due_step,
        silence_agrees=payload.silence_agrees,
        updated_at=payload.created_at,
    )
    case.subject_sealed = keyring_of(node).seal(
        {"subject": payload.subject, "grounds": payload.grounds}, payload.global_id
    )
    session.add(case)
    session.flush()
    record(
        session,
        Actor.peer(peer.name, payload.requester_agency),
        CaseReceived(
            record_id=case.global_id,
            reference=case.reference,
            evidence=case.evidence,
            protection_claim=case.protection_claim,
        ),
    )
    publish_after_commit(
        session, LiveEvent("verification", {"case": case.id}, frozenset({VERIFIERS}))
    )


def receive_event(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: EventPayload,
    related: Sequence[VerificationCase],
) -> None:
    from liaison.services.verification.queries import agreement_with

    [case] = related
    event = VerificationEvent(
        global_id=payload.global_id,
        owner_node=peer.name,
        created_at=payload.created_at,
        case_id=case.id,
        kind=payload.kind,
        name=payload.name,
        author=payload.author,
        author_agency=payload.author_agency,
        target=payload.target,
        due_at=payload.due_at,
    )
    # The rules run before the event joins the case; a refusal leaves the case unchanged.
    apply_event(case, event, payload.data, peer.name, agreement_with(session, peer), received=True)
    if payload.data:
        event.data_sealed = keyring_of(node).seal(payload.data, payload.global_id)
    session.add(event)
    case.events.append(event)
    session.flush()
    record(
        session,
        Actor.peer(peer.name, payload.author_agency),
        EventReceived(
            record_id=event.global_id,
            case=case.global_id,
            kind=event.kind,
            name=event.name,
            status=case.status,
        ),
    )
    publish_after_commit(
        session, LiveEvent("verification", {"case": case.id}, frozenset({VERIFIERS}))
    )


CASE: RecordType[CasePayload] = RecordType(
    name="verification.case",
    payload=CasePayload,
    model=VerificationCase,
    peer_may=PeerMay.REPLY,
    handle=receive_case,
    shared_with=lambda case: case.peer_id,
)
EVENT: RecordType[EventPayload] = RecordType(
    name="verification.event",
    payload=EventPayload,
    model=VerificationEvent,
    handle=receive_event,
    shared_with=lambda event: event.case.peer_id,
    within=CASE,
)
RECORD_TYPES: tuple[RecordType[Any], ...] = (CASE, EVENT)
