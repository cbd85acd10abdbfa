"""Substances the Controlled Substances Act itself named (Pub. L. 91-513, sec. 202(c), 84 Stat.
1247-1252; issue 13): confirmed from the Statutes at Large text, controlled from 1 May 1971, the
day sec. 704(a) put the Act's controls in force, and not the day before."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import identify

IN_FORCE = date(1971, 5, 1)
DAY_BEFORE = date(1971, 4, 30)

# (query, rule id, list, the Act's schedule and item as the citation gives it)
NAMED_BY_THE_ACT = [
    ("alphaprodine", "US-alphaprodine", "Schedule II", "Schedule II(b)(1), 84 Stat. 1250"),
    ("levorphanol", "US-levorphanol", "Schedule II", "Schedule II(b)(9), 84 Stat. 1250"),
    ("methadone", "US-methadone", "Schedule II", "Schedule II(b)(11), 84 Stat. 1250"),
    ("barbital", "US-barbital", "Schedule IV", "Schedule IV(1), 84 Stat. 1252"),
    ("meprobamate", "US-meprobamate", "Schedule IV", "Schedule IV(7), 84 Stat. 1252"),
    ("phenobarbital", "US-phenobarbital", "Schedule IV", "Schedule IV(11), 84 Stat. 1252"),
]


def us_basis(query: str, day: date) -> dict[str, tuple[str, str, bool]]:
    """Rule id -> (list, citation, confirmed) of every US basis on `day`."""
    verdict = identify(query, as_of=day, jurisdictions=["US"]).verdicts["US"]
    return {b.rule_id: (b.list, b.citation, b.confirmed) for b in verdict.basis}


# Items confirmed from a copy of 21 U.S.C. 812(c) (the Act's schedules as the Code gives them),
# one of each part of the Act the Statutes at Large pages read did not reach.
NAMED_IN_THE_CODE = [
    (query, rule_id, list_name, f"{item}, 21 U.S.C. 812(c)")
    for query, rule_id, list_name, item in [
        ("acetylmethadol", "US-acetylmethadol", "Schedule I", "Schedule I(a)(1), (3) and (7)"),
        ("heroin", "US-heroin", "Schedule I", "Schedule I(b)(10)"),
        ("ibogaine", "US-ibogaine", "Schedule I", "Schedule I(c)(8)"),
        ("racemorphan", "US-racemorphan", "Schedule II", "Schedule II(b)(21)"),
        ("methyprylon", "US-methyprylon", "Schedule III", "Schedule III(b)(6)"),
        ("nalorphine", "US-nalorphine", "Schedule III", "Schedule III(c)"),
    ]
]


@pytest.mark.parametrize(
    ("query", "rule_id", "list_name", "item"), NAMED_BY_THE_ACT + NAMED_IN_THE_CODE
)
def test_named_by_the_act_from_1_may_1971_confirmed(
    query: str, rule_id: str, list_name: str, item: str
) -> None:
    assert rule_id not in us_basis(query, DAY_BEFORE)
    listed, citation, confirmed = us_basis(query, IN_FORCE)[rule_id]
    assert listed == list_name
    assert item in citation and "sec. 704(a), 84 Stat. 1284" in citation
    assert confirmed


@pytest.mark.parametrize("query", ["phenmetrazine", "methylphenidate"])
def test_a_stimulant_moved_in_october_1971_is_schedule_iii_until_the_day_before(
    query: str,
) -> None:
    # 36 FR 20686 took phenmetrazine and methylphenidate out of Schedule III from 28 Oct 1971,
    # not with amphetamine on 7 Jul 1971.
    last_day = identify(query, as_of=date(1971, 10, 27), jurisdictions=["US"]).verdicts["US"]
    assert {b.list for b in last_day.basis} == {"Schedule III"}
    first_day = identify(query, as_of=date(1971, 10, 28), jurisdictions=["US"]).verdicts["US"]
    assert {b.list for b in first_day.basis} == {"Schedule II"}
    assert us_basis(query, IN_FORCE)[f"US-{query}-1971"][0] == "Schedule III"
