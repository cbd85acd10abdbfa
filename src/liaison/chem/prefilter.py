"""A cheap necessary condition for matching any loaded rule, derived from the rules themselves.

Standardization costs ~10x a SMILES parse, so it only runs on molecules that could match.
The test works on the raw parsed molecule. Standardization only removes atoms and bonds
(fragments, metals) and changes charges, bond orders and hydrogens, never which heavy atoms
are bonded to which; so the standardized parent's heavy-atom graph is a subgraph of the raw
molecule's, and a "skeleton" (elements and connectivity, any bond order, ring membership)
that every match of a rule must contain is also in the raw molecule.

Each rule gets the most specific *anchor* skeleton it provably contains (checked on the
rule's own structure or SMARTS graph), or its own skeleton when it contains none. A molecule
is a candidate when it contains any of the resulting screens; with the shipped rules that is
two or three substructure tests per molecule. A named entry without such an anchor (a small
precursor) is tested only on fragments of its own size (see Prefilter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rdkit import Chem
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

from liaison.chem.rulebook import RuleBook
from liaison.chem.standardize import standardize

# From most to least specific; the prefilter is correct whatever this list holds, the list
# only decides how cheap it is. RDKit matches query atoms in the order written, so each
# anchor starts at its ring nitrogen, rarer than carbon or oxygen: 20% less time per test.
ANCHORS = (
    "[#7;R]1~[#6;R]~[#6;R]~[#6;R](~[#7](~[#6;R])~[#6]~[#8])~[#6;R]~[#6;R]~1",  # anilidopiperidine
    # 4-amino- or 4-oxy-piperidine: one test where two would cover the same precursors
    "[#7;R]1~[#6;R]~[#6;R]~[#6;R](~[#7,#8])~[#6;R]~[#6;R]~1",
    "[#7;R]1~[#6;R]~[#6;R]~[#6;R]~[#6;R]~[#6;R]~1",  # piperidine ring
    # N1-substituted indole / indazole / azaindole with a 3-carbonyl: the synthetic cannabinoid
    # class (CN 2021); `*` where its SMARTS allows C or N (the skeleton has a dummy there).
    "[#7;R]1(~[#6])~*~[#6;R](~[#6]~[#8])~[#6;R]2~[#6;R]~[#6;R]~[#6;R]~*~[#6;R]~2~1",
    # N1-substituted 2-benzylbenzimidazole: the nitazene class (CN 2025); without it the
    # class's screen would fall back to "[#7]" and let every nitrogen compound through.
    "[#7;R]1(~[#6])~[#6;R](~[#6]~[#6;R]3~[#6;R]~[#6;R]~[#6;R]~[#6;R]~[#6;R]~3)~[#7;R]"
    "~[#6;R]2~[#6;R]~[#6;R]~[#6;R]~[#6;R]~[#6;R]~2~1",
    "[#7]",
)


def _query_elements(atom: Chem.Atom) -> set[int] | None:
    """Atomic numbers a SMARTS atom can match, or None when it can match any element."""
    lines = [line for line in atom.DescribeQuery().splitlines() if line.strip()]
    if not lines:
        return None

    def parse(position: int, depth: int) -> tuple[set[int] | None, int]:
        text = lines[position].strip()
        children: list[set[int] | None] = []
        cursor = position + 1
        while cursor < len(lines) and _indent(lines[cursor]) > depth:
            child, cursor = parse(cursor, _indent(lines[cursor]))
            children.append(child)
        if text.startswith("AtomAnd"):
            known = [c for c in children if c is not None]
            if not known:
                return None, cursor
            result = set(known[0])
            for other in known[1:]:
                result &= other
            return result, cursor
        if text.startswith("AtomOr"):
            if any(c is None for c in children):
                return None, cursor
            return set().union(*[c for c in children if c is not None]), cursor
        parts = text.split()
        if len(parts) >= 4 and parts[0] in ("AtomAtomicNum", "AtomType") and parts[2] == "=":
            number = int(parts[1])
            return {number % 1000 if parts[0] == "AtomType" else number}, cursor
        return None, cursor

    elements, _ = parse(0, _indent(lines[0]))
    return elements


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def skeleton_of_smarts(smarts: str) -> Chem.Mol:
    """Elements where the SMARTS fixes one, `*` elsewhere; any bond; hydrogens dropped."""
    query = Chem.MolFromSmarts(smarts)
    atoms: list[str] = []
    keep: list[int] = []
    for atom in query.GetAtoms():
        elements = _query_elements(atom)
        if elements == {1}:
            continue
        keep.append(atom.GetIdx())
        if elements is None:
            atoms.append("*")
        else:
            atoms.append("[" + ",".join(f"#{e}" for e in sorted(elements)) + "]")
    return _skeleton(query, keep, atoms)


def _closing(text: str, start: int) -> int:
    """Index of the bracket or parenthesis closing the one at `start`."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] in "[(":
            depth += 1
        elif text[index] in "])":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unbalanced SMARTS {text!r}")


def _split_top(text: str, separator: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, character in enumerate(text):
        if character in "[(":
            depth += 1
        elif character in "])":
            depth -= 1
        elif character == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    return [*parts, text[start:]]


def _as_branches(alternative: str) -> str | None:
    """'C(-O[#6])-O[#6]' -> '(-O[#6])(-O[#6])': the neighbourhood a recursive SMARTS gives its
    root atom, written as branches; None when it cannot be (ring closures on the root)."""
    if alternative.startswith("["):
        rest = alternative[_closing(alternative, 0) + 1 :]
    else:
        letters = 2 if alternative[:2] in ("Cl", "Br") else 1
        rest = alternative[letters:]
    branches = ""
    while rest.startswith("("):
        end = _closing(rest, 0)
        branches += rest[: end + 1]
        rest = rest[end + 1 :]
    if rest[:1].isdigit() or rest[:1] == "%" or "(" in rest[:1]:
        return None
    return branches + (f"({rest})" if rest else "")


def expand_recursive(smarts: str, limit: int = 16) -> list[str]:
    """SMARTS without `[X;$(A),$(B)]` atoms: one SMARTS per alternative, the alternative's
    neighbourhood written out as branches, so skeletons keep what every match must contain.
    Atoms of another shape are left as they are (their skeleton is then only weaker)."""
    index = 0
    while index < len(smarts):
        if smarts[index] != "[":
            index += 1
            continue
        end = _closing(smarts, index)
        content = smarts[index + 1 : end]
        parts = _split_top(content, ";")
        for position, part in enumerate(parts):
            alternatives = _split_top(part, ",")
            if not all(a.startswith("$(") and a.endswith(")") for a in alternatives):
                continue
            neighbourhoods = [_as_branches(a[2:-1]) for a in alternatives]
            if any(n is None for n in neighbourhoods):
                break
            base = ";".join(parts[:position] + parts[position + 1 :]) or "*"
            tail = end + 1
            while tail < len(smarts) and (smarts[tail].isdigit() or smarts[tail] == "%"):
                tail += 3 if smarts[tail] == "%" else 1
            expanded: list[str] = []
            for neighbourhood in neighbourhoods:
                closures = smarts[end + 1 : tail]
                text = f"{smarts[:index]}[{base}]{closures}{neighbourhood}{smarts[tail:]}"
                expanded += expand_recursive(text, limit)
            return expanded if len(expanded) <= limit else [smarts]
        index = end + 1
    return [smarts]


def skeleton_of_molecule(molecule: Chem.Mol) -> Chem.Mol:
    keep = [atom.GetIdx() for atom in molecule.GetAtoms() if atom.GetAtomicNum() > 1]
    atoms = [f"[#{molecule.GetAtomWithIdx(i).GetAtomicNum()}]" for i in keep]
    return _skeleton(molecule, keep, atoms)


def _skeleton(source: Chem.Mol, keep: list[int], atom_smarts: list[str]) -> Chem.Mol:
    editable = Chem.RWMol()
    position = {}
    for index, text in zip(keep, atom_smarts, strict=True):
        position[index] = editable.AddAtom(Chem.AtomFromSmarts(text))
    for bond in source.GetBonds():
        a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        if a in position and b in position:
            editable.AddBond(position[a], position[b], Chem.BondType.UNSPECIFIED)
            editable.GetBondWithIdx(editable.GetNumBonds() - 1)
    skeleton = editable.GetMol()
    any_bond = Chem.MolFromSmarts("*~*").GetBondWithIdx(0)
    editable = Chem.RWMol(skeleton)
    for bond in list(editable.GetBonds()):
        editable.ReplaceBond(bond.GetIdx(), any_bond)
    return editable.GetMol()


def _skeleton_molecule(skeleton: Chem.Mol) -> Chem.Mol:
    """A plain molecule with the skeleton's graph (unknown atoms as dummies), so an anchor can be
    tested against it: an anchor found here is in every molecule that contains the skeleton."""
    editable = Chem.RWMol()
    for atom in skeleton.GetAtoms():
        elements = _query_elements(atom)
        number = next(iter(elements)) if elements is not None and len(elements) == 1 else 0
        editable.AddAtom(Chem.Atom(number))
    for bond in skeleton.GetBonds():
        editable.AddBond(bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), Chem.BondType.SINGLE)
    molecule = editable.GetMol()
    molecule.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(molecule)
    return molecule


# What lets standardization change a fragment's heavy atoms: a bonded metal (disconnected:
# the pieces without it count), a dummy atom (any size then), and a carbon bearing two lone
# oxygens (a ketone hydrate loses one). Hydrogen atoms written as atoms: any size.
_NON_METAL_NUMBERS = (1, 5, 6, 7, 8, 9, 14, 15, 16, 17, 34, 35, 53)
_NON_METALS = "&".join(f"!#{number}" for number in _NON_METAL_NUMBERS)
_NON_METAL_SYMBOLS = frozenset(
    Chem.GetPeriodicTable().GetElementSymbol(number) for number in _NON_METAL_NUMBERS
)
_FORMULA_PART = re.compile(r"([A-Z][a-z]?|\*)(\d*)")
_HYDRATE = "[#6](-[#8;D1])-[#8;D1]"
_UNSIZED = Chem.MolFromSmarts(f"[{_NON_METALS}&!D0,#0,$({_HYDRATE})]")
_BONDED_METAL = Chem.MolFromSmarts(f"[{_NON_METALS}&!#0&!D0]")
_DUMMY = Chem.MolFromSmarts("[#0]")
_HYDRATE_CARBON = Chem.MolFromSmarts(_HYDRATE)


def _sizes(molecule: Chem.Mol) -> tuple[set[int], int] | None:
    """The heavy-atom counts standardization may leave a fragment of `molecule` with, as
    (sizes, up to how many fewer); None when any size is possible."""
    if molecule.GetNumAtoms() != molecule.GetNumHeavyAtoms():
        return None
    if not molecule.HasSubstructMatch(_UNSIZED):  # nearly every molecule
        return {len(atoms) for atoms in Chem.GetMolFrags(molecule)}, 0
    if molecule.HasSubstructMatch(_DUMMY):
        return None
    lost = len(molecule.GetSubstructMatches(_HYDRATE_CARBON))  # an oxygen each, at most
    metals = [match[0] for match in molecule.GetSubstructMatches(_BONDED_METAL)]
    if metals:
        editable = Chem.RWMol(molecule)
        for index in sorted(metals, reverse=True):
            editable.RemoveAtom(index)
        molecule = editable.GetMol()
    return {len(atoms) for atoms in Chem.GetMolFrags(molecule)}, lost


def heavy_formula(molecule: Chem.Mol) -> tuple[str, int] | None:
    """(the heavy atoms other than oxygen, as formula text; the oxygen count), or None when
    the molecule holds an atom standardization may remove (a metal, a dummy atom).

    Of one fragment without such atoms, standardization keeps every heavy atom but the
    oxygen a ketone hydrate loses as water; so its standardized parent has this formula
    with as many oxygens or fewer. RDKit's formula is made in C++: cheaper than one
    substructure test."""
    oxygens = 0
    parts: list[str] = []
    for symbol, count in _FORMULA_PART.findall(CalcMolFormula(molecule)):
        if symbol == "O":
            oxygens = int(count or 1)
        elif symbol != "H":
            if symbol not in _NON_METAL_SYMBOLS:
                return None
            parts.append(symbol + count)
    return "".join(parts), oxygens


@dataclass(frozen=True)
class Prefilter:
    """A molecule no rule can match contains none of the `screens`, and no fragment of it has
    the size and skeleton of a named entry in `named`.

    A named entry matches only its own substance (InChIKey, or its connectivity): the
    standardized parent has exactly the entry's heavy atoms. Standardization keeps a
    fragment's heavy atoms but for what _UNSIZED finds, so an entry need only be tested on
    fragments of its size: a small precursor (acetone, toluene) is not a
    screen every larger molecule containing it passes."""

    screens: tuple[Chem.Mol, ...]
    descriptions: tuple[str, ...]
    named: dict[int, tuple[Chem.Mol, ...]] = field(default_factory=dict)  # by heavy atoms
    named_any_size: tuple[Chem.Mol, ...] = ()  # the same skeletons, minimal, for any size
    named_with_metals: tuple[Chem.Mol, ...] = ()  # entries holding a metal: every molecule
    # The entries of `named` by heavy_formula(): the fewest oxygens for each formula text.
    named_formulas: dict[str, int] = field(default_factory=dict)

    def could_match(self, molecule: Chem.Mol) -> bool:
        """False only when no loaded rule can match `molecule` (raw, before standardization)."""
        if any(map(molecule.HasSubstructMatch, self.screens)):
            return True
        if not self.named:
            return False
        if any(map(molecule.HasSubstructMatch, self.named_with_metals)):
            return True
        if self._no_named_formula(molecule):  # most molecules: no substructure test needed
            return False
        sizes = _sizes(molecule)
        if sizes is None:
            return any(map(molecule.HasSubstructMatch, self.named_any_size))
        found, lost = sizes
        for size in {n for largest in found for n in range(largest - lost, largest + 1)}:
            if any(map(molecule.HasSubstructMatch, self.named.get(size, ()))):
                return True
        return False

    def _no_named_formula(self, molecule: Chem.Mol) -> bool:
        """True when `molecule` is one fragment whose formula no named entry can have after
        standardization; False when it may, or when the formula cannot tell."""
        if molecule.GetNumAtoms() != molecule.GetNumHeavyAtoms():
            return False
        if len(Chem.GetMolFrags(molecule)) != 1:
            return False
        formula = heavy_formula(molecule)
        if formula is None:
            return False
        fewest_oxygens = self.named_formulas.get(formula[0])
        return fewest_oxygens is None or fewest_oxygens > formula[1]


def _minimal(screens: dict[str, Chem.Mol]) -> dict[str, Chem.Mol]:
    """Drop every screen that contains another kept one: "any of them matches" is unchanged,
    and a molecule that is no candidate costs as few substructure tests as possible."""
    kept: dict[str, Chem.Mol] = {}
    for text, screen in sorted(screens.items(), key=lambda item: item[1].GetNumAtoms()):
        plain = _skeleton_molecule(screen)
        if not any(plain.HasSubstructMatch(other) for other in kept.values()):
            kept[text] = screen
    return kept


def build_prefilter(rulebook: RuleBook) -> Prefilter:
    """Screens for the families and class definitions (anchored); then every named entry that
    contains none of them is tested by size (Prefilter.named)."""
    anchors = [(text, Chem.MolFromSmarts(text)) for text in ANCHORS]
    skeletons: dict[str, Chem.Mol] = {}
    patterns = [family.smarts for family in rulebook.families]
    if rulebook.classes:
        patterns.append(rulebook.semantics.core_smarts)
    for pattern in patterns:
        for expanded in expand_recursive(pattern):
            if Chem.MolFromSmarts(expanded) is not None:
                skeleton = skeleton_of_smarts(expanded)
                skeletons.setdefault(Chem.MolToSmarts(skeleton), skeleton)
    chosen: dict[str, Chem.Mol] = {}
    for text, skeleton in skeletons.items():
        plain = _skeleton_molecule(skeleton)
        anchor_text = next((a for a, anchor in anchors if plain.HasSubstructMatch(anchor)), None)
        if anchor_text is None:
            chosen.setdefault(text, skeleton)
        else:
            chosen.setdefault(anchor_text, dict(anchors)[anchor_text])
    needed = _minimal(chosen)
    named: dict[str, Chem.Mol] = {}
    named_formulas: dict[str, int] = {}
    for entry in rulebook.entries:
        # The entry's standardized parent: what its keys, and so a match, are made of.
        parent = standardize(Chem.MolFromSmiles(entry.smiles))
        skeleton = skeleton_of_molecule(parent)
        plain = _skeleton_molecule(skeleton)
        if not any(map(plain.HasSubstructMatch, needed.values())):  # else a screen passes it
            named.setdefault(Chem.MolToSmarts(skeleton), skeleton)
            formula = heavy_formula(parent)
            if formula is not None:  # an entry with a metal is tested on every molecule
                text, oxygens = formula
                named_formulas[text] = min(oxygens, named_formulas.get(text, oxygens))
    by_size: dict[int, list[Chem.Mol]] = {}
    with_metals: list[Chem.Mol] = []
    for skeleton in named.values():
        if any(atom.GetAtomicNum() not in _NON_METAL_NUMBERS for atom in skeleton.GetAtoms()):
            with_metals.append(skeleton)  # the metal may be what standardization takes away
        else:
            by_size.setdefault(skeleton.GetNumAtoms(), []).append(skeleton)
    return Prefilter(
        screens=tuple(needed.values()),
        descriptions=tuple(needed),
        named={size: tuple(found) for size, found in sorted(by_size.items())},
        named_any_size=tuple(_minimal(named).values()),
        named_with_metals=tuple(with_metals),
        named_formulas=named_formulas,
    )
