"""US listings dated from the Federal Register rules that made them (issue 13): red and
white phosphorus and hypophosphorous acid with its salts are List I chemicals from 66 FR 52670
(effective 16 Nov 2001, no threshold), methyl isobutyl ketone a List II chemical from 60 FR 19509
(effective 19 May 1995), APAAN and MAPA List I chemicals from their designation rules (2017,
2021), boldione an anabolic steroid from 74 FR 63603 (4 Jan 2010), not from the later days a CFR
text or a 2010 proposal showed them (the steroids the 1990 Act named, Schedule III from 27 Feb
1991, are asked in test_rules_us_sixth_pass.py); tapentadol and lisdexamfetamine Schedule II
from the publication of their final rules, sodium permanganate List II from its 2006 final rule
(the last four unconfirmed); four Schedule III stimulants from the 2002 annual CFR edition
that lists them (a day shown, unconfirmed)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from liaison.chem.models import Basis
from support import basis_by_rule

PHOSPHORUS_DAY = date(2001, 11, 16)
MIBK_DAY = date(1995, 5, 19)


def us_basis(query: str, day: date) -> dict[str, Basis]:
    return basis_by_rule("US", query, day)


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("P12P3P1P23", "US-white-phosphorus"),
        ("O[PH2]=O", "US-hypophosphorous-acid"),
        ("[Na+].[O-][PH2]=O", "US-sodium-hypophosphite"),
        ("[Fe+2].[O-][PH2]=O.[O-][PH2]=O", "US-iron-II-hypophosphite"),
        ("red phosphorus", "US-red-phosphorus"),
    ],
)
def test_the_phosphorus_chemicals_are_list_i_from_the_2001_rule(query: str, rule_id: str) -> None:
    assert rule_id not in us_basis(query, PHOSPHORUS_DAY - timedelta(days=1))
    for day in (PHOSPHORUS_DAY, date(2005, 1, 1)):
        basis = us_basis(query, day)[rule_id]
        assert basis.list == "List I" and basis.confirmed, day
        assert "66 FR 52670" in basis.citation


def test_the_2001_rule_set_no_threshold() -> None:
    threshold = us_basis("P12P3P1P23", PHOSPHORUS_DAY)["US-white-phosphorus"].threshold
    assert threshold.startswith("none") and "66 FR 52670" in threshold


def test_methyl_isobutyl_ketone_is_list_ii_from_may_1995() -> None:
    assert "US-MIBK" not in us_basis("CC(C)CC(C)=O", MIBK_DAY - timedelta(days=1))
    basis = us_basis("CC(C)CC(C)=O", MIBK_DAY)["US-MIBK"]
    assert basis.list == "List II" and basis.confirmed
    assert "60 FR 19509" in basis.citation


def test_iodine_carries_the_zero_threshold_of_its_2007_rule() -> None:
    basis = us_basis("II", date(2010, 1, 1))["US-iodine"]
    assert basis.threshold.startswith("none") and "zero kilograms" in basis.threshold
    assert not basis.confirmed  # the rule's effective day is still from a reprint


@pytest.mark.parametrize(
    ("query", "rule_id", "publication_day", "fr_page"),
    [
        ("tapentadol", "US-tapentadol", date(2009, 5, 21), "74 FR 23790"),
        ("lisdexamfetamine", "US-lisdexamfetamine", date(2007, 5, 3), "72 FR 24532"),
    ],
)
def test_a_schedule_ii_drug_is_listed_from_its_final_rules_publication_unconfirmed(
    query: str, rule_id: str, publication_day: date, fr_page: str
) -> None:
    assert rule_id not in us_basis(query, publication_day - timedelta(days=1))
    basis = us_basis(query, publication_day)[rule_id]
    assert basis.list == "Schedule II" and fr_page in basis.citation
    assert not basis.confirmed  # the final rule's DATES line was not reached


@pytest.mark.parametrize(
    ("query", "rule_id", "first_day", "document"),
    [
        ("APAAN", "US-APAAN", date(2017, 8, 14), "82 FR 32457"),
        ("COC(=O)C(C(C)=O)c1ccccc1", "US-MAPA", date(2021, 12, 20), "2021-24952"),
        ("16648-44-5", "US-MAPA", date(2021, 12, 20), "2021-24952"),
    ],
)
def test_a_designated_list_i_chemical_is_listed_from_its_rules_effective_day(
    query: str, rule_id: str, first_day: date, document: str
) -> None:
    assert rule_id not in us_basis(query, first_day - timedelta(days=1))
    basis = us_basis(query, first_day)[rule_id]
    assert basis.list == "List I" and basis.confirmed and document in basis.citation
    assert basis.threshold.startswith("none")


def test_boldione_is_an_anabolic_steroid_from_the_2010_rule() -> None:
    assert "US-boldione" not in us_basis("boldione", date(2010, 1, 3))
    basis = us_basis("boldione", date(2010, 1, 4))["US-boldione"]
    assert basis.list == "Schedule III" and basis.confirmed and "74 FR 63603" in basis.citation


def test_sodium_permanganate_is_list_ii_from_the_final_rule_not_the_proposal() -> None:
    permanganate = "[Na+].[O-][Mn](=O)(=O)=O"
    assert "US-sodium-permanganate" not in us_basis(permanganate, date(2006, 10, 16))
    basis = us_basis(permanganate, date(2006, 10, 17))["US-sodium-permanganate"]
    assert basis.list == "List II" and "E6-16990" in basis.citation and not basis.confirmed
    assert "55 kilograms" in basis.threshold


@pytest.mark.parametrize("query", ["benzphetamine", "phendimetrazine"])
def test_a_schedule_iii_stimulant_applies_from_the_2002_cfr_edition(query: str) -> None:
    rule_id = f"US-{query}"
    assert rule_id not in us_basis(query, date(2002, 3, 31))
    basis = us_basis(query, date(2002, 4, 1))[rule_id]
    assert basis.list == "Schedule III" and "1 Apr 2002" in basis.citation and not basis.confirmed
