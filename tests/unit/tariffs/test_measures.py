"""The measure data: loads, passes the data checks, and every measure applies from its first
day in force to its last (the day before, the day of, the day after each boundary)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from liaison.tariffs import (
    Exemption,
    Measure,
    MeasureFileError,
    calculate,
    check_measures,
    entry_from_fields,
    load_measure_files,
    load_measures,
    measures_in_force,
)

BOOK = load_measures()
DAY = timedelta(days=1)


def probe_origin(measure: Measure) -> str:
    return next((origin for origin in measure.origins if origin != "*"), "DE")


def charged(measure: Measure, day: date) -> bool:
    """Is the measure charged on an entry made for it (its origin, its category) on `day`?"""
    fields = {
        "origin": probe_origin(measure),
        "entry_date": day.isoformat(),
        "customs_value": "1000",
    }
    if measure.scope != "all":
        fields["category"] = measure.scope
    result = calculate(entry_from_fields(fields), BOOK)
    return any(applied.measure.id == measure.id for applied in result.measures)


BOUNDARIES = [
    pytest.param(measure, side, id=f"{measure.id}-{side}")
    for measure in BOOK.measures
    for side in ("start", "end")
    if side == "start" or measure.in_force_to is not None
]


@pytest.mark.parametrize(("measure", "side"), BOUNDARIES)
def test_measure_applies_from_its_first_day_to_its_last(measure: Measure, side: str) -> None:
    if side == "start":
        first = measure.in_force_from
        assert not charged(measure, first - DAY), "charged the day before it started"
        assert charged(measure, first), "not charged on its first day"
        assert charged(measure, first + DAY), "not charged the day after it started"
        assert measure in measures_in_force(probe_origin(measure), first)
        assert measure not in measures_in_force(probe_origin(measure), first - DAY)
    else:
        assert measure.in_force_to is not None
        last = measure.in_force_to
        assert charged(measure, last - DAY), "not charged the day before its last day"
        assert charged(measure, last), "not charged on its last day"
        assert not charged(measure, last + DAY), "still charged after its last day"
        assert measure not in measures_in_force(probe_origin(measure), last + DAY)


def test_shipped_data_passes_the_data_checks() -> None:
    assert check_measures(BOOK) == []


def test_every_measure_and_event_is_cited_dated_and_says_what_is_unconfirmed() -> None:
    assert {m.id for m in BOOK.measures} >= {
        "CN-IEEPA-FENTANYL-10",
        "CN-IEEPA-FENTANYL-20",
        "CN-IEEPA-FENTANYL-10-NOV2025",
        "CA-IEEPA-25",
        "CA-IEEPA-35",
        "CA-IEEPA-ENERGY-10",
        "CA-IEEPA-POTASH-10",
        "MX-IEEPA-25",
        "MX-IEEPA-POTASH-10",
        "US-S122-10",
    }
    for item in (*BOOK.measures, *BOOK.events):
        assert item.citation and item.source.startswith("https://"), item.id
    for measure in BOOK.measures:
        assert measure.hts_heading.startswith("9903."), measure.id
        for exemption in measure.exemptions:
            assert exemption.citation and exemption.note, measure.id


def test_the_ruling_and_the_end_of_collection_end_every_ieepa_measure() -> None:
    ruling = BOOK.event("learning-resources-v-trump")
    assert ruling is not None and ruling.date == date(2026, 2, 20)
    assert "24-1287" in ruling.citation and "25-250" in ruling.citation
    ieepa = [m for m in BOOK.measures if m.ieepa]
    assert ieepa and all(m.in_force_to is not None for m in ieepa)
    assert max(m.in_force_to for m in ieepa if m.in_force_to) == date(2026, 2, 23)
    assert all(m.in_force_to <= date(2026, 2, 23) for m in ieepa if m.in_force_to)
    replacement = BOOK.measure("US-S122-10")
    assert replacement is not None and not replacement.ieepa
    assert replacement.in_force_from == date(2026, 2, 24)


def test_every_origin_and_the_as_of_day_select_measures() -> None:
    assert [m.id for m in measures_in_force("CN", date(2025, 3, 10))] == ["CN-IEEPA-FENTANYL-20"]
    assert [m.id for m in measures_in_force("HK", date(2025, 3, 10))] == ["CN-IEEPA-FENTANYL-20"]
    assert measures_in_force("CN", date(2025, 2, 3)) == []
    assert [m.id for m in measures_in_force("DE", date(2026, 3, 1))] == ["US-S122-10"]
    everyone = {m.id for m in measures_in_force(None, date(2025, 9, 1))}
    assert everyone == {
        "CN-IEEPA-FENTANYL-20",
        "CA-IEEPA-35",
        "CA-IEEPA-ENERGY-10",
        "CA-IEEPA-POTASH-10",
        "MX-IEEPA-25",
        "MX-IEEPA-POTASH-10",
    }


MEASURE = """
[[measure]]
id = "{id}"
name = "test measure"
origins = ["{origin}"]
authority = "IEEPA"
instrument = "EO 1"
citation = "1 FR 1"
source = "https://example.org"
hts_heading = "9903.99.99"
rate_percent = "{rate}"
in_force_from = {start}
{end}
scope = "all"
stacking = "stacks"
confirmed = true
note = "test"
{extra}
"""


def write(tmp_path: Path, name: str, *measures: dict[str, str], events: str = "") -> Path:
    text = "".join(
        MEASURE.format(
            **{"origin": "CN", "rate": "10", "start": "2025-01-01", "end": "", "extra": "", **m}
        )
        for m in measures
    )
    path = tmp_path / name
    path.write_text(text + events)
    return path


def test_a_broken_file_names_the_file_the_measure_and_the_field(tmp_path: Path) -> None:
    cases = {
        "date.toml": ({"id": "A", "start": '"2025-13-01"'}, "field 'in_force_from'"),
        "rate.toml": ({"id": "B", "rate": "ten"}, "field 'rate_percent': 'ten' is not a number"),
        "order.toml": (
            {"id": "C", "end": "in_force_to = 2024-01-01"},
            "field 'in_force_to': 2024-01-01 is before in_force_from 2025-01-01",
        ),
        "origin.toml": ({"id": "D", "origin": "China"}, "field 'origins'"),
        "ends.toml": ({"id": "E", "extra": 'ended_by = "nothing"'}, "field 'ended_by': no event"),
    }
    for name, (fields, message) in cases.items():
        path = write(tmp_path, name, fields)
        with pytest.raises(MeasureFileError) as caught:
            load_measure_files([path])
        assert caught.value.detail.startswith(f"{name}: measure '{fields['id']}'"), name
        assert message in caught.value.detail, name


def test_duplicate_ids_across_files_are_refused(tmp_path: Path) -> None:
    first = write(tmp_path, "a.toml", {"id": "SAME"})
    second = write(tmp_path, "b.toml", {"id": "SAME"})
    with pytest.raises(MeasureFileError, match=r"id 'SAME' is also used in a\.toml"):
        load_measure_files([first, second])


def test_overlap_within_a_country_is_a_problem_unless_both_stack_by_design(
    tmp_path: Path,
) -> None:
    overlapping = write(tmp_path, "o.toml", {"id": "A"}, {"id": "B", "start": "2025-06-01"})
    problems = check_measures(load_measure_files([overlapping]))
    assert (
        len(problems) == 1
        and "A (2025-01-01..open) and B (2025-06-01..open) overlap" in problems[0]
    )
    other_country = write(tmp_path, "c.toml", {"id": "A"}, {"id": "B", "origin": "MX"})
    assert check_measures(load_measure_files([other_country])) == []
    stacked = write(
        tmp_path,
        "s.toml",
        {"id": "A", "extra": 'stacks_with = ["B"]'},
        {"id": "B", "rate": "5", "extra": 'stacks_with = ["A"]'},
    )
    book = load_measure_files([stacked])
    assert check_measures(book) == []
    result = calculate(
        entry_from_fields({"origin": "CN", "entry_date": "2025-07-01", "customs_value": "100"}),
        book,
    )
    assert [(m.measure.id, str(m.amount)) for m in result.measures] == [
        ("A", "10.00"),
        ("B", "5.00"),
    ]
    assert str(result.total_additional) == "15.00"


def test_an_unconfirmed_measure_must_say_what_was_not_found(tmp_path: Path) -> None:
    silent = write(tmp_path, "s.toml", {"id": "A"})
    silent.write_text(silent.read_text().replace("confirmed = true", "confirmed = false"))
    assert check_measures(load_measure_files([silent])) == [
        "s.toml: A: it is unconfirmed but the note does not say what was not found"
    ]
    silent.write_text(silent.read_text().replace('note = "test"', 'note = "FR page not found"'))
    assert check_measures(load_measure_files([silent])) == []


def test_an_end_must_be_explained_by_an_event_or_a_successor_the_day_after(
    tmp_path: Path,
) -> None:
    unexplained = write(tmp_path, "u.toml", {"id": "A", "end": "in_force_to = 2025-02-01"})
    assert (
        "ends 2025-02-01 but says neither why nor what follows"
        in check_measures(load_measure_files([unexplained]))[0]
    )
    event = """
[[event]]
id = "ruling"
date = 2025-02-05
title = "a ruling"
citation = "1 U.S. 1"
source = "https://example.org"
confirmed = true
note = "test"
"""
    wrong_day = write(
        tmp_path,
        "w.toml",
        {"id": "A", "end": "in_force_to = 2025-02-01", "extra": 'ended_by = "ruling"'},
        events=event,
    )
    assert (
        "last day 2025-02-01 but event ruling is on 2025-02-05"
        in check_measures(load_measure_files([wrong_day]))[0]
    )
    gap = write(
        tmp_path,
        "g.toml",
        {"id": "A", "end": "in_force_to = 2025-02-01", "extra": 'superseded_by = "B"'},
        {"id": "B", "start": "2025-02-03"},
    )
    assert "successor B starts 2025-02-03" in check_measures(load_measure_files([gap]))[0]


CLAIMS = {"usmca": {"usmca": "yes"}, "de_minimis": {"de_minimis": "yes"}}
WINDOWS = [
    pytest.param(measure, exemption, id=f"{measure.id}-{exemption.kind}")
    for measure in BOOK.measures
    for exemption in measure.exemptions
    if exemption.kind in ("usmca", "de_minimis", "in_transit")
]


def exempted(measure: Measure, day: date, **claim: str) -> bool:
    origin = "CA" if "usmca" in claim and "*" in measure.origins else probe_origin(measure)
    fields = {"origin": origin, "entry_date": day.isoformat(), "customs_value": "500", **claim}
    if measure.scope != "all":
        fields["category"] = measure.scope
    result = calculate(entry_from_fields(fields), BOOK)
    return any(e.measure.id == measure.id for e in result.exempted)


@pytest.mark.parametrize(("measure", "exemption"), WINDOWS)
def test_exemption_windows_hold_on_each_side_of_their_dates(
    measure: Measure, exemption: Exemption
) -> None:
    if exemption.kind == "in_transit":
        assert exemption.loaded_by is not None and exemption.entered_by is not None
        loaded = exemption.loaded_by.isoformat()
        later = (exemption.loaded_by + DAY).isoformat()
        last = min(exemption.entered_by, measure.in_force_to or date.max)
        assert exempted(measure, last, loaded_on=loaded), "in transit, entered on the last day"
        assert not exempted(measure, last, loaded_on=later), "loaded a day too late"
        if last == exemption.entered_by and measure.in_force(last + DAY):
            assert not exempted(measure, last + DAY, loaded_on=loaded), "entered a day too late"
        return
    claim = CLAIMS[exemption.kind]
    days = [exemption.start, exemption.end]
    for edge in (d for d in days if d is not None):
        for day in (edge - DAY, edge, edge + DAY):
            if measure.in_force(day):
                assert exempted(measure, day, **claim) == exemption.available_on(day), day
