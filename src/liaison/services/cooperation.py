"""The cooperation overview: figures per month and direction, who is waiting on whom, and
the dated legal events they are read against.

A small registry: each record type contributes a `Provider` whose `items` function (in its
service package's queries.py, `cooperation_series(session, since, until)`) returns one
`Item` per shared record; this module aggregates them all the same way. Every figure is
computed from shared records only (both nodes hold the same copies, with the same origin
timestamps), and directions are named by node, never "incoming", so both sides show the
same figures.
"""

from __future__ import annotations

import csv
import io
import statistics
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.errors import InvalidInput
from liaison.messages import T
from liaison.store.federation_tables import Peer, PeerStatus

DEFAULT_SINCE = date(2025, 1, 1)
MAX_MONTHS = 120


@dataclass(frozen=True)
class Item:
    """One shared record as the overview counts it: sent by `sender` to `receiver`
    (`agency` of the receiver) at `created_at`; `finished` holds when each of the
    provider's steps was done (None: not yet); `due_at` when the step now due falls
    overdue, owed by `owed_by` (node, and `owed_agency`; by default the receiver);
    `closed` when nobody owes anything any more (withdrawn)."""

    sender: str
    receiver: str
    agency: str
    created_at: datetime
    finished: tuple[datetime | None, ...]
    due_at: datetime | None = None
    closed: bool = False
    owed_by: tuple[str, str] | None = None  # (node, agency) when not the receiver


@dataclass(frozen=True)
class Provider:
    key: str
    label: str  # English; the page translates it
    steps: tuple[str, ...]  # e.g. ("acknowledge",): the measured times
    record_types: tuple[str, ...]  # the shared record types the figures depend on
    items: Callable[[Session, str, datetime, datetime], Iterable[Item]]  # node name


@dataclass(frozen=True)
class StepFigure:
    done: int
    median_hours: float | None


@dataclass(frozen=True)
class Row:
    month: str  # YYYY-MM
    sender: str
    receiver: str
    count: int
    steps: dict[str, StepFigure]


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    steps: tuple[str, ...]
    available: bool
    missing: tuple[str, ...]  # record types this node does not hold
    rows: list[Row] = field(default_factory=list)
    # Per active peer that said which record types it handles, those of this series it
    # does not; and the active peers that never said (older nodes).
    peers_missing: tuple[tuple[str, tuple[str, ...]], ...] = ()
    peers_silent: tuple[str, ...] = ()


@dataclass(frozen=True)
class Waiting:
    series: str
    waiting_on: str  # node
    agency: str
    overdue: int
    oldest_due: datetime


@dataclass(frozen=True)
class LegalEvent:
    id: str
    date: date
    jurisdiction: str
    title: str
    citation: str
    source: str
    confirmed: bool
    note: str


@dataclass(frozen=True)
class Overview:
    since: date
    until: date
    months: list[str]
    series: list[Series]
    waiting: list[Waiting]


def period(since: date | None, until: date | None, today: date) -> tuple[date, date]:
    """The months asked for, checked: `since` defaults to 2025-01-01 (the first tariff
    measure), `until` to today."""
    first = since or DEFAULT_SINCE
    last = until or today
    if first > last:
        raise InvalidInput(T("from %(first)s is after to %(last)s", first=first, last=last))
    if len(_months(first, last)) > MAX_MONTHS:
        raise InvalidInput(
            T(
                "from %(first)s to %(last)s spans more than %(max_months)s months",
                first=first,
                last=last,
                max_months=MAX_MONTHS,
            )
        )
    return first, last


def _months(first: date, last: date) -> list[str]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def peer_record_types(session: Session) -> dict[str, list[str] | None]:
    """What each active peer said it handles (None: it never said)."""
    rows = session.execute(
        sa.select(Peer.name, Peer.record_types)
        .where(Peer.status == PeerStatus.ACTIVE)
        .order_by(Peer.name)
    )
    return {name: record_types for name, record_types in rows}


def overview(
    session: Session,
    node_name: str,
    providers: Sequence[Provider],
    known_record_types: Iterable[str],
    peers: Mapping[str, Sequence[str] | None],
    since: date,
    until: date,
    now: datetime,
) -> Overview:
    """Every provider's figures over `since`..`until` (UTC days, both included) and what
    is overdue at `now`. A provider whose record types this node does not hold, or that no
    active peer handles (each that said which it handles lacks one), is listed as
    unavailable, with no figures (not zeros)."""
    known = set(known_record_types)
    start = datetime.combine(since, time.min, UTC)
    end = datetime.combine(until + timedelta(days=1), time.min, UTC)
    series: list[Series] = []
    waiting: list[Waiting] = []
    silent = tuple(name for name, handled in peers.items() if handled is None)
    for provider in providers:
        missing = tuple(name for name in provider.record_types if name not in known)
        peers_missing = tuple(
            (peer, lacks)
            for peer, handled in peers.items()
            if handled is not None
            and (lacks := tuple(n for n in provider.record_types if n not in handled))
        )
        nobody = bool(peers) and len(peers_missing) == len(peers)
        if missing or nobody:
            series.append(
                Series(
                    provider.key,
                    provider.label,
                    provider.steps,
                    False,
                    missing,
                    peers_missing=peers_missing,
                    peers_silent=silent,
                )
            )
            continue
        items = list(provider.items(session, node_name, start, end))
        series.append(
            Series(
                provider.key,
                provider.label,
                provider.steps,
                True,
                (),
                _rows(provider, items),
                peers_missing,
                silent,
            )
        )
        waiting += _waiting(provider.key, items, now)
    return Overview(since, until, _months(since, until), series, waiting)


def _rows(provider: Provider, items: list[Item]) -> list[Row]:
    groups: dict[tuple[str, str, str], list[Item]] = defaultdict(list)
    for item in items:
        created = item.created_at.astimezone(UTC)
        groups[(f"{created.year:04d}-{created.month:02d}", item.sender, item.receiver)].append(item)
    rows = []
    for (month, sender, receiver), group in sorted(groups.items()):
        steps = {}
        for index, step in enumerate(provider.steps):
            hours = [
                (done - item.created_at).total_seconds() / 3600
                for item in group
                if (done := item.finished[index]) is not None
            ]
            median = round(statistics.median(hours), 2) if hours else None
            steps[step] = StepFigure(len(hours), median)
        rows.append(Row(month, sender, receiver, len(group), steps))
    return rows


def _waiting(key: str, items: list[Item], now: datetime) -> list[Waiting]:
    overdue: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for item in items:
        if item.closed or item.due_at is None or item.due_at >= now:
            continue
        if item.owed_by is None and all(done is not None for done in item.finished):
            continue
        overdue[item.owed_by or (item.receiver, item.agency)].append(item.due_at)
    return [
        Waiting(key, node, agency, len(dues), min(dues))
        for (node, agency), dues in sorted(overdue.items())
    ]


@cache
def legal_events() -> tuple[LegalEvent, ...]:
    """The dated legal events on drug control (legal_events.toml), oldest first; read once
    per process, like the rule and measure files."""
    text = resources.files("liaison.services").joinpath("legal_events.toml").read_text("utf-8")
    data = tomllib.loads(text)
    events = [
        LegalEvent(
            id=entry["id"],
            date=entry["date"],
            jurisdiction=entry["jurisdiction"],
            title=entry["title"],
            citation=entry["citation"],
            source=entry["source"],
            confirmed=entry["confirmed"],
            note=entry.get("note", ""),
        )
        for entry in data["event"]
    ]
    return tuple(sorted(events, key=lambda event: (event.date, event.id)))


def as_document(result: Overview) -> dict[str, Any]:
    """The API's JSON shape."""
    return {
        "from": result.since.isoformat(),
        "to": result.until.isoformat(),
        "months": result.months,
        "series": [
            {
                "key": series.key,
                "label": series.label,
                "steps": list(series.steps),
                "available": series.available,
                "missing_record_types": list(series.missing),
                "peers_missing_record_types": {
                    peer: list(lacks) for peer, lacks in series.peers_missing
                },
                "peers_silent": list(series.peers_silent),
                "rows": [
                    {
                        "month": row.month,
                        "from": row.sender,
                        "to": row.receiver,
                        "count": row.count,
                        "steps": {
                            step: {"done": figure.done, "median_hours": figure.median_hours}
                            for step, figure in row.steps.items()
                        },
                    }
                    for row in series.rows
                ],
            }
            for series in result.series
        ],
        "waiting": [
            {
                "series": wait.series,
                "waiting_on": wait.waiting_on,
                "agency": wait.agency,
                "overdue": wait.overdue,
                "oldest_due": wait.oldest_due.astimezone(UTC).isoformat(),
            }
            for wait in result.waiting
        ],
    }


CSV_COLUMNS = ("series", "month", "from", "to", "count", "step", "done", "median_hours", "note")


def _unavailable(series: Series) -> str:
    """Why a series has no figures, in the CSV's note column."""
    reasons = [f"not held here: {' '.join(series.missing)}"] if series.missing else []
    reasons += [
        f"{peer} does not handle: {' '.join(lacks)}" for peer, lacks in series.peers_missing
    ]
    return "; ".join(reasons)


def as_csv(result: Overview) -> str:
    """One line per series, month, direction and step (a series without steps: one line
    with empty step columns); an unavailable series is one line saying so."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for series in result.series:
        if not series.available:
            writer.writerow([series.key, "", "", "", "", "", "", "", _unavailable(series)])
            continue
        for row in series.rows:
            for step, figure in row.steps.items() or {"": None}.items():
                writer.writerow(
                    [
                        series.key,
                        row.month,
                        row.sender,
                        row.receiver,
                        row.count,
                        step,
                        "" if figure is None else figure.done,
                        ""
                        if figure is None or figure.median_hours is None
                        else figure.median_hours,
                        "",
                    ]
                )
    return out.getvalue()
