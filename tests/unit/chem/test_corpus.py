"""The engine's own corpus (corpus.csv): every clause probed just inside and just outside,
stereoisomers, salts, labelled and charged forms, other drawings, names, CAS numbers, dates."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from rdkit import Chem

from liaison.chem import identify
from liaison.chem.depict import depict_svg
from liaison.errors import InvalidInput

CORPUS = list(csv.DictReader(Path(__file__).with_name("corpus.csv").open(encoding="utf-8")))
FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
AS_OF = date(2026, 1, 1)


def test_corpus_is_large_enough_and_says_what_each_row_probes() -> None:
    assert len(CORPUS) >= 60
    assert all(row["probe"].strip() for row in CORPUS)
    assert len({row["id"] for row in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("row", CORPUS, ids=[row["id"] for row in CORPUS])
def test_corpus_row(row: dict[str, str]) -> None:
    identification = identify(row["query"], as_of=date.fromisoformat(row["as_of"]))
    for code in ("US", "CN", "UN"):
        verdict = identification.verdicts[code]
        assert verdict.status in row[code].split("|"), (
            f"{row['probe']} [{code}]: {verdict.status}: {verdict.explanation}"
        )
    if any(v.status == "invalid" for v in identification.verdicts.values()):
        assert identification.error
        assert identification.standardized_smiles is None


def test_mol_block_and_inchi_give_the_same_verdicts_as_smiles() -> None:
    molecule = Chem.MolFromSmiles("CCC(=O)N(c1ncccn1)C1CCN(CCc2ccccc2)CC1")
    by_smiles = identify(Chem.MolToSmiles(molecule), as_of=AS_OF)
    by_molblock = identify(Chem.MolToMolBlock(molecule), as_of=AS_OF)
    by_inchi = identify(Chem.MolToInchi(molecule), as_of=AS_OF)
    assert by_molblock.query_kind == "molblock"
    assert by_inchi.query_kind == "inchi"
    for other in (by_molblock, by_inchi):
        assert {c: v.status for c, v in other.verdicts.items()} == {
            c: v.status for c, v in by_smiles.verdicts.items()
        }
        assert other.standardized_smiles == by_smiles.standardized_smiles


def test_query_kinds_are_detected() -> None:
    assert identify(FENTANYL, AS_OF).query_kind == "smiles"
    assert identify("437-38-7", AS_OF).query_kind == "cas"
    assert identify("芬太尼", AS_OF).query_kind == "name"
    assert identify("no such thing here", AS_OF).query_kind == "unknown"


def test_bad_cas_check_digit_says_which_digit() -> None:
    identification = identify("437-38-8", AS_OF)
    assert identification.error is not None
    assert "check digit" in identification.error and "7" in identification.error


def test_invalid_smiles_names_the_problem() -> None:
    identification = identify("C(C)(C)(C)(C)C", AS_OF)
    assert identification.error is not None and "valence" in identification.error.lower()


def test_class_verdict_explains_each_region_with_its_clause() -> None:
    identification = identify("CCC(=O)N(c1ncccn1)C1CCN(CCc2ccccc2C)CC1", as_of=AS_OF)
    us = identification.verdicts["US"]
    assert us.status == "controlled"
    (basis,) = us.basis
    assert basis.kind == "class" and set(basis.clauses) == {"D", "B"}
    explanations = {region.region: region.explanation for region in basis.regions}
    assert "pyrimidin-2-yl" in explanations["aniline"] and explanations["aniline"].startswith("D")
    assert explanations["terminal_ring"].startswith("B")
    cn = identification.verdicts["CN"]
    assert set(cn.basis[0].clauses) == {"2", "4"}


def test_regions_partition_the_molecule() -> None:
    identification = identify("CCC(=O)N(c1ccc(F)cc1)C1CCN(CC(O)c2cccs2)CC1C", as_of=AS_OF)
    basis = identification.verdicts["CN"].basis[0]
    assert basis.kind == "class"
    from liaison.chem.compiled import load_rulebook
    from liaison.chem.fentanyl_class import decompose

    parent = identification.parent
    shape = decompose(parent, load_rulebook().semantics)
    assert shape is not None
    atoms = [atom for region in shape.regions.values() for atom in region.atoms]
    assert sorted(atoms) == list(range(parent.GetNumAtoms()))


def test_named_listing_comes_before_the_class_in_the_basis() -> None:
    us = identify("acetylfentanyl", as_of=AS_OF).verdicts["US"]
    assert us.status == "controlled"
    assert us.basis[0].kind == "named" and us.basis[0].rule_id.startswith("US-acetylfentanyl")
    assert all(b.kind != "class" or b.status == "controlled" for b in us.basis)


def test_basis_carries_citation_dates_and_atoms() -> None:
    identification = identify("c1ccc(NC2CCNCC2)cc1", as_of=AS_OF)
    un = identification.verdicts["UN"]
    assert un.status == "precursor"
    basis = un.basis[0]
    assert basis.citation and basis.in_force_from == date(2022, 11, 23)
    assert basis.atoms == tuple(range(identification.parent.GetNumAtoms()))


def test_to_dict_has_the_contract_shape() -> None:
    data = identify(FENTANYL, as_of=AS_OF, record_id="r1").to_dict()
    assert {"id", "input", "verdicts", "error"} <= set(data)
    assert data["id"] == "r1" and data["input"] == FENTANYL and data["error"] is None
    us = data["verdicts"]["US"]
    assert us["status"] == "controlled"
    assert {"kind", "rule_id", "list", "citation", "in_force_from", "in_force_to", "atoms"} <= set(
        us["basis"][0]
    )


def test_jurisdictions_can_be_chosen_and_unknown_ones_are_refused() -> None:
    assert set(identify(FENTANYL, AS_OF, jurisdictions=["cn"]).verdicts) == {"CN"}
    with pytest.raises(InvalidInput, match="XX"):
        identify(FENTANYL, AS_OF, jurisdictions=["XX"])


def test_depiction_colours_regions_and_names_clauses() -> None:
    identification = identify("CCC(=O)N(c1ncccn1)C1CCN(CCc2ccccc2)CC1", as_of=AS_OF)
    svg = depict_svg(identification, jurisdiction="US")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "pyrimidin-2-yl" in svg and "D: " in svg
    assert "href" not in svg and "<image" not in svg and "<script" not in svg  # self-contained
    assert svg.count("<svg") == 2  # the frame and RDKit's drawing, nothing fetched


def test_depiction_of_an_invalid_query_says_why() -> None:
    svg = depict_svg(identify("C1CC(", AS_OF), jurisdiction="CN")
    assert "invalid" in svg and "not a SMILES" in svg


def test_a_listed_substance_in_the_class_cites_the_listing_and_says_the_class_does_not_apply() -> (
    None
):
    us = identify("CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", as_of=AS_OF).verdicts["US"]
    assert [basis.kind for basis in us.basis] == ["named"]
    assert us.explanation.endswith(
        "Fentanyl-related substances (Schedule I) does not apply: its definition excludes "
        "substances controlled under their own listing, as this one is"
    )


def test_salt_verdict_names_the_fragment_it_came_from() -> None:
    pamoate = "O=C(O)c1cc2ccccc2c(Cc2c(O)c(C(=O)O)cc3ccccc23)c1O.c1ccc(NC2CCNCC2)cc1"
    identification = identify(pamoate, as_of=AS_OF)
    us = identification.verdicts["US"]
    assert us.status == "precursor"
    assert us.explanation.startswith("fragment c1ccc(NC2CCNCC2)cc1: ")
    parent = identification.parent
    for basis in us.basis:
        assert basis.fragment == "c1ccc(NC2CCNCC2)cc1"
        assert {parent.GetAtomWithIdx(i).GetSymbol() for i in basis.atoms} == {"C", "N"}
        assert basis.to_dict()["fragment"] == "c1ccc(NC2CCNCC2)cc1"
    assert "svg" in depict_svg(identification, "US")


def test_a_mixture_gives_every_matching_fragment_and_the_strongest_status() -> None:
    identification = identify(FENTANYL + ".c1ccc(NC2CCNCC2)cc1", as_of=AS_OF)
    us = identification.verdicts["US"]
    assert us.status == "controlled"
    assert {b.fragment for b in us.basis} == {FENTANYL, "c1ccc(NC2CCNCC2)cc1"}
    assert {b.status for b in us.basis} == {"controlled", "precursor"}


def test_a_salt_of_one_substance_is_one_fragment() -> None:
    identification = identify(FENTANYL + ".OC(=O)CC(O)(CC(=O)O)C(=O)O", as_of=AS_OF)
    assert identification.standardized_smiles == FENTANYL
    assert all(b.fragment is None for b in identification.verdicts["US"].basis)


def test_radical_structure_is_invalid_naming_the_atom() -> None:
    drawn = "CCC(=O)N(c1ccccc1)C1CC[N+](CCc2ccccc2)CC1"  # piperidinium N without its H
    for query in (drawn, Chem.MolToMolBlock(Chem.MolFromSmiles(drawn))):
        identification = identify(query, as_of=AS_OF)
        assert {v.status for v in identification.verdicts.values()} == {"invalid"}
        assert identification.error is not None
        assert "atom 15 (N+) has an unpaired electron: charge or hydrogens missing?" in (
            identification.error
        )
    protonated = identify(drawn.replace("[N+]", "[NH+]"), as_of=AS_OF)
    assert protonated.verdicts["US"].status == "controlled"


def test_unlisted_substituent_on_the_phenethyl_phenyl_is_a_question_of_reading() -> None:
    identification = identify("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccc(C#N)cc2)CC1", as_of=AS_OF)
    us = identification.verdicts["US"]
    assert us.status == "review"
    assert (
        "clause A (the phenyl replaced by any monocycle, whether or not further substituted)"
        in (us.explanation)
    )
    assert "clause B's list of substituents does not include it" in us.explanation
    assert "an expert must decide" in us.explanation
    assert "has no clause for this change" not in us.explanation  # A may well cover it
    assert identification.verdicts["CN"].status == "controlled"  # condition 4: any group


def test_cn_open_list_doubt_does_not_say_no_condition_covers_it() -> None:
    cn = identify("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1C#N", as_of=AS_OF).verdicts["CN"]
    assert cn.status == "review"
    assert "open-ended (等, 'and the like'); whether it is of the like" in cn.explanation
    assert "no condition of the Chinese definition covers" not in cn.explanation


def test_a_change_no_clause_names_still_says_so() -> None:
    us = identify("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1C#N", as_of=AS_OF).verdicts["US"]
    assert us.status == "review" and "has no clause for this change" in us.explanation


def test_no_match_outside_the_rules_scope_says_it_is_not_a_clearance() -> None:
    caffeine = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"  # on no list: no rule covers it
    for verdict in identify(caffeine, as_of=AS_OF).verdicts.values():
        assert verdict.status == "no_match"
        assert "not a clearance" in verdict.explanation
