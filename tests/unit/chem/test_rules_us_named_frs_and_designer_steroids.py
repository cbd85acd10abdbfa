"""US listings added in the fifth rules-us pass (issue 13): the fentanyl-related substances named
by crotonyl fentanyl's order of 2020 (confirmed), by the 2023 rule (88 FR 85104: six more of its
nine, and alpha'-methyl butyryl fentanyl moved to its day) and by the 2025 rule (90 FR 44979:
seven), the last two unconfirmed because their lists were read only in a CFR text; zipeprol and
2-methyl AP-237, named opiates the file lacked; the anabolic steroids the Designer Anabolic
Steroid Control Act of 2014 named (Schedule III from 18 Dec 2014), and methasterone and
prostanozol, placed by DEA's rule of 2012."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from liaison.chem.models import Basis
from support import basis_by_rule, first_day_basis

CROTONYL_DAY = date(2020, 10, 2)
RULE_2023_DAY = date(2023, 12, 7)
RULE_2025_DAY = date(2025, 9, 18)
DASCA_DAY = date(2014, 12, 18)
RULE_2012_DAY = date(2012, 8, 29)


def us_basis(query: str, day: date) -> dict[str, Basis]:
    return basis_by_rule("US", query, day)


@pytest.mark.parametrize(
    "query",
    ["crotonyl fentanyl", "C/C=C/C(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"],
)
def test_crotonyl_fentanyl_is_named_in_schedule_i_from_2_october_2020(query: str) -> None:
    basis = first_day_basis("US", query, "US-crotonylfentanyl", CROTONYL_DAY)
    assert basis.list == "Schedule I" and basis.confirmed
    assert "85 FR 62215" in basis.citation
    # Before its own order the class order covered it: the verdict does not change, the basis does.
    assert "US-FRS-temporary" in us_basis(query, CROTONYL_DAY - timedelta(days=1))


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("para-methoxyfuranyl fentanyl", "US-para-methoxyfuranylfentanyl"),
        ("N-(1-phenethylpiperidin-4-yl)-N-phenylfuran-3-carboxamide", "US-3-furanylfentanyl"),
        ("CCC(=O)N(c1ccccc1)C1CCN(CCc2cc(OC)ccc2OC)CC1", "US-2-5-dimethoxyfentanyl"),
        ("isovaleryl fentanyl", "US-isovalerylfentanyl"),
        ("O=C(c1ccco1)N(c1ccccc1F)C1CCN(CCc2ccccc2)CC1", "US-ortho-fluorofuranylfentanyl"),
        ("para-methylcyclopropyl fentanyl", "US-para-methylcyclopropylfentanyl"),
        ("alpha'-methyl butyryl fentanyl", "US-alpha-prime-methylbutyrylfentanyl"),
    ],
)
def test_a_fentanyl_related_substance_of_the_2023_rule_is_named_from_7_december_2023(
    query: str, rule_id: str
) -> None:
    basis = first_day_basis("US", query, rule_id, RULE_2023_DAY)
    assert basis.list == "Schedule I" and not basis.confirmed  # the rule's list was not read
    assert "88 FR 85104" in basis.citation
    assert "US-FRS-temporary" in us_basis(query, RULE_2023_DAY - timedelta(days=1))


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("beta-methylacetyl fentanyl", "US-beta-methylacetylfentanyl"),
        ("O=C(c1ccco1)N(c1cccc(F)c1)C1CCN(CCc2ccccc2)CC1", "US-meta-fluorofuranylfentanyl"),
        ("ortho-chlorofentanyl", "US-ortho-chlorofentanyl"),
        (
            "N-(2-methylphenyl)-N-(1-phenethylpiperidin-4-yl)cyclopropanecarboxamide",
            "US-ortho-methylcyclopropylfentanyl",
        ),
        ("CCC(=O)N(c1ccc(Cl)cc1)C1CCN(CCc2ccccc2)CC1", "US-para-chlorofentanyl"),
        ("para-fluoro valeryl fentanyl", "US-para-fluorovalerylfentanyl"),
        ("tetrahydrothiophene fentanyl", "US-tetrahydrothiofuranylfentanyl"),
    ],
)
def test_a_fentanyl_related_substance_of_the_2025_rule_is_named_from_18_september_2025(
    query: str, rule_id: str
) -> None:
    basis = first_day_basis("US", query, rule_id, RULE_2025_DAY)
    assert basis.list == "Schedule I" and not basis.confirmed
    assert "90 FR 44979" in basis.citation
    assert "US-FRS" in us_basis(query, RULE_2025_DAY - timedelta(days=1))


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("5alpha-androstane-3,6,17-trione", "US-5alpha-androstane-3,6,17-trione"),
        ("6-bromoandrosta-1,4-diene-3,17-dione", "US-6-bromoandrosta-1,4-diene-3,17-dione"),
        (
            "2α,3α-epithio-17α-methyl-5α-androstan-17β-ol",  # the Act's spelling
            "US-2alpha,3alpha-epithio-17alpha-methyl-5alpha-androstan-17beta-ol",
        ),
        ("estra-4,9,11-triene-3,17-dione", "US-estra-4,9,11-triene-3,17-dione"),
        (
            "C[C@]12CC[C@H]3[C@@H](CCC4Cc5oncc5C[C@@]43C)[C@@H]1CC[C@@H]2O",
            "US-17beta-hydroxyandrostano-2,3-d-isoxazole",
        ),
        (
            "C[C@]12Cc3nonc3C[C@@H]1CC[C@@H]1[C@@H]2CC[C@]2(C)[C@@H](O)CC[C@@H]12",
            "US-3,2-c-furazan-5alpha-androstan-17beta-ol",
        ),
    ],
)
def test_a_steroid_the_2014_act_named_is_schedule_iii_from_18_december_2014(
    query: str, rule_id: str
) -> None:
    basis = first_day_basis("US", query, rule_id, DASCA_DAY)
    assert basis.list == "Schedule III" and basis.confirmed
    assert "Pub. L. 113-260" in basis.citation


def test_the_act_prints_one_name_twice_and_one_entry_holds_both_items() -> None:
    basis = first_day_basis(
        "US",
        "4-chloro-17alpha-methylandrosta-1,4-diene-3,17beta-diol",
        "US-4-chloro-17alpha-methylandrosta-1,4-diene-3,17beta-diol",
        DASCA_DAY,
    )
    assert "802(41)(A)(liii) and (lvii)" in basis.citation


def test_the_run_together_item_lxxii_is_read_as_4_hydroxyandrostenedione_unconfirmed() -> None:
    basis = first_day_basis(
        "US", "4-hydroxyandrost-4-ene-3,17-dione", "US-4-hydroxyandrost-4-ene-3,17-dione", DASCA_DAY
    )
    assert basis.list == "Schedule III" and not basis.confirmed


def test_the_5beta_epimer_of_methasterone_is_its_own_entry_drawn_with_its_own_c5() -> None:
    epimer = "C[C@@H]1C[C@@]2(C)[C@H](CC[C@@H]3[C@@H]2CC[C@@]2(C)[C@H]3CC[C@]2(C)O)CC1=O"
    basis = first_day_basis(
        "US", epimer, "US-2alpha,17alpha-dimethyl-17beta-hydroxy-5beta-androstan-3-one", DASCA_DAY
    )
    assert basis.confirmed
    # Isomers are covered, so the 5beta drawing also falls under methasterone's own entry.
    assert "US-methasterone" in us_basis(epimer, DASCA_DAY)


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("methasterone", "US-methasterone"),
        ("prostanozol", "US-prostanozol"),
        ("CC12CCC3C(CCC4CC5=C(CC34C)C=NN5)C1CCC2O", "US-prostanozol"),  # drawn flat
    ],
)
def test_methasterone_and_prostanozol_are_schedule_iii_from_dea_rule_of_29_august_2012(
    query: str, rule_id: str
) -> None:
    basis = first_day_basis("US", query, rule_id, RULE_2012_DAY)
    assert basis.list == "Schedule III" and basis.confirmed
    assert "77 FR 44456" in basis.citation


@pytest.mark.parametrize(
    ("query", "rule_id", "day", "fr"),
    [
        ("zipeprol", "US-zipeprol", date(2022, 12, 21), "87 FR 70717"),
        (
            "COC(CN1CCN(CC(O)C(OC)c2ccccc2)CC1)c1ccccc1",
            "US-zipeprol",
            date(2022, 12, 21),
            "87 FR 70717",
        ),
        ("2-methyl AP-237", "US-2-methyl-AP-237", date(2024, 4, 15), "89 FR 18795"),
        ("CCCC(=O)N1CCN(CC=Cc2ccccc2)CC1C", "US-2-methyl-AP-237", date(2024, 4, 15), "89 FR 18795"),
    ],
)
def test_zipeprol_and_2_methyl_ap_237_are_named_schedule_i_opiates_from_their_rules(
    query: str, rule_id: str, day: date, fr: str
) -> None:
    basis = first_day_basis("US", query, rule_id, day)
    assert basis.list == "Schedule I" and basis.confirmed
    assert fr in basis.citation
