"""Reading incidents: the list with filters, one incident, entity search, the CSV export,
the seizure dashboard. Every read is audited.

Visibility: an incident on this node (its own or a peer's) is shared intelligence of the
node; every user whose role may read incidents sees it. Who may write is the capability's
business and the reporting agency's (`reporting_agency` is the writer's own).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from liaison.audit import (
    Actor,
    DashboardViewed,
    EntitySearched,
    IncidentAttachmentRead,
    IncidentRead,
    IncidentsExported,
    IncidentsListed,
    record,
)
from liaison.chem.bulk import spreadsheet_safe
from liaison.errors import Conflict, InvalidInput, NotFound
from liaison.messages import T
from liaison.services.cooperation import Item
from liaison.services.entities import normalize_entity
from liaison.services.incidents.rules import DOSE_DEFAULTS
from liaison.services.incidents.summary import doses_of
from liaison.store.federation_tables import Peer
from liaison.store.hotline_tables import HotlineMessage
from liaison.store.incident_summary import COLUMNS, SUMMARY, recomputed
from liaison.store.incident_tables import (
    ENTITY_KINDS,
    FocalPoint,
    HandlingCode,
    Incident,
    IncidentAlert,
    IncidentAttachment,
    IncidentEntity,
    IncidentFollowUp,
    IncidentItem,
    IncidentRevision,
)

MAX_LIST = 500


@dataclass(frozen=True)
class IncidentFilters:
    q: str | None = None
    kind: str | None = None
    substance_status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    country: str | None = None
    origin: str | None = None

    def as_detail(self) -> dict[str, Any]:
        return {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in self.__dict__.items()
            if value is not None
        }


def visible_incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(
        Incident,
        incident_id,
        options=[selectinload(Incident.items), selectinload(Incident.shares)],
    )
    if incident is None:
        raise NotFound(T("no incident %(incident_id)s", incident_id=incident_id))
    return incident


def _filtered(filters: IncidentFilters) -> sa.Select[Incident]:
    query = sa.select(Incident)
    if filters.kind:
        query = query.where(Incident.kind == filters.kind)
    if filters.country:
        query = query.where(Incident.country == filters.country.upper())
    if filters.origin:
        query = query.where(Incident.owner_node == filters.origin)
    if filters.date_from:
        query = query.where(Incident.occurred_on >= filters.date_from)
    if filters.date_to:
        query = query.where(Incident.occurred_on <= filters.date_to)
    items = sa.select(IncidentItem.incident_id)
    if filters.substance_status:
        status = filters.substance_status.strip()
        query = query.where(
            Incident.id.in_(items.where(IncidentItem.statuses.contains(f",{status},")))
        )
    if filters.q:
        pattern = f"%{filters.q.strip()}%"
        query = query.where(
            sa.or_(
                Incident.narrative.ilike(pattern),
                Incident.place.ilike(pattern),
                Incident.id.in_(
                    items.where(
                        sa.or_(
                            IncidentItem.substance.ilike(pattern),
                            IncidentItem.substance_label.ilike(pattern),
                        )
                    )
                ),
            )
        )
    return query


def list_incidents(
    session: Session, actor: Actor, filters: IncidentFilters, limit: int = MAX_LIST
) -> list[Incident]:
    """Incidents matching the filters, most recent first (at most `limit`). Audited."""
    incidents = list(
        session.execute(
            _filtered(filters)
            .options(selectinload(Incident.items))
            .order_by(Incident.occurred_on.desc(), Incident.id.desc())
            .limit(limit)
        ).scalars()
    )
    record(
        session,
        actor,
        IncidentsListed(filters=filters.as_detail(), results=len(incidents)),
    )
    return incidents


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    entities: list[IncidentEntity]
    follow_ups: list[tuple[IncidentFollowUp, list[IncidentEntity]]]
    shared_with: list[str]
    revisions: list[IncidentRevision]


def read_incident(session: Session, actor: Actor, incident_id: int) -> IncidentView:
    """The incident with its items, entities, follow-ups and peers. Audited as a read."""
    from liaison.store.federation_tables import Peer

    incident = visible_incident(session, incident_id)
    follow_ups = list(
        session.execute(
            sa.select(IncidentFollowUp)
            .where(IncidentFollowUp.incident_id == incident.id)
            .order_by(IncidentFollowUp.id)
        ).scalars()
    )
    mentions = session.execute(
        sa.select(IncidentEntity)
        .where(
            sa.or_(
                IncidentEntity.incident_id == incident.id,
                IncidentEntity.follow_up_id.in_([f.id for f in follow_ups] or [-1]),
            )
        )
        .order_by(IncidentEntity.id)
    ).scalars()
    own: list[IncidentEntity] = []
    by_follow_up: dict[int, list[IncidentEntity]] = defaultdict(list)
    for row in mentions:
        if row.incident_id == incident.id:
            own.append(row)
        elif row.follow_up_id is not None:
            by_follow_up[row.follow_up_id].append(row)
    peers = [
        name
        for name in session.execute(
            sa.select(Peer.name).where(Peer.id.in_(incident.peer_ids())).order_by(Peer.name)
        ).scalars()
    ]
    record(session, actor, IncidentRead(record_id=incident.global_id, follow_ups=len(follow_ups)))
    revisions = list(
        session.execute(
            sa.select(IncidentRevision)
            .where(IncidentRevision.incident_id == incident.id)
            .order_by(IncidentRevision.version)
        ).scalars()
    )
    return IncidentView(
        incident, own, [(f, by_follow_up[f.id]) for f in follow_ups], peers, revisions
    )


def read_attachment(
    session: Session, actor: Actor, incident_id: int, attachment_id: int
) -> IncidentAttachment:
    """An attachment of the incident or of one of its follow-ups, only when its bytes
    matched their SHA-256 on arrival. Audited."""
    attachment = session.get(IncidentAttachment, attachment_id)
    if attachment is None:
        raise NotFound(
            T(
                "no attachment %(attachment_id)s on incident %(incident_id)s",
                attachment_id=attachment_id,
                incident_id=incident_id,
            )
        )
    follow_up = (
        None
        if attachment.follow_up_id is None
        else session.get(IncidentFollowUp, attachment.follow_up_id)
    )
    if (attachment.incident_id if follow_up is None else follow_up.incident_id) != incident_id:
        raise NotFound(
            T(
                "no attachment %(attachment_id)s on incident %(incident_id)s",
                attachment_id=attachment_id,
                incident_id=incident_id,
            )
        )
    if not attachment.verified:
        raise Conflict(
            T(
                "attachment %(filename)s failed its integrity check on arrival; it is not served",
                filename=repr(attachment.filename),
            )
        )
    incident = visible_incident(session, incident_id)
    record(
        session,
        actor,
        IncidentAttachmentRead(
            record_id=incident.global_id,
            follow_up=None if follow_up is None else follow_up.global_id,
            sha256=attachment.sha256,
            filename=attachment.filename,
        ),
    )
    return attachment


# ---------------------------------------------------------------- entities


@dataclass(frozen=True)
class EntityMention:
    source: str  # "incident" | "follow_up" | "hotline_message"
    id: int  # the incident's id (also for a follow-up), or the hotline message's
    global_id: str
    origin: str
    role: str
    value: str


@dataclass(frozen=True)
class EntitySearch:
    kind: str | None
    normalized: str
    mentions: list[EntityMention]
    co_occurring: list[dict[str, Any]]


def search_entity(
    session: Session, actor: Actor, kind: str | None, value: str, chain: str | None = None
) -> EntitySearch:
    """Every incident, follow-up and hotline message here that mentions the entity, and
    the other entities seen with it (with how often). Audited."""
    if kind is not None and kind not in ENTITY_KINDS:
        raise InvalidInput(
            T(
                "kind must be one of %(entity_kinds)s (got %(kind)s)",
                entity_kinds=", ".join(ENTITY_KINDS),
                kind=repr(kind),
            )
        )
    value = value.strip()
    if not value:
        raise InvalidInput(T("value must not be empty"))
    if kind is not None:
        try:
            normalized, _ = normalize_entity(kind, value, chain or _guess_chain(value))
        except InvalidInput:
            normalized = value  # searched as written: a partial or odd value still finds itself
        condition = sa.and_(IncidentEntity.kind == kind, IncidentEntity.normalized == normalized)
    else:
        normalized = value.casefold()
        condition = sa.func.lower(IncidentEntity.normalized) == normalized
    rows = list(session.execute(sa.select(IncidentEntity).where(condition)).scalars())
    mentions = _mentions(session, rows)
    co_occurring = _co_occurring(session, rows)
    record(
        session,
        actor,
        EntitySearched(kind=kind, value=value, results=len(mentions)),
    )
    return EntitySearch(kind, normalized, mentions, co_occurring)


def _guess_chain(value: str) -> str | None:
    if value.lower().startswith("0x"):
        return "ethereum"
    if value.startswith("T"):
        return "tron"
    if value[:1] in "13" or value.lower().startswith("bc1"):
        return "bitcoin"
    return None


def _mentions(session: Session, rows: Sequence[IncidentEntity]) -> list[EntityMention]:
    found: list[EntityMention] = []
    incident_ids = {r.incident_id for r in rows if r.incident_id is not None}
    follow_up_ids = {r.follow_up_id for r in rows if r.follow_up_id is not None}
    message_ids = {r.hotline_message_id for r in rows if r.hotline_message_id is not None}
    incidents = {
        i.id: i
        for i in session.execute(sa.select(Incident).where(Incident.id.in_(incident_ids))).scalars()
    }
    follow_ups = {
        f.id: f
        for f in session.execute(
            sa.select(IncidentFollowUp).where(IncidentFollowUp.id.in_(follow_up_ids))
        ).scalars()
    }
    messages = {
        m.id: m
        for m in session.execute(
            sa.select(HotlineMessage).where(HotlineMessage.id.in_(message_ids))
        ).scalars()
    }
    for row in rows:
        if row.incident_id in incidents:
            incident = incidents[row.incident_id]
            found.append(
                EntityMention(
                    "incident",
                    incident.id,
                    incident.global_id,
                    incident.owner_node,
                    row.role,
                    row.value,
                )
            )
        elif row.follow_up_id in follow_ups:
            follow_up = follow_ups[row.follow_up_id]
            found.append(
                EntityMention(
                    "follow_up",
                    follow_up.incident_id,
                    follow_up.global_id,
                    follow_up.owner_node,
                    row.role,
                    row.value,
                )
            )
        elif row.hotline_message_id in messages:
            message = messages[row.hotline_message_id]
            found.append(
                EntityMention(
                    "hotline_message",
                    message.id,
                    message.global_id,
                    message.owner_node,
                    row.role,
                    row.value,
                )
            )
    return found


def _co_occurring(session: Session, rows: Sequence[IncidentEntity]) -> list[dict[str, Any]]:
    """The other entities mentioned on the same records, most frequent first."""
    own = {(r.kind, r.normalized) for r in rows}
    owners = [
        (IncidentEntity.incident_id, {r.incident_id for r in rows if r.incident_id}),
        (IncidentEntity.follow_up_id, {r.follow_up_id for r in rows if r.follow_up_id}),
        (
            IncidentEntity.hotline_message_id,
            {r.hotline_message_id for r in rows if r.hotline_message_id},
        ),
    ]
    counts: dict[tuple[str, str], int] = defaultdict(int)
    shown: dict[tuple[str, str], str] = {}
    for column, ids in owners:
        if not ids:
            continue
        for other in session.execute(sa.select(IncidentEntity).where(column.in_(ids))).scalars():
            key = (other.kind, other.normalized)
            if key not in own:
                counts[key] += 1
                shown.setdefault(key, other.value)
    return [
        {"kind": kind, "normalized": normalized, "value": shown[(kind, normalized)], "count": n}
        for (kind, normalized), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


# ---------------------------------------------------------------- export

EXPORT_COLUMNS = (
    "reference",
    "origin",
    "kind",
    "occurred_on",
    "country",
    "place",
    "conveyance",
    "route",
    "narrative",
    "substance",
    "quantity",
    "unit",
    "grams",
    "purity_percent",
    "form",
    "packaging",
    "statuses",
    "as_of",
    "handling_code",
)


def may_pass_on(incident: Incident, node_name: str) -> bool:
    """A peer's incident marked "do not pass on" leaves this node only with its permission:
    never in an export or onward sharing."""
    return incident.owner_node == node_name or incident.handling_code != HandlingCode.NO_ONWARD


def export_csv(session: Session, actor: Actor, node_name: str, filters: IncidentFilters) -> str:
    """The filtered incidents as CSV, one row per item (re-importable). Incidents of the
    peer marked `no_onward` are withheld and counted in the audit entry. Audited."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    rows = withheld = 0
    query = _filtered(filters).options(selectinload(Incident.items)).order_by(Incident.id)
    for incident in session.execute(query).scalars():
        if not may_pass_on(incident, node_name):
            withheld += 1
            continue
        for item in incident.items:
            writer.writerow(
                spreadsheet_safe(str(cell)) if cell is not None else ""
                for cell in _export_row(incident, item)
            )
            rows += 1
    record(session, actor, IncidentsExported(rows=rows, withheld=withheld))
    return out.getvalue()


def _export_row(incident: Incident, item: IncidentItem) -> Iterable[Any]:
    return (
        incident.global_id,
        incident.owner_node,
        incident.kind,
        incident.occurred_on.isoformat(),
        incident.country,
        incident.place,
        incident.conveyance,
        incident.route,
        incident.narrative,
        item.substance,
        f"{item.quantity:g}",
        item.unit,
        None if item.grams is None else f"{item.grams:g}",
        None if item.purity_percent is None else f"{item.purity_percent:g}",
        item.form,
        item.packaging,
        item.statuses.strip(","),
        item.as_of.isoformat(),
        incident.handling_code,
    )


def focal_points(session: Session) -> dict[str, list[str]]:
    """Each agency's focal points."""
    found: dict[str, list[str]] = defaultdict(list)
    for point in session.execute(
        sa.select(FocalPoint).order_by(FocalPoint.agency, FocalPoint.id)
    ).scalars():
        found[point.agency].append(point.username)
    return dict(found)


def alerts_for(session: Session, username: str) -> list[tuple[IncidentAlert, Incident]]:
    """The user's unseen desk notices of urgent incidents that arrived."""
    return [
        (alert, incident)
        for alert, incident in session.execute(
            sa.select(IncidentAlert, Incident)
            .join(Incident, Incident.id == IncidentAlert.incident_id)
            .where(IncidentAlert.username == username, IncidentAlert.seen_at.is_(None))
            .order_by(IncidentAlert.id)
        )
    ]


@dataclass(frozen=True)
class DeskIncidents:
    """Peer incidents this node has not followed up yet, the urgent first."""

    awaiting: list[Incident]  # at most the limit
    awaiting_count: int
    urgent_count: int


def awaiting_follow_up(
    session: Session, actor: Actor, node_name: str, limit: int = 10
) -> DeskIncidents:
    """Incidents shared by a peer with no follow-up written here yet, urgent first, then
    the most recently received. Audited as a listing."""
    answered = sa.select(IncidentFollowUp.incident_id).where(
        IncidentFollowUp.owner_node == node_name
    )
    waiting = sa.and_(Incident.owner_node != node_name, Incident.id.not_in(answered))
    awaiting = list(
        session.execute(
            sa.select(Incident)
            .where(waiting)
            .order_by(Incident.urgent.desc(), Incident.created_at.desc(), Incident.id.desc())
            .limit(limit)
        ).scalars()
    )
    awaiting_count, urgent_count = session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(Incident.urgent.is_(True))).where(waiting)
    ).one()
    record(
        session,
        actor,
        IncidentsListed(filters={"awaiting_follow_up": True}, results=len(awaiting)),
    )
    return DeskIncidents(awaiting, int(awaiting_count), int(urgent_count))


# ---------------------------------------------------------------- dashboard

GROUPINGS = ("month", "substance", "conveyance", "route", "country")


@dataclass
class SeizureRow:
    key: str
    own_count: int = 0
    own_grams: float = 0.0
    own_doses: float = 0.0
    peer_count: int = 0
    peer_grams: float = 0.0
    peer_doses: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SeizureDashboard:
    group_by: str
    date_from: date | None
    date_to: date | None
    rows: list[SeizureRow]
    assumptions: list[str]


def seizure_dashboard(
    session: Session,
    actor: Actor,
    node_name: str,
    group_by: str,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    recompute: bool = False,
) -> SeizureDashboard:
    """Seizures (incidents of kind `seizure`) per group: how many incidents, their mass in
    grams (items given by mass only) and the dose equivalents of the substances that have
    a default dose, this node's own and the peer's apart. An incident with two substances
    counts once under each substance. Read from the summary kept on write; `recompute`
    aggregates the items instead (the same figures, for checks and the benchmark).
    Audited: who looked at which aggregates."""
    if group_by not in GROUPINGS:
        raise InvalidInput(
            T(
                "group_by must be one of %(groupings)s (got %(group_by)s)",
                groupings=", ".join(GROUPINGS),
                group_by=repr(group_by),
            )
        )
    columns = [SUMMARY.c[name] for name in COLUMNS]
    if recompute:
        dialect = session.get_bind().dialect.name
        groups = recomputed(dialect, group_by, date_from, date_to).subquery()
    else:
        kept = sa.select(*columns).where(SUMMARY.c["dimension"] == group_by)
        if date_from:
            kept = kept.where(SUMMARY.c["occurred_on"] >= date_from)
        if date_to:
            kept = kept.where(SUMMARY.c["occurred_on"] <= date_to)
        groups = kept.subquery()
    own = (groups.c.owner_node == node_name).label("own")
    query = sa.select(
        groups.c.key,
        own,
        sa.func.sum(groups.c.incidents),
        sa.func.sum(groups.c.grams),
        sa.func.sum(doses_of(groups.c.substance, groups.c.pure_grams)),
    ).group_by(groups.c.key, own)
    rows: dict[str, SeizureRow] = {}
    for group, is_own, incidents, total_grams, dose_count in session.execute(query).all():
        row = rows.setdefault(str(group or ""), SeizureRow(str(group or "")))
        figures = int(incidents or 0), float(total_grams or 0.0), float(dose_count or 0.0)
        if is_own:
            row.own_count += figures[0]
            row.own_grams += figures[1]
            row.own_doses += figures[2]
        else:
            row.peer_count += figures[0]
            row.peer_grams += figures[1]
            row.peer_doses += figures[2]
    assumptions: list[str] = [
        T(
            "mass: items given in g, kg, lb, oz or mg, converted to grams; volumes and counts "
            "(L, mL, tablets, units) are not included in the grams"
        ),
        T("purity: as reported; 100% where none was reported (an upper bound)"),
        *(
            T(
                "doses of %(name)s: %(dose)s mg each (%(source)s, %(url)s)",
                name=name,
                dose=format(d.dose_mg, "g"),
                source=d.source,
                url=d.url,
            )
            for name, d in DOSE_DEFAULTS.items()
        ),
        T("other substances: no dose equivalent (no cited default)"),
    ]
    ordered = sorted(rows.values(), key=lambda r: r.key)
    record(
        session,
        actor,
        DashboardViewed(
            group_by=group_by,
            date_from=None if date_from is None else date_from.isoformat(),
            date_to=None if date_to is None else date_to.isoformat(),
            groups=len(ordered),
        ),
    )
    return SeizureDashboard(group_by, date_from, date_to, ordered, assumptions)


def cooperation_series(
    session: Session, node_name: str, since: datetime, until: datetime
) -> list[Item]:
    """The overview's items: every incident reported from `since` until before `until` and
    shared, once per direction (its owner to each node that holds it: the peers an own
    incident is shared with, or this node for a received one); its one step is the first
    follow-up written on the receiving side. Incidents have no reply deadline."""
    incidents = session.execute(
        sa.select(Incident)
        .where(Incident.created_at >= since, Incident.created_at < until)
        .options(selectinload(Incident.shares), selectinload(Incident.follow_ups))
    ).scalars()
    peers: dict[int, str] = dict(session.execute(sa.select(Peer.id, Peer.name)).all())
    items = []
    for incident in incidents:
        own = incident.owner_node == node_name
        receivers = sorted(peers[s.peer_id] for s in incident.shares) if own else [node_name]
        for receiver in receivers:
            answers = [f.created_at for f in incident.follow_ups if f.owner_node == receiver]
            items.append(
                Item(
                    sender=incident.owner_node,
                    receiver=receiver,
                    agency="",
                    created_at=incident.created_at,
                    finished=(min(answers, default=None),),
                )
            )
    return items
