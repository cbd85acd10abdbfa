"""Items of China's supplementary list (2015, 2018, 2021 and 2024 tables) loaded with structures
drawn from the tables' printed English names: each is controlled from its table's first day and
not the day before, found by its structure, its Chinese name or the table's CAS number, and cited
by its item."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from support import CN_SUPPLEMENTARY, cn_rule_ids, cn_verdict

TABLES = {
    2015: (date(2015, 10, 1), "公通字〔2015〕27号"),
    2018: (date(2018, 9, 1), "4-氯乙卡西酮 and 31 other substances"),
    2021: (date(2021, 7, 1), "氟胺酮等18种物质"),
    2024: (date(2024, 7, 1), "溴啡等46种物质"),
}


@pytest.mark.parametrize(
    ("query", "rule_id", "table", "item"),
    [
        # by structure, drawn here independently of the rule file's SMILES
        ("CCCCCN1C=C(C(=O)C2=CC=C(CC)C3=CC=CC=C23)C2=CC=CC=C21", "CN-JWH-210", 2015, 56),
        ("ClC1=CC=CC(=C1)N1CCNCC1", "CN-mCPP", 2015, 101),
        ("O=C(C1=NC2=CC=CC=C2N1CCCCCF)C1=CC=CC2=CC=CC=C12", "CN-BIM-2201", 2018, 27),
        (
            "CCCCCCC(C)(C)c1cc(O)c2[C@@H]3CC(CO)=CC[C@H]3C(C)(C)Oc2c1",
            "CN-HU-210",
            2021,
            2,
        ),
        ("NC(C)CC1=CC2=C(C=CO2)C=C1", "CN-6-APB", 2024, 12),
        # by the table's Chinese name
        ("2-氟甲基苯丙胺", "CN-2-FMA", 2015, 13),
        ("4-乙基甲卡西酮", "CN-4-EMC", 2018, 11),
        ("二氯西泮", "CN-diclazepam", 2021, 12),
        ("溴胺酮", "CN-2-BDCK", 2024, 23),
        # by the CAS number the table prints
        ("1354631-28-9", "CN-NEB", 2015, 86),
        ("1137-04-8", "CN-5-MeO-AMT", 2021, 10),
        ("2349358-81-0", "CN-1P-LSD", 2024, 36),
        ("2972185-69-4", "CN-N-Cyclohexylmethylone", 2024, 29),  # printed as the hydrochloride's
    ],
)
def test_a_supplementary_item_is_controlled_from_its_tables_first_day(
    query: str, rule_id: str, table: int, item: int
) -> None:
    first_day, title = TABLES[table]
    assert rule_id not in cn_rule_ids(query, first_day - timedelta(days=1))
    verdict = cn_verdict(query, first_day)
    assert verdict.status == "controlled", verdict.explanation
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert basis.confirmed and basis.list == CN_SUPPLEMENTARY and basis.in_force_from == first_day
    assert title in basis.citation and f"item {item} (" in basis.citation


def test_the_benzofuran_positional_isomers_are_separate_items() -> None:
    six_apb = "CC(N)Cc1ccc2ccoc2c1"
    five_apb = "CC(N)Cc1ccc2occc2c1"
    day = TABLES[2024][0]
    assert "CN-5-APB" not in cn_rule_ids(six_apb, day)
    assert "CN-6-APB" not in cn_rule_ids(five_apb, day)
    assert "CN-5-APB" in cn_rule_ids(five_apb, day)


def test_an_item_drawn_without_stereo_covers_an_enantiomer_and_a_salt() -> None:
    # 2-FMA's name gives no stereo; the list covers optical isomers and salts
    assert "CN-2-FMA" in cn_rule_ids("CN[C@@H](C)Cc1ccccc1F.Cl", TABLES[2015][0])


@pytest.mark.parametrize(
    "query", ["32904-22-6", "CCCCCC(C)C(C)c1cc(O)c2C3=C(CCC(C)C3)C(C)(C)Oc2c1"]
)
def test_dmhp_is_category_i_item_5_of_the_2013_psychotropic_catalogue(query: str) -> None:
    first_day = date(2014, 1, 1)
    assert "CN-DMHP" not in cn_rule_ids(query, first_day - timedelta(days=1))
    basis = next(b for b in cn_verdict(query, first_day).basis if b.rule_id == "CN-DMHP")
    assert basis.confirmed and "第一类 item 5 (" in basis.citation


@pytest.mark.parametrize(
    ("query", "rule_id", "category", "item"),
    [
        ("3736-08-1", "CN-fenetylline", "第一类", 34),
        ("丁巴比妥", "CN-butobarbital", "第二类", 15),
        ("CCC(C)C1(CC)C(=O)NC(=O)NC1=O", "CN-secbutabarbital", "第二类", 61),
    ],
)
def test_a_2013_psychotropic_item_matched_by_name_to_a_un_structure_is_cited_by_its_item(
    query: str, rule_id: str, category: str, item: int
) -> None:
    first_day = date(2014, 1, 1)
    assert rule_id not in cn_rule_ids(query, first_day - timedelta(days=1))
    basis = next(b for b in cn_verdict(query, first_day).basis if b.rule_id == rule_id)
    assert basis.confirmed and f"{category} item {item} (" in basis.citation
