"""UN rules, issue 13, thirteenth pass (rules-un13): nothing was confirmed and no date moved;
the notes of the entries the pass read something about say so, and the verdicts stay as they
were: sufentanil from 1980 (the year of the CND's sixth special session), tilidine from
8 Feb 1982 (the Dutch database's Schedules), piritramide from the Single Convention's entry
into force (13 Dec 1964; the Bulletin on Narcotics shows it was first controlled in 1964, under
the 1931 Convention), the 1984 benzodiazepines from 1984, each unconfirmed."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import load_rulebook
from support import first_day_basis

ENTRIES = {e.id: e for e in load_rulebook().entries if e.id.startswith("UN-")}
PASS = "Thirteenth pass (rules-un13, 1 Dec 2026)"


# (query, rule id, list, first day the rule applies, what the new note sentence cites)
UNCHANGED = [
    (
        "sufentanil",
        "UN-sufentanil",
        "Single Convention 1961, Schedule I",
        date(1980, 1, 1),
        "6th Special Session of the UN Commission on Narcotic Drugs in February 1980",
    ),
    (
        "CCOC(=O)C1(c2ccccc2)CCC=CC1N(C)C",
        "UN-tilidine",
        "Single Convention 1961, Schedule I",
        date(1982, 2, 8),
        "Tilidine and Sufentanil were placed in schedule I of the 1961 Convention",
    ),
    (
        "dextropropoxyphene",
        "UN-dextropropoxyphene",
        "Single Convention 1961, Schedule II",
        date(1980, 1, 1),
        "Dextropropoxyphene was placed in schedule II of the same Convention",
    ),
    (
        "piritramide",
        "UN-piritramide",
        "Single Convention 1961, Schedule I",
        date(1964, 12, 13),
        "Bulletin on Narcotics, 1965, issue 4, p. 47",
    ),
    (
        "diazepam",
        "UN-diazepam",
        "1971 Convention, Schedule IV",
        date(1984, 1, 1),
        "EB71/23 (28 Oct 1982",
    ),
]


@pytest.mark.parametrize(("query", "rule_id", "listed", "first_day", "cited"), UNCHANGED)
def test_the_entries_read_about_keep_their_first_day_and_stay_unconfirmed(
    query: str, rule_id: str, listed: str, first_day: date, cited: str
) -> None:
    basis = first_day_basis("UN", query, rule_id, first_day)
    assert (basis.list, basis.confirmed) == (listed, False)
    note = ENTRIES[rule_id].note
    assert PASS in note and cited in note


def test_every_1984_benzodiazepine_note_cites_the_who_report_and_none_is_confirmed() -> None:
    group = [e for e in ENTRIES.values() if e.note.startswith("One of the benzodiazepines added")]
    assert len(group) == 30
    for entry in group:
        assert entry.confirmed is False, entry.id
        assert (entry.in_force_from, entry.in_force_precision) == (date(1984, 1, 1), "year")
        assert "EB71/23" in entry.note and "thirtieth session" in entry.note, entry.id


def test_the_pass_confirmed_nothing() -> None:
    touched = [e for e in ENTRIES.values() if PASS in e.note]
    assert len(touched) == 34
    assert not any(e.confirmed for e in touched)
