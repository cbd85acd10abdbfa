"""Verification API: nationality verification cases between two peered nodes.

Contract (issue 12): `POST /api/v1/verifications` {"peer", "subject", "grounds",
"reference"} answers 201 with `id` and `global_id`; `GET /api/v1/verifications` (filters
`reference`, `status`, `direction`) answers {"items": [...]}; `GET
/api/v1/verifications/{id}`; `GET /api/v1/verifications/{id}/candidates` (verifying node)
answers {"items": [...]} ranked; `POST .../decision`, `POST .../steps`, `POST .../holds`,
`POST .../holds/{hold_id}/lift`. Reading a case's personal data needs a `reason` (query
parameter or X-Reason header): it goes to the audit trail with the reader.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from liaison.capabilities import Capability
from liaison.services import verification
from liaison.store.verification_tables import CaseStatus, Decision, HoldKind, Step
from liaison.web.auth import Principal, db_session, node_of, require
from liaison.web.idempotency import IdempotencyKeyHeader, create_once
from liaison.web.problems import RowId

router = APIRouter(prefix="/api/v1", tags=["verifications"])
readers = require(Capability.READ_VERIFICATIONS)
requesters = require(Capability.REQUEST_VERIFICATION)
verifiers = require(Capability.VERIFY_NATIONALITY)
hold_writers = require(Capability.RECORD_HOLDS)
hold_lifters = require(Capability.LIFT_HOLDS)
REASON = "Why you read personal data."


def read_reason(
    reason: str | None = Query(None, max_length=500, description=REASON),
    x_reason: str | None = Header(None, alias="X-Reason", description=REASON),
) -> str | None:
    """Why the caller reads a case's personal data: the `reason` query parameter, else the
    X-Reason header."""
    return reason or x_reason


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description=f"One of {', '.join(verification.DOCUMENT_KINDS)}.")
    number: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    protection_claim: bool = Field(
        default=False, description="The person says it relates to a protection claim."
    )


class PhotographIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_type: str = Field(description="image/jpeg or image/png.")
    data: str = Field(description="The image, base64.")


class SubjectIn(BaseModel):
    """The person as known: the REQUESTS columns of `liaison identity match`, the passport
    MRZ and what a readmission request adds. Any field may be empty."""

    model_config = ConfigDict(extra="forbid")

    family_name: str | None = None
    given_name: str | None = None
    family_name_native: str | None = None
    given_name_native: str | None = None
    sex: str | None = Field(default=None, description="M, F or empty.")
    date_of_birth: str | None = Field(default=None, description="YYYY-MM-DD, YYYY-MM or YYYY.")
    place_of_birth: str | None = None
    id_number: str | None = None
    address: str | None = None
    passport_mrz: str | None = None
    school: str | None = None
    work: str | None = None
    criminal_record: str | None = None
    aliases: list[str] = Field(default_factory=list)
    parents: list[str] = Field(default_factory=list)
    family_members: list[str] = Field(default_factory=list)
    past_addresses: list[str] = Field(default_factory=list)
    documents: list[DocumentIn] = Field(default_factory=list)
    photographs: list[PhotographIn] = Field(
        default_factory=list, max_length=3, description="Photographs of the person."
    )


class CaseCreate(BaseModel):
    peer: str = Field(min_length=1, max_length=32, description="The verifying node.")
    subject: SubjectIn
    grounds: str = Field(min_length=1, max_length=2000)
    reference: str = Field(min_length=1, max_length=100, description="Your agency's reference.")


class DecisionIn(BaseModel):
    decision: Decision
    person_id: str | None = Field(default=None, max_length=100)
    reason: str = Field(min_length=1, max_length=2000)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: Step
    number: str | None = Field(default=None, max_length=100)
    valid_until: str | None = Field(default=None, description="YYYY-MM-DD")
    date: str | None = Field(default=None, description="YYYY-MM-DD")
    flight: str | None = Field(default=None, max_length=100)
    place: str | None = Field(default=None, max_length=200)
    outcome: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, max_length=2000)
    information: str | None = Field(
        default=None, max_length=2000, description="information_supplied: what was asked for."
    )
    subject: dict[str, str] | None = Field(
        default=None,
        description="information_supplied: subject fields (the REQUESTS columns, "
        "passport_mrz, school, work) that complete or correct the request.",
    )

    def data(self) -> dict[str, str]:
        values = self.model_dump(exclude={"step", "subject"}, exclude_none=True)
        return {**(self.subject or {}), **{k: str(v) for k, v in values.items()}}


class HoldIn(BaseModel):
    kind: HoldKind
    reason: str = Field(min_length=1, max_length=2000)


class LiftIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class CaseOut(BaseModel):
    """A case without personal data (lists)."""

    id: int
    global_id: str
    reference: str
    peer: str
    origin: str
    direction: str  # outgoing: this node requested; incoming: this node verifies
    status: str
    evidence: str
    protection_claim: bool
    holds: int
    due_step: str | None
    due_at: datetime | None
    overdue: bool
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    purged_at: datetime | None

    @classmethod
    def of(cls, summary: verification.CaseSummary) -> CaseOut:
        case = summary.case
        return cls(
            id=case.id,
            global_id=case.global_id,
            reference=case.reference,
            peer=summary.peer,
            origin=case.owner_node,
            direction="outgoing" if summary.side is verification.Side.REQUESTING else "incoming",
            status=case.status,
            evidence=case.evidence,
            protection_claim=case.protection_claim,
            holds=summary.holds,
            due_step=case.due_step,
            due_at=case.due_at,
            overdue=summary.overdue,
            created_at=case.created_at,
            updated_at=case.updated_at,
            closed_at=case.closed_at,
            purged_at=case.purged_at,
        )


class EventOut(BaseModel):
    id: int
    global_id: str
    kind: str
    name: str
    origin: str
    author: str
    author_agency: str
    created_at: datetime
    due_at: datetime | None
    target: str | None
    lifted: bool
    data: dict[str, Any]
    refused_by_peer: str | None

    @classmethod
    def of(cls, view: verification.EventView) -> EventOut:
        event = view.event
        return cls(
            id=event.id,
            global_id=event.global_id,
            kind=event.kind,
            name=event.name,
            origin=event.owner_node,
            author=event.author,
            author_agency=event.author_agency,
            created_at=event.created_at,
            due_at=event.due_at,
            target=event.target,
            lifted=view.lifted,
            data=view.data,
            refused_by_peer=view.refused_by_peer,
        )


class CaseDetailOut(CaseOut):
    subject: dict[str, Any]
    grounds: str
    events: list[EventOut]
    refused_by_peer: str | None
    silence_counts_as_agreement: bool

    @classmethod
    def of_view(cls, view: verification.CaseView) -> CaseDetailOut:
        return cls(
            **CaseOut.of(view.summary).model_dump(),
            # Photographs by type and size: each is read on its own (.../photographs/{n}).
            subject=verification.without_photographs(view.subject),
            grounds=view.grounds,
            events=[EventOut.of(e) for e in view.events],
            refused_by_peer=view.refused_by_peer,
            silence_counts_as_agreement=view.silence_counts,
        )


class CreatedOut(BaseModel):
    id: int
    global_id: str
    status: str


class EventCreatedOut(BaseModel):
    id: int
    global_id: str
    case_status: str
    due_at: datetime | None


class CandidateOut(BaseModel):
    person_id: str
    match_probability: float
    match_weight: float
    evidence: dict[str, dict[str, str | float]] = Field(
        description="Per field: the comparison level it fell into and its match weight."
    )
    person: dict[str, str] = Field(description="The registry record, for comparison.")


class RegistryOut(BaseModel):
    imported_at: datetime
    people: int
    problems: int
    imported_by: str


class StepTimesOut(BaseModel):
    step: str
    count: int
    median_days: float
    p90_days: float


def _event_out(event: Any) -> EventCreatedOut:
    return EventCreatedOut(
        id=event.id, global_id=event.global_id, case_status=event.case.status, due_at=event.due_at
    )


@router.post("/verifications", response_model=CreatedOut, status_code=201)
def open_case(
    body: CaseCreate,
    request: Request,
    principal: Principal = Depends(requesters),
    session: Session = Depends(db_session),
    idempotency_key: str | None = IdempotencyKeyHeader,
) -> Any:
    """Open a verification case with the verifying peer."""

    def create() -> CreatedOut:
        case = verification.open_case(
            session,
            node_of(request),
            principal.actor,
            peer=body.peer,
            subject=body.subject.model_dump(exclude_none=True),
            grounds=body.grounds,
            reference=body.reference,
        )
        return CreatedOut(id=case.id, global_id=case.global_id, status=case.status)

    return create_once(request, session, principal, idempotency_key, body, create)


@router.get("/verifications")
def list_cases(
    request: Request,
    reference: str | None = Query(None, max_length=100),
    status: CaseStatus | None = None,
    direction: str | None = Query(None, pattern="^(outgoing|incoming)$"),
    overdue: bool | None = None,
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> dict[str, list[CaseOut]]:
    """Cases, newest first, without personal data."""
    summaries = verification.list_cases(
        session,
        node_of(request),
        principal.actor,
        reference=reference,
        status=status,
        direction=direction,
        overdue=overdue,
    )
    items = [CaseOut.of(s) for s in summaries]
    session.commit()
    return {"items": items}


@router.get("/verifications/statistics")
def statistics(
    principal: Principal = Depends(readers), session: Session = Depends(db_session)
) -> dict[str, list[StepTimesOut]]:
    """Median and 90th percentile days per step on this node (no personal data)."""
    times = verification.step_statistics(session)
    return {"items": [StepTimesOut(**vars(t)) for t in times]}


@router.get("/verifications/registry")
def registry_state(
    principal: Principal = Depends(readers), session: Session = Depends(db_session)
) -> dict[str, RegistryOut | None]:
    """The registry extract in use here: when it was imported, how many people."""
    current = verification.current_registry(session)
    return {
        "registry": None
        if current is None
        else RegistryOut(
            imported_at=current.imported_at,
            people=current.people,
            problems=current.problems,
            imported_by=current.imported_by,
        )
    }


@router.get("/verifications/{case_id}", response_model=CaseDetailOut)
def read_case(
    case_id: RowId,
    request: Request,
    why: str | None = Depends(read_reason),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> CaseDetailOut:
    """The case with its personal data and events; audited with who and why."""
    view = verification.read_case(session, node_of(request), principal.actor, case_id, why)
    result = CaseDetailOut.of_view(view)
    session.commit()
    return result


@router.get("/verifications/{case_id}/candidates")
def candidates(
    case_id: RowId,
    request: Request,
    k: int = Query(5, ge=1, le=50, description="How many candidates."),
    why: str | None = Depends(read_reason),
    principal: Principal = Depends(verifiers),
    session: Session = Depends(db_session),
) -> dict[str, list[CandidateOut]]:
    """On the verifying node: the registry people most likely to be the case's subject,
    best first, each with the evidence per field. Audited with who and why."""
    from liaison.services.verification import registry

    found = registry.candidates(session, node_of(request), principal.actor, case_id, why, k)
    session.commit()
    return {"items": [CandidateOut(**vars(c)) for c in found]}


@router.get("/verifications/{case_id}/export")
def subject_access_export(
    case_id: RowId,
    request: Request,
    why: str | None = Depends(read_reason),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    """Everything this node holds on the person of a case (a subject-access request)."""
    export = verification.subject_access_export(
        session, node_of(request), principal.actor, case_id, why
    )
    session.commit()
    return JSONResponse(
        export,
        headers={"Content-Disposition": f'attachment; filename="case-{case_id}-export.json"'},
    )


@router.get("/verifications/{case_id}/photographs/{index}", response_class=Response)
def photograph(
    case_id: RowId,
    index: int,
    request: Request,
    why: str | None = Depends(read_reason),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    """One photograph of the person (0 = the first); a read of personal data, audited."""
    content_type, content = verification.photograph(
        session, node_of(request), principal.actor, case_id, index, why
    )
    session.commit()
    return Response(
        content,
        media_type=content_type,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/verifications/{case_id}/travel-document.pdf", response_class=Response)
def travel_document(
    case_id: RowId,
    request: Request,
    why: str | None = Depends(read_reason),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    """The case's travel document as a PDF (number, validity, issuing officer)."""
    from liaison.services.verification.travel_document import travel_document_pdf

    pdf = travel_document_pdf(session, node_of(request), principal.actor, case_id, why)
    session.commit()
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="travel-document-{case_id}.pdf"'},
    )


@router.post("/verifications/{case_id}/decision", response_model=EventCreatedOut, status_code=201)
def decide(
    case_id: RowId,
    body: DecisionIn,
    request: Request,
    principal: Principal = Depends(verifiers),
    session: Session = Depends(db_session),
) -> EventCreatedOut:
    """The verifying side's decision; it travels back to the requesting node."""
    event = verification.decide(
        session,
        node_of(request),
        principal.actor,
        case_id,
        decision=body.decision,
        reason=body.reason,
        person_id=body.person_id,
    )
    result = _event_out(event)
    session.commit()
    return result


@router.post("/verifications/{case_id}/steps", response_model=EventCreatedOut, status_code=201)
def take_step(
    case_id: RowId,
    body: StepIn,
    request: Request,
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> EventCreatedOut:
    """A step: the verifying side issues the travel document; the requesting side
    schedules travel, records the return, closes or withdraws. 409 while a hold stands."""
    event = verification.take_step(
        session, node_of(request), principal.actor, case_id, body.step, body.data()
    )
    result = _event_out(event)
    session.commit()
    return result


@router.post("/verifications/{case_id}/holds", response_model=EventCreatedOut, status_code=201)
def record_hold(
    case_id: RowId,
    body: HoldIn,
    request: Request,
    principal: Principal = Depends(hold_writers),
    session: Session = Depends(db_session),
) -> EventCreatedOut:
    """Record that a protection claim is pending; travels to the peer at once."""
    event = verification.record_hold(
        session, node_of(request), principal.actor, case_id, kind=body.kind, reason=body.reason
    )
    result = _event_out(event)
    session.commit()
    return result


@router.post(
    "/verifications/{case_id}/holds/{hold_id}/lift",
    response_model=EventCreatedOut,
    status_code=201,
)
def lift_hold(
    case_id: RowId,
    hold_id: RowId,
    body: LiftIn,
    request: Request,
    principal: Principal = Depends(hold_lifters),
    session: Session = Depends(db_session),
) -> EventCreatedOut:
    """Lift a protection hold, with a reason (supervisors)."""
    event = verification.lift_hold(
        session, node_of(request), principal.actor, case_id, hold_id, reason=body.reason
    )
    result = _event_out(event)
    session.commit()
    return result
