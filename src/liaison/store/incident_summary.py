"""The seizure summary recomputed from the incidents and their items (the full
aggregation the dashboard did at each request before the summary was kept on write).

Migration 0011 fills the table with it; liaison.services.incidents.summary keeps the table
on write and compares it with this recomputation.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import sqlalchemy as sa

from liaison.store.incident_tables import Incident, IncidentItem, SeizureSummary

SUMMARY = cast(sa.Table, SeizureSummary.__table__)
DIMENSIONS = ("month", "substance", "conveyance", "route", "country")
COLUMNS = (
    "key",
    "occurred_on",
    "owner_node",
    "substance",
    "incidents",
    "items",
    "grams",
    "pure_grams",
)


def _key(dialect: str, dimension: str) -> Any:
    if dimension == "month":
        if dialect == "postgresql":
            return sa.func.to_char(Incident.occurred_on, "YYYY-MM")
        return sa.func.strftime("%Y-%m", Incident.occurred_on)
    return {
        "substance": IncidentItem.substance_label,
        "conveyance": Incident.conveyance,
        "route": Incident.route,
        "country": Incident.country,
    }[dimension]


def _seizures(query: Any, date_from: date | None, date_to: date | None) -> Any:
    query = query.where(Incident.kind == "seizure")
    if date_from:
        query = query.where(Incident.occurred_on >= date_from)
    if date_to:
        query = query.where(Incident.occurred_on <= date_to)
    return query


def recomputed(
    dialect: str,
    dimension: str,
    date_from: date | None = None,
    date_to: date | None = None,
) -> sa.Select[str, date, str, str, int, int, float, float]:
    """The summary's rows of one dimension from the incidents and items of kind
    `seizure`, columns as `COLUMNS`."""
    key = sa.func.coalesce(_key(dialect, dimension), "").label("key")
    label = IncidentItem.substance_label
    pure = IncidentItem.grams * sa.func.coalesce(IncidentItem.purity_percent, 100.0) / 100.0
    masses = (
        sa.func.count(IncidentItem.id).label("items"),
        sa.func.coalesce(sa.func.sum(IncidentItem.grams), 0.0).label("grams"),
        sa.func.coalesce(sa.func.sum(pure), 0.0).label("pure_grams"),
    )
    joined = sa.select(Incident.occurred_on, Incident.owner_node).join(
        IncidentItem, IncidentItem.incident_id == Incident.id
    )
    if dimension == "substance":
        query = _seizures(
            joined.add_columns(
                key, label.label("substance"), sa.func.count(sa.distinct(Incident.id)), *masses
            ),
            date_from,
            date_to,
        ).group_by(key, Incident.occurred_on, Incident.owner_node, label)
        rows = query.subquery()
    else:
        # Masses per substance, and each incident counted once, on its first substance.
        per_substance = _seizures(
            joined.add_columns(key, label.label("substance"), sa.literal(0), *masses),
            date_from,
            date_to,
        ).group_by(key, Incident.occurred_on, Incident.owner_node, label)
        first = (
            sa.select(IncidentItem.incident_id, sa.func.min(label).label("substance"))
            .group_by(IncidentItem.incident_id)
            .subquery()
        )
        counted = _seizures(
            sa.select(
                Incident.occurred_on,
                Incident.owner_node,
                key,
                first.c.substance,
                sa.func.count(),
                sa.literal(0),
                sa.literal(0.0),
                sa.literal(0.0),
            ).join(first, first.c.incident_id == Incident.id),
            date_from,
            date_to,
        ).group_by(key, Incident.occurred_on, Incident.owner_node, first.c.substance)
        rows = sa.union_all(per_substance, counted).subquery()
    c = list(rows.c)  # occurred_on, owner_node, key, substance, incidents, items, grams, pure
    return sa.select(
        c[2].label("key"),
        c[0].label("occurred_on"),
        c[1].label("owner_node"),
        c[3].label("substance"),
        sa.func.sum(c[4]).label("incidents"),
        sa.func.sum(c[5]).label("items"),
        sa.func.sum(c[6]).label("grams"),
        sa.func.sum(c[7]).label("pure_grams"),
    ).group_by(c[2], c[0], c[1], c[3])


def rebuild_summary(connection: sa.Connection) -> int:
    """Replace the summary with the full recomputation; the number of rows written."""
    connection.execute(sa.delete(SUMMARY))
    written = 0
    for dimension in DIMENSIONS:
        rows = recomputed(connection.dialect.name, dimension).subquery()
        result = connection.execute(
            sa.insert(SUMMARY).from_select(
                ["dimension", *COLUMNS],
                sa.select(sa.literal(dimension, sa.String(16)), *(rows.c[n] for n in COLUMNS)),
            )
        )
        written += max(result.rowcount, 0)
    return written
