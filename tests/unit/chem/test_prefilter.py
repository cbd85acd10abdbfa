"""The prefilter is a necessary condition: it never rejects a molecule some rule matches."""

from __future__ import annotations

import csv
import json
import random
import sys
from dataclasses import fields, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rdkit import Chem, RDConfig
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

from liaison.chem import identify, load_rulebook
from liaison.chem.bulk import Record, screen_records
from liaison.chem.compiled import prefilter_for
from liaison.chem.identify import parse_for_screening
from liaison.chem.prefilter import (
    Prefilter,
    _fragments,
    _Plan,
    build_prefilter,
    element_counts,
    element_graph,
    expand_recursive,
    heavy_formula,
    skeleton_of_molecule,
    skeleton_of_smarts,
)
from liaison.chem.query import ParsedQuery
from liaison.chem.rulebook import RuleBook, defined_stereo
from liaison.chem.standardize import standardize, standardize_all, structure_keys

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


def test_a_listed_stereoisomer_drawn_without_its_stereo_is_let_through_and_flagged() -> None:
    """Such a drawing is judged review (RuleBook.stereoisomers_listed): the prefilter, the
    checked parse and the bulk path must let it through, whatever its atom order; a miss
    would leave it no_match."""
    book = load_rulebook()
    prefilter = prefilter_for(book)
    stereo = [
        entry
        for entry in book.entries
        if not entry.covers_isomers
        and defined_stereo(standardize(Chem.MolFromSmiles(entry.smiles)))
    ]
    assert len(stereo) > 20
    texts: list[str] = []
    for entry in stereo:
        flat = Chem.MolFromSmiles(entry.smiles)
        Chem.RemoveStereochemistry(flat)
        texts += [Chem.MolToSmiles(flat), *Chem.MolToRandomSmilesVect(flat, 2, randomSeed=5)]
    day = date(2026, 1, 1)
    records = [Record(str(i), text, text) for i, text in enumerate(texts)]
    fast = screen_records(records, day, ("US", "CN", "UN"), jobs=1, render="jsonl", keep="none")
    for text, result in zip(texts, fast, strict=True):
        assert prefilter.could_match(Chem.MolFromSmiles(text)), text
        assert isinstance(parse_for_screening(text, book), ParsedQuery), text
        slow = identify(text, as_of=day)
        assert result.statuses == tuple(slow.verdicts[c].status for c in ("US", "CN", "UN"))
    for entry, text in zip(stereo, texts[::3], strict=True):
        if entry.in_force_from <= day:
            verdict = identify(text, as_of=day).verdicts[entry.jurisdiction]
            assert verdict.status != "no_match", text


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
    fentanyl_book = replace(book, entries=entries)
    screens = build_prefilter(fentanyl_book).screens
    assert 1 <= len(screens) <= 4
    assert not any(Chem.MolFromSmiles("c1ccncc1").HasSubstructMatch(s) for s in screens)
    assert not any(Chem.MolFromSmiles("CN1CCCCC1").HasSubstructMatch(s) for s in screens)


def test_a_small_named_entry_is_tested_on_fragments_of_its_size() -> None:
    """A precursor such as acetone matches only acetone: a larger molecule containing its
    skeleton is not a candidate for it, a salt, a hydrate or a metal compound of it is."""
    book = load_rulebook()
    acetone = replace(book.entries[0], smiles="CC(C)=O", formula="C3H6O")
    alone = replace(book, entries=[acetone], families=[], classes=[])
    prefilter = build_prefilter(alone)
    assert prefilter.screens == () and list(prefilter.named_formulas) == ["C3"]
    for text in ("CC(C)=O", "CC(C)=O.Cl", "CC(O)(O)C", "CC(=O)C[Na]", "[2H]C([2H])([2H])C(C)=O"):
        assert prefilter.could_match(Chem.MolFromSmiles(text)), text
    for text in ("CCC(C)=O", "CC(=O)CCCCCC", "CC(C)OCCc1ccccc1", "CC", "CCC(=O)C[Na]"):
        assert not prefilter.could_match(Chem.MolFromSmiles(text)), text
    # Every schedule loaded: the substructure screens stay the families' and the class's
    # anchors (no bare nitrogen); the other named entries are tested by heavy formula.
    shipped = prefilter_for(book)
    assert "[#7]" not in shipped.descriptions and len(shipped.screens) <= 4
    # A heavy formula holds a few skeletons (isomers such as the methylenedioxy-amphetamines).
    found = [s for counts in shipped.named_formulas.values() for s in counts.values()]
    assert len(found) > 100 and all(len(skeletons) <= 10 for skeletons in found)


def test_shipped_screens_reject_what_no_listed_skeleton_contains() -> None:
    """With every schedule loaded, molecules outside the listed skeletons and sizes are no
    candidates: a nitrogen (amphetamine-type entries) or a solvent's skeleton (ethyl ether,
    acetone) inside a larger molecule no longer makes one."""
    prefilter = prefilter_for(load_rulebook())
    for smiles in ("CCCCCC", "c1ccccc1", "ClCCl", "CC=CC", "CCOC(C)=O", "OCC(O)CO", "CCCCN"):
        assert not prefilter.could_match(Chem.MolFromSmiles(smiles)), smiles


class _AnySize(Prefilter):
    """The prefilter without its formula index: every named entry tested on any molecule."""

    def _named_suspects(
        self, molecule: Chem.Mol, fragments: list[Chem.Mol], plans: list[_Plan]
    ) -> list[Chem.Mol] | None:
        return None


def test_the_formula_shortcut_rejects_only_what_no_named_entry_matches() -> None:
    """What the formula index rejects and the skeleton tests would not (an isomer of a listed
    formula, a salt's fragment, another hydrogen count of a listed skeleton, a larger molecule
    holding a listed skeleton) matches no rule."""
    prefilter = prefilter_for(load_rulebook())
    sizes_only = _AnySize(
        **{f.name: getattr(prefilter, f.name) for f in fields(prefilter) if f.init}
    )
    lines = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()]
    book = load_rulebook()
    # The NCI set, every named entry, and each entry as a salt, as a ketone hydrate would leave
    # it or with an extra oxygen (what the shortcut's oxygen count must allow and refuse).
    texts = [*lines, *(entry.smiles for entry in book.entries)]
    texts += [f"{entry.smiles}.O" for entry in book.entries]
    texts += [f"{entry.smiles}.Cl" for entry in book.entries]
    texts += ["CC(C)(O)O", "CC(=O)C", "CC(C)O", "OC(O)(C)CC", "CC(=O)CC.[Na+].[Cl-]"]
    shortcut_used = beyond_sizes = 0
    for text in texts:
        molecule = Chem.MolFromSmiles(text)
        if molecule is None:
            continue
        passed = prefilter.could_match(molecule)
        assert not passed or sizes_only.could_match(molecule), text
        if not passed and sizes_only.could_match(molecule):
            beyond_sizes += 1
            identification = identify(text, as_of=date(2026, 1, 1))
            assert all(v.status == "no_match" for v in identification.verdicts.values()), text
        fragments = _fragments(molecule)
        plans = [prefilter._plan(CalcMolFormula(fragment)) for fragment in fragments]
        shortcut_used += prefilter._named_suspects(molecule, fragments, plans) == []
    assert shortcut_used > len(lines) // 2  # the shortcut is what answers most molecules
    assert beyond_sizes > 20  # and it rejects isomers the skeleton tests let through


def test_heavy_formula_leaves_out_hydrogens_and_counts_oxygens_apart() -> None:
    assert heavy_formula(Chem.MolFromSmiles("CC(=O)C")) == ("C3", 1)
    assert heavy_formula(Chem.MolFromSmiles("C[N+](C)(C)CCO")) == ("C5N", 1)
    assert heavy_formula(Chem.MolFromSmiles("[2H]C(Cl)Br")) == ("CBrCl", 0)
    assert heavy_formula(Chem.MolFromSmiles("[O-]C(=O)C(=O)[O-]")) == ("C2", 4)  # C2O4-2
    assert heavy_formula(Chem.MolFromSmiles("OCC[Se]CCCCCCCCCC(Cl)Br")) == ("C12BrClSe", 1)
    assert heavy_formula(Chem.MolFromSmiles("CC(=O)O[Na]")) is None  # a metal
    assert heavy_formula(Chem.MolFromSmiles("*CC")) is None  # a dummy atom


def test_the_fentanyl_ring_screen_needs_a_ring_atom_that_is_not_aromatic() -> None:
    """Every family and class pattern holding the 4-amino/4-oxy-piperidine writes its ring
    atoms aliphatic, so a pyridine in that place, drawn in the form judged as is, is no
    candidate; a charged one, a lactim, or a formula a listed substance has, still is."""
    prefilter = prefilter_for(load_rulebook())
    anchor = "[#7;R]1~[#6;R]~[#6;R]~[#6;R](~[#7,#8])~[#6;R]~[#6;R]~1"
    assert prefilter.non_aromatic[prefilter.descriptions.index(anchor)] == (0, 1, 2, 3, 5, 6)
    for text in (
        "Nc1ccncc1",
        "CN(C)c1ccncc1",
        "COc1ccncc1.Cl",
        "Oc1ccncc1",
        "CCC(=O)N(c1ccccc1)c1ccncc1",  # norfentanyl with a pyridine: another formula
    ):
        assert not prefilter.could_match(Chem.MolFromSmiles(text)), text
    for text in (
        "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",  # fentanyl
        "CCC(=O)N(c1ccccc1)c1cc[n+](CCc2ccccc2)cc1",  # a pyridinium: uncharging may change it
        "Nc1cc[nH+]cc1.[Cl-]",
        "Oc1ccnc(O)c1",  # a lactim: its canonical tautomer is judged
        "COc1ccncc1.CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
    ):
        assert prefilter.could_match(Chem.MolFromSmiles(text)), text


def _variants(molecule: Chem.Mol) -> list[Chem.Mol]:
    """Other forms of a molecule a record may hold: its tautomers, each basic nitrogen
    protonated and each acidic hydrogen taken away, and the forms made from those charges."""
    from rdkit.Chem.MolStandardize import rdMolStandardize

    enumerator = rdMolStandardize.TautomerEnumerator()
    forms = [molecule, *list(enumerator.Enumerate(molecule))[:20]]
    charged: list[Chem.Mol] = []
    for form in forms:
        for atom in form.GetAtoms():
            if atom.GetAtomicNum() not in (7, 8) or atom.GetFormalCharge():
                continue
            editable = Chem.RWMol(form)
            changed = editable.GetAtomWithIdx(atom.GetIdx())
            if atom.GetAtomicNum() == 7 and atom.GetTotalNumHs() < 3:
                changed.SetFormalCharge(1)
                changed.SetNumExplicitHs(atom.GetTotalNumHs() + 1)
            elif atom.GetTotalNumHs():
                changed.SetFormalCharge(-1)
                changed.SetNumExplicitHs(atom.GetTotalNumHs() - 1)
            else:
                continue
            changed.SetNoImplicit(True)
            try:
                Chem.SanitizeMol(editable)
            except (ValueError, RuntimeError):
                continue
            charged.append(editable.GetMol())
    return [*forms, *charged]


def test_what_the_aromatic_condition_rules_out_no_rule_matches() -> None:
    """Over the NCI set, the listed substances and the corpus, and every tautomer and charge
    state of each: a molecule the screens pass without the aromatic condition and not with
    it matches no rule (identify(), which standardizes in full), and standardization leaves
    the screened ring of each of its parents aromatic."""
    book = load_rulebook()
    prefilter = prefilter_for(book)
    unconditioned = replace(prefilter, non_aromatic=())
    texts = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()]
    texts += [entry.smiles for entry in book.entries]
    texts += [example for family in book.families for example in family.examples]
    for row in csv.DictReader((HERE / "corpus.csv").open(encoding="utf-8")):
        texts.append(row["query"])
    screened = []
    for text in texts:
        molecule = Chem.MolFromSmiles(text)
        if molecule is not None and any(map(molecule.HasSubstructMatch, prefilter.screens)):
            screened.append(molecule)
    conditioned = [
        (screen, positions)
        for screen, positions in zip(prefilter.screens, prefilter.non_aromatic, strict=True)
        if positions
    ]
    ruled_out = 0
    for form in (variant for molecule in screened for variant in _variants(molecule)):
        text = Chem.MolToSmiles(form)
        molecule = Chem.MolFromSmiles(text)
        if molecule is None or prefilter.could_match(molecule):
            continue
        if not unconditioned.could_match(molecule):
            continue
        ruled_out += 1
        identification = identify(text, as_of=date(2026, 1, 1))
        assert all(v.status == "no_match" for v in identification.verdicts.values()), text
        for parent in standardize_all(molecule):
            for screen, positions in conditioned:
                for match in parent.GetSubstructMatches(screen, uniquify=False):
                    assert all(parent.GetAtomWithIdx(match[p]).GetIsAromatic() for p in positions)
    assert ruled_out > 100  # the condition is what rules these out: the test is not vacuous


def test_every_tautomer_of_a_listed_substance_has_a_listed_graph() -> None:
    """The judge canonicalises a parent's tautomer for the named entries only when an entry
    has its element graph: every tautomer of every entry (RDKit's enumeration) has one, and
    a molecule of a listed formula but another graph has none."""
    from rdkit.Chem.MolStandardize import rdMolStandardize

    book = load_rulebook()
    graphs = prefilter_for(book).named_graphs
    enumerator = rdMolStandardize.TautomerEnumerator()
    for entry in book.entries:
        parent = standardize_all(Chem.MolFromSmiles(entry.smiles))[0]
        for tautomer in list(enumerator.Enumerate(parent))[:12]:
            graph = element_graph(tautomer)
            assert graph is None or graph in graphs, (entry.id, Chem.MolToSmiles(tautomer))
    fentanyl_graph = element_graph(Chem.MolFromSmiles("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"))
    assert fentanyl_graph in graphs
    # Mesidine has amphetamine's formula, not its graph.
    isomer = Chem.MolFromSmiles("Cc1cc(C)c(N)c(C)c1")
    assert CalcMolFormula(isomer) in book.named_formulas
    assert element_graph(isomer) not in graphs


class _Unfiltered(Prefilter):
    """Lets every molecule through: the judge then tests every rule on every parent."""

    def could_match(self, molecule: Chem.Mol) -> bool:
        return True


def _forms_of_entries(book: RuleBook) -> list[str]:
    """Each named entry as listed and as a hydrochloride; one in four in a charged form; one
    with stereo also as its mirror image and without its stereo: forms a record holds that
    must keep the entry's verdict."""
    texts: list[str] = []
    for index, entry in enumerate(book.entries):
        molecule = Chem.MolFromSmiles(entry.smiles)
        texts += [entry.smiles, f"{entry.smiles}.Cl"]
        if "@" in entry.smiles:
            texts.append(entry.smiles.replace("@@", "!").replace("@", "@@").replace("!", "@"))
            flat = Chem.Mol(molecule)
            Chem.RemoveStereochemistry(flat)
            texts.append(Chem.MolToSmiles(flat))
        if index % 4 == 0:
            texts += [Chem.MolToSmiles(form) for form in _variants(molecule)[-1:]]
    return texts


def test_the_prefilter_and_the_inchi_gate_change_no_verdict(monkeypatch: Any) -> None:
    """Verdict for verdict, the judge with the prefilter and the InChI gate (an InChIKey only
    for a parent whose graph a named entry has, an entry's own for a parent drawn as the
    entry's, a canonical tautomer only where an entry of the jurisdiction has the graph)
    equals the judge that tests every rule on every molecule and computes every listed
    formula's InChIKey and tautomer: on a sample of the NCI set and of
    the screening benchmark's input, the test corpora, and every named entry's forms."""
    judge_module = sys.modules["liaison.chem.identify"]
    book = load_rulebook()
    prefilter = prefilter_for(book)
    everything = _Unfiltered(
        **{f.name: getattr(prefilter, f.name) for f in fields(prefilter) if f.init}
    )
    lines = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()]
    # Isomers: every NCI molecule with a named entry's formula (another graph, mostly).
    isomers = [
        text
        for text in lines
        if (molecule := Chem.MolFromSmiles(text)) is not None
        and CalcMolFormula(molecule) in book.named_formulas
    ]
    texts = random.Random(13).sample(lines, 200) + isomers + _forms_of_entries(book)
    for name in ("corpus.csv", "reference_substances.csv"):
        for row in csv.DictReader((HERE / name).open(encoding="utf-8")):
            texts.append(row.get("query") or row.get("smiles") or "")
    # Each distinct text once: an entry listed in several jurisdictions is drawn alike in each.
    texts = list(dict.fromkeys(texts))
    day = date(2026, 1, 1)
    filtered = [identify(text, as_of=day).to_dict() for text in texts]
    monkeypatch.setattr(judge_module, "prefilter_for", lambda _: everything)
    monkeypatch.setattr(
        judge_module, "_parent_keys", lambda parent, _prefilter, _tautomers: structure_keys(parent)
    )
    monkeypatch.setattr(judge_module, "_tautomer_listed", lambda *_: True)
    monkeypatch.setattr(judge_module._Tautomer, "graph_listed", lambda self, graphs: True)
    # A radical is refused only where some rule may match: asked of the real prefilter.
    refusal = judge_module.radical_error

    def radical_error(molecule: Chem.Mol, _: Prefilter) -> str | None:
        return refusal(molecule, prefilter) if prefilter.could_match(molecule) else None

    monkeypatch.setattr(judge_module, "radical_error", radical_error)
    flagged = 0
    for text, expected in zip(texts, filtered, strict=True):
        assert identify(text, as_of=day).to_dict() == expected, text
        flagged += any(v["status"] != "no_match" for v in expected["verdicts"].values())
    assert flagged > 500  # most entries' forms are flagged: the comparison is not vacuous


def test_a_named_entry_is_tested_only_on_fragments_of_its_heavy_formula() -> None:
    """A charged or hypervalent molecule (whose hydrogens standardization may change) or a
    metal complex is tested against the named entries of each fragment's heavy formula (the
    complex's pieces without the metal): these hold a named entry's skeleton and match no
    rule."""
    prefilter = prefilter_for(load_rulebook())
    sizes_only = _AnySize(
        **{f.name: getattr(prefilter, f.name) for f in fields(prefilter) if f.init}
    )
    for text in (
        "CN(C)CCC1(CCN(C)C)C(=O)CCC2=C1C=CC=C2.OCl(=O)(=O)=O",  # a perchlorate
        "C[N+]1=CC2=C(C=CC=C2)C=C1.Cl[I]Cl",
        "CC1=[N+](C=CC=C1)[Co](SC#N)(SC#N)([N+]2=C(C)C=CC=C2)([N+]3=C(C)C=CC=C3)[N+]4=C(C)C=CC=C4",
    ):
        molecule = Chem.MolFromSmiles(text)
        assert sizes_only.could_match(molecule) and not prefilter.could_match(molecule), text
        identification = identify(text, as_of=date(2026, 1, 1))
        assert all(v.status == "no_match" for v in identification.verdicts.values()), text
    # A salt or a charged form of a listed substance still passes.
    for text in (
        "CC(N)Cc1ccccc1.Cl",
        "[NH3+]C(C)Cc1ccccc1",
        "CC(N)Cc1ccccc1.[Na+]",
        "CC(N[Cu])Cc1ccccc1",
    ):
        assert prefilter.could_match(Chem.MolFromSmiles(text)), text


def test_inchi_is_computed_only_for_a_parent_with_a_listed_graph(monkeypatch: Any) -> None:
    """A fentanyl isomer (2-methylbenzyl for phenethyl: fentanyl's formula, another graph) is
    judged by the families and the class alone, without InChI; fentanyl drawn as listed gets
    its entry's keys without InChI; a stereoisomer of a listed substance is looked up."""
    judge_module = sys.modules["liaison.chem.identify"]
    computed: list[str] = []
    keys = judge_module.structure_keys

    def structure_keys(parent: Chem.Mol) -> tuple[str, str]:
        computed.append(Chem.MolToSmiles(parent))
        return keys(parent)  # type: ignore[no-any-return]

    monkeypatch.setattr(judge_module, "structure_keys", structure_keys)
    day = date(2026, 1, 1)
    isomer = identify("CCC(=O)N(c1ccccc1)C1CCN(Cc2ccccc2C)CC1", as_of=day)
    assert computed == [] and isomer.verdicts["CN"].status == "controlled"
    # Fentanyl drawn as its entry's parent is: the entry's keys, no InChI either.
    fentanyl = identify("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", as_of=day)
    assert computed == [] and fentanyl.verdicts["UN"].basis[0].kind == "named"
    # A stereoisomer of an entry listed without stereo (3-methylfentanyl) is no entry's
    # parent: its InChIKey is computed, and its connectivity finds the entry.
    trans = "CCC(=O)N(c1ccccc1)[C@@H]1CCN(CCc2ccccc2)C[C@H]1C"
    identification = identify(trans, as_of=day)
    assert computed and identification.verdicts["UN"].basis[0].kind == "named"


def test_a_tautomer_is_looked_up_only_where_an_entry_has_the_graph(monkeypatch: Any) -> None:
    """A substance listed in one jurisdiction and not by name in another (a fentanyl analogue
    the CN class covers) is not canonicalised as a tautomer for the other's entries: none of
    them has its graph. NPP drawn as its enol still is, and is NPP everywhere."""
    judge_module = sys.modules["liaison.chem.identify"]
    made: list[str] = []
    canonical = judge_module.canonical_tautomer

    def canonical_tautomer(parent: Chem.Mol) -> Chem.Mol:
        made.append(Chem.MolToSmiles(parent))
        return canonical(parent)

    monkeypatch.setattr(judge_module, "canonical_tautomer", canonical_tautomer)
    book = load_rulebook()
    graphs = prefilter_for(book).graphs_by_jurisdiction
    day = date(2026, 1, 1)
    analogue = "CCCC(=O)N(c1ccccc1F)C1CCN(CCc2ccccc2)CC1"  # ortho-fluorobutyrfentanyl
    graph = element_graph(Chem.MolFromSmiles(analogue))
    assert graph in graphs["US"] and graph not in graphs["CN"]
    identification = identify(analogue, as_of=day)
    assert identification.verdicts["US"].basis[0].kind == "named"
    assert identification.verdicts["CN"].status == "controlled" and made == []
    enol = identify("OC1=CCN(CCc2ccccc2)CC1", as_of=day)
    assert made and all(enol.verdicts[code].basis[0].name == "NPP" for code in graphs)


def test_a_screen_is_skipped_only_for_a_molecule_without_its_elements() -> None:
    """The screens are asked only of a molecule with as many atoms of each element as the
    screen's skeleton fixes (the nitazene core: two nitrogens, fifteen carbons): every NCI
    molecule and every named entry holding a screen has them, and most molecules skip most
    screens."""
    book = load_rulebook()
    prefilter = prefilter_for(book)
    assert (("C", 15), ("N", 2)) in prefilter.screen_elements
    lines = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()]
    skipped = asked = 0
    for text in [*lines, *(entry.smiles for entry in book.entries)]:
        molecule = Chem.MolFromSmiles(text)
        if molecule is None:
            continue
        counts = element_counts(molecule)
        for screen, held in zip(prefilter.screens, prefilter.screen_elements, strict=True):
            enough = all(counts.get(element, 0) >= atoms for element, atoms in held)
            assert enough or not molecule.HasSubstructMatch(screen), text
            skipped += not enough
            asked += 1
    assert skipped > asked // 2


def test_a_named_skeleton_starts_at_its_rarest_element_and_grows_along_bonds() -> None:
    """RDKit matches a skeleton's atoms in index order: each named entry's skeleton starts at
    an atom of its rarest element and every later atom of a fragment is bonded to an earlier
    one, so a molecule without the skeleton fails early; it still matches its entry."""
    for entry in load_rulebook().entries:
        parent = standardize(Chem.MolFromSmiles(entry.smiles))
        skeleton = skeleton_of_molecule(parent)
        assert parent.HasSubstructMatch(skeleton), entry.name
        elements = [atom.GetSmarts() for atom in skeleton.GetAtoms()]
        assert elements.count(elements[0]) == min(map(elements.count, elements)), entry.name
        if len(Chem.GetMolFrags(skeleton)) == 1:
            for atom in list(skeleton.GetAtoms())[1:]:
                assert min(n.GetIdx() for n in atom.GetNeighbors()) < atom.GetIdx(), entry.name


def test_the_plans_kept_per_formula_are_bounded_and_forgetting_them_changes_no_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long run meets ever more formulas: past the bound the kept plans are forgotten, and
    an answer is the same whether its formula's plan was kept or worked out again. (That the
    answers are right is what the tests against _AnySize and _Unfiltered above show.)"""
    book = load_rulebook()
    lines = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()][:600]
    texts = [*lines, *(entry.smiles for entry in book.entries[:300])]
    molecules = [m for m in map(Chem.MolFromSmiles, texts) if m is not None]
    kept = build_prefilter(book)
    answers = [kept.could_match(molecule) for molecule in molecules]
    assert len(kept._plans) > 100  # one per formula met
    monkeypatch.setattr("liaison.chem.prefilter._MOST_PLANS", 10)
    forgetful = build_prefilter(book)
    for _ in range(2):  # the second pass meets each formula forgotten or kept
        assert [forgetful.could_match(molecule) for molecule in molecules] == answers
        assert len(forgetful._plans) <= 10
