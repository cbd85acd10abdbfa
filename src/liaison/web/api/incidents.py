"""Incident API: reports with items and entities, follow-ups, import and export, entity
search, dose equivalents, the seizure dashboard.

Contract (issue 10): `POST /api/v1/incidents` answers 201 with `id`, `global_id`,
`origin` and the items with their `verdicts` and `as_of`; `GET /api/v1/incidents`
answers `{"items": [...]}`; `GET /api/v1/incidents/{id}` lists `follow_ups`; other
tools (pre-export notifications) link to an incident by that URL, keep it stable.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from liaison.capabilities import Capability
from liaison.services import incidents
from liaison.services.entities import entity_of
from liaison.store.incident_tables import (
    Conveyance,
    EntityKind,
    FollowUpStatus,
    Form,
    HandlingCode,
    Incident,
    IncidentEntity,
    IncidentFollowUp,
    IncidentKind,
    InformationAccuracy,
    SourceReliability,
    Unit,
)
from liaison.web.api.attachments import AttachmentIn, attachment_disposition
from liaison.web.auth import Principal, db_session, node_of, require
from liaison.web.idempotency import IdempotencyKeyHeader, create_once
from liaison.web.problems import RowId

router = APIRouter(prefix="/api/v1", tags=["incidents"])
readers = require(Capability.READ_INCIDENTS)
managers = require(Capability.MANAGE_USERS)
reporters = require(Capability.REPORT_INCIDENTS)


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    substance: str = Field(min_length=1, max_length=2000, description="Name, CAS or SMILES.")
    quantity: float = Field(gt=0)
    unit: Unit
    purity_percent: float | None = Field(default=None, gt=0, le=100)
    form: Form | None = None
    packaging: str = Field(default="", max_length=200)

    def given(self) -> incidents.ItemInput:
        return incidents.ItemInput(
            self.substance, self.quantity, self.unit, self.purity_percent, self.form, self.packaging
        )


class EntityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EntityKind
    value: str = Field(min_length=1, max_length=500)
    role: str = Field(default="", max_length=64, description="consignor, consignee, payer, ...")
    chain: str | None = Field(
        default=None, max_length=32, description="For crypto_wallet: bitcoin, ethereum, tron, ..."
    )

    def given(self) -> incidents.EntityInput:
        return incidents.EntityInput(self.kind, self.value, self.role, self.chain)


class IncidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: IncidentKind
    occurred_on: date
    country: str = Field(min_length=2, max_length=2, description="ISO 3166 alpha-2.")
    place: str = Field(default="", max_length=200)
    port_code: str | None = Field(default=None, max_length=8, description="UN/LOCODE.")
    latitude: float | None = None
    longitude: float | None = None
    conveyance: Conveyance = Conveyance.OTHER
    route: list[str] = Field(default_factory=list, max_length=12)
    narrative: str = Field(default="", max_length=20_000)
    items: list[ItemIn] = Field(min_length=1, max_length=50)
    entities: list[EntityIn] = Field(default_factory=list, max_length=50)
    share_with: list[str] = Field(default_factory=list, max_length=10)
    urgent: bool = False
    handling_code: HandlingCode = HandlingCode.NONE
    source_reliability: SourceReliability | None = None
    information_accuracy: InformationAccuracy | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=5)

    def given(self) -> incidents.IncidentInput:
        return incidents.IncidentInput(
            kind=self.kind,
            occurred_on=self.occurred_on,
            country=self.country,
            place=self.place,
            port_code=self.port_code,
            latitude=self.latitude,
            longitude=self.longitude,
            conveyance=self.conveyance,
            route=self.route,
            narrative=self.narrative,
            items=[i.given() for i in self.items],
            entities=[e.given() for e in self.entities],
            share_with=self.share_with,
            urgent=self.urgent,
            handling_code=self.handling_code,
            source_reliability=self.source_reliability,
            information_accuracy=self.information_accuracy,
            attachments=[a.upload() for a in self.attachments],
        )


class FollowUpCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=20_000)
    status: FollowUpStatus | None = None
    entities: list[EntityIn] = Field(default_factory=list, max_length=50)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=5)


class IncidentAttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    verified: bool = Field(description="False: the bytes did not match on arrival; not served.")

    model_config = ConfigDict(from_attributes=True)


class EntityOut(BaseModel):
    kind: str
    value: str
    normalized: str
    role: str
    chain: str | None

    @classmethod
    def of(cls, row: IncidentEntity) -> EntityOut:
        return cls(**entity_of(row).to_dict())


class ItemOut(BaseModel):
    substance: str
    quantity: float
    unit: str
    grams: float | None = Field(description="The mass in grams; null for volumes and counts.")
    purity_percent: float | None
    form: str | None
    packaging: str
    verdicts: dict[str, Any] = Field(description="Per jurisdiction: status, basis, explanation.")
    as_of: date = Field(description="The day whose rules gave the verdicts (a snapshot).")
    substance_label: str
    standardized_smiles: str | None

    model_config = ConfigDict(from_attributes=True)


class FollowUpOut(BaseModel):
    id: int
    global_id: str
    origin: str
    created_at: datetime
    author: str
    author_agency: str
    body: str
    status: str | None
    entities: list[EntityOut]
    attachments: list[IncidentAttachmentOut]

    @classmethod
    def of(cls, follow_up: IncidentFollowUp, entities: list[IncidentEntity]) -> FollowUpOut:
        return cls(
            id=follow_up.id,
            global_id=follow_up.global_id,
            origin=follow_up.owner_node,
            created_at=follow_up.created_at,
            author=follow_up.author,
            author_agency=follow_up.author_agency,
            body=follow_up.body,
            status=follow_up.status,
            entities=[EntityOut.of(e) for e in entities],
            attachments=[IncidentAttachmentOut.model_validate(a) for a in follow_up.attachments],
        )


class IncidentOut(BaseModel):
    id: int
    global_id: str
    origin: str
    version: int
    created_at: datetime
    kind: str
    occurred_on: date
    reporting_agency: str
    created_by: str
    country: str
    place: str
    port_code: str | None
    latitude: float | None
    longitude: float | None
    conveyance: str
    route: list[str]
    narrative: str
    urgent: bool
    handling_code: str
    source_reliability: str | None
    information_accuracy: str | None
    may_pass_on: bool = Field(description="False: the sender's handling code forbids passing on.")
    items: list[ItemOut]


class RevisionOut(BaseModel):
    version: int
    created_at: datetime
    changed_by: str
    previous: dict[str, Any] = Field(description="The values this version replaced.")
    changes: dict[str, Any]

    model_config = ConfigDict(from_attributes=True)


class IncidentDetailOut(IncidentOut):
    entities: list[EntityOut]
    attachments: list[IncidentAttachmentOut]
    shared_with: list[str]
    follow_ups: list[FollowUpOut]
    revisions: list[RevisionOut] = Field(description="Earlier versions, oldest first.")


class IncidentListOut(BaseModel):
    items: list[IncidentOut]


def _incident_fields(incident: Incident, node_name: str) -> dict[str, Any]:
    return {
        "id": incident.id,
        "global_id": incident.global_id,
        "origin": incident.owner_node,
        "version": incident.version,
        "created_at": incident.created_at,
        "kind": incident.kind,
        "occurred_on": incident.occurred_on,
        "reporting_agency": incident.reporting_agency,
        "created_by": incident.created_by,
        "country": incident.country,
        "place": incident.place,
        "port_code": incident.port_code,
        "latitude": incident.latitude,
        "longitude": incident.longitude,
        "conveyance": incident.conveyance,
        "route": incident.route.split(">") if incident.route else [],
        "narrative": incident.narrative,
        "urgent": incident.urgent,
        "handling_code": incident.handling_code,
        "source_reliability": incident.source_reliability,
        "information_accuracy": incident.information_accuracy,
        "may_pass_on": incidents.may_pass_on(incident, node_name),
        "items": [ItemOut.model_validate(item) for item in incident.items],
    }


def detail_out(view: incidents.IncidentView, node_name: str) -> IncidentDetailOut:
    return IncidentDetailOut(
        **_incident_fields(view.incident, node_name),
        entities=[EntityOut.of(e) for e in view.entities],
        attachments=[IncidentAttachmentOut.model_validate(a) for a in view.incident.attachments],
        shared_with=view.shared_with,
        follow_ups=[FollowUpOut.of(f, entities) for f, entities in view.follow_ups],
        revisions=[RevisionOut.model_validate(r) for r in view.revisions],
    )


def filters_from(
    q: str | None = Query(None, max_length=200, description="Narrative, place or substance."),
    kind: IncidentKind | None = None,
    substance_status: str | None = Query(
        None, max_length=20, description="controlled | precursor | review | no_match | invalid"
    ),
    date_from: date | None = Query(None, alias="from"),
    date_to: date | None = Query(None, alias="to"),
    country: str | None = Query(None, min_length=2, max_length=2),
    origin: str | None = Query(None, max_length=32, description="The node that wrote it."),
) -> incidents.IncidentFilters:
    return incidents.IncidentFilters(q, kind, substance_status, date_from, date_to, country, origin)


@router.post("/incidents", response_model=IncidentDetailOut, status_code=201)
def create_incident(
    body: IncidentCreate,
    request: Request,
    principal: Principal = Depends(reporters),
    session: Session = Depends(db_session),
    idempotency_key: str | None = IdempotencyKeyHeader,
) -> Any:
    """Report an incident; each item is identified now and its verdicts kept (a snapshot).
    It travels to the peers in `share_with`."""
    node = node_of(request)

    def create() -> IncidentDetailOut:
        incident = incidents.report_incident(
            session, node.name, principal.actor, body.given(), node.settings
        )
        return detail_out(incidents.read_incident(session, principal.actor, incident.id), node.name)

    return create_once(request, session, principal, idempotency_key, body, create)


@router.get("/incidents", response_model=IncidentListOut)
def list_incidents(
    request: Request,
    filters: incidents.IncidentFilters = Depends(filters_from),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> IncidentListOut:
    """This node's incidents and those the peers shared, most recent first (at most 500)."""
    node_name = node_of(request).name
    found = incidents.list_incidents(session, principal.actor, filters)
    result = IncidentListOut(items=[IncidentOut(**_incident_fields(i, node_name)) for i in found])
    session.commit()
    return result


@router.get("/incidents/export.csv", response_class=Response)
def export_incidents(
    request: Request,
    filters: incidents.IncidentFilters = Depends(filters_from),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    """One row per item; a peer's incidents marked `no_onward` are withheld."""
    text = incidents.export_csv(session, principal.actor, node_of(request).name, filters)
    session.commit()
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="incidents.csv"'},
    )


class ImportOut(BaseModel):
    imported: int
    errors: list[dict[str, Any]] = Field(
        description="Each bad row: `row` (the spreadsheet's number; the header is row 1) "
        "and `message` naming the field."
    )


@router.post("/incidents/import", response_model=ImportOut)
def import_incidents(
    request: Request,
    file: UploadFile = File(...),
    principal: Principal = Depends(reporters),
    session: Session = Depends(db_session),
) -> ImportOut:
    """A CSV, one row per item; rows of one incident share a `reference`. Bad rows are
    reported and skipped; the good ones are stored (not shared)."""
    node = node_of(request)
    result = incidents.import_csv(
        session,
        node.name,
        principal.actor,
        file.filename or "upload.csv",
        file.file.read(),
        node.settings,
    )
    session.commit()
    return ImportOut(imported=result.imported, errors=result.errors)


@router.get("/incidents/{incident_id}", response_model=IncidentDetailOut)
def get_incident(
    incident_id: RowId,
    request: Request,
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> IncidentDetailOut:
    """The incident with its items, entities, the peers it is shared with and follow-ups."""
    view = incidents.read_incident(session, principal.actor, incident_id)
    result = detail_out(view, node_of(request).name)
    session.commit()
    return result


class IncidentEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: IncidentKind | None = None
    occurred_on: date | None = None
    place: str | None = Field(default=None, max_length=200)
    port_code: str | None = Field(default=None, max_length=8)
    conveyance: Conveyance | None = None
    route: list[str] | None = Field(default=None, max_length=12)
    narrative: str | None = Field(default=None, max_length=20_000)
    urgent: bool | None = None
    handling_code: HandlingCode | None = None
    source_reliability: SourceReliability | None = None
    information_accuracy: InformationAccuracy | None = None
    items: list[ItemIn] | None = Field(
        default=None, min_length=1, max_length=50, description="Replace the items (all)."
    )
    entities: list[EntityIn] | None = Field(
        default=None, max_length=50, description="Replace the entities (all)."
    )
    attachments: list[AttachmentIn] = Field(
        default_factory=list, max_length=5, description="Attachments to add."
    )


@router.patch("/incidents/{incident_id}", response_model=IncidentDetailOut)
def edit_incident(
    incident_id: RowId,
    body: IncidentEdit,
    request: Request,
    principal: Principal = Depends(reporters),
    session: Session = Depends(db_session),
) -> IncidentDetailOut:
    """Edit this node's incident (users of the reporting agency): a new version, the
    replaced values kept; it travels to the peers it is shared with."""
    node_name = node_of(request).name
    changes = body.model_dump(
        exclude_unset=True, exclude={"items", "entities", "attachments"}, mode="json"
    )
    incidents.revise_incident(
        session,
        node_name,
        principal.actor,
        incident_id,
        changes,
        items=None if body.items is None else [i.given() for i in body.items],
        entities=None if body.entities is None else [e.given() for e in body.entities],
        attachments=[a.upload() for a in body.attachments],
        settings=node_of(request).settings,
    )
    view = incidents.read_incident(session, principal.actor, incident_id)
    result = detail_out(view, node_name)
    session.commit()
    return result


@router.post("/incidents/{incident_id}/follow-ups", response_model=FollowUpOut, status_code=201)
def create_follow_up(
    incident_id: RowId,
    body: FollowUpCreate,
    request: Request,
    principal: Principal = Depends(reporters),
    session: Session = Depends(db_session),
    idempotency_key: str | None = IdempotencyKeyHeader,
) -> Any:
    """Add a follow-up; it travels to the other side."""

    def create() -> FollowUpOut:
        follow_up = incidents.post_follow_up(
            session,
            node_of(request).name,
            principal.actor,
            incident_id,
            body.body,
            status=body.status,
            entities=[e.given() for e in body.entities],
            attachments=[a.upload() for a in body.attachments],
            settings=node_of(request).settings,
        )
        return FollowUpOut.of(follow_up, list(follow_up.entities))

    return create_once(request, session, principal, idempotency_key, body, create)


@router.get("/incidents/{incident_id}/attachments/{attachment_id}", response_class=Response)
def incident_attachment(
    incident_id: RowId,
    attachment_id: RowId,
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> Response:
    """An attachment of the incident or of one of its follow-ups (only when its SHA-256
    matched on arrival)."""
    found = incidents.read_attachment(session, principal.actor, incident_id, attachment_id)
    session.commit()
    return Response(
        found.content,
        media_type=found.content_type,
        headers={
            "Content-Disposition": attachment_disposition(found.filename),
            "X-Content-SHA256": found.sha256,
        },
    )


class MentionOut(BaseModel):
    source: str = Field(description="incident | follow_up | hotline_message")
    id: int = Field(description="The incident's id (also for a follow-up), or the message's.")
    global_id: str
    origin: str
    role: str
    value: str


class CoOccurringOut(BaseModel):
    kind: str
    normalized: str
    value: str
    count: int


class EntitySearchOut(BaseModel):
    kind: str | None
    normalized: str
    mentions: list[MentionOut]
    co_occurring: list[CoOccurringOut]


@router.get("/entities", response_model=EntitySearchOut)
def entities(
    value: str = Query(min_length=1, max_length=500),
    kind: EntityKind | None = None,
    chain: str | None = Query(None, max_length=32),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> EntitySearchOut:
    """Every incident, follow-up and hotline message here (own and the peer's) mentioning
    the entity, and the entities seen with it."""
    found = incidents.search_entity(session, principal.actor, kind, value, chain)
    result = EntitySearchOut(
        kind=found.kind,
        normalized=found.normalized,
        mentions=[MentionOut(**m.__dict__) for m in found.mentions],
        co_occurring=[CoOccurringOut(**c) for c in found.co_occurring],
    )
    session.commit()
    return result


class DoseOut(BaseModel):
    doses: float
    grams: float
    pure_grams: float
    purity_percent: float
    dose_mg: float
    assumptions: list[str]


@router.get("/dose-equivalents", response_model=DoseOut)
def dose_equivalents(
    substance: str = Query(min_length=1, max_length=200),
    quantity: float = Query(ge=0),
    unit: Unit = Query(),
    purity_percent: float | None = Query(None, gt=0, le=100),
    dose_mg: float | None = Query(None, gt=0),
    principal: Principal = Depends(readers),
) -> DoseOut:
    """How many doses the pure substance makes, with every assumption stated."""
    found = incidents.dose_equivalents(substance, quantity, unit, purity_percent, dose_mg)
    return DoseOut(**found.to_dict())


class SeizureRowOut(BaseModel):
    key: str
    own_count: int
    own_grams: float
    own_doses: float
    peer_count: int
    peer_grams: float
    peer_doses: float


class SeizuresOut(BaseModel):
    group_by: str
    date_from: date | None = Field(serialization_alias="from")
    date_to: date | None = Field(serialization_alias="to")
    rows: list[SeizureRowOut]
    assumptions: list[str]


@router.get("/dashboard/seizures", response_model=SeizuresOut, response_model_by_alias=True)
def seizures(
    request: Request,
    group_by: str = Query("month", description="month | substance | conveyance | route | country"),
    date_from: date | None = Query(None, alias="from"),
    date_to: date | None = Query(None, alias="to"),
    principal: Principal = Depends(readers),
    session: Session = Depends(db_session),
) -> SeizuresOut:
    """Seizures per group, this node's own and the peer's apart, with dose equivalents."""
    board = incidents.seizure_dashboard(
        session, principal.actor, node_of(request).name, group_by, date_from, date_to
    )
    session.commit()
    return SeizuresOut(
        group_by=board.group_by,
        date_from=board.date_from,
        date_to=board.date_to,
        rows=[SeizureRowOut(**row.to_dict()) for row in board.rows],
        assumptions=board.assumptions,
    )


class FocalPointsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    usernames: list[str] = Field(max_length=50)


@router.get("/focal-points", response_model=dict[str, list[str]])
def list_focal_points(
    principal: Principal = Depends(readers), session: Session = Depends(db_session)
) -> dict[str, list[str]]:
    """Each agency's focal points: the users told when an urgent incident arrives."""
    points = incidents.focal_points(session)
    session.commit()
    return points


@router.put("/focal-points/{agency}", response_model=dict[str, list[str]])
def set_focal_points(
    agency: str,
    body: FocalPointsIn,
    principal: Principal = Depends(managers),
    session: Session = Depends(db_session),
) -> dict[str, list[str]]:
    """Replace the agency's focal points (users of that agency)."""
    incidents.set_focal_points(session, principal.actor, agency, body.usernames)
    session.commit()
    return incidents.focal_points(session)


class AlertOut(BaseModel):
    id: int
    incident_id: int
    incident_global_id: str
    origin: str
    kind: str
    occurred_on: date
    created_at: datetime


@router.get("/incident-alerts", response_model=list[AlertOut])
def incident_alerts(
    principal: Principal = Depends(readers), session: Session = Depends(db_session)
) -> list[AlertOut]:
    """Your unseen notices of urgent incidents that arrived from a peer."""
    found = incidents.alerts_for(session, principal.user.username)
    session.commit()
    return [
        AlertOut(
            id=alert.id,
            incident_id=incident.id,
            incident_global_id=incident.global_id,
            origin=incident.owner_node,
            kind=incident.kind,
            occurred_on=incident.occurred_on,
            created_at=alert.created_at,
        )
        for alert, incident in found
    ]


@router.post("/incident-alerts/{alert_id}/seen", status_code=204)
def incident_alert_seen(
    alert_id: RowId, principal: Principal = Depends(readers), session: Session = Depends(db_session)
) -> Response:
    incidents.mark_alert_seen(session, principal.user.username, alert_id)
    session.commit()
    return Response(status_code=204)
