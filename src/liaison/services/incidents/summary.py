"""The seizure summary kept on write.

Every write that changes what the dashboard counts (an incident reported here or received
from a peer, a revision of its kind, date, conveyance, route or items) adjusts
`incident_seizure_summary` in the same transaction, so the dashboard sums a few rows per
day, group and substance instead of every item of the period. The table holds masses; the
dashboard turns pure grams into doses with today's defaults (`doses_of`).
`summary_differences` compares the table with the full recomputation
(liaison.store.incident_summary), which the migration used to fill it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from liaison.services.incidents.rules import DOSE_DEFAULTS
from liaison.store.incident_summary import COLUMNS, DIMENSIONS, SUMMARY, recomputed

SUMMARIZED_FIELDS = frozenset({"kind", "occurred_on", "conveyance", "route", "country", "items"})
PRIMARY_KEY = ["dimension", "key", "occurred_on", "owner_node", "substance"]
ADDED = ("incidents", "items", "grams", "pure_grams")

# (dimension, key, occurred_on, owner_node, substance) -> (incidents, items, grams, pure)
Key = tuple[str, str, date, str, str]
Figures = tuple[int, int, float, float]


class SummarizedItem(Protocol):
    @property
    def substance_label(self) -> str: ...
    @property
    def grams(self) -> float | None: ...
    @property
    def purity_percent(self) -> float | None: ...


class Summarized(Protocol):
    """What the summary reads of an incident: a stored one or a payload about to be."""

    @property
    def kind(self) -> str: ...
    @property
    def occurred_on(self) -> date: ...
    @property
    def owner_node(self) -> str: ...
    @property
    def conveyance(self) -> str: ...
    @property
    def route(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def items(self) -> Sequence[SummarizedItem]: ...


def _masses(item: SummarizedItem) -> tuple[float, float]:
    """Grams and pure grams (100% when no purity was reported); 0 without a mass."""
    if item.grams is None:
        return 0.0, 0.0
    purity = 100.0 if item.purity_percent is None else item.purity_percent
    return item.grams, item.grams * purity / 100.0


def contributions(incident: Summarized) -> dict[Key, Figures]:
    """What one incident adds to the summary: nothing unless it is a seizure."""
    if incident.kind != "seizure" or not incident.items:
        return {}
    day, owner = incident.occurred_on, incident.owner_node
    first = min(item.substance_label for item in incident.items)
    keys = {
        "month": day.strftime("%Y-%m"),
        "conveyance": incident.conveyance,
        "route": incident.route,
        "country": incident.country,
    }
    found: dict[Key, Figures] = {}
    for item in incident.items:
        label = item.substance_label
        grams, pure = _masses(item)
        rows = [(dimension, key, label == first) for dimension, key in keys.items()]
        for dimension, key, counted in [*rows, ("substance", label, True)]:
            row = (dimension, key, day, owner, label)
            _, items, total, total_pure = found.get(row, (0, 0, 0.0, 0.0))
            found[row] = (int(counted), items + 1, total + grams, total_pure + pure)
    return found


def _upsert(session: Session) -> Any:
    insert = (
        postgresql.insert(SUMMARY)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(SUMMARY)
    )
    return insert.on_conflict_do_update(
        index_elements=PRIMARY_KEY,
        set_={name: SUMMARY.c[name] + insert.excluded[name] for name in ADDED},
    )


def adjust_summary(
    session: Session,
    added: Iterable[Mapping[Key, Figures]] = (),
    removed: Iterable[Mapping[Key, Figures]] = (),
) -> None:
    """Add and subtract contributions in one statement; rows left with no item are
    deleted. Keys go in sorted order so that two transactions lock rows alike (no
    deadlock on PostgreSQL)."""
    delta: dict[Key, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for sign, parts in ((1, added), (-1, removed)):
        for part in parts:
            for key, figures in part.items():
                total = delta[key]
                for index, value in enumerate(figures):
                    total[index] += sign * value
    changed = [(key, figures) for key, figures in sorted(delta.items()) if any(figures)]
    if not changed:
        return
    session.execute(
        _upsert(session),
        [
            {
                **dict(zip(PRIMARY_KEY, key, strict=True)),
                "incidents": int(incidents),
                "items": int(items),
                "grams": grams,
                "pure_grams": pure,
            }
            for key, (incidents, items, grams, pure) in changed
        ],
    )
    if any(figures[1] < 0 for _, figures in changed):
        session.execute(sa.delete(SUMMARY).where(SUMMARY.c["items"] <= 0))


def summarize_new(session: Session, incidents: Iterable[Summarized]) -> None:
    """Count incidents just written (reported here or received, or imported)."""
    adjust_summary(session, added=[contributions(incident) for incident in incidents])


def doses_of(substance: Any, pure_grams: Any) -> Any:
    """SQL: the dose equivalents of pure grams of a substance with a default dose (0 for
    any other), with the defaults of today."""
    return sa.case(
        *(
            (substance == name, pure_grams * 1000.0 / default.dose_mg)
            for name, default in DOSE_DEFAULTS.items()
        ),
        else_=0.0,
    )


def summary_differences(session: Session) -> list[str]:
    """Where the kept summary and a full recomputation disagree (empty when they agree;
    sums compared to a relative 1e-9, as additions in another order may round apart)."""
    dialect = session.get_bind().dialect.name
    problems: list[str] = []
    for dimension in DIMENSIONS:
        kept = _by_group(
            session.execute(
                sa.select(*(SUMMARY.c[n] for n in COLUMNS)).where(
                    SUMMARY.c["dimension"] == dimension
                )
            )
        )
        full = _by_group(session.execute(recomputed(dialect, dimension)))
        for group in sorted(set(kept) | set(full), key=str):
            have, want = kept.get(group), full.get(group)
            if have is None or want is None or not _same(have, want):
                problems.append(f"{dimension} {group}: kept {have}, recomputed {want}")
    return problems


def _by_group(rows: Iterable[Any]) -> dict[tuple[str, date, str, str], Figures]:
    return {
        (key, day, owner, substance): (int(incidents), int(items), float(grams), float(pure))
        for key, day, owner, substance, incidents, items, grams, pure in rows
    }


def _same(have: Figures, want: Figures) -> bool:
    return have[:2] == want[:2] and all(
        math.isclose(have[i], want[i], rel_tol=1e-9, abs_tol=1e-6) for i in (2, 3)
    )
