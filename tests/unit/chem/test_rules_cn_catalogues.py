"""China's catalogues, supplementary list and precursor categories as loaded by the rules-cn
pass: every list answers with its entry, citation and date; dated additions and moves between
categories apply from their first day; salts and isomers share the listing; the nitazene class
of 2025 is a review screen; the rule data passes its checks."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem.rulecheck import CheckResult
from support import CN_CATEGORY_I, CN_CATEGORY_II, CN_SUPPLEMENTARY, cn_rule_ids, cn_verdict

TODAY = date(2026, 1, 1)
NITAZENES = "CN-nitazenes-2025"
PRECURSOR_1 = "易制毒化学品 第一类 (category 1 precursor chemicals)"


@pytest.mark.parametrize(
    ("query", "rule_id", "list_name"),
    [
        ("JWH-073", "CN-JWH-073", CN_CATEGORY_I),  # 2013 catalogue, named by UNODC
        ("CNC(C)C(=O)c1ccc2c(c1)OCO2", "CN-methylone", CN_CATEGORY_I),
        ("alpha-PVP", "CN-alpha-PVP", CN_SUPPLEMENTARY),  # 2015 list, named by UNODC
        ("5F-ADBICA", "CN-5F-ADBICA", CN_SUPPLEMENTARY),
        ("etomidate", "CN-etomidate", CN_CATEGORY_II),  # adjustment in force 1 Oct 2023
        ("lorcaserin", "CN-lorcaserin", CN_CATEGORY_II),  # adjustment in force 1 Jul 2024
        ("麦角新碱", "CN-ergometrine", PRECURSOR_1),  # 2005 annex, category 1 item 11
        ("去甲麻黄素", "CN-norephedrine", PRECURSOR_1),  # 2005 annex, category 1 item 12
        ("hydroxylimine", "CN-hydroxylimine", PRECURSOR_1),  # added 1 Aug 2008
    ],
)
def test_each_new_listing_answers_with_its_list_and_citation(
    query: str, rule_id: str, list_name: str
) -> None:
    verdict = cn_verdict(query, TODAY)
    assert verdict.status in ("controlled", "precursor"), verdict.explanation
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert basis.list == list_name and basis.citation and basis.in_force_from <= TODAY


@pytest.mark.parametrize(
    ("query", "before", "first", "rule_id"),
    [
        ("hydroxylimine", date(2008, 7, 31), date(2008, 8, 1), "CN-hydroxylimine"),
        ("JWH-250", date(2013, 12, 31), date(2014, 1, 1), "CN-JWH-250"),
        ("pentedrone", date(2015, 9, 30), date(2015, 10, 1), "CN-pentedrone"),
        ("etomidate", date(2023, 9, 30), date(2023, 10, 1), "CN-etomidate"),
        ("lorcaserin", date(2024, 6, 30), date(2024, 7, 1), "CN-lorcaserin"),
        ("flubromazepam", date(2024, 6, 30), date(2024, 7, 1), "CN-flubromazepam"),
    ],
)
def test_an_addition_applies_from_its_first_day(
    query: str, before: date, first: date, rule_id: str
) -> None:
    assert rule_id not in cn_rule_ids(query, before)
    assert rule_id in cn_rule_ids(query, first)


def test_jwh_018_is_on_the_2013_catalogue_not_the_2015_list() -> None:
    basis = next(
        b for b in cn_verdict("JWH-018", date(2014, 1, 1)).basis if b.rule_id == "CN-JWH-018"
    )
    assert basis.list == CN_CATEGORY_I and basis.in_force_from == date(2014, 1, 1)


@pytest.mark.parametrize(
    ("query", "last_day", "old_id", "old_list", "new_id", "new_list"),
    [
        (
            "midazolam",
            date(2024, 6, 30),
            "CN-midazolam",
            CN_CATEGORY_II,
            "CN-midazolam-2024",
            CN_CATEGORY_I,
        ),
        (
            "modafinil",
            date(2023, 9, 30),
            "CN-modafinil",
            CN_CATEGORY_I,
            "CN-modafinil-2023",
            CN_CATEGORY_II,
        ),
    ],
)
def test_a_move_between_categories_changes_the_list_on_its_first_day(
    query: str, last_day: date, old_id: str, old_list: str, new_id: str, new_list: str
) -> None:
    before = cn_verdict(query, last_day)
    assert [(b.rule_id, b.list) for b in before.basis] == [(old_id, old_list)]
    after = cn_verdict(query, date.fromordinal(last_day.toordinal() + 1))
    assert [(b.rule_id, b.list) for b in after.basis] == [(new_id, new_list)]


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("C[C@H]1CNCCc2ccc(Cl)cc21.Cl", "CN-lorcaserin"),  # lorcaserin hydrochloride
        ("C[C@@H]1CNCCc2ccc(Cl)cc21", "CN-lorcaserin"),  # its (S) enantiomer
        ("C[C@H](N)[C@H](O)c1ccccc1.Cl", "CN-norephedrine"),  # (1R,2S) hydrochloride
        ("CCOC(=O)c1cncn1[C@@H](C)c1ccccc1", "CN-etomidate"),  # (S)-etomidate
    ],
)
def test_salts_and_isomers_get_the_listing_of_the_substance(query: str, rule_id: str) -> None:
    assert rule_id in cn_rule_ids(query, TODAY)


@pytest.mark.parametrize(
    ("query", "rule_id"), [("黄樟油", "CN-sassafras-oil"), ("麻黄浸膏粉", "CN-ephedra-extract")]
)
def test_the_precursor_oil_and_extract_are_found_by_name(query: str, rule_id: str) -> None:
    verdict = cn_verdict(query, TODAY)
    assert verdict.status == "precursor"
    (basis,) = verdict.basis
    assert basis.rule_id == rule_id and basis.list == PRECURSOR_1 and basis.atoms == ()


def test_the_2005_precursor_annex_is_confirmed_from_its_text() -> None:
    basis = next(b for b in cn_verdict("piperonal", TODAY).basis if b.rule_id == "CN-piperonal")
    assert basis.confirmed and basis.in_force_from == date(2005, 11, 1)


METONITAZEPYNE = "COc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCC2)cc1"  # named on no Chinese list


def test_an_unlisted_nitazene_is_sent_to_review_from_1_july_2025() -> None:
    verdict = cn_verdict(METONITAZEPYNE, date(2025, 7, 1))
    assert verdict.status == "review"
    (basis,) = verdict.basis
    assert basis.rule_id == NITAZENES and basis.confirmed and "2025" in basis.citation
    assert cn_verdict(METONITAZEPYNE, date(2025, 6, 30)).status == "no_match"


def test_a_named_nitazene_stays_controlled_by_its_own_entry() -> None:
    metonitazene = "CCN(CC)CCn1c(Cc2ccc(OC)cc2)nc2cc([N+](=O)[O-])ccc21"
    verdict = cn_verdict(metonitazene, TODAY)
    assert verdict.status == "controlled"
    assert "CN-metonitazene" in {basis.rule_id for basis in verdict.basis}


@pytest.mark.parametrize(
    "smiles",
    [
        "Clc1ccc(Cn2c(CN3CCCC3)nc3ccccc32)cc1",  # clemizole: benzyl on N1, not on C2
        "CCOCCn1c(N2CCCN(C)CC2)nc2ccccc21",  # emedastine: no benzyl on C2
    ],
)
def test_other_benzimidazole_medicines_are_not_sent_to_review(smiles: str) -> None:
    assert NITAZENES not in cn_rule_ids(smiles, TODAY)


def test_the_chinese_rules_pass_the_data_checks(shipped: CheckResult) -> None:
    errors = [f for f in shipped.errors if f.rule_id.startswith("CN-")]
    assert errors == []


def test_dextromethorphan_is_category_ii_from_july_2024_and_its_enantiomer_is_not() -> None:
    dextro = "CN1CC[C@@]23CCCC[C@@H]2[C@@H]1CC4=C3C=C(C=C4)OC"
    levo = "CN1CC[C@]23CCCC[C@H]2[C@H]1CC4=C3C=C(C=C4)OC"
    assert "CN-dextromethorphan" not in cn_rule_ids(dextro, date(2024, 6, 30))
    verdict = cn_verdict(dextro, date(2024, 7, 1))
    assert verdict.status == "controlled"
    basis = next(b for b in verdict.basis if b.rule_id == "CN-dextromethorphan")
    assert basis.list == CN_CATEGORY_II
    assert "CN-dextromethorphan" not in cn_rule_ids(levo, TODAY)
