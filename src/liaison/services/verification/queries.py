"""Reading verification cases: lists (no personal data), a case with its personal data
(audited with who and why), deadlines, times per step, the subject-access export.

Every user of the node with the right to read verifications sees every case of the node:
casework passes between immigration officers, verifiers and supervisors of one office.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from liaison.audit import Actor, CasesListed, PersonalDataRead, record
from liaison.errors import InvalidInput, NotFound
from liaison.federation import outbox
from liaison.messages import T
from liaison.services.cooperation import Item
from liaison.services.verification import rules
from liaison.services.verification.records import keyring_of
from liaison.store.base import utcnow
from liaison.store.federation_tables import Peer
from liaison.store.verification_tables import (
    CaseStatus,
    Decision,
    EventKind,
    RegistryImport,
    Step,
    VerificationAgreement,
    VerificationCase,
    VerificationEvent,
)


@dataclass(frozen=True)
class CaseSummary:
    case: VerificationCase
    peer: str
    side: rules.Side
    overdue: bool
    holds: int


@dataclass(frozen=True)
class EventView:
    event: VerificationEvent
    data: dict[str, Any]
    lifted: bool
    refused_by_peer: str | None


@dataclass(frozen=True)
class CaseView:
    summary: CaseSummary
    subject: dict[str, Any]  # {} once purged
    grounds: str
    events: list[EventView]
    refused_by_peer: str | None
    silence_counts: bool


def agreement_with(session: Session, peer: Peer) -> rules.Agreement:
    row = session.get(VerificationAgreement, peer.id)
    if row is None:
        return rules.Agreement({}, {})
    return rules.parse_agreement(row.deadlines, row.refused_fields)


def peer_of(session: Session, case: VerificationCase) -> Peer:
    peer = session.get(Peer, case.peer_id)
    if peer is None:  # the foreign key makes this impossible short of corruption
        raise NotFound(T("case %(case)s has no peer", case=case.id))
    return peer


def get_case(session: Session, case_id: int) -> VerificationCase:
    case = session.execute(
        sa.select(VerificationCase)
        .where(VerificationCase.id == case_id)
        .options(selectinload(VerificationCase.events))
    ).scalar_one_or_none()
    if case is None:
        raise NotFound(T("no verification case %(case_id)s", case_id=case_id))
    return case


def _summary(case: VerificationCase, peer: str, node_name: str, now: datetime) -> CaseSummary:
    return CaseSummary(
        case,
        peer,
        rules.side_of(case, node_name),
        rules.is_overdue(case, now),
        len(rules.standing_holds(case.events)),
    )


def summary_of(
    session: Session, node: rules.VerificationNode, case: VerificationCase
) -> CaseSummary:
    return _summary(case, peer_of(session, case).name, node.name, utcnow())


def list_cases(
    session: Session,
    node: rules.VerificationNode,
    actor: Actor,
    *,
    reference: str | None = None,
    status: str | None = None,
    direction: str | None = None,
    overdue: bool | None = None,
) -> list[CaseSummary]:
    """Cases newest first, without personal data; `direction` is `outgoing` (this node
    requested) or `incoming` (this node verifies). Audited as a listing."""
    query = (
        sa.select(VerificationCase, Peer.name)
        .join(Peer, Peer.id == VerificationCase.peer_id)
        .options(selectinload(VerificationCase.events))
        .order_by(VerificationCase.created_at.desc(), VerificationCase.id.desc())
    )
    if reference:
        query = query.where(VerificationCase.reference == reference)
    if status:
        if status not in CaseStatus.__members__.values():
            raise InvalidInput(
                T("status must be one of %(statuses)s", statuses=", ".join(CaseStatus))
            )
        query = query.where(VerificationCase.status == status)
    if direction == "outgoing":
        query = query.where(VerificationCase.owner_node == node.name)
    elif direction == "incoming":
        query = query.where(VerificationCase.owner_node != node.name)
    elif direction:
        raise InvalidInput(T("direction must be outgoing or incoming"))
    now = utcnow()
    result = [_summary(case, peer, node.name, now) for case, peer in session.execute(query)]
    if overdue is not None:
        result = [s for s in result if s.overdue == overdue]
    filters = {"reference": reference, "status": status, "direction": direction}
    record(
        session,
        actor,
        CasesListed(filters={k: v for k, v in filters.items() if v}, results=len(result)),
    )
    return result


def check_why(why: str | None) -> str:
    why = (why or "").strip()
    if not why:
        raise InvalidInput(
            T(
                "say why you read this case's personal data: a `reason` query parameter or "
                "an X-Reason header (it goes to the audit trail)"
            )
        )
    return why[:500]


def read_case(
    session: Session, node: rules.VerificationNode, actor: Actor, case_id: int, why: str | None
) -> CaseView:
    """The case with its personal data, opened with the node's key; audited with who and
    why."""
    why = check_why(why)
    case = get_case(session, case_id)
    keyring = keyring_of(node)
    sealed = (
        {} if case.subject_sealed is None else keyring.open(case.subject_sealed, case.global_id)
    )
    lifted = {e.target for e in case.events if e.kind == EventKind.LIFT}
    refusals = outbox.refusals_of(session, [case.global_id, *(e.global_id for e in case.events)])
    events = [
        EventView(
            event,
            {} if event.data_sealed is None else keyring.open(event.data_sealed, event.global_id),
            event.global_id in lifted,
            refusals.get(event.global_id),
        )
        for event in case.events
    ]
    record(session, actor, PersonalDataRead(record_id=case.global_id, what="case", why=why))
    return CaseView(
        summary_of(session, node, case),
        sealed.get("subject", {}),
        sealed.get("grounds", ""),
        events,
        refusals.get(case.global_id),
        rules.silence_counts(case, utcnow()),
    )


def photograph(
    session: Session,
    node: rules.VerificationNode,
    actor: Actor,
    case_id: int,
    index: int,
    why: str | None,
) -> tuple[str, bytes]:
    """One photograph of the case's subject (content type, bytes); audited with who and
    why, as every read of personal data."""
    why = check_why(why)
    case = get_case(session, case_id)
    if case.subject_sealed is None:
        raise NotFound(T("case %(case_id)s has no personal data (purged)", case_id=case_id))
    subject = keyring_of(node).open(case.subject_sealed, case.global_id)["subject"]
    photographs = subject.get("photographs", [])
    if not 0 <= index < len(photographs):
        raise NotFound(
            T("case %(case_id)s has no photograph %(index)s", case_id=case_id, index=index)
        )
    record(
        session,
        actor,
        PersonalDataRead(record_id=case.global_id, what=f"photograph {index}", why=why),
    )
    return photographs[index]["content_type"], rules.photograph_bytes(photographs[index])


def subject_access_export(
    session: Session, node: rules.VerificationNode, actor: Actor, case_id: int, why: str | None
) -> dict[str, Any]:
    """Everything this node holds on the person of a case, for a subject-access request."""
    view = read_case(session, node, actor, case_id, why)
    case = view.summary.case
    return {
        "case": {
            "global_id": case.global_id,
            "reference": case.reference,
            "requesting_node": case.owner_node,
            "peer": view.summary.peer,
            "status": case.status,
            "opened_at": case.created_at.isoformat(),
            "closed_at": None if case.closed_at is None else case.closed_at.isoformat(),
            "purged_at": None if case.purged_at is None else case.purged_at.isoformat(),
            "protection_claim": case.protection_claim,
        },
        "subject": view.subject,
        "grounds": view.grounds,
        "events": [
            {
                "kind": e.event.kind,
                "name": e.event.name,
                "by": e.event.author,
                "node": e.event.owner_node,
                "at": e.event.created_at.isoformat(),
                "data": e.data,
            }
            for e in view.events
        ],
    }


def step_statistics(session: Session) -> list[rules.StepTimes]:
    """Median and 90th percentile time per step (decision, each step), over every case of
    the node: from the event before it (or the opening) to it. Kept after a purge."""
    durations: dict[str, list[timedelta]] = defaultdict(list)
    cases = session.execute(
        sa.select(VerificationCase).options(selectinload(VerificationCase.events))
    ).scalars()
    for case in cases:
        before = case.created_at
        for event in case.events:
            if event.kind in (EventKind.DECISION, EventKind.STEP):
                name = "decision" if event.kind == EventKind.DECISION else event.name
                durations[name].append(event.created_at - before)
                before = event.created_at
    return rules.step_times(durations)


def current_registry(session: Session) -> RegistryImport | None:
    return session.execute(
        sa.select(RegistryImport).order_by(RegistryImport.id.desc()).limit(1)
    ).scalar_one_or_none()


def agreement_json(agreement: rules.Agreement) -> dict[str, Any]:
    return {
        "deadlines": {step: agreement.deadline(step).as_json() for step in rules.DEADLINE_STEPS},
        "refused_fields": dict(agreement.refused_fields),
    }


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# The steps the overview times, and the steps the requesting side owes when due.
_DECISIONS = frozenset({Decision.CONFIRMED, Decision.NOT_CONFIRMED})
_REQUESTING_DUE = frozenset({Step.TRAVEL_SCHEDULED, Step.RETURNED, Step.CLOSED})


def cooperation_series(
    session: Session, node_name: str, since: datetime, until: datetime
) -> list[Item]:
    """The overview's items: every case opened from `since` until before `until`, sent by
    the requesting node to the verifying one; its steps are the first decision (confirmed
    or not) and the return. What is overdue is owed by the side the due step belongs to
    (the requesting agency for travel, return and closing; the verifying node otherwise,
    whose agency the case does not name). Only non-personal columns are read."""
    cases = session.execute(
        sa.select(VerificationCase)
        .where(VerificationCase.created_at >= since, VerificationCase.created_at < until)
        .options(selectinload(VerificationCase.events))
    ).scalars()
    peers: dict[int, str] = dict(session.execute(sa.select(Peer.id, Peer.name)).all())
    items = []
    for case in cases:
        verifying = peers[case.peer_id] if case.owner_node == node_name else node_name
        decided = [
            e.created_at
            for e in case.events
            if e.kind == EventKind.DECISION and e.name in _DECISIONS
        ]
        returned = [
            e.created_at
            for e in case.events
            if e.kind == EventKind.STEP and e.name == Step.RETURNED
        ]
        requesting_owes = case.due_step in _REQUESTING_DUE
        items.append(
            Item(
                sender=case.owner_node,
                receiver=verifying,
                agency="",
                created_at=case.created_at,
                finished=(min(decided, default=None), min(returned, default=None)),
                due_at=case.due_at,
                closed=case.closed_at is not None or case.status == CaseStatus.WITHDRAWN,
                owed_by=(case.owner_node, case.requester_agency)
                if requesting_owes
                else (verifying, ""),
            )
        )
    return items
