"""Hostile and not-quite-SMILES input (issue 7, items 1-4): every limit is checked on the text
before RDKit reads it and named in the refusal, every distinct fragment is judged, CXSMILES
and Unicode are read as a chemist meant them, and nothing RDKit would skip is accepted."""

from __future__ import annotations

import io
from datetime import date

import pytest
from rdkit import Chem

from liaison.chem import identify
from liaison.chem.bulk import _smiles_records
from liaison.chem.limits import Limits, inchi_atoms, molblock_atoms, smiles_shape

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
AS_OF = date(2026, 1, 1)


def statuses(query: str, **limits: int) -> set[str]:
    identification = identify(query, as_of=AS_OF, limits=Limits(**limits) if limits else None)
    return {verdict.status for verdict in identification.verdicts.values()}


@pytest.mark.parametrize(
    ("query", "limit", "value"),
    [
        ("C" * 100_001, "characters", 100_001),
        ("c1ccc(cc1)" * 9000, "atoms", 54000),
        ("C1CC1" * 101, "ring_closures", 101),
        ("C" * 2000, "atoms", 2000),
        ("C1" + "C" * 3000 + "C1", "atoms", 3002),
        ("C(" * 60 + "C" + ")" * 60, "branch_depth", 60),
        (".".join("C" * n for n in range(1, 40)), "fragments", 39),
    ],
    ids=[
        "characters",
        "benzene-chain",
        "rings",
        "long-chain",
        "big-ring",
        "deep-nesting",
        "fragments",
    ],
)
def test_each_oversized_input_is_invalid_naming_the_limit_and_its_value(
    query: str, limit: str, value: int
) -> None:
    identification = identify(query, as_of=AS_OF)
    assert {v.status for v in identification.verdicts.values()} == {"invalid"}
    assert identification.error is not None
    default = getattr(Limits(), limit)
    assert f"{value} " in identification.error
    assert f"(limit {limit}={default})" in identification.error
    assert identification.parent is None  # refused before RDKit built anything


def test_limits_are_configurable() -> None:
    assert statuses("C" * 40, atoms=30) == {"invalid"}
    assert statuses("C" * 40, atoms=40) == {"no_match"}
    assert statuses("C(C(C(C)))", branch_depth=2) == {"invalid"}


def test_mol_block_and_inchi_atoms_are_counted_before_parsing() -> None:
    inchi = Chem.MolToInchi(Chem.MolFromSmiles(FENTANYL))
    assert inchi_atoms(inchi) == 25
    assert inchi_atoms("InChI=1S/2C2H6O/c2*1-2-3/h2*3H,2H2,1H3") == 6  # two ethanols
    refused = identify(inchi, as_of=AS_OF, limits=Limits(atoms=20))
    assert refused.error is not None and "25 atoms" in refused.error
    assert "(limit atoms=20)" in refused.error
    block = "\n  RDKit\n\n  3  2  0  0  0  0  0  0  0  0999 V2000\n"
    assert molblock_atoms(block) == 3


def test_identical_fragments_are_judged_once_and_say_so() -> None:
    query = FENTANYL + ".O" * 12_000
    identification = identify(query, as_of=AS_OF)
    assert identification.verdicts["US"].status == "controlled"
    assert identification.notes == [
        "11999 repeated fragment(s) left out: each distinct one is judged once"
    ]
    assert smiles_shape(query).atoms == 26  # type: ignore[union-attr]


def test_a_ring_bond_across_a_dot_keeps_every_part() -> None:
    shape = smiles_shape("C1.C1.C1.C1")
    assert not isinstance(shape, str)
    assert shape.repeats == 0 and shape.atoms == 4


def test_fentanyl_hidden_behind_eight_larger_fragments_is_found() -> None:
    adulterants = [
        "CC(=O)Nc1ccc(O)cc1" + "C" * n for n in range(10, 18)
    ]  # eight fragments, each larger than fentanyl
    identification = identify(".".join([*adulterants, FENTANYL]), as_of=AS_OF)
    for code in ("US", "CN", "UN"):
        verdict = identification.verdicts[code]
        assert verdict.status == "controlled", code
        assert any(basis.fragment == FENTANYL for basis in verdict.basis)


def test_more_distinct_organic_fragments_than_the_limit_is_invalid_not_a_silent_drop() -> None:
    query = ".".join("C" * n + "N" for n in range(1, 12)) + "." + FENTANYL
    identification = identify(query, as_of=AS_OF, limits=Limits(fragments=10))
    assert {v.status for v in identification.verdicts.values()} == {"invalid"}
    assert identification.error is not None and "(limit fragments=10)" in identification.error


@pytest.mark.parametrize("junk", ["CCO;", "CCO>", "CCO,", "CCO'", "CCO\\x", "CC{O}"])
def test_a_smiles_with_characters_rdkit_would_skip_is_refused_naming_the_position(
    junk: str,
) -> None:
    identification = identify(junk, as_of=AS_OF)
    assert {v.status for v in identification.verdicts.values()} == {"invalid"}
    assert identification.error is not None and "is not SMILES syntax" in identification.error


def test_junk_around_fentanyl_is_not_judged_as_something_else() -> None:
    for query in (FENTANYL + ">", FENTANYL + "\x00", "{" + FENTANYL):
        assert statuses(query) == {"invalid"}, query


def test_cxsmiles_extension_is_parsed_with_a_note() -> None:
    drawn = "CCC(=O)N(c1ccccc1)[C@H]1CCN(CCc2ccccc2)C[C@@H]1C |&1:13,21|"
    identification = identify(drawn, as_of=AS_OF)
    assert identification.query_kind == "smiles"
    assert identification.verdicts["US"].status == "controlled"
    assert any("CXSMILES" in note and "parsed" in note for note in identification.notes)
    broken = identify("CCO |nonsense|", as_of=AS_OF)
    assert broken.error == "CXSMILES extension |nonsense| could not be parsed"


def test_smi_reader_keeps_the_cx_extension_with_the_smiles() -> None:
    lines = "CC[C@H](C)O |&1:2| sample-1\nCCO |&1:1|\nCCO ethanol\n"
    records = list(_smiles_records(io.StringIO(lines), "in.smi"))
    assert [(r.id, r.query) for r in records] == [
        ("sample-1", "CC[C@H](C)O |&1:2|"),
        ("in.smi:2", "CCO |&1:1|"),
        ("ethanol", "CCO"),
    ]


@pytest.mark.parametrize(
    "typed",
    ["\ufefffentanyl", "fen\u200btanyl", "fentanyl\u200d", "\uff26entanyl", "４３７-３８-７"],
    ids=["bom", "zero-width-space", "zero-width-joiner", "full-width-letter", "full-width-cas"],
)
def test_names_with_format_or_compatibility_characters_are_normalized_with_a_note(
    typed: str,
) -> None:
    identification = identify(typed, as_of=AS_OF)
    assert identification.error is None, identification.error
    assert identification.query_kind in {"name", "cas"}
    assert len(identification.notes) == 1
    assert identification.notes[0].startswith("input read as ")
    assert identification.to_dict()["notes"] == identification.notes
