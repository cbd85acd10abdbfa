"""Explanations a chemist and a lawyer both read (issue 7, item 5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from rdkit import Chem

from liaison.chem import identify, load_rulebook
from liaison.chem.fentanyl_class import decompose, evaluate, group_name, substituent_name

AS_OF = date(2026, 1, 1)
PARA_ESTER = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccc(C(=O)OC)cc2)CC1"


def test_a_named_substance_is_not_also_said_to_be_a_class_member() -> None:
    identification = identify("sufentanil", as_of=AS_OF)
    for code in ("US", "CN"):
        verdict = identification.verdicts[code]
        assert verdict.status == "controlled"
        assert [basis.kind for basis in verdict.basis] == ["named"], code
        assert (
            "does not apply: its definition excludes substances controlled under their own "
            "listing" in verdict.explanation
        )
        assert "ether" not in verdict.explanation  # no region-by-region class reasoning


def test_an_amine_n_oxide_is_called_so_and_placed_on_the_piperidine() -> None:
    identification = identify("CCC(=O)N(c1ccccc1)C1CC[N+]([O-])(CCc2ccccc2)CC1", as_of=AS_OF)
    us = identification.verdicts["US"]
    assert us.status == "review"
    assert "amine N-oxide" in us.explanation and "quaternary" not in us.explanation
    (klass,) = us.basis
    (changed,) = [region for region in klass.regions if not region.covered]
    assert changed.region == "piperidine"
    oxygen = [
        i for i in changed.atoms if identification.parent.GetAtomWithIdx(i).GetSymbol() == "O"
    ]
    assert len(oxygen) == 1
    linker = [region for region in klass.regions if region.region == "linker"]
    assert all(region.covered for region in linker)


def test_a_true_quaternary_ammonium_is_still_called_so() -> None:
    us = identify("CCC(=O)N(c1ccccc1)C1CC[N+](C)(CCc2ccccc2)CC1", as_of=AS_OF).verdicts["US"]
    assert "quaternary ammonium" in us.explanation


def test_substituents_and_groups_are_named_in_words() -> None:
    carfentanil_like = "CCC(=O)N(c1ccccc1)C1(C(=O)OC)CCN(CCc2ccccc2)CC1"
    cn = identify(carfentanil_like.replace("C(=O)OC", "C(=O)OCC"), as_of=AS_OF).verdicts["CN"]
    assert "ethoxycarbonyl (ester) at 4" in cn.explanation and "*C(=O)O" not in cn.explanation
    us = identify(PARA_ESTER, as_of=AS_OF).verdicts["US"]
    assert "methoxycarbonyl (ester) at 4 (para)" in us.explanation
    thienyl = identify("CCC(=O)N(c1ccccc1)C1CCN(CCc2cccs2)CC1", as_of=AS_OF).verdicts["CN"]
    assert "*CC" not in thienyl.explanation
    assert group_name("*CCc1cccs1") == "2-(thiophen-2-yl)ethyl"
    assert substituent_name("*OC") == "methoxy"
    assert substituent_name("*C(=O)OC") == "methoxycarbonyl"
    # A group without a name is described in words, its SMILES only after them.
    assert substituent_name("*C1CC2CCC1C2") == (
        "a group of formula C7H11 with two rings (5-, 5-membered; bridged), bonded through "
        "carbon (SMILES *C1CC2CCC1C2)"
    )


def test_an_open_reading_is_review_even_where_unclear_changes_are_no_match() -> None:
    book = load_rulebook()
    shape = decompose(Chem.MolFromSmiles(PARA_ESTER), book.semantics)
    assert shape is not None
    open_readings = 0
    for definition in book.semantics.definitions.values():
        strict = replace(definition, uncovered="no_match")
        finding = evaluate(shape, strict)
        if "question of reading the law" in finding.reason:
            open_readings += 1
            assert finding.status == "review", definition.id
    assert open_readings >= 1
    us = identify(PARA_ESTER, as_of=AS_OF).verdicts["US"]
    assert us.status == "review" and "not a member" not in us.explanation
