"""A structure drawn without the stereo a listed stereoisomer defines may be that isomer: its
verdict is review naming each such listing, unless a listing matches it outright; a structure
drawn with its stereo is matched exactly."""

from __future__ import annotations

from datetime import date

import pytest
from rdkit import Chem

from liaison.chem import identify, load_rulebook
from liaison.chem.models import Verdict
from liaison.chem.rulebook import defined_stereo
from liaison.chem.standardize import standardize

TODAY = date(2026, 1, 1)
FLAT_PHENYLPROPANOLAMINE = "CC(N)C(O)c1ccccc1"
ERYTHRO_AND_THREO = {"CN-norephedrine", "CN-norephedrine-1S2R", "CN-cathine"}


def _verdict(query: str, code: str, as_of: date = TODAY) -> Verdict:
    return identify(query, as_of=as_of, jurisdictions=[code]).verdicts[code]


@pytest.mark.parametrize(
    "query",
    [
        FLAT_PHENYLPROPANOLAMINE,
        "OC(c1ccccc1)C(C)N.Cl",  # its hydrochloride, in another atom order
        "norephedrine",  # the English name: the rule book draws it without stereo
    ],
)
def test_flat_phenylpropanolamine_in_china_is_review_naming_every_listed_stereoisomer(
    query: str,
) -> None:
    verdict = _verdict(query, "CN")
    assert verdict.status == "review"
    assert {basis.rule_id for basis in verdict.basis} == ERYTHRO_AND_THREO
    entries = {entry.id: entry for entry in load_rulebook().entries}
    for basis in verdict.basis:
        entry = entries[basis.rule_id]
        assert (basis.kind, basis.status) == ("named", "review")
        assert (basis.list, basis.citation, basis.in_force_from) == (
            entry.list,
            entry.citation,
            entry.in_force_from,
        )
        assert f"review against {entry.name} ({entry.list})" in verdict.explanation
        assert f"the stereoisomer listed is {entry.smiles}" in basis.note
    assert "does not give the stereo" in verdict.explanation


def test_the_review_names_only_the_stereoisomers_listed_on_that_day() -> None:
    # Cathine entered the psychotropic catalogue in 2014; norephedrine was a precursor before.
    verdict = _verdict(FLAT_PHENYLPROPANOLAMINE, "CN", date(2010, 1, 1))
    assert verdict.status == "review"
    assert {basis.rule_id for basis in verdict.basis} == {
        "CN-norephedrine",
        "CN-norephedrine-1S2R",
    }
    assert _verdict(FLAT_PHENYLPROPANOLAMINE, "CN", date(2005, 10, 31)).status == "no_match"


@pytest.mark.parametrize(
    ("drawn", "status", "rule_id"),
    [
        ("C[C@H](N)[C@@H](O)c1ccccc1", "controlled", "CN-cathine"),  # (1S,2S)
        ("C[C@H](N)[C@H](O)c1ccccc1", "precursor", "CN-norephedrine"),  # (1R,2S)
        ("C[C@@H](N)[C@@H](O)c1ccccc1", "precursor", "CN-norephedrine-1S2R"),  # (1S,2R)
    ],
)
def test_a_stereoisomer_drawn_with_its_stereo_matches_its_own_listing_only(
    drawn: str, status: str, rule_id: str
) -> None:
    verdict = _verdict(drawn, "CN")
    assert verdict.status == status
    assert [(basis.rule_id, basis.status) for basis in verdict.basis] == [(rule_id, status)]


def test_a_stereoisomer_no_listing_names_drawn_with_its_stereo_matches_nothing() -> None:
    assert _verdict("C[C@@H](N)[C@H](O)c1ccccc1", "CN").status == "no_match"  # (1R,2R)


def test_stereo_drawn_in_part_is_review_against_every_listing_it_leaves_open() -> None:
    """Conservative: C2 drawn (S), C1 not. (1S,2R)-norephedrine's C2 is R, yet a drawing that
    leaves any centre a listing defines undefined is not read as excluding that listing."""
    verdict = _verdict("C[C@H](N)C(O)c1ccccc1", "CN")
    assert verdict.status == "review"
    assert {basis.rule_id for basis in verdict.basis} == ERYTHRO_AND_THREO


def test_flat_methorphan_in_the_us_stays_controlled_as_racemethorphan() -> None:
    """US-racemethorphan is drawn without stereo: it matches outright, and the verdict is not
    weakened to review for levomethorphan, which defines the stereo."""
    verdict = _verdict("CN1CCC23CCCCC2C1CC4=C3C=C(C=C4)OC", "US")
    assert verdict.status == "controlled"
    assert [(basis.rule_id, basis.status) for basis in verdict.basis] == [
        ("US-racemethorphan", "controlled")
    ]


def test_flat_pregabalin_in_the_us_is_review_and_the_drawn_isomers_are_exact() -> None:
    flat = _verdict("CC(C)CC(CN)CC(=O)O", "US")
    assert flat.status == "review"
    assert [(basis.rule_id, basis.status) for basis in flat.basis] == [("US-pregabalin", "review")]
    assert _verdict("CC(C)C[C@H](CN)CC(=O)O", "US").status == "controlled"  # (S)
    assert _verdict("CC(C)C[C@@H](CN)CC(=O)O", "US").status == "no_match"  # (R)
    # No stereo-specific listing of pregabalin in China: nothing to review there.
    assert _verdict("CC(C)CC(CN)CC(=O)O", "CN").status == "no_match"


@pytest.mark.parametrize("code", ["US", "CN", "UN"])
def test_a_flat_structure_of_nothing_listed_is_no_match(code: str) -> None:
    # Phenylpropanolamine's homologue: two undefined centres, no listing of its connectivity.
    assert _verdict("CCCCC(N)C(O)c1ccccc1", code).status == "no_match"


def test_defined_stereo_names_each_centre_and_double_bond_given_a_configuration() -> None:
    def stereo(smiles: str) -> frozenset[str]:
        return defined_stereo(standardize(Chem.MolFromSmiles(smiles)))

    assert stereo(FLAT_PHENYLPROPANOLAMINE) == frozenset()
    both = stereo("C[C@H](N)[C@@H](O)c1ccccc1")
    assert len(both) == 2
    one = stereo("C[C@H](N)C(O)c1ccccc1")
    assert len(one) == 1 and one < both
    assert stereo("C/C=C/[C@H](O)C") == {"b1:4-3", "t1:5"}
    assert stereo("CC=C[C@H](O)C") == {"t1:5"}
