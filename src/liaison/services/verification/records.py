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

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from liaison.audit import Actor, CaseReceived, EventReceived, record
from liaison.config import NODE_KEY_FILE
from liaison.errors import ConfigurationError, Conflict, InvalidInput
from liaison.federation.context import LocalNode
from liaison.federation.envelope import public_key_from_text
from liaison.federation.keys import load_private_key
from liaison.federation.notify import LiveEvent, publish_after_commit
from liaison.federation.records import (
    PeerMay,
    ProtocolViolation,
    RecordType,
    global_id,
    parse_stamp,
    require,
    wire,
)
from liaison.messages import T
from liaison.services.verification import rules
from liaison.services.verification.sealing import Keyring, PairSeal, pair_key
from liaison.store.federation_tables import Peer
from liaison.store.verification_tables import (
    EVENT_KINDS,
    EVIDENCE_TIERS,
    CaseStatus,
    EventKind,
    HoldKind,
    Step,
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


def pair_seal(own: Ed25519PrivateKey, node_name: str, peer: Peer) -> PairSeal:
    """What seals personal data for `peer` and opens what it sealed (see sealing.pair_key)."""
    return PairSeal(pair_key(own, public_key_from_text(peer.public_key), (node_name, peer.name)))


def own_signing_key(node: rules.VerificationNode) -> Ed25519PrivateKey:
    if node.directory is None:
        raise ConfigurationError("this node has no directory for its signing key")
    return load_private_key(node.directory / NODE_KEY_FILE)


@dataclass(frozen=True)
class CasePayload:
    """A case on the wire. `sealed` holds the subject and the grounds, sealed for the
    peer (`pair_seal`); the rest carries nothing that identifies the person."""

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
    sealed: str

    @property
    def within_id(self) -> None:
        return None

    def to_payload(self) -> dict[str, Any]:
        return wire(self)

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        try:
            reference = rules.check_reference(str(data.get("reference", "")))
        except InvalidInput as error:
            raise ProtocolViolation(error.detail) from error
        evidence = require(data, "evidence")
        if evidence not in EVIDENCE_TIERS:
            raise ProtocolViolation(f"unknown evidence tier {evidence!r}")
        return cls(
            global_id=global_id(data, "global_id"),
            owner_node=require(data, "owner_node"),
            created_at=parse_stamp(data.get("created_at"), "created_at"),
            reference=reference,
            requester_agency=str(require(data, "requester_agency"))[:MAX_NAME],
            created_by=str(require(data, "created_by"))[:MAX_NAME],
            evidence=evidence,
            protection_claim=data.get("protection_claim") is True,
            due_at=_optional_stamp(data.get("due_at"), "due_at"),
            due_step=data.get("due_step") if isinstance(data.get("due_step"), str) else None,
            silence_agrees=data.get("silence_agrees") is True,
            sealed=require(data, "sealed"),
        )


def open_case_content(seal: PairSeal, payload: CasePayload) -> tuple[dict[str, Any], str]:
    """The subject and grounds of a peer's case, opened and checked as a local one is."""
    content = seal.open(payload.sealed, payload.global_id)
    if not isinstance(content, dict):
        raise ProtocolViolation("the sealed content of a case must be an object")
    try:
        subject = rules.check_subject(content.get("subject"))
        grounds = rules.check_reason(content.get("grounds"), "grounds")
    except InvalidInput as error:
        raise ProtocolViolation(error.detail) from error
    if payload.evidence != rules.evidence_tier(subject):
        raise ProtocolViolation(f"evidence {payload.evidence!r} does not match the documents")
    if payload.protection_claim != rules.has_protection_claim(subject):
        raise ProtocolViolation("protection_claim does not match the documents")
    return subject, grounds


@dataclass(frozen=True)
class EventPayload:
    """An event on the wire; `sealed` holds its data (reasons, numbers, dates, the
    registry person), sealed for the peer, or is empty when it has none."""

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
    sealed: str

    @property
    def within_id(self) -> str:
        return self.case

    def to_payload(self) -> dict[str, Any]:
        return wire(self)

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        kind = require(data, "kind")
        if kind not in EVENT_KINDS:
            raise ProtocolViolation(f"unknown event kind {kind!r}")
        target = data.get("target")
        sealed = data.get("sealed", "")
        if not isinstance(sealed, str):
            raise ProtocolViolation("'sealed' must be text")
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
            sealed=sealed,
        )


def open_event_data(seal: PairSeal, payload: EventPayload) -> dict[str, str]:
    if not payload.sealed:
        return {}
    data = seal.open(payload.sealed, payload.global_id)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ProtocolViolation("the sealed data of an event must be an object of text values")
    return {str(k): v for k, v in data.items() if v}


# ---------------------------------------------------------------- applying an event


def event_changes(
    case: VerificationCase,
    event: VerificationEvent,
    data: dict[str, Any],
    author_node: str,
    agreement: rules.Agreement,
    *,
    received: bool,
) -> dict[str, Any]:
    """Check an event against the case's rules; what it changes in the case (its columns'
    new values). The same function on the node that writes it and on the node that
    receives it: each refuses what the rules refuse. The writer fixes the next deadline
    from its agreement and sends it with the event (`event.due_at`, set here); the
    receiving side keeps it as sent, so both flag the same moment as overdue."""
    side = rules.author_side(case, author_node)
    changes: dict[str, Any] = {}
    status: str | None = None
    if event.kind == EventKind.DECISION:
        status = rules.check_decision(case, side, {**data, "decision": event.name})
    elif event.kind == EventKind.STEP:
        status = rules.check_step(case, side, event.name, data, rules.standing_holds(case.events))
        if event.name == "deadline_extended":
            due = event.due_at if received else rules.extended_due(case, agreement)
            changes["due_at"] = event.due_at = due
    elif event.kind == EventKind.HOLD:
        if event.name not in tuple(HoldKind):
            raise ProtocolViolation(f"unknown hold kind {event.name!r}")
        rules.check_reason(data.get("reason"))
    elif event.kind == EventKind.LIFT:
        standing = {h.global_id: h for h in rules.standing_holds(case.events)}
        if event.target not in standing:
            raise Conflict(T("hold %(target)s does not stand on this case", target=event.target))
        rules.check_reason(data.get("reason"))
        event.name = standing[event.target].name
    if status is not None:
        changes["status"] = status
        if received:
            changes["due_step"], changes["due_at"] = rules.DUE_AFTER.get(status), event.due_at
        else:
            due_step, event.due_at = rules.next_due(status, agreement, event.created_at)
            changes["due_step"], changes["due_at"] = due_step, event.due_at
        # Closure starts the retention period; a case taken up again (returned in error)
        # is no longer closed.
        changes["closed_at"] = event.created_at if status in rules.FINAL else None
    changes["updated_at"] = event.created_at
    return changes


def change_case(case: VerificationCase, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(case, name, value)


def apply_event(
    case: VerificationCase,
    event: VerificationEvent,
    data: dict[str, Any],
    author_node: str,
    agreement: rules.Agreement,
    *,
    received: bool,
) -> None:
    """Check an event against the case's rules and apply it to the case (event_changes)."""
    change_case(case, event_changes(case, event, data, author_node, agreement, received=received))


def supplement_subject(
    case: VerificationCase,
    data: dict[str, str],
    keyring: Keyring,
    agreement: rules.Agreement,
    peer: str,
) -> None:
    """Put the fields of an information_supplied step into the case's sealed subject, on
    the node that writes the step and on the one that receives it, so that the next
    matching uses them."""
    if case.subject_sealed is None:
        raise Conflict(T("the personal data of this case was purged"))
    content = keyring.open(case.subject_sealed, case.global_id)
    content["subject"] = rules.supplemented(content["subject"], data, agreement, peer)
    case.subject_sealed = keyring.seal(content, case.global_id)


def receive_case(
    session: Session, node: LocalNode, peer: Peer, payload: CasePayload, related: Sequence[Any]
) -> None:
    from liaison.services.verification.queries import agreement_with

    subject, grounds = open_case_content(pair_seal(node.private_key, node.name, peer), payload)
    refused = rules.refused_fields(subject, agreement_with(session, peer))
    if refused:
        raise ProtocolViolation(
            "the law forbids receiving "
            + "; ".join(f"{field} ({why})" for field, why in refused.items())
            + f" from {peer.name}"
        )
    case = _add_case(session, node, peer, payload, peer.name, subject, grounds)
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


def _add_case(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: CasePayload,
    owner: str,
    subject: dict[str, Any],
    grounds: str,
) -> VerificationCase:
    """The case `owner` (this node or `peer`) asked, its subject sealed for this node."""
    case = VerificationCase(
        global_id=payload.global_id,
        owner_node=owner,
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
        {"subject": subject, "grounds": grounds}, payload.global_id
    )
    session.add(case)
    session.flush()
    return case


def recover_case(
    session: Session, node: LocalNode, peer: Peer, payload: CasePayload, related: Sequence[Any]
) -> None:
    """A case this node asked `peer`, lost in a restore from an older backup, as the peer
    sent it back (liaison.federation.resync audits what it took back). Its subject was
    sealed for the pair, so this node opens it as the peer did."""
    subject, grounds = open_case_content(pair_seal(node.private_key, node.name, peer), payload)
    _add_case(session, node, peer, payload, node.name, subject, grounds)


def _add_event(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: EventPayload,
    owner: str,
    case: VerificationCase,
) -> VerificationEvent:
    """The event `owner` (this node or `peer`) wrote in `case`, checked against the case's
    rules and applied to it as sent (its deadline kept as the writer fixed it)."""
    from liaison.services.verification.queries import agreement_with

    data = open_event_data(pair_seal(node.private_key, node.name, peer), payload)
    event = VerificationEvent(
        global_id=payload.global_id,
        owner_node=owner,
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
    agreement = agreement_with(session, peer)
    apply_event(case, event, data, owner, agreement, received=True)
    if event.kind == EventKind.STEP and event.name == Step.INFORMATION_SUPPLIED:
        try:
            supplement_subject(case, data, keyring_of(node), agreement, peer.name)
        except InvalidInput as error:
            raise ProtocolViolation(error.detail) from error
    if data:
        event.data_sealed = keyring_of(node).seal(data, payload.global_id)
    session.add(event)
    case.events.append(event)
    session.flush()
    return event


def receive_event(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: EventPayload,
    related: Sequence[VerificationCase],
) -> None:
    [case] = related
    event = _add_event(session, node, peer, payload, peer.name, case)
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


def recover_event(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: EventPayload,
    related: Sequence[VerificationCase],
) -> None:
    """An event this node wrote (a decision, a step, a hold or its lifting), lost in a
    restore, as the peer sent it back; applied to the case by the same rules, so it comes
    back after the peer's events it followed (refused until the peer has sent those again,
    it waits: liaison.federation.resync asks again later)."""
    [case] = related
    _add_event(session, node, peer, payload, node.name, case)


CASE: RecordType[CasePayload] = RecordType(
    name="verification.case",
    payload=CasePayload,
    model=VerificationCase,
    peer_may=PeerMay.REPLY,
    handle=receive_case,
    shared_with=lambda case: case.peer_id,
    recover=recover_case,
)
EVENT: RecordType[EventPayload] = RecordType(
    name="verification.event",
    payload=EventPayload,
    model=VerificationEvent,
    handle=receive_event,
    shared_with=lambda event: event.case.peer_id,
    within=CASE,
    recover=recover_event,
)
RECORD_TYPES: tuple[RecordType[Any], ...] = (CASE, EVENT)
