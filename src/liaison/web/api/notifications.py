"""Pre-export notifications API (the names are the contract of issue 11).

`POST /api/v1/pre-export-notifications` lodges one and answers 201 with `id`,
`global_id`, `status` (`pending`), `respond_by` and `screening`; `GET` lists them
(`{"items": [...]}`, filters `direction`, `status`, `from`, `to`, `q`); `GET /{id}`
includes the answer history; `POST /{id}/acknowledge`, `/{id}/response` (`decision`,
`reason`), `/{id}/withdraw` (`reason`), `/{id}/outcome` (`outcome`, optional `incident`,
`quantity`), `/{id}/information` (`answer`); `GET /metrics` (`from`, `to`). Only the
importing side answers; only the exporting side withdraws, answers a request for
information or records the outcome (409 otherwise).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from liaison.capabilities import Capability
from liaison.services import notifications
from liaison.store.notification_tables import PenEvent, PenNotification
from liaison.web.api.attachments import AttachmentIn, attachment_disposition
from liaison.web.auth import Principal, db_session, node_of, require
from liaison.web.idempotency import IdempotencyKeyHeader, create_once
from liaison.web.problems import RowId

router = APIRouter(prefix="/api/v1/pre-export-notifications", tags=["pre-export notifications"])
readers = require(Capability.READ_NOTIFICATIONS)
regulators = require(Capability.ANSWER_NOTIFICATIONS)
TEXT = 2000


class Party(BaseModel):
    name: str = Field(max_length=TEXT)
    address: str = Field(default="", max_length=TEXT)
    licence: str = Field(default="", max_length=TEXT, description="Licence or registration no.")


class NotificationCreate(BaseModel):
    importing_peer: str = Field(min_length=1, max_length=32, description="The peer node.")
    exporter: Party
    importer: Party
    consignee: Party | None = Field(default=None, description="When not the importer.")
    substance: str = Field(max_length=TEXT, description="Name, CAS number or SMILES.")
    trade_name: str = Field(max_length=TEXT)
    quantity: Decimal = Field(gt=0)
    unit: str = Field(description="kg, g, t, L or mL")
    form: str = Field(max_length=TEXT)
    packaging: str = Field(max_length=TEXT)
    weight_kg: Decimal | None = Field(default=None, gt=0)
    hs_code: str | None = Field(default=None, max_length=300)
    ship_date: date
    route: list[str] = Field(max_length=20, description="Country codes, export to import.")
    transits: list[str] = Field(default_factory=list, max_length=20)
    free_zones: list[str] = Field(default_factory=list, max_length=20)
    final_destination: str | None = Field(default=None, max_length=300)
    port_of_exit: str = Field(max_length=TEXT)
    port_of_entry: str = Field(max_length=TEXT)
    transport_mode: notifications.TransportMode
    transport_number: str | None = Field(default=None, max_length=300)
    broker: str | None = Field(default=None, max_length=300)
    forwarding_agent: str | None = Field(default=None, max_length=300)
    end_use: str = Field(max_length=TEXT)
    export_authorisation: str = Field(max_length=TEXT)
    import_authorisation: str | None = Field(default=None, max_length=300)
    if_no_reply: notifications.IfNoReply
    respond_by: datetime | None = Field(
        default=None, description="Default: now plus LIAISON_PEN_RESPONSE_DAYS."
    )
    shipments: int = Field(default=1, ge=1, le=52)
    period_months: int | None = Field(default=None, description="6 or 12, for shipments > 1")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=5)


class ResponseIn(BaseModel):
    decision: notifications.Decision
    reason: str | None = Field(default=None, max_length=TEXT)


class ReasonIn(BaseModel):
    reason: str = Field(max_length=TEXT)


class AnswerIn(BaseModel):
    answer: str = Field(max_length=TEXT)


class OutcomeIn(BaseModel):
    outcome: notifications.Outcome
    incident: str | None = Field(default=None, max_length=100, description="An incident id.")
    quantity: Decimal | None = Field(
        default=None, gt=0, description="Shipped: drawn down (default: all that remains)."
    )
    note: str | None = Field(default=None, max_length=TEXT)


class ScreenIn(BaseModel):
    substance: str = Field(min_length=1, max_length=TEXT)
    ship_date: date


class EventOut(BaseModel):
    global_id: str
    origin: str
    step: str
    at: datetime
    text: str
    outcome: str | None
    incident: str | None
    quantity: str | None
    author: str
    author_agency: str

    @classmethod
    def of(cls, event: PenEvent) -> EventOut:
        return cls(
            global_id=event.global_id,
            origin=event.owner_node,
            step=event.kind,
            at=event.created_at,
            text=event.text,
            outcome=event.outcome,
            incident=event.incident,
            quantity=event.quantity,
            author=event.author,
            author_agency=event.author_agency,
        )


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    verified: bool

    model_config = ConfigDict(from_attributes=True)


class NotificationOut(BaseModel):
    id: int
    global_id: str
    direction: str
    exporting_node: str
    importing_node: str
    from_agency: str
    to_agency: str
    lodged_by: str
    created_at: datetime
    substance: str
    ship_date: date
    status: str
    respond_by: datetime
    overdue: bool
    if_no_reply: str
    acknowledged_at: datetime | None
    answered_at: datetime | None
    decision: str | None
    withdrawn_at: datetime | None
    outcome: str | None
    incident: str | None
    remaining: str
    declared: dict[str, Any]
    screening: dict[str, Any]
    attachments: list[AttachmentOut]
    history: list[EventOut] | None = Field(default=None, description="In the detail only.")

    @classmethod
    def of(
        cls, notification: PenNotification, node_name: str, *, history: bool = False
    ) -> NotificationOut:
        screening = {k: v for k, v in notification.screening.items() if k != "svg"}
        return cls(
            id=notification.id,
            global_id=notification.global_id,
            direction="outgoing" if notification.owner_node == node_name else "incoming",
            exporting_node=notification.exporting_node,
            importing_node=notification.importing_node,
            from_agency=notification.from_agency,
            to_agency=notification.to_agency,
            lodged_by=notification.lodged_by,
            created_at=notification.created_at,
            substance=notification.substance,
            ship_date=notification.ship_date,
            status=notifications.status_of(notification),
            respond_by=notification.respond_by,
            overdue=notifications.is_overdue(notification),
            if_no_reply=notification.if_no_reply,
            acknowledged_at=notification.acknowledged_at,
            answered_at=notification.answered_at,
            decision=notification.decision,
            withdrawn_at=notification.withdrawn_at,
            outcome=notification.outcome,
            incident=notification.incident,
            remaining=str(notifications.remaining_quantity(notification)),
            declared=notification.declared,
            screening=screening,
            attachments=[AttachmentOut.model_validate(a) for a in notification.attachments],
            history=[EventOut.of(e) for e in notification.events] if history else None,
        )


class NotificationList(BaseModel):
    items: list[NotificationOut]


class RequirementIn(BaseModel):
    substance: str = Field(min_length=1, max_length=200)
    requires_notification: bool = True
    annual_kg: Decimal | None = Field(default=None, gt=0)
    citation: str = Field(default="", max_length=TEXT)


class RegisterIn(BaseModel):
    year: int = Field(ge=2000, le=2100)
    entries: list[RequirementIn] = Field(max_length=500)


class RequirementOut(BaseModel):
    node: str
    year: int
    substance: str
    requires_notification: bool
    annual_kg: str | None
    citation: str

    model_config = ConfigDict(from_attributes=True)


class RemindersOut(BaseModel):
    to_answer: list[int]
    information_requested: list[int]


def _detail(request: Request, session: Session, principal: Principal, id: int) -> Any:
    node = node_of(request)
    found = notifications.read_notification(session, node, principal.actor, id)
    return _committed(request, session, found)


def _committed(request: Request, session: Session, found: PenNotification) -> NotificationOut:
    """The notification with its history, read before the commit ends the transaction. After
    a step, the step's own audit entry covers what is returned (no second audited read)."""
    result = NotificationOut.of(found, node_of(request).name, history=True)
    session.commit()
    return result


@router.post("", response_model=NotificationOut, status_code=201)
def lodge(
    body: NotificationCreate,
    request: Request,
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
    idempotency_key: str | None = IdempotencyKeyHeader,
) -> Any:
    """Lodge a notification with the importing peer; it is screened as of the ship date."""

    def create() -> NotificationOut:
        node = node_of(request)
        form = body.model_dump(mode="json", exclude={"attachments"})
        uploads = [a.upload() for a in body.attachments]
        found = notifications.lodge(session, node, principal.actor, form, attachments=uploads)
        return NotificationOut.of(found, node.name)

    return create_once(request, session, principal, idempotency_key, body, create)


@router.get("", response_model=NotificationList)
def list_notifications(
    request: Request,
    direction: notifications.Direction | None = None,
    status: notifications.Status | None = None,
    since: date | None = Query(None, alias="from", description="Lodged on or after."),
    until: date | None = Query(None, alias="to", description="Lodged on or before."),
    q: str | None = Query(None, max_length=200, description="Substance, parties, numbers."),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> NotificationList:
    """Notifications, newest first; `status` is as of now (`overdue` computed)."""
    node = node_of(request)
    filters = notifications.Filters(direction, status, since, until, q)
    found = notifications.list_notifications(session, node, principal.actor, filters)
    result = NotificationList(items=[NotificationOut.of(n, node.name) for n in found])
    session.commit()
    return result


@router.get("/metrics")
def metrics(
    request: Request,
    since: date | None = Query(None, alias="from"),
    until: date | None = Query(None, alias="to"),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """Figures over notifications lodged in the period, the same on both nodes: per month
    sent, received and the flows; share answered in time, median and 90th percentile
    hours to answer, objection rate; overall, per importing node, substance and agency."""
    return notifications.metrics(session, node_of(request), since=since, until=until)


@router.get("/reminders", response_model=RemindersOut)
def reminders(
    request: Request,
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> RemindersOut:
    """Ids of incoming notifications due within 3 days or overdue, and of outgoing ones
    waiting for this side's answer to a request for information."""
    found = notifications.reminders(session, node_of(request))
    return RemindersOut(
        to_answer=[n.id for n in found.to_answer],
        information_requested=[n.id for n in found.information_requested],
    )


@router.post("/screen")
def screen(
    body: ScreenIn,
    request: Request,
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
) -> dict[str, Any]:
    """The screening a notification would get, before it is lodged."""
    return notifications.preview_screening(
        session, node_of(request), body.substance, body.ship_date
    )


@router.get("/register", response_model=list[RequirementOut])
def register(
    year: int | None = Query(None, ge=2000, le=2100),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> list[RequirementOut]:
    """Both nodes' registers: substances requiring notification, annual requirements."""
    return [RequirementOut.model_validate(e) for e in notifications.registers(session, year)]


@router.put("/register", response_model=list[RequirementOut])
def set_register(
    body: RegisterIn,
    request: Request,
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
) -> list[RequirementOut]:
    """Replace this node's register for the year; it is shared with the peers."""
    node = node_of(request)
    entries = [entry.model_dump(mode="json") for entry in body.entries]
    notifications.set_register(session, node, principal.actor, body.year, entries)
    result = [RequirementOut.model_validate(e) for e in notifications.registers(session, body.year)]
    session.commit()
    return result


class RowError(BaseModel):
    row: int = Field(description="The row's number; the header is row 1.")
    error: str


class ImportOut(BaseModel):
    lodged: list[NotificationOut]
    errors: list[RowError]


@router.post("/import", response_model=ImportOut)
async def import_batch(
    request: Request,
    file: UploadFile = File(description="CSV, header = row 1, columns as in the form."),
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
) -> ImportOut:
    """Lodge a batch of notifications from CSV; each bad row is reported with its number
    and never stops the others."""
    node = node_of(request)
    content = await file.read()
    batch = notifications.import_csv(
        session, node, principal.actor, content, name=file.filename or "batch.csv"
    )
    result = ImportOut(
        lodged=[NotificationOut.of(n, node.name) for n in batch.lodged],
        errors=[RowError(row=row, error=error) for row, error in batch.errors],
    )
    session.commit()
    return result


@router.get("/{notification_id}", response_model=NotificationOut)
def detail(
    notification_id: RowId,
    request: Request,
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Any:
    """One notification with its history of steps."""
    return _detail(request, session, principal, notification_id)


@router.get("/{notification_id}/attachments/{attachment_id}", response_class=Response)
def attachment(
    notification_id: RowId,
    attachment_id: RowId,
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    """An attachment's bytes (only when their SHA-256 matched on arrival)."""
    found = notifications.read_attachment(session, principal.actor, notification_id, attachment_id)
    session.commit()
    return Response(
        found.content,
        media_type=found.content_type,
        headers={
            "Content-Disposition": attachment_disposition(found.filename),
            "X-Content-SHA256": found.sha256,
        },
    )


@router.post("/{notification_id}/acknowledge", response_model=NotificationOut)
def acknowledge(
    notification_id: RowId,
    request: Request,
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
) -> Any:
    """The importing side acknowledges receipt."""
    found = notifications.acknowledge(session, node_of(request), principal.actor, notification_id)
    return _committed(request, session, found)


@router.post("/{notification_id}/response", response_model=NotificationOut)
def respond(
    notification_id: RowId,
    body: ResponseIn,
    request: Request,
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
) -> Any:
    """The importing side's decision; `reason` is required for objection and
    information_requested (the question)."""
    found = notifications.respond(
        session, node_of(request), principal.actor, notification_id, body.decision, body.reason
    )
    return _committed(request, session, found)


@router.post("/{notification_id}/information", response_model=NotificationOut)
def answer_information(
    notification_id: RowId,
    body: AnswerIn,
    request: Request,
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
) -> Any:
    """The exporting side answers a request for information."""
    found = notifications.answer_information(
        session, node_of(request), principal.actor, notification_id, body.answer
    )
    return _committed(request, session, found)


@router.post("/{notification_id}/withdraw", response_model=NotificationOut)
def withdraw(
    notification_id: RowId,
    body: ReasonIn,
    request: Request,
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
) -> Any:
    """The exporting side withdraws the notification."""
    found = notifications.withdraw(
        session, node_of(request), principal.actor, notification_id, body.reason
    )
    return _committed(request, session, found)


@router.post("/{notification_id}/outcome", response_model=NotificationOut)
def outcome(
    notification_id: RowId,
    body: OutcomeIn,
    request: Request,
    principal: Principal = Depends(regulators),
    session: Session = Depends(db_session),
) -> Any:
    """The exporting side records the outcome: shipped (drawn down), stopped, seized."""
    found = notifications.record_outcome(
        session,
        node_of(request),
        principal.actor,
        notification_id,
        body.outcome,
        incident=body.incident,
        quantity=None if body.quantity is None else str(body.quantity),
        note=body.note,
    )
    return _committed(request, session, found)
