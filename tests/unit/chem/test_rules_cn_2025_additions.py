"""The 12 named substances China added to the supplementary list with the nitazene class, in force
1 Jul 2025: each is controlled from that day and not the day before, cited by its item of the
2025 table; the (1R) etomidate analogues are listed with their enantiomers and racemates; the
table's name 六氢大麻酚 for HHC keeps finding parahexyl, its name in the 2013 catalogue."""

from __future__ import annotations

from datetime import date

import pytest

from support import CN_SUPPLEMENTARY, cn_rule_ids, cn_verdict

FIRST_DAY = date(2025, 7, 1)
DAY_BEFORE = date(2025, 6, 30)


@pytest.mark.parametrize(
    ("query", "rule_id", "item"),
    [
        ("三氟乙咪酯", "CN-TF-etomidate", "item 1"),
        ("butomidate", "CN-butomidate", "item 2"),
        ("甲氧羰基环丙咪酯", "CN-ABP-700", "item 6"),
        ("N-isopropylbutylone", "CN-N-isopropylbutylone", "item 8"),
        ("30433-93-3", "CN-thiopropamine", "item 9"),  # the table's CAS number
        ("3-MeO-PCPy", "CN-3-MeO-PCPy", "item 10"),
        ("2-oxo-PCPr", "CN-2-oxo-PCPr", "item 11"),
        ("hexahydrocannabinol", "CN-HHC", "item 12"),
    ],
)
def test_a_2025_substance_is_controlled_from_1_july_2025(
    query: str, rule_id: str, item: str
) -> None:
    assert rule_id not in cn_rule_ids(query, DAY_BEFORE)
    verdict = cn_verdict(query, FIRST_DAY)
    assert verdict.status == "controlled", verdict.explanation
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert basis.confirmed and basis.list == CN_SUPPLEMENTARY and basis.in_force_from == FIRST_DAY
    assert "三氟乙咪酯等12种物质" in basis.citation and f"{item} (" in basis.citation


@pytest.mark.parametrize(
    ("smiles", "rule_id"),
    [
        # the (1S) enantiomer and the racemate of the table's (1R) compounds
        ("O=C(OCC(F)(F)F)c1cncn1[C@@H](C)c1ccccc1", "CN-TF-etomidate"),
        ("CC(C)COC(=O)c1cncn1C(C)c1ccccc1", "CN-isobutomidate"),
        # a hydrochloride of the table's racemic 4-fluoro compound
        ("CCOC(=O)c1cncn1C(C)c1ccc(F)cc1.Cl", "CN-4F-etomidate"),
    ],
)
def test_the_listing_covers_enantiomers_racemates_and_salts(smiles: str, rule_id: str) -> None:
    assert rule_id in cn_rule_ids(smiles, FIRST_DAY)


def test_hhc_answers_by_its_cas_number_and_its_shared_chinese_name_is_refused() -> None:
    """六氢大麻酚 is item 12 of the 2025 table (HHC) and the 2013 catalogue's parahexyl: a query
    by it is refused as ambiguous (test_names_and_similarity), not answered for either."""
    assert "CN-HHC" in cn_rule_ids("6692-85-9", FIRST_DAY)
    assert cn_rule_ids("六氢大麻酚", FIRST_DAY) == set()
