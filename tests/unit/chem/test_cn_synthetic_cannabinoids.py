"""China's synthetic cannabinoid class (in force 1 Jul 2021): the screen of the first core its
figure draws sends members to review (the R groups' open text is left to an expert), never to
`controlled`; the prefilter lets every reference member through."""

from __future__ import annotations

from datetime import date

import pytest
from rdkit import Chem

from liaison.chem import identify, load_rulebook
from liaison.chem.compiled import prefilter_for

RULE = "CN-synthetic-cannabinoids-2021"
IN_FORCE = date(2021, 7, 1)


def _members() -> tuple[str, ...]:
    family = next(f for f in load_rulebook().families if f.id == RULE)
    return family.examples


@pytest.mark.parametrize("smiles", _members())
def test_every_reference_member_passes_the_prefilter_and_is_judged(smiles: str) -> None:
    assert prefilter_for(load_rulebook()).could_match(Chem.MolFromSmiles(smiles))
    verdict = identify(smiles, as_of=IN_FORCE, jurisdictions=["CN"]).verdicts["CN"]
    assert RULE in {basis.rule_id for basis in verdict.basis} or verdict.status == "controlled"
    assert verdict.status in ("review", "controlled")


def test_an_unlisted_member_is_sent_to_review_citing_the_announcement() -> None:
    adb_butinaca = "CCCCn1nc(C(=O)NC(C(N)=O)C(C)(C)C)c2ccccc21"
    verdict = identify(adb_butinaca, as_of=IN_FORCE, jurisdictions=["CN"]).verdicts["CN"]
    assert verdict.status == "review"
    (basis,) = verdict.basis
    assert basis.rule_id == RULE and "2021" in basis.citation
    assert "R1" in basis.note and "figure" in basis.note
    assert verdict.explanation.startswith("review against 合成大麻素类物质")


def test_the_day_before_the_class_took_effect_it_is_no_match() -> None:
    adb_butinaca = "CCCCn1nc(C(=O)NC(C(N)=O)C(C)(C)C)c2ccccc21"
    day_before = date(2021, 6, 30)
    verdict = identify(adb_butinaca, as_of=day_before, jurisdictions=["CN"]).verdicts["CN"]
    assert verdict.status == "no_match"


def test_a_named_listing_settles_it_without_the_review_basis() -> None:
    jwh_018 = "CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21"
    verdict = identify(jwh_018, as_of=IN_FORCE, jurisdictions=["CN"]).verdicts["CN"]
    assert verdict.status == "controlled"
    assert RULE not in {basis.rule_id for basis in verdict.basis}


@pytest.mark.parametrize(
    "smiles",
    [
        "Cn1cc(C(=O)OC)c2ccccc21",  # N-methyl: R1 must have three carbons or more
        "CN1C2CCC1CC(C2)OC(=O)c1c[nH]c2ccccc12",  # tropisetron: nothing on N1
        "CCCCCn1ccc2ccccc21",  # no carbonyl at position 3
    ],
)
def test_non_members_are_not_sent_to_review(smiles: str) -> None:
    verdict = identify(smiles, as_of=IN_FORCE, jurisdictions=["CN"]).verdicts["CN"]
    assert RULE not in {basis.rule_id for basis in verdict.basis}


def test_the_class_is_china_s_only() -> None:
    adb_butinaca = "CCCCn1nc(C(=O)NC(C(N)=O)C(C)(C)C)c2ccccc21"
    verdict = identify(adb_butinaca, as_of=IN_FORCE, jurisdictions=["UN"]).verdicts["UN"]
    assert RULE not in {basis.rule_id for basis in verdict.basis}
