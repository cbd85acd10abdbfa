"""UN rules read in dated versions of the Dutch treaty database (issue 13, eighth UN pass): the
1961 Schedules 'as amended per 8 February 1982', the next version (25 Apr 1988) adding five
fentanyl-type drugs, and the 1971 Revised Schedules in force as of 18 October 2017
(Tractatenblad 2018, 37)."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import identify, load_rulebook

AMENDED_1982 = date(1982, 2, 8)
VERSION_1988 = date(1988, 4, 25)
REVISED_2017 = date(2017, 10, 18)
CITES_1982 = "'as amended per 8 February 1982'"
LISTED_1982 = "Eighth pass (rulesun2, 30 Nov 2026): in Schedule"

UN_ENTRIES = [entry for entry in load_rulebook().entries if entry.jurisdiction == "UN"]


def un_rule_ids(query: str, day: date) -> set[str]:
    verdict = identify(query, as_of=day, jurisdictions=["UN"]).verdicts["UN"]
    return {basis.rule_id for basis in verdict.basis}


def test_every_1961_entry_in_the_1982_schedules_is_in_force_on_8_february_1982() -> None:
    """The text shows each listing in force that day: none may start later or end earlier."""
    cited = [entry for entry in UN_ENTRIES if LISTED_1982 in entry.note]
    assert len(cited) == 74
    for entry in cited:
        assert entry.list.startswith("Single Convention 1961"), entry.id
        assert entry.in_force_from <= AMENDED_1982, entry.id
        assert entry.in_force_to is None or entry.in_force_to > AMENDED_1982, entry.id


def test_every_1961_entry_dated_before_1982_cites_the_1982_schedules() -> None:
    earlier = [
        entry
        for entry in UN_ENTRIES
        if entry.list.startswith("Single Convention 1961") and entry.in_force_from < AMENDED_1982
    ]
    assert earlier
    for entry in earlier:
        assert LISTED_1982 in entry.note and CITES_1982 in entry.note, entry.id


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("fentanyl", "UN-fentanyl"),
        ("sufentanil", "UN-sufentanil"),
        ("dextropropoxyphene", "UN-dextropropoxyphene"),
        ("piritramide", "UN-piritramide"),
        ("proheptazine", "UN-proheptazine"),
    ],
)
def test_drugs_of_the_1982_schedules_are_controlled_on_8_february_1982(
    query: str, rule_id: str
) -> None:
    assert rule_id in un_rule_ids(query, AMENDED_1982)


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("3-methylfentanyl", "UN-3-methylfentanyl"),
        ("alpha-methylfentanyl", "UN-alpha-methylfentanyl"),
        ("acetyl-alpha-methylfentanyl", "UN-acetyl-alpha-methylfentanyl"),
    ],
)
def test_the_analogues_added_in_the_1988_version_are_absent_in_1982_and_listed_by_25_april_1988(
    query: str, rule_id: str
) -> None:
    assert rule_id not in un_rule_ids(query, AMENDED_1982)
    assert rule_id in un_rule_ids(query, VERSION_1988)
    entry = next(entry for entry in UN_ENTRIES if entry.id == rule_id)
    assert "commit ffd66b5 '1988-04-25'" in entry.note
    assert entry.confirmed is False


@pytest.mark.parametrize(
    "rule_id",
    [
        "UN-alfentanil",
        "UN-alpha-methylthiofentanyl",
        "UN-beta-hydroxyfentanyl",
        "UN-beta-hydroxy-3-methylfentanyl",
        "UN-3-methylthiofentanyl",
        "UN-thiofentanyl",
        "UN-para-fluorofentanyl",
    ],
)
def test_fentanyls_absent_from_every_version_start_after_the_1982_schedules(rule_id: str) -> None:
    entry = next(entry for entry in UN_ENTRIES if entry.id == rule_id)
    assert entry.in_force_from > AMENDED_1982
    assert "in none of the three versions" in entry.note
    assert entry.confirmed is False


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("4-MEC", "UN-4-MEC"),
        ("ethylone", "UN-ethylone"),
        ("pentedrone", "UN-pentedrone"),
        ("ethylphenidate", "UN-ethylphenidate"),
        ("methiopropamine", "UN-methiopropamine"),
        ("MDMB-CHMICA", "UN-MDMB-CHMICA"),
        ("5F-APINACA", "UN-5F-APINACA"),
        ("XLR-11", "UN-XLR-11"),
    ],
)
def test_the_sixtieth_session_additions_start_with_the_2017_revised_schedules(
    query: str, rule_id: str
) -> None:
    assert rule_id not in un_rule_ids(query, date(2017, 10, 17))
    assert rule_id in un_rule_ids(query, REVISED_2017)
    entry = next(entry for entry in UN_ENTRIES if entry.id == rule_id)
    assert "Tractatenblad 2018, 37" in entry.note
