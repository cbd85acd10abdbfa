"""US listings loaded from texts already read (issue 13): the anabolic steroids that 21 U.S.C.
802(41)(A)(i)-(xlix) names and that were not yet loaded, drawn with the stereo their names
give (Schedule III: the 2004 Act's from 20 Jan 2005, confirmed; those the 1990 Act named too,
from 27 Feb 1991, are asked in test_rules_us_sixth_pass.py; two that only 21 CFR 1300.01 names,
from their 2010 rule, unconfirmed; methasterone and prostanozol, placed in 2012, are asked in
test_rules_us_named_frs_and_designer_steroids.py), and the opioids etorphine, acetorphine
and cyprenorphine (the Act's initial Schedule I(b), 1 May 1971), etorphine hydrochloride,
dihydroetorphine, LAAM and bulk dextropropoxyphene (Schedule II) and drotebanol (Schedule I)
from the day the eCFR text read shows them (10 Apr 2017, unconfirmed)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from liaison.chem.models import Basis
from support import basis_by_rule

ACT_2004_DAY = date(2005, 1, 20)
RULE_2010_DAY = date(2010, 1, 4)
CSA_DAY = date(1971, 5, 1)
CFR_TEXT_DAY = date(2017, 4, 10)

ANDROSTANEDIOL_3BETA = "C[C@]12CC[C@H](O)C[C@@H]1CC[C@@H]1[C@@H]2CC[C@]2(C)[C@@H](O)CC[C@@H]12"
ANDROSTANEDIOL_3ALPHA = "C[C@]12CC[C@@H](O)C[C@@H]1CC[C@@H]1[C@@H]2CC[C@]2(C)[C@@H](O)CC[C@@H]12"
ETORPHINE = "CN1CCC23C4Oc5c(O)ccc(c52)CC1C36C=CC4(OC)C(C6)C(C)(O)CCC"
DEXTROPROPOXYPHENE = "CCC(=O)O[C@](Cc1ccccc1)(c1ccccc1)[C@H](C)CN(C)C"
LEVOPROPOXYPHENE = "CCC(=O)O[C@@](Cc1ccccc1)(c1ccccc1)[C@@H](C)CN(C)C"


def us_basis(query: str, day: date) -> dict[str, Basis]:
    return basis_by_rule("US", query, day)


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("norbolethone", "US-norbolethone"),
        ("19-nor-4-androstenedione", "US-19-nor-4-androstenedione"),
        ("CC12CCC3C(C(C)CC4=CC(=O)CCC43C)C1CCC2(C)O", "US-bolasterone"),  # flat drawing
        (ANDROSTANEDIOL_3ALPHA, "US-androstanediol-3alpha"),
        ("CC12CCC3C(CCC4CC5=NON=C5CC43C)C1CCC2(C)O", "US-furazabol"),
    ],
)
def test_a_steroid_first_named_by_the_2004_act_is_schedule_iii_from_20_january_2005(
    query: str, rule_id: str
) -> None:
    assert rule_id not in us_basis(query, ACT_2004_DAY - timedelta(days=1))
    basis = us_basis(query, ACT_2004_DAY)[rule_id]
    assert basis.list == "Schedule III" and basis.confirmed
    assert "802(41)(A)" in basis.citation and "Pub. L. 108-358" in basis.citation


def test_the_two_androstanediols_are_two_entries_each_drawn_with_its_own_3_configuration() -> None:
    # Each is found by its own drawing outright; the other, a stereoisomer, through isomers.
    for query, own, other in (
        (ANDROSTANEDIOL_3BETA, "US-androstanediol-3beta", "US-androstanediol-3alpha"),
        (ANDROSTANEDIOL_3ALPHA, "US-androstanediol-3alpha", "US-androstanediol-3beta"),
    ):
        found = us_basis(query, ACT_2004_DAY)
        assert own in found and other in found
    by_name = us_basis("3alpha,17beta-dihydroxy-5alpha-androstane", ACT_2004_DAY)
    assert "US-androstanediol-3alpha" in by_name


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        (ETORPHINE, "US-etorphine"),
        ("acetorphine", "US-acetorphine"),
        ("cyprenorphine", "US-cyprenorphine"),
    ],
)
def test_the_acts_schedule_i_opium_derivatives_are_listed_from_1_may_1971(
    query: str, rule_id: str
) -> None:
    assert rule_id not in us_basis(query, CSA_DAY - timedelta(days=1))
    basis = us_basis(query, CSA_DAY)[rule_id]
    assert basis.list == "Schedule I" and basis.confirmed
    assert "Schedule I(b)" in basis.citation


@pytest.mark.parametrize(
    ("query", "rule_id", "schedule"),
    [
        ("etorphine hydrochloride", "US-etorphine-hydrochloride", "Schedule II"),
        ("dihydroetorphine", "US-dihydroetorphine", "Schedule II"),
        ("LAAM", "US-levo-alphacetylmethadol", "Schedule II"),
        (DEXTROPROPOXYPHENE, "US-dextropropoxyphene", "Schedule II"),
        ("drotebanol", "US-drotebanol", "Schedule I"),
    ],
)
def test_a_listing_read_in_the_2017_cfr_text_starts_on_its_first_possible_day_unconfirmed(
    query: str, rule_id: str, schedule: str
) -> None:
    assert rule_id not in us_basis(query, CFR_TEXT_DAY - timedelta(days=1))
    basis = us_basis(query, CFR_TEXT_DAY)[rule_id]
    assert basis.list == schedule and not basis.confirmed
    assert "21 CFR 1308.1" in basis.citation


def test_etorphine_hydrochloride_is_schedule_ii_beside_the_schedule_i_base() -> None:
    found = us_basis(ETORPHINE + ".Cl", CFR_TEXT_DAY)
    assert found["US-etorphine"].list == "Schedule I"
    assert found["US-etorphine-hydrochloride"].list == "Schedule II"


def test_levopropoxyphene_is_excepted_from_the_dextropropoxyphene_listing() -> None:
    assert "US-dextropropoxyphene" not in us_basis(LEVOPROPOXYPHENE, CFR_TEXT_DAY)


@pytest.mark.parametrize(
    ("query", "rule_id", "first_day"),
    [
        ("madol", "US-desoxymethyltestosterone", RULE_2010_DAY),
        ("estra-4,9(10)-diene-3,17-dione", "US-19-nor-4,9(10)-androstadienedione", RULE_2010_DAY),
    ],
)
def test_a_steroid_only_the_cfr_names_starts_with_its_2010_rule_unconfirmed(
    query: str, rule_id: str, first_day: date
) -> None:
    assert rule_id not in us_basis(query, first_day - timedelta(days=1))
    basis = us_basis(query, first_day)[rule_id]
    assert basis.list == "Schedule III" and not basis.confirmed
    assert "1300.01(b)" in basis.citation


def test_dextropropoxyphene_is_schedule_ii_in_bulk_and_schedule_iv_in_dosage_forms() -> None:
    query = "alpha-(+)-4-dimethylamino-1,2-diphenyl-3-methyl-2-propionoxybutane"
    assert "US-dextropropoxyphene-schedule-IV" not in us_basis(
        query, CFR_TEXT_DAY - timedelta(days=1)
    )
    found = us_basis(query, CFR_TEXT_DAY)
    assert found["US-dextropropoxyphene-schedule-IV"].list == "Schedule IV"
    assert found["US-dextropropoxyphene"].list == "Schedule II"
