"""Writing verification cases: open, decide, take a step, record or lift a protection
hold; the agreement with a peer; purge after the retention period; key rotation.

Each command validates, writes (personal fields sealed with the node's key), queues the
record for the peer in the same transaction (outbox), audits and publishes a live event;
the caller commits.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.audit import (
    Actor,
    AgreementChanged,
    CaseEventWritten,
    CaseOpened,
    PersonalDataKeyRotated,
    PersonalDataPurged,
    lock_head,
    record,
)
from liaison.capabilities import Capability, may
from liaison.errors import Conflict, Forbidden, InvalidInput
from liaison.federation import outbox
from liaison.federation.notify import LiveEvent, publish_after_commit
from liaison.federation.peers import active_peer
from liaison.messages import T, joined
from liaison.services.verification import rules
from liaison.services.verification.queries import agreement_with, get_case, peer_of
from liaison.services.verification.records import (
    CASE,
    EVENT,
    VERIFIERS,
    CasePayload,
    EventPayload,
    change_case,
    event_changes,
    keyring_of,
    own_signing_key,
    pair_seal,
    supplement_subject,
)
from liaison.store.base import utcnow
from liaison.store.federation_tables import Peer, PeerStatus
from liaison.store.verification_tables import (
    CaseStatus,
    EventKind,
    HoldKind,
    Step,
    VerificationAgreement,
    VerificationCase,
    VerificationEvent,
)


def _publish(session: Session, case: VerificationCase) -> None:
    publish_after_commit(
        session, LiveEvent("verification", {"case": case.id}, frozenset({VERIFIERS}))
    )


def _require(actor: Actor, capability: Capability, what: str) -> None:
    if actor.role is not None and not may(actor.role, capability):
        raise Forbidden(T("your role (%(role)s) may not %(what)s", role=actor.role, what=what))


def open_case(
    session: Session,
    node: rules.VerificationNode,
    actor: Actor,
    *,
    peer: str,
    subject: dict[str, Any],
    grounds: str,
    reference: str,
) -> VerificationCase:
    """Open a case with the verifying peer and queue it; the caller commits."""
    target = active_peer(session, peer)
    clean = rules.check_subject(subject)
    grounds = rules.check_reason(grounds, "grounds")
    reference = rules.check_reference(reference)
    agreement = agreement_with(session, target)
    refused = rules.refused_fields(clean, agreement)
    if refused:
        raise InvalidInput(
            joined(
                T(
                    "subject.%(field)s may not be shared with %(peer)s: %(why)s",
                    field=field,
                    peer=target.name,
                    why=why,
                )
                for field, why in refused.items()
            )
        )
    now = utcnow()
    due_step, due_at = rules.next_due(CaseStatus.REQUESTED, agreement, now)
    case = VerificationCase(
        peer_id=target.id,
        owner_node=node.name,
        created_at=now,
        reference=reference,
        status=CaseStatus.REQUESTED,
        evidence=rules.evidence_tier(clean),
        protection_claim=rules.has_protection_claim(clean),
        requester_agency=actor.agency or node.name,
        created_by=actor.name,
        due_at=due_at,
        due_step=due_step,
        silence_agrees=agreement.deadline("decision").silence_agrees,
        updated_at=now,
    )
    session.add(case)
    session.flush()  # the global id, which the sealed subject is bound to
    case.subject_sealed = keyring_of(node).seal(
        {"subject": clean, "grounds": grounds}, case.global_id
    )
    payload = CasePayload(
        global_id=case.global_id,
        owner_node=case.owner_node,
        created_at=now,
        reference=reference,
        requester_agency=case.requester_agency,
        created_by=case.created_by,
        evidence=case.evidence,
        protection_claim=case.protection_claim,
        due_at=due_at,
        due_step=due_step,
        silence_agrees=case.silence_agrees,
        sealed=pair_seal(own_signing_key(node), node.name, target).seal(
            {"subject": clean, "grounds": grounds}, case.global_id
        ),
    )
    outbox.share(session, target, CASE.name, payload.to_payload())
    record(
        session,
        actor,
        CaseOpened(
            record_id=case.global_id,
            peer=target.name,
            reference=reference,
            evidence=case.evidence,
            protection_claim=case.protection_claim,
        ),
    )
    _publish(session, case)
    return case


def _write_event(
    session: Session,
    node: rules.VerificationNode,
    actor: Actor,
    case: VerificationCase,
    kind: EventKind,
    name: str,
    data: dict[str, str],
    target: str | None = None,
) -> VerificationEvent:
    peer = peer_of(session, case)
    if peer.status != PeerStatus.ACTIVE:
        raise Conflict(
            T(
                "the peer %(peer)s is %(status)s; the case is read-only",
                peer=repr(peer.name),
                status=peer.status,
            )
        )
    data = {k: v.strip() for k, v in data.items() if isinstance(v, str) and v.strip()}
    event = VerificationEvent(
        case_id=case.id,
        owner_node=node.name,
        created_at=utcnow(),
        kind=kind,
        name=name,
        author=actor.name,
        author_agency=actor.agency or node.name,
        target=target,
    )
    agreement = agreement_with(session, peer)
    changes = event_changes(case, event, data, node.name, agreement, received=False)
    session.add(event)
    case.events.append(event)
    session.flush()
    if data:
        event.data_sealed = keyring_of(node).seal(data, event.global_id)
    payload = EventPayload(
        global_id=event.global_id,
        owner_node=node.name,
        created_at=event.created_at,
        case=case.global_id,
        kind=kind,
        name=event.name,
        author=event.author,
        author_agency=event.author_agency,
        target=target,
        due_at=event.due_at,
        sealed=pair_seal(own_signing_key(node), node.name, peer).seal(data, event.global_id)
        if data
        else "",
    )
    outbox.share(session, peer, EVENT.name, payload.to_payload())
    record(
        session,
        actor,
        CaseEventWritten(
            record_id=case.global_id,
            event=event.global_id,
            kind=kind,
            name=event.name,
            status=changes.get("status", case.status),
            # Reasons can name people: the trail keeps that one was given, not its text.
            reason="given" if data.get("reason") else "",
        ),
    )
    # The case's row is changed only after the audit head is locked, as the inbox changes
    # it for the peer's events (audit.lock_head: the other order deadlocks with them).
    change_case(case, changes)
    _publish(session, case)
    return event


def decide(
    session: Session,
    node: rules.VerificationNode,
    actor: Actor,
    case_id: int,
    *,
    decision: str,
    reason: str,
    person_id: str | None = None,
) -> VerificationEvent:
    """The verifying side's decision, with its reason; the caller commits."""
    _require(actor, Capability.VERIFY_NATIONALITY, T("decide a verification"))
    case = get_case(session, case_id)
    data = {"reason": reason, "person_id": person_id or ""}
    return _write_event(session, node, actor, case, EventKind.DECISION, decision, data)


def take_step(
    session: Session,
    node: rules.VerificationNode,
    actor: Actor,
    case_id: int,
    step: str,
    data: dict[str, str],
) -> VerificationEvent:
    """A step of the return (or a consular interview, a deadline extension); the caller
    commits. Refused (409) while a protection hold stands for travel and return steps."""
    case = get_case(session, case_id)
    side = rules.STEP_SIDE.get(step)
    if side is rules.Side.VERIFYING:
        _require(actor, Capability.VERIFY_NATIONALITY, T("take the step %(step)s", step=step))
    elif side is rules.Side.REQUESTING:
        _require(actor, Capability.REQUEST_VERIFICATION, T("take the step %(step)s", step=step))
    event = _write_event(session, node, actor, case, EventKind.STEP, step, data)
    if step == Step.INFORMATION_SUPPLIED:
        peer = peer_of(session, case)
        supplement_subject(case, data, keyring_of(node), agreement_with(session, peer), peer.name)
    return event


def record_hold(
    session: Session,
    node: rules.VerificationNode,
    actor: Actor,
    case_id: int,
    *,
    kind: str,
    reason: str,
) -> VerificationEvent:
    """Record that a protection claim is pending; it travels to the peer at once."""
    if kind not in tuple(HoldKind):
        raise InvalidInput(T("kind must be one of %(kinds)s", kinds=", ".join(HoldKind)))
    case = get_case(session, case_id)
    if case.status in rules.FINAL:
        raise Conflict(T("the case is %(status)s", status=case.status))
    return _write_event(session, node, actor, case, EventKind.HOLD, kind, {"reason": reason})


def lift_hold(
    session: Session,
    node: rules.VerificationNode,
    actor: Actor,
    case_id: int,
    hold_id: int,
    *,
    reason: str,
) -> VerificationEvent:
    _require(actor, Capability.LIFT_HOLDS, T("lift a protection hold"))
    case = get_case(session, case_id)
    hold = next((e for e in case.events if e.id == hold_id and e.kind == EventKind.HOLD), None)
    if hold is None:
        raise InvalidInput(
            T("case %(case_id)s has no hold %(hold_id)s", case_id=case_id, hold_id=hold_id)
        )
    return _write_event(
        session, node, actor, case, EventKind.LIFT, hold.name, {"reason": reason}, hold.global_id
    )


def set_agreement(
    session: Session,
    actor: Actor,
    peer: str,
    *,
    deadlines: dict[str, rules.Deadline] | None = None,
    refused_fields: dict[str, str] | None = None,
) -> rules.Agreement:
    """Set (merge) the terms with a peer: deadlines per step, fields refused with a reason."""
    target = session.execute(sa.select(Peer).where(Peer.name == peer)).scalar_one_or_none()
    if target is None:
        raise InvalidInput(T("no peer named %(peer)s", peer=repr(peer)))
    current = agreement_with(session, target)
    merged_deadlines = dict(current.deadlines)
    for step, terms in (deadlines or {}).items():
        rules.check_deadline_terms(step, terms)
        merged_deadlines[step] = terms
    merged_fields = dict(current.refused_fields)
    for field, why in (refused_fields or {}).items():
        rules.check_field_name(field)
        merged_fields[field] = rules.check_reason(why)
    row = session.get(VerificationAgreement, target.id) or VerificationAgreement(peer_id=target.id)
    row.deadlines = json.dumps({s: t.as_json() for s, t in merged_deadlines.items()})
    row.refused_fields = json.dumps(merged_fields, ensure_ascii=False)
    row.updated_at = utcnow()
    session.add(row)
    record(
        session,
        actor,
        AgreementChanged(
            record_id=target.name,
            deadlines={s: t.as_json() for s, t in merged_deadlines.items()},
            refused_fields=merged_fields,
        ),
    )
    return rules.Agreement(merged_deadlines, merged_fields)


def purge(
    session: Session, actor: Actor, *, retention_days: int, now: datetime | None = None
) -> list[str]:
    """Drop the personal fields of cases closed or withdrawn more than `retention_days`
    ago; statuses, times and counts stay for the statistics. Returns the purged global
    ids; the caller commits."""
    if retention_days < 0:
        raise InvalidInput(T("the retention period must be 0 days or more"))
    horizon = (now or utcnow()) - timedelta(days=retention_days)
    lock_head(session)  # before the cases' rows, as the inbox takes them (audit.lock_head)
    cases = list(
        session.execute(
            sa.select(VerificationCase).where(
                VerificationCase.closed_at < horizon, VerificationCase.purged_at.is_(None)
            )
        ).scalars()
    )
    moment = utcnow()
    for case in cases:
        case.subject_sealed = None
        case.purged_at = moment
        for event in case.events:
            event.data_sealed = None
    if cases:
        record(
            session,
            actor,
            PersonalDataPurged(
                cases=[c.global_id for c in cases], closed_before=horizon.isoformat()
            ),
        )
    return [c.global_id for c in cases]


def rotate_key(session: Session, node: rules.VerificationNode, actor: Actor) -> int:
    """A new personal-data key: every sealed value is opened and sealed again with it, in
    this transaction, which commits here; then the old keys are dropped from the key file.
    A crash in between leaves both keys in the file, so nothing is ever unreadable."""
    keyring = keyring_of(node).with_new_key()
    resealed = 0
    lock_head(session)  # before the cases' rows, as the inbox takes them (audit.lock_head)
    cases = session.execute(
        sa.select(VerificationCase).where(VerificationCase.subject_sealed.is_not(None))
    ).scalars()
    for case in cases:
        assert case.subject_sealed is not None
        case.subject_sealed = keyring.reseal(case.subject_sealed, case.global_id)
        resealed += 1
    events = session.execute(
        sa.select(VerificationEvent).where(VerificationEvent.data_sealed.is_not(None))
    ).scalars()
    for event in events:
        assert event.data_sealed is not None
        event.data_sealed = keyring.reseal(event.data_sealed, event.global_id)
        resealed += 1
    record(session, actor, PersonalDataKeyRotated(key=keyring.current, resealed=resealed))
    session.commit()
    keyring.without_old_keys()
    return resealed
