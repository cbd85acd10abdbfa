"""Inorganic precursors (issue 13): a structure without carbon is judged as the whole
substance, so a salt is not its acid, and hydrochloric acid, sulfuric acid and potassium
permanganate are recognised by structure, name and CAS number."""

from __future__ import annotations

from datetime import date

import pytest
from rdkit import Chem

from liaison.chem import identify, load_rulebook
from liaison.chem.compiled import prefilter_for
from liaison.chem.identify import judge
from liaison.chem.models import NO_STRUCTURE
from liaison.chem.query import parse_query
from liaison.chem.standardize import (
    molecular_formula,
    quick_parents,
    standardize,
    standardize_all,
    structure_keys,
)

TODAY = date(2026, 11, 30)
CODES = ("US", "CN", "UN")


def _parent(smiles: str) -> Chem.Mol:
    return standardize(Chem.MolFromSmiles(smiles))


def _ids(query: str, code: str, as_of: date = TODAY) -> list[str]:
    verdict = identify(query, as_of=as_of, jurisdictions=[code]).verdicts[code]
    return [basis.rule_id for basis in verdict.basis]


@pytest.mark.parametrize(
    ("drawings", "formula"),
    [
        (("[Na+].[Cl-]", "[Na]Cl", "Cl[Na]"), "ClNa"),
        (("[K+].[O-][Mn](=O)(=O)=O", "[K]O[Mn](=O)(=O)=O"), "KMnO4"),
        # Drawn with one sodium, two, or bonded: the ions are balanced into Na2SO4.
        (
            ("[Na+].[Na+].[O-]S(=O)(=O)[O-]", "[Na+].[O-]S(=O)(=O)[O-]", "[Na]OS(=O)(=O)O[Na]"),
            "Na2O4S",
        ),
        (("[Ca+2].[O-][PH2]=O.[O-][PH2]=O", "[Ca+2].[O-][PH2]=O"), "H4CaO4P2"),
        (("O.O.[Na+].[Na+].[O-]S(=O)(=O)[O-]",), "Na2O4S"),  # a hydrate is the salt
    ],
)
def test_an_inorganic_salt_is_judged_whole_however_drawn(
    drawings: tuple[str, ...], formula: str
) -> None:
    keys = {structure_keys(_parent(smiles))[0] for smiles in drawings}
    assert len(keys) == 1, drawings
    assert {molecular_formula(_parent(smiles)) for smiles in drawings} == {formula}


def test_a_salt_is_not_its_acid() -> None:
    acid = structure_keys(_parent("Cl"))[0]
    assert structure_keys(_parent("[Na+].[Cl-]"))[0] != acid
    assert structure_keys(_parent("[K+].[Cl-]"))[0] != acid
    sulfuric = structure_keys(_parent("OS(=O)(=O)O"))[0]
    assert structure_keys(_parent("[Na+].[Na+].[O-]S(=O)(=O)[O-]"))[0] != sulfuric


def test_permanganate_keeps_its_manganese_oxygen_bonds() -> None:
    parent = _parent("[K+].[O-][Mn](=O)(=O)=O")
    manganese = next(atom for atom in parent.GetAtoms() if atom.GetSymbol() == "Mn")
    assert manganese.GetDegree() == 4 and manganese.GetFormalCharge() == 0


def test_water_and_repeats_beside_inorganic_substances_are_dropped() -> None:
    """Aqueous hydrochloric acid is hydrochloric acid; a mixture of two acids is both."""
    for smiles in ("Cl.O", "Cl.Cl.O"):
        molecule = Chem.MolFromSmiles(smiles)
        quick = quick_parents(molecule)
        assert quick is not None
        assert [Chem.MolToSmiles(p) for p in quick] == ["Cl"]
        assert [Chem.MolToSmiles(p) for p in standardize_all(molecule)] == ["Cl"]
    mixture = standardize_all(Chem.MolFromSmiles("Cl.OS(=O)(=O)O"))
    assert [molecular_formula(p) for p in mixture] == ["H2O4S", "HCl"]
    assert molecular_formula(_parent("O")) == "H2O"  # water alone is still water


def test_beside_an_organic_substance_inorganic_pieces_stay_counter_ions() -> None:
    parents = standardize_all(Chem.MolFromSmiles("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1.Cl"))
    assert [molecular_formula(p) for p in parents] == ["C22H28N2O"]


@pytest.mark.parametrize(
    "query",
    [
        "[Na+].[Cl-]",
        "[Na]Cl",
        "sodium chloride",
        "7647-14-5",
        "[K+].[Cl-]",
        "[NH4+].[Cl-]",  # ammonium chloride is a salt, not hydrochloric acid and ammonia
        "potassium chloride",
        "KCl",
        "[Na+].[Na+].[O-]S(=O)(=O)[O-]",
        "sodium sulfate",
        "硫酸钠",
    ],
)
def test_chlorides_and_sulfates_are_no_match_everywhere(query: str) -> None:
    result = identify(query, as_of=TODAY)
    assert result.error is None, result.error
    assert {code: v.status for code, v in result.verdicts.items()} == dict.fromkeys(
        CODES, "no_match"
    )


@pytest.mark.parametrize(
    ("queries", "ids"),
    [
        (
            (
                "Cl",
                "Cl.O",
                "[H+].[Cl-]",
                "[OH3+].[Cl-]",  # hydronium chloride: a proton on water
                "hydrochloric acid",
                "hydrogen chloride",
                "盐酸",
                "7647-01-0",
            ),
            {
                "US": "US-hydrochloric-acid",
                "CN": "CN-hydrochloric-acid",
                "UN": "UN-hydrochloric-acid",
            },
        ),
        (
            ("OS(=O)(=O)O", "sulfuric acid", "sulphuric acid", "硫酸", "7664-93-9"),
            {"US": "US-sulfuric-acid", "CN": "CN-sulfuric-acid", "UN": "UN-sulfuric-acid"},
        ),
        (
            (
                "[K+].[O-][Mn](=O)(=O)=O",
                "[K]O[Mn](=O)(=O)=O",
                "potassium permanganate",
                "高锰酸钾",
                "7722-64-7",
            ),
            {
                "US": "US-potassium-permanganate",
                "CN": "CN-potassium-permanganate",
                "UN": "UN-potassium-permanganate-table-I",
            },
        ),
    ],
)
def test_the_three_precursors_are_found_by_structure_name_and_cas(
    queries: tuple[str, ...], ids: dict[str, str]
) -> None:
    for query in queries:
        result = identify(query, as_of=TODAY)
        assert result.error is None, (query, result.error)
        for code, rule_id in ids.items():
            verdict = result.verdicts[code]
            assert verdict.status == "precursor", (query, code)
            assert [b.rule_id for b in verdict.basis] == [rule_id], (query, code)
            basis = verdict.basis[0]
            assert basis.citation and basis.list, (query, code)
            assert NO_STRUCTURE not in verdict.explanation


@pytest.mark.parametrize(
    ("query", "drug"),
    [
        ("fentanyl hydrochloride", "fentanyl"),
        ("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1.Cl", "fentanyl"),
        ("ephedrine hydrochloride", "ephedrine"),
        ("CN[C@@H](C)[C@H](O)c1ccccc1.Cl", "ephedrine"),
    ],
)
def test_a_hydrochloride_is_its_drug_not_hydrochloric_acid(query: str, drug: str) -> None:
    result = identify(query, as_of=TODAY)
    for code in CODES:
        ids = [b.rule_id for b in result.verdicts[code].basis]
        assert f"{code}-{drug}" in ids, (query, code)
        assert f"{code}-hydrochloric-acid" not in ids, (query, code)


def test_sodium_permanganate_is_listed_in_the_us_only() -> None:
    result = identify("[Na+].[O-][Mn](=O)(=O)=O", as_of=TODAY)
    assert [b.rule_id for b in result.verdicts["US"].basis] == ["US-sodium-permanganate"]
    assert result.verdicts["CN"].status == "no_match"
    assert result.verdicts["UN"].status == "no_match"


def test_each_listing_starts_on_its_day() -> None:
    assert _ids("Cl", "CN", date(2005, 10, 31)) == []
    assert _ids("Cl", "CN", date(2005, 11, 1)) == ["CN-hydrochloric-acid"]
    permanganate = "[K+].[O-][Mn](=O)(=O)=O"
    assert _ids(permanganate, "UN", date(2001, 2, 28)) == ["UN-potassium-permanganate"]
    assert _ids(permanganate, "UN", date(2001, 3, 1)) == ["UN-potassium-permanganate-table-I"]
    # Iodine: List II from the 1996 Act, List I from 1 Aug 2007.
    assert _ids("II", "US", date(1996, 10, 2)) == []
    assert _ids("II", "US", date(2000, 1, 1)) == ["US-iodine-list-II"]
    assert _ids("II", "US", date(2007, 8, 1)) == ["US-iodine"]


def test_hypophosphorous_acid_and_its_named_salts_are_us_list_i() -> None:
    for query, rule_id in (
        ("O[PH2]=O", "US-hypophosphorous-acid"),
        ("[Na+].[O-][PH2]=O", "US-sodium-hypophosphite"),
        ("sodium hypophosphite", "US-sodium-hypophosphite"),
        ("[Ca+2].[O-][PH2]=O", "US-calcium-hypophosphite"),  # one anion drawn: balanced
        # The listing names 'iron' and 'manganese' hypophosphite without a charge: every salt of
        # the acid is listed, so both iron salts are List I.
        ("[Fe+3].[O-][PH2]=O.[O-][PH2]=O.[O-][PH2]=O", "US-iron-III-hypophosphite"),
        ("[Fe+2].[O-][PH2]=O.[O-][PH2]=O", "US-iron-II-hypophosphite"),
        ("manganese hypophosphite", "US-manganese-hypophosphite"),
    ):
        assert _ids(query, "US") == [rule_id], query


def test_red_phosphorus_is_listed_by_name_with_no_structure() -> None:
    verdict = identify("red phosphorus", as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    assert verdict.status == "precursor"
    assert [b.rule_id for b in verdict.basis] == ["US-red-phosphorus"]
    assert NO_STRUCTURE in verdict.explanation


def test_the_prefilter_lets_inorganic_structures_through_only_for_inorganic_entries() -> None:
    prefilter = prefilter_for(load_rulebook())
    for smiles in (
        "Cl",
        "[Na+].[Cl-]",  # may hold an entry's elements: judged, then no_match
        "[K]O[Mn](=O)(=O)=O",
        "[Ca+2].[O-][PH2]=O",  # balanced into the listed salt by standardization
        "II",
    ):
        assert prefilter.could_match(Chem.MolFromSmiles(smiles)), smiles
    for smiles in ("[Na+].[O-][N+](=O)[O-]", "O", "[K+].[Br-]"):
        assert not prefilter.could_match(Chem.MolFromSmiles(smiles)), smiles
    # Beside an organic substance, HCl is a counter-ion: the Cl entry does not let it through.
    assert not prefilter.could_match(Chem.MolFromSmiles("COc1ccccc1.Cl"))


@pytest.mark.parametrize(
    ("query", "statuses"),
    [
        ("[Na+].[Cl-]", dict.fromkeys(CODES, "no_match")),
        ("Cl.O", dict.fromkeys(CODES, "precursor")),
        ("[K]O[Mn](=O)(=O)=O", dict.fromkeys(CODES, "precursor")),
        ("[Ca+2].[O-][PH2]=O", {"US": "precursor", "CN": "no_match", "UN": "no_match"}),
    ],
)
def test_bulk_screening_gives_the_same_verdicts(query: str, statuses: dict[str, str]) -> None:
    book = load_rulebook()
    parsed = parse_query(query, book)
    quick = judge(parsed, query, TODAY, CODES, book, thorough=False)
    assert {code: v.status for code, v in quick.verdicts.items()} == statuses
    full = identify(query, as_of=TODAY)
    assert {code: v.status for code, v in full.verdicts.items()} == statuses
