"""China's entries as confirmed from the catalogue tables (fifth pass): each list answers with
the item read, from its first day and not the day before; the tables' Chinese names and CAS
numbers find their entries; the supplementary list covers salts; the adjustments of 2023 and
2024 close the listing they replace; the synthetic cannabinoid screen takes R2 as its figure
draws it; items added from the tables apply from their first day; stereo-dependent listings
keep their enantiomers apart."""

from __future__ import annotations

from datetime import date

import pytest

from support import (
    CN_CATEGORY_I,
    CN_CATEGORY_II,
    CN_NARCOTIC,
    CN_SUPPLEMENTARY,
    cn_rule_ids,
    cn_verdict,
)

TODAY = date(2026, 1, 1)


@pytest.mark.parametrize(
    ("query", "rule_id", "list_name", "item", "first"),
    [
        ("fentanyl", "CN-fentanyl", CN_NARCOTIC, "item 47", date(2014, 1, 1)),
        ("etonitazene", "CN-etonitazene", CN_NARCOTIC, "item 44", date(2014, 1, 1)),
        ("MDMA", "CN-MDMA", CN_CATEGORY_I, "第一类 item 13", date(2014, 1, 1)),
        ("diazepam", "CN-diazepam", CN_CATEGORY_II, "第二类 item 24", date(2014, 1, 1)),
        ("ocfentanil", "CN-ocfentanil", CN_SUPPLEMENTARY, "item 116", date(2015, 10, 1)),
        ("4-CEC", "CN-4-CEC", CN_SUPPLEMENTARY, "item 1", date(2018, 9, 1)),
        ("brorphine", "CN-brorphine", CN_SUPPLEMENTARY, "item 1", date(2024, 7, 1)),
    ],
)
def test_a_listing_read_in_its_table_is_confirmed_from_its_first_day(
    query: str, rule_id: str, list_name: str, item: str, first: date
) -> None:
    day_before = date.fromordinal(first.toordinal() - 1)
    assert rule_id not in cn_rule_ids(query, day_before)
    verdict = cn_verdict(query, first)
    assert verdict.status == "controlled"
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert basis.confirmed and basis.list == list_name and basis.in_force_from == first
    assert item in basis.citation


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("阿法甲基芬太尼", "CN-alpha-methylfentanyl"),  # the 2013 table's name
        ("去氧麻黄碱", "CN-methamphetamine"),
        ("赛洛西宾", "CN-psilocybin"),
        ("79704-88-4", "CN-alpha-methylfentanyl"),  # the table's CAS number
        ("2244737-98-0", "CN-brorphine"),
        ("1-戊基-3-(1-萘甲酰基)吲哚", "CN-JWH-018"),
    ],
)
def test_the_tables_names_and_cas_numbers_find_their_entry(query: str, rule_id: str) -> None:
    assert rule_id in cn_rule_ids(query, TODAY)


def test_coca_leaf_is_confirmed_by_name_alone() -> None:
    verdict = cn_verdict("古柯叶", TODAY)
    (basis,) = verdict.basis
    assert basis.rule_id == "CN-coca-leaf" and basis.confirmed and basis.atoms == ()


def test_a_salt_of_a_2015_substance_shares_its_listing() -> None:
    acetylfentanyl_hydrochloride = "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1.Cl"
    verdict = cn_verdict(acetylfentanyl_hydrochloride, TODAY)
    basis = next(b for b in verdict.basis if b.rule_id == "CN-acetylfentanyl")
    assert basis.confirmed and basis.list == CN_SUPPLEMENTARY


@pytest.mark.parametrize(
    ("query", "last_day", "old_id", "new_id"),
    [
        ("midazolam", date(2024, 6, 30), "CN-midazolam", "CN-midazolam-2024"),  # 2024年第54号
        ("modafinil", date(2023, 9, 30), "CN-modafinil", "CN-modafinil-2023"),  # 2023年第120号
    ],
)
def test_a_move_read_in_its_announcement_is_confirmed_on_both_sides(
    query: str, last_day: date, old_id: str, new_id: str
) -> None:
    (before,) = cn_verdict(query, last_day).basis
    (after,) = cn_verdict(query, date.fromordinal(last_day.toordinal() + 1)).basis
    assert (before.rule_id, after.rule_id) == (old_id, new_id)
    assert before.confirmed and after.confirmed


CANNABINOIDS = "CN-synthetic-cannabinoids-2021"


@pytest.mark.parametrize(
    ("smiles", "screened"),
    [
        # JWH-016: R2 a methyl (JWH-007, the pentyl homologue, is a named item of the 2015 list)
        ("CCCCn1c(C)c(C(=O)c2cccc3ccccc23)c2ccccc21", True),
        ("CCCCCn1c(CC)c(C(=O)c2cccc3ccccc23)c2ccccc21", False),  # R2 an ethyl: not drawn
    ],
)
def test_the_cannabinoid_screen_takes_r2_as_the_figure_draws_it(
    smiles: str, screened: bool
) -> None:
    assert (CANNABINOIDS in cn_rule_ids(smiles, date(2021, 7, 1))) is screened


def test_a_pyrrole_medicine_outside_the_drawn_groups_is_not_sent_to_review() -> None:
    atorvastatin = (
        "CC(C)c1c(C(=O)Nc2ccccc2)c(-c2ccccc2)c(-c2ccc(F)cc2)n1CC[C@@H](O)C[C@@H](O)CC(=O)O"
    )
    assert CANNABINOIDS not in cn_rule_ids(atorvastatin, TODAY)


@pytest.mark.parametrize(
    ("query", "rule_id", "list_name", "first"),
    [
        ("地芬诺酯", "CN-diphenoxylate", CN_NARCOTIC, date(2014, 1, 1)),  # narcotic drugs item 39
        ("thebaine", "CN-thebaine", CN_NARCOTIC, date(2014, 1, 1)),
        ("buprenorphine", "CN-buprenorphine", CN_CATEGORY_I, date(2014, 1, 1)),
        ("DOB", "CN-DOB", CN_CATEGORY_I, date(2014, 1, 1)),  # matched by hand
        ("2C-E", "CN-2C-E", CN_SUPPLEMENTARY, date(2015, 10, 1)),
        ("硝西泮", "CN-nitrazepam", CN_CATEGORY_II, date(2014, 1, 1)),
        ("25I-NBOMe", "CN-25I-NBOMe", CN_SUPPLEMENTARY, date(2015, 10, 1)),
        ("N-ethylpentylone", "CN-N-ethylpentylone", CN_SUPPLEMENTARY, date(2018, 9, 1)),
        ("isotonitazene", "CN-isotonitazene", CN_SUPPLEMENTARY, date(2021, 7, 1)),
        ("bromazolam", "CN-bromazolam", CN_SUPPLEMENTARY, date(2024, 7, 1)),
    ],
)
def test_an_item_added_from_the_tables_applies_from_its_first_day(
    query: str, rule_id: str, list_name: str, first: date
) -> None:
    assert rule_id not in cn_rule_ids(query, date.fromordinal(first.toordinal() - 1))
    basis = next(b for b in cn_verdict(query, first).basis if b.rule_id == rule_id)
    assert basis.confirmed and basis.list == list_name and "item" in basis.citation


def test_dextromethorphan_is_not_a_narcotic_drug_through_its_enantiomer_or_racemate() -> None:
    dextro = "CN1CC[C@@]23CCCC[C@@H]2[C@@H]1CC4=C3C=C(C=C4)OC"
    levo = "CN1CC[C@]23CCCC[C@H]2[C@H]1CC4=C3C=C(C=C4)OC"
    assert cn_rule_ids(dextro, TODAY) == {"CN-dextromethorphan"}
    assert "CN-levomethorphan" in cn_rule_ids(levo, TODAY)


def test_cathine_does_not_take_in_norephedrine() -> None:
    norephedrine = "C[C@H](N)[C@H](O)c1ccccc1"  # (1R,2S): a precursor, not cathine
    ids = cn_rule_ids(norephedrine, TODAY)
    assert "CN-norephedrine" in ids and "CN-cathine" not in ids


PRECURSOR_1 = "易制毒化学品 第一类 (category 1 precursor chemicals)"


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("C[C@H](N)[C@H](O)c1ccccc1", "CN-norephedrine"),  # (1R,2S)
        ("C[C@@H](N)[C@@H](O)c1ccccc1.Cl", "CN-norephedrine-1S2R"),  # (1S,2R) hydrochloride
        ("去甲麻黄素", "CN-norephedrine"),
    ],
)
def test_both_erythro_enantiomers_are_the_category_1_precursor_norephedrine(
    query: str, rule_id: str
) -> None:
    verdict = cn_verdict(query, TODAY)
    assert verdict.status == "precursor"
    assert [(b.rule_id, b.list) for b in verdict.basis] == [(rule_id, PRECURSOR_1)]


@pytest.mark.parametrize(
    "threo",
    [
        "C[C@H](N)[C@@H](O)c1ccccc1",  # (1S,2S): cathine
        "C[C@@H](N)[C@H](O)c1ccccc1",  # (1R,2R): its enantiomer
    ],
)
def test_the_threo_isomers_are_not_the_precursor_norephedrine(threo: str) -> None:
    verdict = cn_verdict(threo, TODAY)
    assert not {"CN-norephedrine", "CN-norephedrine-1S2R"} & {b.rule_id for b in verdict.basis}
    assert verdict.status != "precursor"


def test_cathine_is_a_category_ii_psychotropic_and_not_a_precursor() -> None:
    verdict = cn_verdict("cathine", TODAY)
    assert [(b.rule_id, b.list) for b in verdict.basis] == [("CN-cathine", CN_CATEGORY_II)]
    assert verdict.status == "controlled"
