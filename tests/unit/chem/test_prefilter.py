"""The prefilter is a necessary condition: it never rejects a molecule some rule matches."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import fields, replace
from datetime import date
from pathlib import Path
from typing import Any

from rdkit import Chem, RDConfig

from liaison.chem import identify, load_rulebook
from liaison.chem.bulk import Record, screen_records
from liaison.chem.compiled import prefilter_for
from liaison.chem.prefilter import (
    Prefilter,
    build_prefilter,
    expand_recursive,
    heavy_formula,
    skeleton_of_smarts,
)

HERE = Path(__file__).parent
NCI = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"


def test_skeleton_keeps_elements_and_drops_bond_orders_and_hydrogens() -> None:
    skeleton = skeleton_of_smarts("[#1][CH2]1[CH2][N;H1,$(N-C=O)]CC1=O")
    assert skeleton.GetNumAtoms() == 6  # the explicit hydrogen is gone
    assert Chem.MolFromSmiles("OC1CNCC1").HasSubstructMatch(skeleton)  # any bond order


def test_or_queries_keep_every_alternative() -> None:
    skeleton = skeleton_of_smarts("c[F,Cl]")
    assert Chem.MolFromSmiles("Clc1ccccc1").HasSubstructMatch(skeleton)
    assert Chem.MolFromSmiles("Fc1ccccc1").HasSubstructMatch(skeleton)
    assert not Chem.MolFromSmiles("Brc1ccccc1").HasSubstructMatch(skeleton)


def test_everything_any_rule_matches_passes_the_prefilter() -> None:
    book = load_rulebook()
    prefilter = prefilter_for(book)
    structures = [entry.smiles for entry in book.entries]
    structures += [example for family in book.families for example in family.examples]
    for name in ("corpus.csv", "reference_substances.csv"):
        for row in csv.DictReader((HERE / name).open(encoding="utf-8")):
            structures.append(row.get("query") or row.get("smiles") or "")
    for text in structures:
        identification = identify(text, as_of=date(2026, 1, 1))
        if identification.parent is None:
            continue
        if any(v.status != "no_match" for v in identification.verdicts.values()):
            assert prefilter.could_match(Chem.MolFromSmiles(text) or identification.parent), text


def test_bulk_fast_path_gives_the_same_verdicts_as_identify() -> None:
    lines = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()]
    sample = [
        *random.Random(7).sample(lines, 300),
        "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
        "O=C1CCNCC1",
        "OC1(O)CCNCC1.Cl",
        "c1ccc(NC2CCNCC2)cc1.O=C(O)c1cc2ccccc2c(Cc2c(O)c(C(=O)O)cc3ccccc23)c1O",
        "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1.c1ccc(NC2CCNCC2)cc1",
        "CCC(=O)N(c1ccccc1)C1CC[N+](CCc2ccccc2)CC1",  # a radical: invalid on both paths
    ]
    day = date(2026, 1, 1)
    records = [Record(str(i), text, text) for i, text in enumerate(sample)]
    fast = list(
        screen_records(records, day, ("US", "CN", "UN"), jobs=1, render="jsonl", keep="none")
    )
    for index, (text, result) in enumerate(zip(sample, fast, strict=True)):
        slow = identify(text, as_of=day, record_id=str(index))
        assert result.statuses == tuple(slow.verdicts[c].status for c in ("US", "CN", "UN")), text
        assert json.loads(result.line) == slow.to_dict(), text


def test_recursive_alternatives_are_written_out_as_branches() -> None:
    expanded = expand_recursive("[CH2]1[CH2]N[CH2][CH2][C;$(C=O),$(C(-O[#6])-O[#6])]1")
    assert expanded == [
        "[CH2]1[CH2]N[CH2][CH2][C]1(=O)",
        "[CH2]1[CH2]N[CH2][CH2][C]1(-O[#6])(-O[#6])",
    ]
    assert all(Chem.MolFromSmarts(text) is not None for text in expanded)


def test_fentanyl_rule_screens_are_few_and_specific() -> None:
    """The fentanyl analogues and precursors alone reduce to a few piperidine anchors."""
    book = load_rulebook()
    anchor = Chem.MolFromSmarts("[#7,#8]~[#6;R]1~[#6;R]~[#6;R]~[#7;R]~[#6;R]~[#6;R]~1")
    entries = [e for e in book.entries if Chem.MolFromSmiles(e.smiles).HasSubstructMatch(anchor)]
    fentanyl_book = replace(
        book,
        entries=entries,
        by_inchikey={},
        by_connectivity={},
        named_formulas=set(),
        by_tautomer_inchikey={},
        by_tautomer_connectivity={},
        formulas_by_jurisdiction={},
    )
    screens = build_prefilter(fentanyl_book).screens
    assert 1 <= len(screens) <= 4
    assert not any(Chem.MolFromSmiles("c1ccncc1").HasSubstructMatch(s) for s in screens)
    assert not any(Chem.MolFromSmiles("CN1CCCCC1").HasSubstructMatch(s) for s in screens)


def test_a_small_named_entry_is_tested_on_fragments_of_its_size() -> None:
    """A precursor such as acetone matches only acetone: a larger molecule containing its
    skeleton is not a candidate for it, a salt, a hydrate or a metal compound of it is."""
    book = load_rulebook()
    acetone = replace(book.entries[0], smiles="CC(C)=O")
    indexes: dict[str, Any] = {
        "by_inchikey": {},
        "by_connectivity": {},
        "named_formulas": set(),
        "formulas_by_jurisdiction": {},
        "by_tautomer_inchikey": {},
        "by_tautomer_connectivity": {},
    }
    alone = replace(book, entries=[acetone], families=[], classes=[], **indexes)
    prefilter = build_prefilter(alone)
    assert prefilter.screens == () and list(prefilter.named) == [4]
    for text in ("CC(C)=O", "CC(C)=O.Cl", "CC(O)(O)C", "CC(=O)C[Na]", "[2H]C([2H])([2H])C(C)=O"):
        assert prefilter.could_match(Chem.MolFromSmiles(text)), text
    for text in ("CCC(C)=O", "CC(=O)CCCCCC", "CC(C)OCCc1ccccc1", "CC"):
        assert not prefilter.could_match(Chem.MolFromSmiles(text)), text
    # Every schedule loaded: the substructure screens stay the families' and the class's
    # anchors (no bare nitrogen); the other named entries are tested by size.
    shipped = prefilter_for(book)
    assert "[#7]" not in shipped.descriptions and len(shipped.screens) <= 4
    # A size holds at most thirty skeletons (23 heavy atoms: 26 with the complete US
    # schedules, benzodiazepines, opioids and synthetic cannabinoids).
    assert shipped.named and all(len(skeletons) <= 30 for skeletons in shipped.named.values())


def test_shipped_screens_reject_what_no_listed_skeleton_contains() -> None:
    """With every schedule loaded, molecules outside the listed skeletons and sizes are no
    candidates: a nitrogen (amphetamine-type entries) or a solvent's skeleton (ethyl ether,
    acetone) inside a larger molecule no longer makes one."""
    prefilter = prefilter_for(load_rulebook())
    for smiles in ("CCCCCC", "c1ccccc1", "ClCCl", "CC=CC", "CCOC(C)=O", "OCC(O)CO", "CCCCN"):
        assert not prefilter.could_match(Chem.MolFromSmiles(smiles)), smiles


class _SizesOnly(Prefilter):
    """The prefilter without its formula shortcut: every named entry tested by size."""

    def _no_named_formula(self, molecule: Chem.Mol) -> bool:
        return False


def test_the_formula_shortcut_rejects_only_what_the_size_tests_reject() -> None:
    prefilter = prefilter_for(load_rulebook())
    sizes_only = _SizesOnly(**{f.name: getattr(prefilter, f.name) for f in fields(prefilter)})
    lines = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()]
    book = load_rulebook()
    # The NCI set, every named entry, and each entry as a ketone hydrate would leave it or with
    # an extra oxygen (what the shortcut's oxygen count must allow and refuse).
    texts = [*lines, *(entry.smiles for entry in book.entries)]
    texts += [f"{entry.smiles}.O" for entry in book.entries]
    texts += ["CC(C)(O)O", "CC(=O)C", "CC(C)O", "OC(O)(C)CC", "CC(=O)CC.[Na+].[Cl-]"]
    shortcut_used = 0
    for text in texts:
        molecule = Chem.MolFromSmiles(text)
        if molecule is None:
            continue
        expected = sizes_only.could_match(molecule)
        assert prefilter.could_match(molecule) == expected, text
        shortcut_used += prefilter._no_named_formula(molecule)
    assert shortcut_used > len(lines) // 2  # the shortcut is what answers most molecules


def test_heavy_formula_leaves_out_hydrogens_and_counts_oxygens_apart() -> None:
    assert heavy_formula(Chem.MolFromSmiles("CC(=O)C")) == ("C3", 1)
    assert heavy_formula(Chem.MolFromSmiles("C[N+](C)(C)CCO")) == ("C5N", 1)
    assert heavy_formula(Chem.MolFromSmiles("[2H]C(Cl)Br")) == ("CBrCl", 0)
    assert heavy_formula(Chem.MolFromSmiles("CC(=O)O[Na]")) is None  # a metal
    assert heavy_formula(Chem.MolFromSmiles("*CC")) is None  # a dummy atom
