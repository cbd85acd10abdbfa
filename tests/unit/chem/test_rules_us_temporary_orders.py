"""US temporary scheduling orders (21 U.S.C. 811(h), 21 CFR 1308.11(h)) and the rules that made
them permanent (issue 13): each order applies from its effective day, hands over to the permanent
rule without a gap, and the basis cites the document in force that day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from liaison.chem import identify

DAY = timedelta(days=1)


def us_basis(query: str, day: date) -> dict[str, tuple[str, bool]]:
    """Rule id -> (citation, confirmed) of every US basis on `day`."""
    verdict = identify(query, as_of=day, jurisdictions=["US"]).verdicts["US"]
    return {basis.rule_id: (basis.citation, basis.confirmed) for basis in verdict.basis}


# (query, temporary order's first day, permanent rule's first day, rule id, FR cite of each)
ORDERS = [
    ("UR-144", date(2013, 5, 16), date(2016, 5, 11), "US-UR-144", "78 FR 28735", "81 FR 29142"),
    ("AKB48", date(2013, 5, 16), date(2016, 5, 11), "US-APINACA", "78 FR 28735", "81 FR 29142"),
    (
        "25I-NBOMe",
        date(2013, 11, 15),
        date(2016, 9, 27),
        "US-25I-NBOMe",
        "78 FR 68716",
        "81 FR 66181",
    ),
    ("PB-22", date(2014, 2, 10), date(2016, 9, 6), "US-PB-22", "79 FR 7577", "81 FR 61130"),
    ("alpha-PVP", date(2014, 3, 7), date(2017, 3, 1), "US-alpha-PVP", "79 FR 12938", "82 FR 12171"),
    ("THJ-2201", date(2015, 1, 30), date(2017, 10, 16), "US-THJ-2201", "80 FR 5042", "82 FR 47971"),
    (
        "MAB-CHMINACA",
        date(2016, 2, 5),
        date(2019, 1, 29),
        "US-MAB-CHMINACA",
        "81 FR 6171",
        "84 FR 444",
    ),
    ("FUB-AMB", date(2017, 11, 3), date(2020, 3, 30), "US-FUB-AMB", "82 FR 51154", "85 FR 17494"),
    (
        "ephylone",
        date(2018, 8, 31),
        date(2021, 6, 14),
        "US-N-ethylpentylone",
        "83 FR 44474",
        "86 FR 31427",
    ),
    ("NM2201", date(2018, 7, 10), date(2021, 6, 10), "US-NM2201", "83 FR 31877", "86 FR 30775"),
    (
        "5F-MDMB-PICA",
        date(2019, 4, 16),
        date(2022, 4, 7),
        "US-5F-MDMB-PICA",
        "84 FR 15505",
        "DEA-491",
    ),
    (
        "etonitazepipne",
        date(2024, 7, 29),
        date(2026, 1, 22),
        "US-N-piperidinyl-etonitazene",
        "89 FR 60817",
        "90 FR 59969",
    ),
    (
        "protonitazepyne",
        date(2025, 8, 15),
        date(2026, 2, 11),
        "US-N-pyrrolidino-protonitazene",
        "90 FR 39314",
        "2026-00362",
    ),
    ("brorphine", date(2021, 3, 1), date(2023, 4, 5), "US-brorphine", "86 FR 11862", "88 FR 13692"),
    (
        "methylone",
        date(2011, 10, 21),
        date(2013, 4, 12),
        "US-methylone",
        "76 FR 65371",
        "78 FR 21818",
    ),
]


@pytest.mark.parametrize(
    ("query", "temporary_from", "permanent_from", "rule_id", "order_cite", "rule_cite"),
    ORDERS,
    ids=[row[3] for row in ORDERS],
)
def test_a_temporary_order_hands_over_to_its_permanent_rule_without_a_gap(
    query: str,
    temporary_from: date,
    permanent_from: date,
    rule_id: str,
    order_cite: str,
    rule_cite: str,
) -> None:
    temporary_id = f"{rule_id}-temporary"
    before = us_basis(query, temporary_from - DAY)
    assert temporary_id not in before and rule_id not in before
    for day in (temporary_from, permanent_from - DAY):
        during = us_basis(query, day)
        assert temporary_id in during and rule_id not in during, day
        assert order_cite in during[temporary_id][0]
    after = us_basis(query, permanent_from)
    assert rule_id in after and temporary_id not in after
    assert rule_cite in after[rule_id][0]


def test_a_substance_first_controlled_by_a_temporary_order_was_not_controlled_before() -> None:
    # Brorphine is no fentanyl-related substance (no 4-anilidopiperidine): nothing else applies.
    verdict = identify("brorphine", as_of=date(2021, 2, 28), jurisdictions=["US"]).verdicts["US"]
    assert verdict.status == "no_match"
    verdict = identify("brorphine", as_of=date(2021, 3, 1), jurisdictions=["US"]).verdicts["US"]
    assert verdict.status == "controlled"


def test_an_order_whose_effective_date_was_read_is_confirmed_and_one_whose_was_not_is_not() -> None:
    assert us_basis("UR-144", date(2014, 1, 1))["US-UR-144-temporary"][1] is True
    assert us_basis("UR-144", date(2020, 1, 1))["US-UR-144"][1] is True
    # Acetyl fentanyl's order of 2015 was read only as far as its summary: its DATES line was not.
    assert us_basis("acetylfentanyl", date(2016, 1, 1))["US-acetylfentanyl-temporary"][1] is False


def test_mt_45_is_schedule_i_from_the_treaty_order_not_before() -> None:
    assert "US-MT-45" not in us_basis("MT-45", date(2018, 1, 11))
    citation, confirmed = us_basis("MT-45", date(2018, 1, 12))["US-MT-45"]
    assert "82 FR 58557" in citation and confirmed


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [("2C-E", "US-2C-E"), ("2C-P", "US-2C-P"), ("JWH-019", "US-JWH-019"), ("RCS-4", "US-RCS-4")],
)
def test_the_synthetic_drug_abuse_prevention_act_applies_from_its_signature(
    query: str, rule_id: str
) -> None:
    assert rule_id not in us_basis(query, date(2012, 7, 8))
    citation, confirmed = us_basis(query, date(2012, 7, 9))[rule_id]
    assert "Pub. L. 112-144" in citation and "21 U.S.C. 812(c) Schedule I(" in citation
    assert confirmed  # named in the Code's Schedule I as the Act amended it


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("CC(c1ccc(Br)cc1)N1CCC(n2c(=O)[nH]c3ccccc32)CC1.Cl", "US-brorphine"),
        ("CCCC(NCC)C(=O)c1ccc2OCOc2c1.Cl", "US-N-ethylpentylone"),
        ("990-73-8", "US-fentanyl"),  # fentanyl citrate by its CAS number
    ],
)
def test_a_salt_takes_the_verdict_of_its_base(query: str, rule_id: str) -> None:
    assert rule_id in us_basis(query, date(2026, 1, 1))


def test_an_order_whose_successor_was_not_found_ends_on_the_last_day_it_states() -> None:
    # 84 FR 34291: 'effective July 18, 2019, until July 18, 2021'; no extension or final rule read.
    rule_id = "US-alpha-PHP-temporary"
    assert rule_id not in us_basis("alpha-PHP", date(2019, 7, 17))
    citation, confirmed = us_basis("alpha-PHP", date(2019, 7, 18))[rule_id]
    assert "84 FR 34291" in citation and confirmed
    assert rule_id in us_basis("alpha-PHP", date(2021, 7, 18))
    assert rule_id not in us_basis("alpha-PHP", date(2021, 7, 19))
