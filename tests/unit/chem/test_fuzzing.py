"""Fuzzing and invariance (Hypothesis). Hostile input never crashes a worker, never runs past
the time limit and always gives one record per input; verdicts do not depend on how the
same substance is written (atom order, salt form, isotope labels, tautomer, fragment order).

Inputs go through the worker pool (as `liaison screen` runs them), so a crash or a stall shows
as a record saying so instead of taking the test run down; no wall clock is read here."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdkit import Chem, RDConfig
from rdkit.Chem.MolStandardize import rdMolStandardize

from liaison.chem import identify
from liaison.chem.bulk import Record, screen_records

HERE = Path(__file__).parent
NCI = [
    line.split()[0]
    for line in (Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi").read_text().splitlines()
    if line.strip()
]
REFERENCE = [
    row
    for row in csv.DictReader((HERE / "reference_substances.csv").open(encoding="utf-8"))
    if Chem.MolFromSmiles(row["smiles"]) is not None
]
CODES = ("US", "CN", "UN")
AS_OF = date(2026, 1, 1)
SMILES_ALPHABET = "CNOSPFIBrcnos()[]=#@+-.%0123456789/\\*H "
WORKER_FAILURES = ("timed out", "identification failed")
FUZZ = settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def screened(texts: list[str]) -> list[dict]:
    records = [Record(str(index), text, text) for index, text in enumerate(texts)]
    results = list(screen_records(records, AS_OF, CODES, jobs=1, keep="all"))
    return [result.record for result in results]


def assert_survived(texts: list[str]) -> None:
    records = screened(texts)
    assert [record["id"] for record in records] == [str(i) for i in range(len(texts))]
    for text, record in zip(texts, records, strict=True):
        error = record["error"] or ""
        assert not any(failure in error for failure in WORKER_FAILURES), (text[:200], error)
        assert set(record["verdicts"]) == set(CODES)


@FUZZ
@given(st.lists(st.text(max_size=400), min_size=40, max_size=40))
def test_random_text(texts: list[str]) -> None:
    assert_survived(texts)


@FUZZ
@given(st.lists(st.binary(max_size=400), min_size=40, max_size=40))
def test_random_bytes(blobs: list[bytes]) -> None:
    assert_survived([blob.decode("utf-8", errors="replace") for blob in blobs])


@st.composite
def mutated_nci(draw: st.DrawFn) -> str:
    text = list(draw(st.sampled_from(NCI)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(("insert", "delete", "replace", "repeat")))
        char = draw(st.sampled_from(SMILES_ALPHABET))
        if action == "insert":
            text.insert(position, char)
        elif text and action == "delete":
            del text[min(position, len(text) - 1)]
        elif text and action == "replace":
            text[min(position, len(text) - 1)] = char
        elif action == "repeat":
            text = text[:position] * draw(st.integers(2, 50)) + text[position:]
    return "".join(text)


@FUZZ
@given(st.lists(mutated_nci(), min_size=60, max_size=60))
def test_mutations_of_real_molecules(texts: list[str]) -> None:
    assert_survived(texts)


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(("nest", "chain", "ring", "rings", "dots")), st.integers(1, 6000)
        ),
        min_size=20,
        max_size=20,
    )
)
def test_deep_nesting_and_long_chains(shapes: list[tuple[str, int]]) -> None:
    build = {
        "nest": lambda n: "C(" * n + "C" + ")" * n,
        "chain": lambda n: "C" * n,
        "ring": lambda n: "C1" + "C" * n + "C1",
        "rings": lambda n: "c1ccc(cc1)" * n,
        "dots": lambda n: "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1" + ".O" * n,
    }
    assert_survived([build[kind](size) for kind, size in shapes])


# ----------------------------------------------------------------------------- invariance


def statuses(query: str) -> tuple[str, ...]:
    identification = identify(query, as_of=AS_OF)
    return tuple(identification.verdicts[code].status for code in CODES)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.sampled_from(REFERENCE), st.randoms(use_true_random=False))
def test_verdicts_do_not_depend_on_atom_order(row: dict[str, str], random: object) -> None:
    molecule = Chem.MolFromSmiles(row["smiles"])
    order = list(range(molecule.GetNumAtoms()))
    random.shuffle(order)  # type: ignore[attr-defined]
    shuffled = Chem.MolToSmiles(Chem.RenumberAtoms(molecule, order), canonical=False)
    assert statuses(shuffled) == statuses(row["smiles"]), shuffled


SALTS = ("Cl", "Br", "OC(=O)CC(O)(CC(=O)O)C(=O)O", "OC(=O)C(O)C(O)C(=O)O", "O", "OS(=O)(=O)O")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.sampled_from(REFERENCE), st.lists(st.sampled_from(SALTS), min_size=1, max_size=3))
def test_verdicts_do_not_depend_on_the_salt_form(row: dict[str, str], salts: list[str]) -> None:
    salt = ".".join([row["smiles"], *salts])
    assert statuses(salt) == statuses(row["smiles"]), salt


ISOTOPES = {"C": 13, "N": 15, "O": 18, "H": 2}


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.sampled_from(REFERENCE), st.data())
def test_verdicts_do_not_depend_on_isotope_labels(row: dict[str, str], data: st.DataObject) -> None:
    molecule = Chem.AddHs(Chem.MolFromSmiles(row["smiles"]))
    labelled = [atom.GetIdx() for atom in molecule.GetAtoms() if atom.GetSymbol() in ISOTOPES]
    chosen = data.draw(st.lists(st.sampled_from(labelled), min_size=1, max_size=8))
    for index in chosen:
        atom = molecule.GetAtomWithIdx(index)
        atom.SetIsotope(ISOTOPES[atom.GetSymbol()])
    drawn = Chem.MolToSmiles(molecule)
    assert statuses(drawn) == statuses(row["smiles"]), drawn


def test_verdicts_do_not_depend_on_the_tautomer_drawn() -> None:
    """The class core, the named entries and the families are found in every tautomer a
    chemist would draw (RDKit's enumeration, the first 12 of each reference substance)."""
    enumerator = rdMolStandardize.TautomerEnumerator()
    for row in REFERENCE:
        expected = statuses(row["smiles"])
        for tautomer in list(enumerator.Enumerate(Chem.MolFromSmiles(row["smiles"])))[:12]:
            drawn = Chem.MolToSmiles(tautomer)
            assert statuses(drawn) == expected, (row["name"], drawn)


def test_npp_drawn_as_its_enol_is_npp() -> None:
    identification = identify("OC1=CCN(CCc2ccccc2)CC1", as_of=AS_OF)
    for code in CODES:
        verdict = identification.verdicts[code]
        assert verdict.status == "precursor", code
        assert verdict.basis[0].name == "NPP"
        assert verdict.basis[0].note.startswith("drawn as another tautomer")


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    st.permutations(
        [
            "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
            "CC(=O)Nc1ccc(O)cc1",
            "O=C1CCNCC1",
            "CN1C=NC2=C1C(=O)N(C)C(=O)N2C",
            "OCC(O)CO",
        ]
    )
)
def test_verdicts_do_not_depend_on_fragment_order(fragments: list[str]) -> None:
    identification = identify(".".join(fragments), as_of=AS_OF)
    assert {code: v.status for code, v in identification.verdicts.items()} == {
        "US": "controlled",
        "CN": "controlled",
        "UN": "controlled",
    }
    names = {basis.fragment for basis in identification.verdicts["US"].basis}
    assert names == {"CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", "O=C1CCNCC1"}
