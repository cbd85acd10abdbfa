"""The 2013 catalogue items loaded in the ninth CN pass and the five new category II substances of
the 2025 medical catalogue: each 2013 item is controlled from 1 Jan 2014 and not the day before,
found by its English and Chinese names, the table's CAS number and its structure, and cited by
its item; an item whose substance the US or UN file has is drawn as that entry (same InChIKey);
the alpha/beta pairs answer one entry that cites both items; the 2025 substances are listed,
unconfirmed, from the announcement's publication day."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import load_rulebook
from support import CN_CATEGORY_I, CN_CATEGORY_II, CN_NARCOTIC, cn_rule_ids, cn_verdict

FIRST_DAY = date(2014, 1, 1)
DAY_BEFORE = date(2013, 12, 31)
CATALOGUE_2025 = date(2025, 7, 28)


@pytest.mark.parametrize(
    ("query", "rule_id", "listing", "item"),
    [
        # narcotic drugs: English name, Chinese name, CAS number, structure
        ("acetorphine", "CN-acetorphine", CN_NARCOTIC, "item 1 (醋托啡)"),
        ("可多克辛", "CN-codoxime", CN_NARCOTIC, "item 26 (可多克辛)"),
        ("14357-76-7", "CN-dihydroetorphine", CN_NARCOTIC, "item 33 (二氢埃托啡)"),
        ("drotebanol", "CN-drotebanol", CN_NARCOTIC, "item 41 (羟蒂巴酚)"),
        ("埃托啡", "CN-etorphine", CN_NARCOTIC, "item 45 (埃托啡)"),
        ("125-23-5", "CN-morphine-methobromide", CN_NARCOTIC, "item 71 (吗啡甲溴化物)"),
        ("nicocodine", "CN-nicocodine", CN_NARCOTIC, "item 115 (尼可待因)"),
        ("烟氢可待因", "CN-nicodicodine", CN_NARCOTIC, "item 116 (烟氢可待因)"),
        ("467-15-2", "CN-norcodeine", CN_NARCOTIC, "item 117 (去甲可待因)"),
        ("烯丙罗定", "CN-allylprodine", CN_NARCOTIC, "item 5 (烯丙罗定)"),
        # bucinnazine drawn independently here, with the trans double bond of AP-237
        ("CCCC(=O)N1CCN(C/C=C/c2ccccc2)CC1", "CN-bucinnazine", CN_NARCOTIC, "item 120 (布桂嗪)"),
        ("布桂嗪", "CN-bucinnazine", CN_NARCOTIC, "item 120 (布桂嗪)"),
        # psychotropic substances, category I
        ("NC1=NC(C)C(O1)c1ccccc1", "CN-4-methylaminorex", CN_CATEGORY_I, "item 16 (甲米雷司)"),
        ("4-甲基硫基安非他明", "CN-4-MTA", CN_CATEGORY_I, "item 18 (4-甲基硫基安非他明)"),
        ("57574-09-1", "CN-amineptine", CN_CATEGORY_I, "item 30 (氨奈普汀)"),
        ("zipeprol", "CN-zipeprol", CN_CATEGORY_I, "item 45 (齐培丙醇)"),
        ("二甲基安非他明", "CN-dimethylamfetamine", CN_CATEGORY_I, "item 53 (二甲基安非他明)"),
        ("Cc1nc2ccccc2c(=O)n1-c1ccccc1CC", "CN-etaqualone", CN_CATEGORY_I, "item 54 (依他喹酮)"),
        # psychotropic substances, category II
        ("溴替唑仑", "CN-brotizolam", CN_CATEGORY_II, "item 14 (溴替唑仑)"),
        ("34262-84-5", "CN-mesocarb", CN_CATEGORY_II, "item 44 (美索卡)"),
        ("dexfenfluramine", "CN-dexfenfluramine", CN_CATEGORY_II, "item 71 (右旋芬氟拉明)"),
        ("地佐辛", "CN-dezocine", CN_CATEGORY_II, "item 72 (地佐辛及其注射剂)"),
        ("CN(Cc1ccco1)C(C)Cc1ccccc1", "CN-furfennorex", CN_CATEGORY_II, "item 75 (呋芬雷司)"),
        ("nalbuphine", "CN-nalbuphine", CN_CATEGORY_II, "item 76 (纳布啡及其注射剂)"),
    ],
)
def test_a_2013_item_is_controlled_from_1_january_2014(
    query: str, rule_id: str, listing: str, item: str
) -> None:
    assert rule_id not in cn_rule_ids(query, DAY_BEFORE)
    verdict = cn_verdict(query, FIRST_DAY)
    assert verdict.status == "controlled", verdict.explanation
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert basis.confirmed and basis.list == listing and basis.in_force_from == FIRST_DAY
    assert "2013年版" in basis.citation and item in basis.citation


@pytest.mark.parametrize(
    ("cn_id", "other_id"),
    [
        ("CN-acetorphine", "UN-acetorphine"),
        ("CN-codoxime", "UN-codoxime"),
        ("CN-dihydroetorphine", "US-dihydroetorphine"),
        ("CN-drotebanol", "US-drotebanol"),
        ("CN-etorphine", "US-etorphine"),
        ("CN-morphine-methobromide", "UN-morphine-methobromide"),
        ("CN-nicocodine", "UN-nicocodine"),
        ("CN-nicodicodine", "UN-nicodicodine"),
        ("CN-norcodeine", "UN-norcodeine"),
        ("CN-allylprodine", "US-allylprodine"),
        ("CN-alphaprodine", "US-betaprodine"),
        ("CN-alphameprodine", "UN-alphameprodine"),
        ("CN-4-MTA", "UN-4-MTA"),
        ("CN-dimethylamfetamine", "US-N,N-dimethylamphetamine"),
        ("CN-carisoprodol", "US-carisoprodol"),
    ],
)
def test_an_item_another_file_has_is_drawn_as_that_entry(cn_id: str, other_id: str) -> None:
    keys = {entry.id: entry.inchikey for entry in load_rulebook().entries}
    assert keys[cn_id] == keys[other_id]


@pytest.mark.parametrize(
    ("names", "rule_id", "cited"),
    [
        (
            ("alphaprodine", "betaprodine", "倍他罗定", "77-20-3"),
            "CN-alphaprodine",
            ("item 11 (阿法罗定)", "item 20 (倍他罗定)"),
        ),
        (
            ("betameprodine", "阿法美罗定", "468-50-8"),
            "CN-alphameprodine",
            ("item 7 (阿法美罗定)", "item 18 (倍他美罗定)"),
        ),
        (
            ("alphacetylmethadol", "倍醋美沙多", "17199-59-6"),
            "CN-acetylmethadol",
            ("items 6 (阿醋美沙多)", "15 (倍醋美沙多)"),
        ),
        (
            ("betamethadol", "阿法美沙多", "17199-54-1"),
            "CN-dimepheptanol",
            ("items 8 (阿法美沙多)", "19 (倍他美沙多)"),
        ),
    ],
)
def test_an_alpha_beta_pair_answers_one_entry_citing_both_items(
    names: tuple[str, ...], rule_id: str, cited: tuple[str, str]
) -> None:
    for name in names:
        verdict = cn_verdict(name, FIRST_DAY)
        basis = next(b for b in verdict.basis if b.rule_id == rule_id)
        assert basis.list == CN_NARCOTIC and basis.confirmed
        assert all(item in basis.citation for item in cited)


def test_dexfenfluramine_is_its_own_item_and_the_other_enantiomer_only_fenfluramine() -> None:
    dextro = "CCN[C@@H](C)Cc1cccc(C(F)(F)F)c1"
    levo = "CCN[C@H](C)Cc1cccc(C(F)(F)F)c1"
    assert {"CN-dexfenfluramine", "CN-fenfluramine"} <= cn_rule_ids(dextro, FIRST_DAY)
    assert "CN-dexfenfluramine" not in cn_rule_ids(levo, FIRST_DAY)
    assert "CN-fenfluramine" in cn_rule_ids(levo, FIRST_DAY)


def test_a_dezocine_stereoisomer_is_the_listed_substance() -> None:
    # the (5R,11S,13R) drawing of the Wikipedia copy; the entry is drawn without stereo
    assert "CN-dezocine" in cn_rule_ids("Oc1ccc2c(c1)[C@@]3(C)CCCCC[C@@H](C2)[C@H]3N", FIRST_DAY)


@pytest.mark.parametrize(
    ("query", "rule_id", "item"),
    [
        ("carisoprodol", "CN-carisoprodol", "item 12 (卡立普多)"),
        ("西博帕多", "CN-cebranopadol", "item 14 (西博帕多)"),
        ("1996626-29-9", "CN-serdexmethylphenidate", "item 65 (丝右哌甲酯)"),
        ("CC(C)[C@H](N)C(=O)OCCCC(=O)O", "CN-valiloxybate", "item 69 (韦利西贝)"),
        ("舒拉诺龙", "CN-zuranolone", "item 73 (舒拉诺龙)"),
    ],
)
def test_a_new_2025_category_ii_substance_is_listed_unconfirmed_from_its_publication_day(
    query: str, rule_id: str, item: str
) -> None:
    assert rule_id not in cn_rule_ids(query, date(2025, 7, 27))
    verdict = cn_verdict(query, CATALOGUE_2025)
    assert verdict.status == "controlled", verdict.explanation
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert not basis.confirmed and basis.list == CN_CATEGORY_II
    assert basis.in_force_from == CATALOGUE_2025
    assert "2025年第55号" in basis.citation and item in basis.citation
