"""Screening a SMILES after only the sanitization checks (query._checked) gives every record
what the full parse and the prefilter give it: the same molecules ruled out, the same ones
judged, and every structure full sanitization refuses refused with the same words."""

from __future__ import annotations

import csv
import random
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rdkit import Chem, RDConfig

from liaison.chem import load_rulebook
from liaison.chem.compiled import prefilter_for
from liaison.chem.identify import parse_for_screening, parse_safely
from liaison.chem.query import ParsedQuery, finish_sanitizing
from liaison.chem.rulebook import RuleBook

HERE = Path(__file__).parent
NCI = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
# What a drawing error or a hostile file puts in a SMILES: charges, aromatic atoms of every
# kind, ring closures, metals, explicit hydrogens, isotopes, stereo marks.
PIECES = (
    *("c", "n", "o", "s", "p", "b", "C", "N", "O", "Cl", "=", "#", "(", ")", "1", "2", "3"),
    *("[nH]", "[N+]", "[O-]", "[NH4+]", "[Fe]", "[C-]", "[c-]", "[n+]", "[se]", "[B-]"),
    *("[Si]", "[S+]", "[P+]", "[H]", ".", "[CH]", "[C@H]", "/", "\\", "[2H]", "[n-]", "[o+]"),
    *("[s+]", "[c+]", "[Pt]", "->", "[Cu+2]", "[N]", "[c]", "[nH+]", "[S@@]"),
)
# Refused by full sanitization, each for another reason, or accepted where a check alone
# would refuse (then the full path decides).
TARGETED = (
    "C(C)(C)(C)(C)C",  # pentavalent carbon
    "[N](C)(C)(C)(C)C",  # hypervalent nitrogen
    "FCl(F)(F)(F)(F)F",  # hypervalent chlorine
    "c1cccc1",  # five aromatic carbons: no Kekulé form
    "c1ccccc1c",  # an aromatic atom outside any ring
    "c1ccnc1",  # a pyrrole missing its H
    "c1cc[n+]cc1",  # a pyridinium missing its H: valid, a radical
    "c1ccc[c-]1",  # the cyclopentadienyl anion: valid
    "[o+]1ccccc1",  # pyrylium: valid
    "O=[N+]([O-])c1ccc(N2CCC(N)CC2)cc1",  # nitro written charged, with the screen's ring
    "O=N(=O)c1ccc(N2CCC(N)CC2)cc1",  # nitro written neutral: cleaned up, then valid
    "NCb1=C(CO)C=CC=C1",  # valid only once aromatic: the checks refuse it, the full path not
    "C1CC.N1CC",  # a ring closed across a dot
    "OC1=C[O-][Fe]=N1",  # a ring through a dative bond: only the checks' ring search has it
    "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",  # fentanyl
    "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1.[H]Cl",  # explicit hydrogen atom
    "[2H]C([2H])([2H])C(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",  # isotopes
    "CCC(=O)N(c1ccccc1)C1CC[NH+](CCc2ccccc2)CC1",  # a charged screen atom
    "CCC(=O)N(c1ccccc1)C1CC[N](CCc2ccccc2)CC1",  # a radical: judged, refused by the judge
    "",  # empty
    "C1CC",  # ring left open: not SMILES
)


@pytest.fixture(scope="module", params=["shipped", "screened only"])
def book(request: pytest.FixtureRequest) -> RuleBook:
    """The shipped rules, and its families and classes alone: then the screens alone decide
    (no named entry to test by formula and size), as with the fentanyl-only rule files."""
    if request.param == "shipped":
        return load_rulebook()
    alone = replace(load_rulebook(), entries=[])
    assert prefilter_for(alone).screens and not prefilter_for(alone).named_any_size
    return alone


def _corpus() -> list[str]:
    texts = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()]
    for name, column in (("corpus.csv", "query"), ("reference_substances.csv", "smiles")):
        with (HERE / name).open(encoding="utf-8") as handle:
            texts += [row[column] for row in csv.DictReader(handle)]
    # Listed stereoisomers drawn without their stereo (judged review): the same on both paths.
    for entry in load_rulebook().entries:
        if "@" in entry.smiles:
            flat = Chem.MolFromSmiles(entry.smiles)
            Chem.RemoveStereochemistry(flat)
            texts.append(Chem.MolToSmiles(flat))
    return texts


def _mutated(texts: list[str], count: int) -> list[str]:
    rng = random.Random(8)
    found = []
    for text in rng.choices(texts, k=count):
        for _ in range(rng.choice((1, 1, 2))):
            start = rng.randrange(len(text) + 1)
            end = min(len(text), start + rng.randrange(3))
            text = text[:start] + rng.choice(PIECES) + text[end:]
        found.append(text)
    return found


def _full_path(text: str, book: RuleBook) -> ParsedQuery | str:
    """What bulk screening did before: the full parse, then the prefilter on its molecule."""
    parsed = parse_safely(text, book)
    molecule = parsed.molecule
    if molecule is not None and not parsed.notes and not prefilter_for(book).could_match(molecule):
        return parsed.kind
    return parsed


def _described(parsed: ParsedQuery | str) -> tuple[Any, ...]:
    if isinstance(parsed, str):
        return ("ruled out", parsed)
    smiles = None if parsed.molecule is None else Chem.MolToSmiles(parsed.molecule)
    return (parsed.kind, smiles, parsed.error, parsed.notes, parsed.partial)


def test_every_record_is_ruled_out_or_judged_as_by_the_full_parse(book: RuleBook) -> None:
    texts = [*_corpus(), *TARGETED]
    texts += _mutated(texts, 6000)
    checked = refused = 0
    for text in texts:
        expected = _full_path(text, book)
        assert _described(parse_for_screening(text, book)) == _described(expected), text
        partial = parse_safely(text, book, partial=True)
        checked += partial.partial
        refused += isinstance(expected, ParsedQuery) and expected.molecule is None
    # The checked parse did the work for most records, and the mutations reached the refusals.
    assert checked > len(texts) / 2 and refused > 1000


def test_a_structure_sanitization_refuses_is_refused_in_the_same_words(
    book: RuleBook,
) -> None:
    for text in ("C(C)(C)(C)(C)C", "c1cccc1", "c1ccccc1c", "c1ccnc1", "FCl(F)(F)(F)(F)F"):
        parsed = parse_for_screening(text, book)
        assert isinstance(parsed, ParsedQuery) and parsed.molecule is None, text
        assert parsed.error == parse_safely(text, book).error
        assert (parsed.error or "").startswith("SMILES is not a valid structure"), text


def test_sanitized_in_full_only_when_the_prefilter_lets_it_through_and_never_read_again(
    book: RuleBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[bool] = []

    def recorded(*args: Any, partial: bool = False) -> ParsedQuery:
        asked.append(partial)
        return parse_safely(*args, partial=partial)

    # The module, not the function liaison.chem exports under its name.
    monkeypatch.setattr(sys.modules[parse_for_screening.__module__], "parse_safely", recorded)
    assert parse_for_screening("c1ccccc1O", book) == "smiles"
    assert asked == [True]
    judged = parse_for_screening("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", book)
    assert asked == [True, True]  # the checked parse is finished, not parsed again
    assert isinstance(judged, ParsedQuery) and not judged.partial
    assert judged.molecule is not None and judged.molecule.GetAtomWithIdx(6).GetIsAromatic()


def _properties(owner: Chem.Atom | Chem.Bond | Chem.Mol) -> list[tuple[str, Any]]:
    values = owner.GetPropsAsDict(includePrivate=True, includeComputed=True)
    return sorted(
        (key, value if isinstance(value, int | float | str) else list(value))
        for key, value in values.items()
    )


def _everything(molecule: Chem.Mol) -> tuple[Any, ...]:
    """What any later step may read of a molecule: atoms and bonds in their order with every
    flag, computed property and ring, the canonical and the as-written SMILES."""
    rings = molecule.GetRingInfo()
    atoms = [
        (
            atom.GetAtomicNum(),
            atom.GetIsAromatic(),
            atom.GetHybridization(),
            atom.GetNumExplicitHs(),
            atom.GetTotalNumHs(),
            atom.GetNoImplicit(),
            atom.GetFormalCharge(),
            atom.GetNumRadicalElectrons(),
            atom.GetChiralTag(),
            atom.GetIsotope(),
            atom.GetExplicitValence(),
            _properties(atom),
        )
        for atom in molecule.GetAtoms()
    ]
    bonds = [
        (
            bond.GetBeginAtomIdx(),
            bond.GetEndAtomIdx(),
            bond.GetBondType(),
            bond.GetStereo(),
            bond.GetBondDir(),
            bond.GetIsConjugated(),
            bond.GetIsAromatic(),
            tuple(bond.GetStereoAtoms()),
            _properties(bond),
        )
        for bond in molecule.GetBonds()
    ]
    return (
        atoms,
        bonds,
        rings.AtomRings(),
        rings.BondRings(),
        _properties(molecule),
        Chem.MolToSmiles(molecule),
        Chem.MolToSmiles(molecule, canonical=False),
    )


def test_a_finished_checked_parse_is_the_full_parse_atom_for_atom() -> None:
    """query.finish_sanitizing after the prefilter read the checked molecule: the molecule
    the full parse of the text gives, in everything later steps read. The prefilter asked
    first, as parse_for_screening does: it must leave nothing behind that changes it."""
    book = load_rulebook()
    texts = [*_corpus(), *TARGETED, *WRITTEN_AROMATIC_NOT_AROMATIC]
    texts += _mutated(texts, 3000)
    finished = parsed_again = 0
    for text in texts:
        partial = parse_safely(text, book, partial=True)
        if not partial.partial or partial.molecule is None:
            continue
        prefilter_for(book).could_match(partial.molecule, connected="." not in text)
        done = finish_sanitizing(partial, text)
        if done is None:  # the caller parses it again
            parsed_again += 1
            continue
        full = parse_safely(text, book)
        assert done.molecule is not None and full.molecule is not None and not done.partial, text
        assert _everything(done.molecule) == _everything(full.molecule), text
        finished += 1
    assert finished > len(texts) / 2 and parsed_again >= len(WRITTEN_AROMATIC_NOT_AROMATIC)


# An atom written aromatic in a ring that is not: finished, [se] would be SP2 where the
# full parse has it SP3; the thiopyrylium [s+] would count its valence otherwise.
WRITTEN_AROMATIC_NOT_AROMATIC = (
    "CN(C)C1=CC=C(C=C1)[CH]2C[CH](N(N=C2)C3=CC=CC=C3)C4=CC=C(C=[se]4)N(C)C",
    "CCCCCCCCCCCC[s+]1=CC=C(C=C1)C(O)=O",
)


def test_an_atom_written_aromatic_in_no_aromatic_ring_is_parsed_again() -> None:
    book = load_rulebook()
    for text in WRITTEN_AROMATIC_NOT_AROMATIC:
        partial = parse_safely(text, book, partial=True)
        assert partial.partial and partial.molecule is not None
        assert finish_sanitizing(partial, text) is None, text
        parsed = parse_for_screening(text, book)
        full = parse_safely(text, book)
        if isinstance(parsed, ParsedQuery):
            assert parsed.molecule is not None and full.molecule is not None
            assert _everything(parsed.molecule) == _everything(full.molecule), text
