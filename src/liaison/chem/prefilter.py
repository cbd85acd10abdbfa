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
precursor) is tested only on fragments of its own heavy formula (see Prefilter).

A screen whose every family and class pattern writes some of its ring atoms aliphatic (the
piperidine of the fentanyl rules) also needs one of those atoms non-aromatic. Aromaticity is
not a skeleton's: standardization (a charge taken away) and a canonical tautomer may change
it. So a molecule holding that screen only as an aromatic ring (a 4-aminopyridine) passes
when what is judged of it may differ from what is drawn (see standardize.judged_as_drawn), or
when its formula is a named entry's (InChI does not see aromaticity).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from rdkit import Chem
from rdkit.Chem import rdMolHash
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

from liaison.chem.rulebook import RuleBook
from liaison.chem.standardize import canonical_smiles, judged_as_drawn, plain_atoms, standardize

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


# A SMARTS atom's query as RDKit describes it: (the line, its operands), e.g.
# ("AtomAnd", (("AtomType 6 = val", ()), ("AtomHCount 2 = val", ()))) for [CH2].
_Query = tuple[str, tuple["_Query", ...]]


def _query_tree(atom: Chem.Atom) -> _Query | None:
    lines = [line for line in atom.DescribeQuery().splitlines() if line.strip()]
    if not lines:
        return None

    def parse(position: int, depth: int) -> tuple[_Query, int]:
        children: list[_Query] = []
        cursor = position + 1
        while cursor < len(lines) and _indent(lines[cursor]) > depth:
            child, cursor = parse(cursor, _indent(lines[cursor]))
            children.append(child)
        return (lines[position].strip(), tuple(children)), cursor

    return parse(0, _indent(lines[0]))[0]


def _query_elements(atom: Chem.Atom) -> set[int] | None:
    """Atomic numbers a SMARTS atom can match, or None when it can match any element."""

    def elements(query: _Query) -> set[int] | None:
        text, operands = query
        children = [elements(operand) for operand in operands]
        if text.startswith("AtomAnd"):
            known = [c for c in children if c is not None]
            if not known:
                return None
            result = set(known[0])
            for other in known[1:]:
                result &= other
            return result
        if text.startswith("AtomOr"):
            if any(c is None for c in children):
                return None
            return set().union(*[c for c in children if c is not None])
        parts = text.split()
        if len(parts) >= 4 and parts[0] in ("AtomAtomicNum", "AtomType") and parts[2] == "=":
            number = int(parts[1])
            return {number % 1000 if parts[0] == "AtomType" else number}
        return None

    tree = _query_tree(atom)
    return None if tree is None else elements(tree)


def _aliphatic_only(atom: Chem.Atom) -> bool:
    """Whether a SMARTS atom can match only a non-aromatic atom (`C`, `[CH2]`, `[#6;!a]`)."""

    def aliphatic(query: _Query) -> bool:
        text, operands = query
        if text.startswith("AtomAnd"):
            return any(map(aliphatic, operands))
        if text.startswith("AtomOr"):
            return bool(operands) and all(map(aliphatic, operands))
        parts = text.split()
        if parts[0] == "AtomType" and parts[2:] == ["=", "val"]:
            return int(parts[1]) < 1000  # RDKit adds 1000 for an aromatic atom type
        return text in ("AtomIsAliphatic 1 = val", "AtomIsAromatic 1 != val")

    tree = _query_tree(atom)
    return tree is not None and aliphatic(tree)


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


def _aliphatic_atoms(smarts: str) -> frozenset[int]:
    """The atoms of skeleton_of_smarts(smarts), by index, that match only non-aromatic atoms."""
    kept = [a for a in Chem.MolFromSmarts(smarts).GetAtoms() if _query_elements(a) != {1}]
    return frozenset(index for index, atom in enumerate(kept) if _aliphatic_only(atom))


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
    """The heavy atoms' elements and connectivity, any bond, in _search_order()."""
    keep = [atom.GetIdx() for atom in molecule.GetAtoms() if atom.GetAtomicNum() > 1]
    atoms = [f"[#{molecule.GetAtomWithIdx(i).GetAtomicNum()}]" for i in keep]
    skeleton = _skeleton(molecule, keep, atoms)
    return Chem.RenumberAtoms(skeleton, _search_order(skeleton, keep, molecule))


def _search_order(skeleton: Chem.Mol, kept: list[int], molecule: Chem.Mol) -> list[int]:
    """The skeleton's atoms breadth first from the most connected atom of its rarest element,
    each atom's neighbours most connected first. RDKit's matcher takes query atoms in index
    order: a skeleton tested on molecules of its own formula (an isomer: every atom has
    candidates) fails sooner this way than in the order of the entry's SMILES, 2x faster on
    the NCI set. (`kept`: the skeleton's atoms' indices in `molecule`, for their elements.)"""
    elements = [molecule.GetAtomWithIdx(index).GetAtomicNum() for index in kept]
    atoms = list(skeleton.GetAtoms())
    order: list[int] = []
    while len(order) < len(atoms):  # once per fragment
        rest = [atom for atom in atoms if atom.GetIdx() not in order]
        start = min(rest, key=lambda a: (elements.count(elements[a.GetIdx()]), -a.GetDegree()))
        queue = [start.GetIdx()]
        order.append(start.GetIdx())
        while queue:
            neighbours = skeleton.GetAtomWithIdx(queue.pop(0)).GetNeighbors()
            for neighbour in sorted(neighbours, key=lambda a: -a.GetDegree()):
                if neighbour.GetIdx() not in order:
                    order.append(neighbour.GetIdx())
                    queue.append(neighbour.GetIdx())
    return order


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
# the pieces without it count), a dummy atom (any formula then), and a carbon bearing two
# lone oxygens (a ketone hydrate loses one). Hydrogen atoms written as atoms: any formula.
_NON_METAL_NUMBERS = (1, 5, 6, 7, 8, 9, 14, 15, 16, 17, 34, 35, 53)
_NON_METALS = "&".join(f"!#{number}" for number in _NON_METAL_NUMBERS)
_NON_METAL_SYMBOLS = frozenset(
    Chem.GetPeriodicTable().GetElementSymbol(number) for number in _NON_METAL_NUMBERS
)
_FORMULA_PART = re.compile(r"([A-Z][a-z]?|\*)(\d*)")
_HYDRATE = "[#6](-[#8;D1])-[#8;D1]"
_BONDED_METAL = Chem.MolFromSmarts(f"[{_NON_METALS}&!#0&!D0]")
_HYDRATE_CARBON = Chem.MolFromSmarts(_HYDRATE)
_METAL = Chem.MolFromSmarts(f"[{_NON_METALS}&!#0]")
_CARBON = Chem.MolFromSmarts("[#6]")


def _elements(molecule: Chem.Mol) -> frozenset[int]:
    return frozenset(atom.GetAtomicNum() for atom in molecule.GetAtoms())


def _without_bonded_metals(molecule: Chem.Mol) -> Chem.Mol:
    """`molecule` less every metal bonded to another atom: standardization disconnects such a
    metal, and whatever it leaves of the rest are pieces of this (non-metal bonds are kept)."""
    editable = Chem.RWMol(molecule)
    for (index,) in sorted(molecule.GetSubstructMatches(_BONDED_METAL), reverse=True):
        editable.RemoveAtom(index)
    stripped = editable.GetMol()
    stripped.UpdatePropertyCache(strict=False)
    return stripped


def element_graph(molecule: Chem.Mol) -> str | None:
    """The heavy atoms' elements and connectivity, without bond orders, charges, hydrogens or
    stereo, as canonical text: what tautomers of one substance share (InChI's connection
    layer). None for a molecule with a metal, whose bonds InChI leaves out."""
    if molecule.HasSubstructMatch(_METAL):
        return None
    copy = Chem.Mol(molecule)
    Chem.RemoveStereochemistry(copy)
    return str(rdMolHash.MolHash(copy, rdMolHash.HashFunction.ElementGraph))


def heavy_formula(molecule: Chem.Mol) -> tuple[str, int] | None:
    """(the heavy atoms other than oxygen, as formula text; the oxygen count), or None when
    the molecule holds an atom standardization may remove (a metal, a dummy atom).

    Of one fragment without such atoms, standardization keeps every heavy atom but the
    oxygen a ketone hydrate loses as water; so its standardized parent has this formula
    with as many oxygens or fewer. RDKit's formula is made in C++: cheaper than one
    substructure test."""
    return _heavy(_formula(molecule))


def element_counts(molecule: Chem.Mol) -> dict[str, int]:
    """Atoms of each element (hydrogens included, `*` for dummy atoms), in formula order."""
    return _formula(molecule).counts


# What heavy_formula() leaves out of RDKit's formula text once every element is a non-metal:
# hydrogens, oxygens (only H and O of those begin with H or O) and the charge at the end.
_NOT_HEAVY = re.compile(r"[HO]\d*|[+-]\d*$")


class _Formula(NamedTuple):
    """A molecule's formula as RDKit writes it (C6H13N+) and its element_counts()."""

    text: str
    counts: dict[str, int]


def _formula(molecule: Chem.Mol) -> _Formula:
    return _formula_of(CalcMolFormula(molecule))


def _formula_of(text: str) -> _Formula:
    return _Formula(text, {symbol: int(n or 1) for symbol, n in _FORMULA_PART.findall(text)})


def _heavy(formula: _Formula) -> tuple[str, int] | None:
    """heavy_formula() from the molecule's _Formula."""
    if not formula.counts.keys() <= _NON_METAL_SYMBOLS:
        return None
    return _NOT_HEAVY.sub("", formula.text), formula.counts.get("O", 0)


class _Plan(NamedTuple):
    """What could_match() tests on a molecule or fragment of one formula (RDKit's text): a
    function of the text alone, so worked out once per formula (Prefilter._plan)."""

    screens: tuple[Chem.Mol, ...]  # the screens it has the atoms for (screen_elements)
    organic: bool  # it has carbon: judged as an organic substance
    heavy: tuple[str, int] | None  # heavy_formula()
    listed: dict[int, tuple[Chem.Mol, ...]] | None  # named_formulas[heavy formula]
    skeletons: tuple[Chem.Mol, ...]  # the named skeletons of its heavy formula and oxygens
    hydrate: bool  # a skeleton with fewer oxygens is listed: a ketone hydrate may lose some


# Formulas whose plan is kept; past it they are forgotten and worked out again as met.
_MOST_PLANS = 50_000


@dataclass(frozen=True)
class Prefilter:
    """A molecule no rule can match contains none of the `screens`, and no fragment of it has
    the heavy formula and skeleton of a named entry without one (`named_formulas`).

    A named entry matches only its own substance (InChIKey, or its connectivity): the
    standardized parent has exactly the entry's heavy atoms. Standardization keeps a
    fragment's heavy atoms but for a bonded metal and a ketone hydrate's oxygen, so an entry
    need only be tested on fragments of its heavy formula: a small precursor (acetone,
    toluene) is not a screen every larger molecule containing it passes."""

    screens: tuple[Chem.Mol, ...]
    descriptions: tuple[str, ...]
    # The named entries' skeletons, minimal, for a molecule whose formula cannot tell.
    named_any_size: tuple[Chem.Mol, ...] = ()
    named_with_metals: tuple[Chem.Mol, ...] = ()  # entries holding a metal: every molecule
    # The heavy elements of each entry without carbon (hydrochloric acid, a permanganate).
    # Only a structure without carbon is judged as an inorganic substance (beside an organic
    # one, inorganic pieces are counter-ions), and its standardization may drop water, bonds
    # and hydrogens or repeat an ion, never bring in an element: a set of elements is the test.
    named_inorganic: tuple[frozenset[int], ...] = ()
    # The skeletons by heavy_formula(): formula text -> oxygens -> skeletons. A
    # fragment can only become an entry of its own heavy formula, less hydrate oxygens.
    named_formulas: Mapping[str, dict[int, tuple[Chem.Mol, ...]]] = field(default_factory=dict)
    # Their molecular formulas (NamedEntry.formula): the judge computes a parent's InChIKey
    # only when its formula is one of an entry (identify._verdicts).
    named_molecular_formulas: frozenset[str] = frozenset()
    # Per screen, ring atoms of which every family and class pattern holding the screen has a
    # non-aromatic one (`C`, `[#6;!a]`): a match of the screen with all of them aromatic
    # (a pyridine for a piperidine) passes only a molecule standardization or a tautomer
    # may change, or one of `aromatic_named`. () for a screen without that condition.
    non_aromatic: tuple[tuple[int, ...], ...] = ()
    # The molecular formulas of the named entries whose skeleton holds only screens with that
    # condition: InChI does not see aromaticity, but the judge looks a parent up by InChIKey
    # only when its formula is listed (identify._verdicts).
    aromatic_formulas: frozenset[str] = frozenset()
    # element_graph() of every named entry's parent: a tautomer keeps its substance's graph.
    named_graphs: frozenset[str] = frozenset()
    # The same per jurisdiction: a parent is looked up among a jurisdiction's entries as
    # another tautomer of one only when one of them has its graph.
    graphs_by_jurisdiction: dict[str, frozenset[str]] = field(default_factory=dict)
    # Each named entry's SMILES -> its parent's element_graph() (None: it cannot tell).
    entry_graphs: dict[str, str | None] = field(default_factory=dict)
    # Each named entry's parent's canonical SMILES -> the entry's (InChIKey, connectivity).
    named_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Per screen, (element, atoms) its skeleton holds: a molecule with fewer of an element
    # (counted in its formula, which the named entries need anyway) cannot contain it.
    screen_elements: tuple[tuple[tuple[str, int], ...], ...] = ()
    # Formula text -> its _Plan, filled as formulas are met (a catalogue repeats formulas).
    _plans: dict[str, _Plan] = field(default_factory=dict, init=False, compare=False, repr=False)

    def could_match(self, molecule: Chem.Mol, *, connected: bool = False) -> bool:
        """False only when no loaded rule can match `molecule` (raw, before standardization).
        connected: the caller knows `molecule` is one fragment (read from a SMILES without a
        dot), so it is not split."""
        if not self.named_any_size:  # every named entry has a screen: no formula needed
            if any(map(molecule.HasSubstructMatch, self.screens)) and self._screened(molecule):
                return True
            return bool(self.named_inorganic) and (
                not molecule.HasSubstructMatch(_CARBON) and self._inorganic(molecule)
            )
        plan = self._plan(CalcMolFormula(molecule))  # the whole's: the sum of its fragments'
        if any(map(molecule.HasSubstructMatch, plan.screens)) and self._screened(molecule):
            return True
        if not plan.organic:  # judged as an inorganic substance
            return self._inorganic(molecule)
        if any(map(molecule.HasSubstructMatch, self.named_with_metals)):
            return True
        fragments = [molecule] if connected else _fragments(molecule)
        plans = (
            [plan] if len(fragments) == 1 else [self._plan(CalcMolFormula(f)) for f in fragments]
        )
        suspects = self._named_suspects(molecule, fragments, plans)
        if suspects is None and molecule.HasSubstructMatch(_BONDED_METAL):
            pieces = _fragments(_without_bonded_metals(molecule))
            plans = [self._plan(CalcMolFormula(piece)) for piece in pieces]
            suspects = self._named_suspects(molecule, pieces, plans)
        if suspects is None:  # hydrogens drawn as atoms, a dummy atom: any size
            return any(map(molecule.HasSubstructMatch, self.named_any_size))
        return bool(suspects) and not self._parents_unlisted(molecule, suspects)

    def _plan(self, text: str) -> _Plan:
        """The _Plan of formula `text`, kept for the next molecule of that formula."""
        plan = self._plans.get(text)
        if plan is None:
            if len(self._plans) >= _MOST_PLANS:
                self._plans.clear()
            plan = self._plans[text] = self._planned(text)
        return plan

    def _planned(self, text: str) -> _Plan:
        formula = _formula_of(text)
        counts = formula.counts
        held = self.screen_elements or ((),) * len(self.screens)
        screens = tuple(
            screen
            for screen, needed in zip(self.screens, held, strict=True)
            if all(counts.get(element, 0) >= atoms for element, atoms in needed)
        )
        heavy = _heavy(formula)
        listed = None if heavy is None else self.named_formulas.get(heavy[0])
        if heavy is None or listed is None:
            return _Plan(screens, "C" in counts, heavy, None, (), False)
        oxygens = heavy[1]
        hydrate = oxygens > 1 and any(count < oxygens for count in listed)  # a hydrate has two
        return _Plan(screens, "C" in counts, heavy, listed, listed.get(oxygens, ()), hydrate)

    def _inorganic(self, molecule: Chem.Mol) -> bool:
        """Whether a structure without carbon holds the elements of an entry without carbon."""
        elements = _elements(molecule)
        return any(entry <= elements for entry in self.named_inorganic)

    def _screened(self, molecule: Chem.Mol) -> bool:
        """Whether the screens `molecule` holds let it through: one without a condition, one
        with a non-aromatic ring atom where needed, or only aromatic matches (then the parent
        judged is the molecule as drawn, or it may be a listed substance)."""
        aromatic_only = False
        conditions = self.non_aromatic or ((),) * len(self.screens)
        for screen, positions in zip(self.screens, conditions, strict=True):
            if not molecule.HasSubstructMatch(screen):
                continue
            if not positions or _non_aromatic_at(molecule, screen, positions):
                return True
            aromatic_only = True
        if not aromatic_only:
            return False
        if not judged_as_drawn(molecule):  # a charge, a hydrate, an enol: its parent may differ
            return True
        # Judged as drawn, its parents are some of its fragments, formulas unchanged.
        return any(CalcMolFormula(f) in self.aromatic_formulas for f in _fragments(molecule))

    def _named_suspects(
        self, molecule: Chem.Mol, fragments: list[Chem.Mol], plans: list[_Plan]
    ) -> list[Chem.Mol] | None:
        """The `fragments` of `molecule` holding the skeleton of a named entry of their heavy
        formula (the same, less an oxygen for each ketone hydrate: heavy_formula); None when
        the formula cannot tell (hydrogens drawn as atoms, a metal, a dummy atom). `plans`:
        each fragment's."""
        if molecule.GetNumAtoms() != molecule.GetNumHeavyAtoms():
            return None
        suspects = []
        for fragment, plan in zip(fragments, plans, strict=True):
            if plan.heavy is None:
                if fragment.GetNumAtoms() == 1:  # a metal ion: named_with_metals asked above
                    continue
                return None
            if plan.listed is None:  # most fragments
                continue
            skeletons = plan.skeletons
            if plan.hydrate:
                oxygens = plan.heavy[1]
                lost = len(fragment.GetSubstructMatches(_HYDRATE_CARBON))
                for count in range(oxygens - lost, oxygens):
                    skeletons += plan.listed.get(count, ())
            if any(map(fragment.HasSubstructMatch, skeletons)):
                suspects.append(fragment)
        return suspects

    def _parents_unlisted(self, molecule: Chem.Mol, suspects: list[Chem.Mol]) -> bool:
        """True when no parent of the `suspects` can have a named entry's molecular formula
        (and so its InChIKey or connectivity): drawn without a charge or an unusual valence, a
        fragment is judged with its own hydrogens (standardize.quick_parents), but for a
        hydrate's water."""
        return plain_atoms(molecule) and not any(
            fragment.HasSubstructMatch(_HYDRATE_CARBON)
            or CalcMolFormula(fragment) in self.named_molecular_formulas
            for fragment in suspects
        )


def _fragments(molecule: Chem.Mol) -> list[Chem.Mol]:
    """The fragments of `molecule`, each with its implicit hydrogens (the molecule itself when
    it is one: no copy)."""
    if len(Chem.GetMolFrags(molecule)) == 1:
        return [molecule]
    fragments = list(Chem.GetMolFrags(molecule, asMols=True, sanitizeFrags=False))
    for fragment in fragments:
        fragment.UpdatePropertyCache(strict=False)
    return fragments


# Embeddings of a screen looked at in one molecule; with more, it is let through unexamined.
_MOST_EMBEDDINGS = 1000


def _non_aromatic_at(molecule: Chem.Mol, screen: Chem.Mol, positions: tuple[int, ...]) -> bool:
    """Whether some embedding of `screen` in `molecule` has a non-aromatic atom at one of
    `positions` (every embedding: uniquify=False keeps each ring atom order)."""
    matches = molecule.GetSubstructMatches(screen, uniquify=False, maxMatches=_MOST_EMBEDDINGS)
    if len(matches) >= _MOST_EMBEDDINGS:
        return True
    aromatic = {atom.GetIdx() for atom in molecule.GetAromaticAtoms()}
    return any(match[p] not in aromatic for match in matches for p in positions)


def _non_aromatic_positions(
    screen: Chem.Mol, patterns: list[tuple[Chem.Mol, frozenset[int]]]
) -> tuple[int, ...]:
    """Ring atoms of `screen` such that each pattern (skeleton molecule, its non-aromatic-only
    atoms) holding the screen holds it with one of them on such an atom: then every match of
    the pattern holds the screen with a non-aromatic atom there. () when a pattern does not."""
    plain = _skeleton_molecule(screen)
    ring = [atom.GetIdx() for atom in plain.GetAtoms() if atom.IsInRing()]
    found: set[int] = set()
    for skeleton, aliphatic in patterns:
        embeddings = skeleton.GetSubstructMatches(screen, uniquify=False, maxMatches=10_000)
        here = {p for embedding in embeddings for p in ring if embedding[p] in aliphatic}
        if embeddings and not here:
            return ()
        found |= here
    return tuple(sorted(found))


def _minimal(screens: dict[str, Chem.Mol]) -> dict[str, Chem.Mol]:
    """Drop every screen that contains another kept one: "any of them matches" is unchanged,
    and a molecule that is no candidate costs as few substructure tests as possible."""
    kept: dict[str, Chem.Mol] = {}
    for text, screen in sorted(screens.items(), key=lambda item: item[1].GetNumAtoms()):
        plain = _skeleton_molecule(screen)
        if not any(plain.HasSubstructMatch(other) for other in kept.values()):
            kept[text] = screen
    return kept


def _elements_held(skeleton: Chem.Mol) -> tuple[tuple[str, int], ...]:
    """(element symbol, atoms) of the skeleton's atoms that can be one element only."""
    held: dict[str, int] = {}
    for atom in skeleton.GetAtoms():
        elements = _query_elements(atom)
        if elements is not None and len(elements) == 1:
            symbol = Chem.GetPeriodicTable().GetElementSymbol(next(iter(elements)))
            held[symbol] = held.get(symbol, 0) + 1
    return tuple(sorted(held.items()))


def build_prefilter(rulebook: RuleBook) -> Prefilter:
    """Screens for the families and class definitions (anchored); then every named entry that
    contains none of them is tested on fragments of its heavy formula (Prefilter)."""
    anchors = [(text, Chem.MolFromSmarts(text)) for text in ANCHORS]
    skeletons: dict[str, Chem.Mol] = {}
    shapes: list[tuple[Chem.Mol, frozenset[int]]] = []  # each pattern's, for non_aromatic
    patterns = [family.smarts for family in rulebook.families]
    if rulebook.classes:
        patterns.append(rulebook.semantics.core_smarts)
    for pattern in patterns:
        for expanded in expand_recursive(pattern):
            if Chem.MolFromSmarts(expanded) is not None:
                skeleton = skeleton_of_smarts(expanded)
                skeletons.setdefault(Chem.MolToSmarts(skeleton), skeleton)
                shapes.append((_skeleton_molecule(skeleton), _aliphatic_atoms(expanded)))
    chosen: dict[str, Chem.Mol] = {}
    for text, skeleton in skeletons.items():
        plain = _skeleton_molecule(skeleton)
        anchor_text = next((a for a, anchor in anchors if plain.HasSubstructMatch(anchor)), None)
        if anchor_text is None:
            chosen.setdefault(text, skeleton)
        else:
            chosen.setdefault(anchor_text, dict(anchors)[anchor_text])
    needed = _minimal(chosen)
    non_aromatic = {text: _non_aromatic_positions(s, shapes) for text, s in needed.items()}
    named: dict[str, Chem.Mol] = {}
    named_formulas: dict[str, dict[int, dict[str, Chem.Mol]]] = {}
    molecular_formulas: set[str] = set()
    aromatic_formulas: set[str] = set()
    graphs: dict[str, set[str | None]] = {}
    entry_graphs: dict[str, str | None] = {}
    inorganic: set[frozenset[int]] = set()
    keys: dict[str, tuple[str, str]] = {}
    for entry in rulebook.entries:
        # The entry's standardized parent: what its keys, and so a match, are made of.
        parent = standardize(Chem.MolFromSmiles(entry.smiles))
        entry_graphs[entry.smiles] = element_graph(parent)
        graphs.setdefault(entry.jurisdiction, set()).add(entry_graphs[entry.smiles])
        keys[canonical_smiles(parent)] = (entry.inchikey, entry.connectivity)
        if not parent.HasSubstructMatch(_CARBON):
            inorganic.add(_elements(parent))
            continue
        skeleton = skeleton_of_molecule(parent)
        plain = _skeleton_molecule(skeleton)
        passing = [text for text, screen in needed.items() if plain.HasSubstructMatch(screen)]
        if passing and all(non_aromatic[text] for text in passing):
            # A screen passes it only where it is not aromatic; a drawing of its formula
            # with that ring aromatic is let through for it.
            aromatic_formulas.add(entry.formula)
        elif not passing:
            key = Chem.MolToSmarts(skeleton)
            named.setdefault(key, skeleton)
            molecular_formulas.add(entry.formula)
            formula = heavy_formula(parent)
            if formula is not None:  # an entry with a metal is tested on every molecule
                text, oxygens = formula
                named_formulas.setdefault(text, {}).setdefault(oxygens, {})[key] = named[key]
    with_metals = [  # the metal may be what standardization takes away
        skeleton
        for skeleton in named.values()
        if any(atom.GetAtomicNum() not in _NON_METAL_NUMBERS for atom in skeleton.GetAtoms())
    ]
    return Prefilter(
        screens=tuple(needed.values()),
        screen_elements=tuple(_elements_held(screen) for screen in needed.values()),
        descriptions=tuple(needed),
        named_any_size=tuple(_minimal(named).values()),
        named_with_metals=tuple(with_metals),
        named_inorganic=tuple(inorganic),
        named_formulas={
            text: {oxygens: tuple(found.values()) for oxygens, found in counts.items()}
            for text, counts in named_formulas.items()
        },
        named_molecular_formulas=frozenset(molecular_formulas),
        non_aromatic=tuple(non_aromatic.values()),
        aromatic_formulas=frozenset(aromatic_formulas),
        named_graphs=frozenset(graph for found in graphs.values() for graph in found if graph),
        entry_graphs=entry_graphs,
        graphs_by_jurisdiction={
            code: frozenset(graph for graph in found if graph) for code, found in graphs.items()
        },
        named_keys=keys,
    )
