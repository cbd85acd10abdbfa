"""The overview's aggregation over hand-built items: months, directions, medians, waiting,
unavailable series, CSV, and the legal events' data."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from liaison.errors import InvalidInput
from liaison.services import cooperation
from liaison.services.cooperation import Item, Provider

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _at(day: str, hour: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC) + hour * HOUR


ITEMS = [
    # January: US -> CN, acknowledged after 2 h and 6 h; CN -> US, not acknowledged, due later.
    Item("US", "CN", "NNCC", _at("2026-01-05"), (_at("2026-01-05", 2),), _at("2026-01-06")),
    Item("US", "CN", "NNCC", _at("2026-01-31", 20), (_at("2026-02-01", 2),), _at("2026-02-01")),
    Item("CN", "US", "DEA", _at("2026-01-10"), (None,), _at("2026-12-01")),
    # March: two overdue on CN's side (one agency each), one withdrawn (owed nothing).
    Item("US", "CN", "NNCC", _at("2026-03-01"), (None,), _at("2026-03-02")),
    Item("US", "CN", "Customs", _at("2026-03-03"), (None,), _at("2026-03-04")),
    Item("US", "CN", "NNCC", _at("2026-03-05"), (None,), _at("2026-03-06"), closed=True),
]


def _provider(items: Iterable[Item], record_types: tuple[str, ...] = ("x.item",)) -> Provider:
    def series(session: Any, node: str, since: datetime, until: datetime) -> list[Item]:
        return [item for item in items if since <= item.created_at < until]

    return Provider("x", "Things", ("acknowledge",), record_types, series)


def _overview(
    provider: Provider,
    known: Iterable[str] = ("x.item",),
    peers: Mapping[str, Sequence[str] | None] | None = None,
) -> cooperation.Overview:
    return cooperation.overview(
        None,  # type: ignore[arg-type]  # the provider reads no database
        "US",
        [provider],
        known,
        {"CN": ["x.item"]} if peers is None else peers,
        date(2026, 1, 1),
        date(2026, 3, 31),
        NOW,
    )


def test_figures_per_month_and_direction_with_median_times() -> None:
    result = _overview(_provider(ITEMS))
    assert result.months == ["2026-01", "2026-02", "2026-03"]
    rows = [
        (r.month, r.sender, r.receiver, r.count, r.steps["acknowledge"])
        for r in result.series[0].rows
    ]
    assert rows == [
        ("2026-01", "CN", "US", 1, cooperation.StepFigure(0, None)),
        ("2026-01", "US", "CN", 2, cooperation.StepFigure(2, 4.0)),  # median of 2 h and 6 h
        ("2026-03", "US", "CN", 3, cooperation.StepFigure(0, None)),
    ]


def test_waiting_counts_overdue_unfinished_items_by_node_and_agency() -> None:
    result = _overview(_provider(ITEMS))
    assert [(w.waiting_on, w.agency, w.overdue, w.oldest_due) for w in result.waiting] == [
        ("CN", "Customs", 1, _at("2026-03-04")),
        ("CN", "NNCC", 1, _at("2026-03-02")),
    ]


def test_an_item_owed_by_its_sender_waits_on_the_sender_even_with_its_steps_done() -> None:
    travel_due = Item(
        "US",
        "CN",
        "",
        _at("2026-03-01"),
        (_at("2026-03-02"),),
        _at("2026-03-10"),
        owed_by=("US", "ICE"),
    )
    result = _overview(_provider([travel_due]))
    assert [(w.waiting_on, w.agency, w.overdue) for w in result.waiting] == [("US", "ICE", 1)]


def test_a_series_whose_record_types_are_not_held_says_so_instead_of_zero() -> None:
    result = _overview(
        _provider(ITEMS, ("x.item", "x.newer")),
        known=("x.item",),
        peers={"CN": ["x.item", "x.newer"]},
    )
    (series,) = result.series
    assert (series.available, series.missing, series.rows) == (False, ("x.newer",), [])
    assert cooperation.as_document(result)["series"][0]["available"] is False
    (line,) = list(csv.DictReader(io.StringIO(cooperation.as_csv(result))))
    assert (line["series"], line["count"], line["note"]) == ("x", "", "not held here: x.newer")


def test_a_series_no_peer_handles_says_which_peer_lacks_what_instead_of_zero() -> None:
    result = _overview(_provider(ITEMS), peers={"CN": ["y.other"]})
    (series,) = result.series
    assert (series.available, series.missing, series.rows) == (False, (), [])
    assert series.peers_missing == (("CN", ("x.item",)),)
    document = cooperation.as_document(result)["series"][0]
    assert document["peers_missing_record_types"] == {"CN": ["x.item"]}
    (line,) = list(csv.DictReader(io.StringIO(cooperation.as_csv(result))))
    assert line["note"] == "CN does not handle: x.item"


def test_a_series_one_peer_handles_has_figures_and_names_the_peer_that_does_not() -> None:
    result = _overview(_provider(ITEMS), peers={"CN": ["x.item"], "MX": [], "CA": None})
    (series,) = result.series
    assert series.available and series.rows
    assert (series.peers_missing, series.peers_silent) == ((("MX", ("x.item",)),), ("CA",))


def test_the_period_excludes_items_outside_it_and_the_csv_has_one_line_per_row_and_step() -> None:
    result = cooperation.overview(
        None,  # type: ignore[arg-type]
        "US",
        [_provider(ITEMS)],
        ["x.item"],
        {"CN": ["x.item"]},
        date(2026, 3, 1),
        date(2026, 3, 3),
        NOW,
    )
    lines = list(csv.DictReader(io.StringIO(cooperation.as_csv(result))))
    assert [(r["month"], r["from"], r["to"], r["count"], r["step"], r["done"]) for r in lines] == [
        ("2026-03", "US", "CN", "2", "acknowledge", "0")
    ]


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        (date(2026, 3, 1), date(2026, 2, 1), "is after"),
        (date(2000, 1, 1), date(2026, 2, 1), "more than 120 months"),
    ],
)
def test_a_bad_period_is_refused_saying_why(since: date, until: date, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        cooperation.period(since, until, date(2026, 3, 1))


def test_the_period_defaults_from_the_first_tariff_measure_to_today() -> None:
    assert cooperation.period(None, None, date(2026, 3, 1)) == (date(2025, 1, 1), date(2026, 3, 1))


def test_every_legal_event_is_dated_cited_sourced_and_unconfirmed_ones_carry_a_note() -> None:
    events = cooperation.legal_events()
    assert [e.date for e in events] == sorted(e.date for e in events)
    assert len({e.id for e in events}) == len(events)
    assert {e.jurisdiction for e in events} <= {"US", "CN", "UN"}
    for event in events:
        assert event.citation and event.source and event.title
        assert event.confirmed or event.note
    assert any(e.id == "cn-fentanyl-class-control" and e.date == date(2019, 5, 1) for e in events)
