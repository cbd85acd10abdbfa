"""China's entries as confirmed from the catalogue tables (fifth pass): each list answers with
the item read, from its first day and not the day before; the tables' Chinese names and CAS
numbers find their entries; the supplementary list covers salts; the adjustments of 2023 and
2024 close the listing they replace; the nitazene and synthetic cannabinoid classes screen what
their definitions draw."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import identify
from liaison.chem.models import Verdict

TODAY = date(2026, 1, 1)
NARCOTIC = "麻醉药品品种目录 (catalogue of narcotic drugs)"
CATEGORY_I = "精神药品品种目录 第一类 (catalogue of psychotropic substances, category I)"
CATEGORY_II = "精神药品品种目录 第二类 (catalogue of psychotropic substances, category II)"
SUPPLEMENTARY = (
    "非药用类麻醉药品和精神药品管制品种增补目录 "
    "(supplementary list of non-medical narcotic drugs and psychotropic substances)"
)


def _cn(query: str, as_of: date) -> Verdict:
    return identify(query, as_of=as_of, jurisdictions=["CN"]).verdicts["CN"]


def _rule_ids(query: str, as_of: date) -> set[str]:
    return {basis.rule_id for basis in _cn(query, as_of).basis}


@pytest.mark.parametrize(
    ("query", "rule_id", "list_name", "item", "first"),
    [
        ("fentanyl", "CN-fentanyl", NARCOTIC, "item 47", date(2014, 1, 1)),
        ("etonitazene", "CN-etonitazene", NARCOTIC, "item 44", date(2014, 1, 1)),
        ("MDMA", "CN-MDMA", CATEGORY_I, "第一类 item 13", date(2014, 1, 1)),
        ("diazepam", "CN-diazepam", CATEGORY_II, "第二类 item 24", date(2014, 1, 1)),
        ("ocfentanil", "CN-ocfentanil", SUPPLEMENTARY, "item 116", date(2015, 10, 1)),
        ("4-CEC", "CN-4-CEC", SUPPLEMENTARY, "item 1", date(2018, 9, 1)),
        ("brorphine", "CN-brorphine", SUPPLEMENTARY, "item 1", date(2024, 7, 1)),
    ],
)
def test_a_listing_read_in_its_table_is_confirmed_from_its_first_day(
    query: str, rule_id: str, list_name: str, item: str, first: date
) -> None:
    day_before = date.fromordinal(first.toordinal() - 1)
    assert rule_id not in _rule_ids(query, day_before)
    verdict = _cn(query, first)
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
    assert rule_id in _rule_ids(query, TODAY)


def test_coca_leaf_is_confirmed_by_name_alone() -> None:
    verdict = _cn("古柯叶", TODAY)
    (basis,) = verdict.basis
    assert basis.rule_id == "CN-coca-leaf" and basis.confirmed and basis.atoms == ()


def test_a_salt_of_a_2015_substance_shares_its_listing() -> None:
    acetylfentanyl_hydrochloride = "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1.Cl"
    verdict = _cn(acetylfentanyl_hydrochloride, TODAY)
    basis = next(b for b in verdict.basis if b.rule_id == "CN-acetylfentanyl")
    assert basis.confirmed and basis.list == SUPPLEMENTARY


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
    (before,) = _cn(query, last_day).basis
    (after,) = _cn(query, date.fromordinal(last_day.toordinal() + 1)).basis
    assert (before.rule_id, after.rule_id) == (old_id, new_id)
    assert before.confirmed and after.confirmed


NITAZENES = "CN-nitazenes-2025"


@pytest.mark.parametrize(
    "smiles",
    [
        "CCOc1ccc(CCc2nc3cc([N+](=O)[O-])ccc3n2CCN(CC)CC)cc1",  # clause 二: a two-carbon link
        "CCN(CC)CCn1c(Cc2cccs2)nc2cc([N+](=O)[O-])ccc21",  # clause 三: a thiophene
    ],
)
def test_the_nitazene_clauses_send_their_variants_to_review(smiles: str) -> None:
    verdict = _cn(smiles, date(2025, 7, 1))
    assert verdict.status == "review"
    (basis,) = verdict.basis
    assert basis.rule_id == NITAZENES and basis.confirmed
    assert _cn(smiles, date(2025, 6, 30)).status == "no_match"


CANNABINOIDS = "CN-synthetic-cannabinoids-2021"


@pytest.mark.parametrize(
    "smiles",
    [
        "CCCCCn1c2ccccc2c2c1ccn(C(C)(C)c1ccccc1)c2=O",  # CUMYL-PEGACLONE: the carbolinone core
        "COC(=O)C(NC(=O)c1ccc2c(c1)c1ccccc1n2CC1CCCCC1)C(C)(C)C",  # MDMB-CHMCZCA: carbazole
        "CC(C)C(NC(=O)c1cc(-c2ccc(F)cc2)n(CCCCCF)n1)C(N)=O",  # 5F-3,5-AB-PFUPPYCA: pyrazole
        "CCCCCCC(C)(C)c1ccc(C2CCCC(O)C2)c(O)c1",  # CP-47,497: the cyclohexylphenol core
    ],
)
def test_the_other_cores_of_the_cannabinoid_figure_are_sent_to_review(smiles: str) -> None:
    verdict = _cn(smiles, date(2021, 7, 1))
    assert verdict.status == "review"
    assert CANNABINOIDS in {basis.rule_id for basis in verdict.basis}
    assert CANNABINOIDS not in _rule_ids(smiles, date(2021, 6, 30))


def test_a_pyrrole_medicine_outside_the_drawn_groups_is_not_sent_to_review() -> None:
    atorvastatin = (
        "CC(C)c1c(C(=O)Nc2ccccc2)c(-c2ccccc2)c(-c2ccc(F)cc2)n1CC[C@@H](O)C[C@@H](O)CC(=O)O"
    )
    assert CANNABINOIDS not in _rule_ids(atorvastatin, TODAY)
