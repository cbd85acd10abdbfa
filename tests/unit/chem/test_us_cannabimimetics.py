"""US cannabimimetic agents (21 U.S.C. 812(c) Schedule I(d), from 9 Jul 2012): structural
classes (i) and (ii) as review screens, because the definition also asks for CB1 agonism
shown by assays; every reference member passes the prefilter."""

from __future__ import annotations

from datetime import date

import pytest
from rdkit import Chem

from liaison.chem import identify, load_rulebook
from liaison.chem.compiled import prefilter_for

RULES = ("US-cannabimimetic-cyclohexylphenols", "US-cannabimimetic-naphthoylindoles")
IN_FORCE = date(2012, 7, 9)


def _members() -> list[tuple[str, str]]:
    families = [f for f in load_rulebook().families if f.id in RULES]
    return [(family.id, smiles) for family in families for smiles in family.examples]


@pytest.mark.parametrize(("rule_id", "smiles"), _members())
def test_every_reference_member_passes_the_prefilter_and_is_judged(
    rule_id: str, smiles: str
) -> None:
    assert prefilter_for(load_rulebook()).could_match(Chem.MolFromSmiles(smiles))
    verdict = identify(smiles, as_of=IN_FORCE, jurisdictions=["US"]).verdicts["US"]
    ids = {basis.rule_id for basis in verdict.basis}
    # A named listing (JWH-018) settles it; otherwise the class sends it to review.
    assert verdict.status == "controlled" or (verdict.status == "review" and rule_id in ids)


def test_an_unlisted_naphthoylindole_is_review_citing_the_act_and_the_assay_condition() -> None:
    # JWH-210 (4-ethylnaphthoyl): no loaded entry names it. (JWH-122, which the Act names,
    # is a named listing from the same day.)
    jwh_210 = "CCCCCn1cc(C(=O)c2ccc(CC)c3ccccc23)c2ccccc21"
    verdict = identify(jwh_210, as_of=IN_FORCE, jurisdictions=["US"]).verdicts["US"]
    assert verdict.status == "review"
    (basis,) = verdict.basis
    assert basis.rule_id == "US-cannabimimetic-naphthoylindoles"
    assert "Pub. L. 112-144" in basis.citation and "CB1" in basis.note
    before = identify(jwh_210, as_of=date(2012, 7, 8), jurisdictions=["US"]).verdicts["US"]
    assert before.status == "no_match"


def test_an_unnamed_cyclohexylphenol_is_sent_to_review_under_class_i() -> None:
    # CP-47,497 and its C8 homologue are named listings; the C9 homologue is not.
    c9_homologue = "CCCCCCCCC(C)(C)c1ccc(C2CCCC(O)C2)c(O)c1"
    verdict = identify(c9_homologue, as_of=IN_FORCE, jurisdictions=["US"]).verdicts["US"]
    assert verdict.status == "review"
    assert [b.rule_id for b in verdict.basis] == ["US-cannabimimetic-cyclohexylphenols"]


@pytest.mark.parametrize(
    "smiles",
    [
        "O=C(c1cccc2ccccc12)c1c[nH]c2ccccc12",  # nothing on the indole nitrogen
        "CCCCCn1cc(C(=O)c2ccccc2)c2ccccc21",  # benzoyl, not naphthoyl (class not loaded)
        "Oc1ccccc1C1CCCC(O)C1",  # no group at position 5 of the phenol
    ],
)
def test_non_members_are_not_sent_to_review(smiles: str) -> None:
    verdict = identify(smiles, as_of=IN_FORCE, jurisdictions=["US"]).verdicts["US"]
    assert not {basis.rule_id for basis in verdict.basis} & set(RULES)
