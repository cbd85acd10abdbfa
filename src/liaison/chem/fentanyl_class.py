"""The fentanyl class engine: decompose a molecule into fentanyl's regions, judge each change.

Fentanyl is N-phenyl-N-[1-(2-phenylethyl)piperidin-4-yl]propanamide. Both the US
(fentanyl-related substances, clauses A-E) and the Chinese (芬太尼类物质, conditions 1-4)
definitions are lists of allowed *modifications* of its regions. So: find the
4-anilidopiperidine core, give every atom one region, describe how each region differs from
fentanyl's, and look for a clause (fentanyl_class_clauses.toml) that covers each difference.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache

from rdkit import Chem

from liaison.chem.groups import describe_group
from liaison.chem.models import RegionFinding, Status
from liaison.chem.rulebook import ClassSemantics, ClauseSemantics, DefinitionSemantics
from liaison.messages import T, Text, joined

REGION_LABELS = {
    "acyl": T("acyl group"),
    "aniline": T("N-aryl (aniline) ring"),
    "piperidine": T("piperidine ring"),
    "linker": T("linker (ethylene of the phenethyl group)"),
    "terminal_ring": T("phenyl of the phenethyl group"),
}
N_SUBSTITUENT = T("N-substituent")

# Readable names for the groups that occur most; anything else is shown as a SMILES fragment.
_GROUP_NAMES = {
    # acyl groups (attachment * on the carbonyl carbon)
    "*C(=O)CC": "propionyl",
    "*C(C)=O": "acetyl",
    "*C=O": "formyl",
    "*C(=O)CCC": "butyryl",
    "*C(=O)C(C)C": "isobutyryl",
    "*C(=O)CCCC": "valeryl",
    "*C(=O)CCCCC": "hexanoyl",
    "*C(=O)C(C)(C)C": "pivaloyl",
    "*C(=O)C1CCCCC1": "cyclohexanecarbonyl",
    "*C(=O)c1cccs1": "thiophene-2-carbonyl",
    "*C(=O)C=C": "acryloyl",
    "*C(=O)C=CC": "crotonyl",
    "*C(=O)COC": "methoxyacetyl",
    "*C(=O)C1CC1": "cyclopropanecarbonyl",
    "*C(=O)C1CCC1": "cyclobutanecarbonyl",
    "*C(=O)C1CCCC1": "cyclopentanecarbonyl",
    "*C(=O)C1CCCO1": "tetrahydrofuran-2-carbonyl",
    "*C(=O)c1ccco1": "furan-2-carbonyl",
    "*C(=O)c1ccccc1": "benzoyl",
    "*C(=O)OC": "methoxycarbonyl (carbamate)",
    "*C(=O)OCC": "ethoxycarbonyl (carbamate)",
    # rings (attachment * on the ring atom)
    "*c1ccccc1": "phenyl",
    "*c1ccccn1": "pyridin-2-yl",
    "*c1cccnc1": "pyridin-3-yl",
    "*c1ccncc1": "pyridin-4-yl",
    "*c1ncccn1": "pyrimidin-2-yl",
    "*c1ccncn1": "pyrimidin-4-yl",
    "*c1cncnc1": "pyrimidin-5-yl",
    "*c1cnccn1": "pyrazin-2-yl",
    "*c1cccs1": "thiophen-2-yl",
    "*c1ccsc1": "thiophen-3-yl",
    "*c1ccco1": "furan-2-yl",
    "*c1ccoc1": "furan-3-yl",
    "*c1nccs1": "thiazol-2-yl",
    "*C1CCCCC1": "cyclohexyl",
    "*C1CCCC1": "cyclopentyl",
    "*C1CCC1": "cyclobutyl",
    "*C1CC1": "cyclopropyl",
}


# Substituents in the words a chemist uses (attachment * on the atom bonded to the region).
_SUBSTITUENT_NAMES = {
    "*C": "methyl",
    "*CC": "ethyl",
    "*CCC": "propyl",
    "*C(C)C": "isopropyl",
    "*CCCC": "butyl",
    "*C(C)(C)C": "tert-butyl",
    "*C=C": "vinyl",
    "*CC=C": "allyl",
    "*C#C": "ethynyl",
    "*F": "fluoro",
    "*Cl": "chloro",
    "*Br": "bromo",
    "*I": "iodo",
    "*O": "hydroxy",
    "*N": "amino",
    "*NC": "methylamino",
    "*N(C)C": "dimethylamino",
    "*OC": "methoxy",
    "*OCC": "ethoxy",
    "*OCCC": "propoxy",
    "*OC(C)C": "isopropoxy",
    "*SC": "methylsulfanyl",
    "*C(=O)OC": "methoxycarbonyl",
    "*C(=O)OCC": "ethoxycarbonyl",
    "*C(=O)O": "carboxy",
    "*C(C)=O": "acetyl",
    "*C=O": "formyl",
    "*OC(C)=O": "acetoxy",
    "*OC(=O)CC": "propanoyloxy",
    "*COC": "methoxymethyl",
    "*COCC": "ethoxymethyl",
    "*CO": "hydroxymethyl",
    "*CCO": "2-hydroxyethyl",
    "*C(C)O": "1-hydroxyethyl",
    "*CF": "fluoromethyl",
    "*C(F)(F)F": "trifluoromethyl",
    "*C#N": "cyano",
    "*[N+](=O)[O-]": "nitro",
    "*N(=O)=O": "nitro",
    "*=O": "oxo",
    "*=C": "methylidene",
    "*c1ccccc1": "phenyl",
}
_CHAINS = {
    1: "%(ring)smethyl",
    2: "2-(%(ring)s)ethyl",
    3: "3-(%(ring)s)propyl",
    4: "4-(%(ring)s)butyl",
}
# The chains' msgids, for the extractor (the table above keeps their order by length).
_CHAIN_MSGIDS = (
    T("%(ring)smethyl"),
    T("2-(%(ring)s)ethyl"),
    T("3-(%(ring)s)propyl"),
    T("4-(%(ring)s)butyl"),
)


@lru_cache(maxsize=4096)  # the same groups recur from one analogue to the next
def _canonical(smiles: str) -> str:
    molecule = Chem.MolFromSmiles(smiles, sanitize=False)
    return str(Chem.MolToSmiles(molecule, isomericSmiles=False)) if molecule else smiles


@lru_cache(maxsize=1)
def _group_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for smiles, name in _GROUP_NAMES.items():
        names[_canonical(smiles)] = name
        if smiles.startswith("*c") or smiles.startswith("*C1"):  # a ring: ring-alkyl groups
            for length, pattern in _CHAINS.items():
                chained = "*" + "C" * length + smiles[1:]
                names.setdefault(_canonical(chained), T(pattern, ring=name))
    names[_canonical("*Cc1ccccc1")] = "benzyl"
    names[_canonical("*CCc1ccccc1")] = "phenethyl"
    return names


@lru_cache(maxsize=1)
def _substituent_names() -> dict[str, str]:
    return {_canonical(smiles): name for smiles, name in _SUBSTITUENT_NAMES.items()}


def group_name(fragment_smiles: str) -> str:
    """A ring, an acyl group or what replaces phenethyl, in words; a group without a common
    name is given as its SMILES, said to be one."""
    return _group_names().get(_canonical(fragment_smiles)) or describe_group(fragment_smiles)


def substituent_name(fragment_smiles: str) -> str:
    key = _canonical(fragment_smiles)
    name = _substituent_names().get(key) or _group_names().get(key)
    if not name:
        return describe_group(fragment_smiles)
    # "methoxycarbonyl (carbamate)" as an acyl group is a plain methoxycarbonyl substituent.
    return name.split(" (")[0] if not isinstance(name, Text) else name


QUATERNARY = T("the piperidine nitrogen carries two groups (quaternary ammonium)")
N_OXIDE = T("the piperidine nitrogen is oxidized (amine N-oxide)")
UNCHANGED = T("as in fentanyl")


@dataclass(frozen=True)
class Substituent:
    position: str  # where it sits, e.g. "3" on the piperidine, "alpha" on the linker
    kind: str  # one of rulebook.SUBSTITUENT_KINDS
    smiles: str  # the group with * at the attachment point
    atoms: tuple[int, ...]

    def describe(self) -> Text:
        return T(
            "%(name)s (%(kind)s) at %(position)s",
            name=substituent_name(self.smiles),
            kind=self.kind,
            position=self.position,
        )


@dataclass
class RegionShape:
    """How one region of the query looks, compared with the same region of fentanyl."""

    name: str
    atoms: set[int] = field(default_factory=set)
    fragment: str = ""  # canonical SMILES of the region with * where it joins the core
    changed: bool = False
    ring_name: str = ""  # rings: the bare ring as a group (phenyl, thiophen-2-yl, ...)
    ring_is_phenyl: bool = False
    ring_is_monocycle: bool = False
    ring_is_aromatic: bool = False
    substituents: list[Substituent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # changes no substituent/ring clause names
    absent: bool = False  # linker/terminal: the phenethyl group is replaced by hydrogen
    acyclic_replacement: bool = False  # linker: the phenethyl group has no ring at all


@dataclass
class Decomposition:
    regions: dict[str, RegionShape]
    core_atoms: tuple[int, ...]
    thioacyl: bool

    @property
    def identical_to_reference(self) -> bool:
        return not any(region.changed for region in self.regions.values())


def _fragment(parent: Chem.Mol, keep_atom: int, cut: list[tuple[int, int]]) -> str:
    bonds = [parent.GetBondBetweenAtoms(a, b).GetIdx() for a, b in cut]
    pieces = Chem.FragmentOnBonds(parent, bonds, addDummies=True, dummyLabels=[(0, 0)] * len(bonds))
    mapping: list[tuple[int, ...]] = []
    fragments = Chem.GetMolFrags(
        pieces, asMols=True, sanitizeFrags=False, fragsMolAtomMapping=mapping
    )
    for fragment, atoms in zip(fragments, mapping, strict=True):
        if keep_atom in atoms:
            return str(Chem.MolToSmiles(fragment, isomericSmiles=False))
    return ""


def _ring_only_fragment(parent: Chem.Mol, ring: set[int], attachment: int) -> str:
    """The bare ring with * at the attachment, its substituents cut off (for naming it)."""
    editable = Chem.RWMol(parent)
    for index in ring:
        atom = editable.GetAtomWithIdx(index)
        lost = sum(
            1 for n in atom.GetNeighbors() if n.GetIdx() not in ring and n.GetIdx() != attachment
        )
        if lost and atom.GetIsAromatic() and atom.GetSymbol() != "C":
            atom.SetNumExplicitHs(atom.GetTotalNumHs() + lost)  # pyrrole-type N keeps its H
        atom.SetNoImplicit(False)
    dummy = editable.GetAtomWithIdx(attachment)
    dummy.SetAtomicNum(0)
    dummy.SetFormalCharge(0)
    dummy.SetIsAromatic(False)
    dummy.SetNoImplicit(True)
    dummy.SetNumExplicitHs(0)
    for index in sorted(set(range(parent.GetNumAtoms())) - ring - {attachment}, reverse=True):
        editable.RemoveAtom(index)
    bare = editable.GetMol()
    try:
        Chem.SanitizeMol(bare)
    except (ValueError, RuntimeError):  # e.g. a ring that only kekulizes with its substituents
        return str(Chem.MolFragmentToSmiles(parent, atomsToUse=sorted(ring)))
    return str(Chem.MolToSmiles(bare, isomericSmiles=False))


def classify_substituent(parent: Chem.Mol, atoms: set[int], root: int, anchor: int) -> str:
    """Kind of the group `atoms` hanging on `anchor` through `root`, in the law's vocabulary."""
    bond = parent.GetBondBetweenAtoms(root, anchor)
    root_atom = parent.GetAtomWithIdx(root)
    symbols = {parent.GetAtomWithIdx(a).GetSymbol() for a in atoms}
    if bond is not None and bond.GetBondType() == Chem.BondType.DOUBLE:
        return "oxo" if root_atom.GetSymbol() == "O" and len(atoms) == 1 else "alkylidene"
    ring_info = parent.GetRingInfo()
    if any(ring_info.NumAtomRings(a) for a in atoms):
        if any(parent.GetAtomWithIdx(a).GetIsAromatic() for a in atoms):
            return "aryl"
        return "cycloalkyl" if symbols == {"C"} else "ring"
    bonds = [
        parent.GetBondBetweenAtoms(a, b)
        for a in atoms
        for b in atoms
        if a < b and parent.GetBondBetweenAtoms(a, b) is not None
    ]
    orders = {b.GetBondType() for b in bonds}
    halogens = {"F", "Cl", "Br", "I"}
    if len(atoms) == 1:
        symbol = root_atom.GetSymbol()
        if symbol in halogens:
            return "halo"
        if symbol == "O":
            return "hydroxyl"
        if symbol == "N":
            return "amino"
        if symbol == "C":
            return "alkyl"
        return "other"
    if root_atom.GetSymbol() == "N" and symbols == {"N", "O"} and len(atoms) == 3:
        return "nitro"
    if symbols == {"C"}:
        if Chem.BondType.TRIPLE in orders:
            return "alkynyl"
        if Chem.BondType.DOUBLE in orders:
            return "alkenyl"
        return "alkyl"
    single_only = orders <= {Chem.BondType.SINGLE}
    if symbols <= {"C"} | halogens and single_only:
        return "haloalkyl"
    if root_atom.GetSymbol() == "N" and symbols == {"C", "N"} and single_only:
        return "amino"
    if symbols == {"C", "O"}:
        carbonyl_oxygens = [
            a
            for a in atoms
            if parent.GetAtomWithIdx(a).GetSymbol() == "O"
            and any(
                b.GetBondType() == Chem.BondType.DOUBLE for b in parent.GetAtomWithIdx(a).GetBonds()
            )
        ]
        hydroxyls = [
            a
            for a in atoms
            if parent.GetAtomWithIdx(a).GetSymbol() == "O"
            and parent.GetAtomWithIdx(a).GetTotalNumHs() > 0
        ]
        ether_oxygens = [
            a
            for a in atoms
            if parent.GetAtomWithIdx(a).GetSymbol() == "O"
            and parent.GetAtomWithIdx(a).GetDegree() == 2
        ]
        if carbonyl_oxygens:
            if hydroxyls:
                return "carboxyl"
            return "ester" if ether_oxygens or root_atom.GetSymbol() == "O" else "acyl"
        if hydroxyls:
            return "hydroxyalkyl"
        if root_atom.GetSymbol() == "O" and len(ether_oxygens) == 0:
            return "alkoxyl"
        if root_atom.GetSymbol() == "O":
            return (
                "alkoxyl"
                if len([a for a in atoms if parent.GetAtomWithIdx(a).GetSymbol() == "O"]) == 1
                else "ether"
            )
        return "ether"
    return "other"


def _components(parent: Chem.Mol, excluded: set[int]) -> list[set[int]]:
    """Connected groups of atoms outside `excluded`."""
    seen: set[int] = set()
    groups: list[set[int]] = []
    for start in range(parent.GetNumAtoms()):
        if start in excluded or start in seen:
            continue
        group = {start}
        queue = deque([start])
        while queue:
            atom = queue.popleft()
            for neighbour in parent.GetAtomWithIdx(atom).GetNeighbors():
                index = neighbour.GetIdx()
                if index not in excluded and index not in group:
                    group.add(index)
                    queue.append(index)
        seen |= group
        groups.append(group)
    return groups


def _attachments(parent: Chem.Mol, group: set[int], core: set[int]) -> list[tuple[int, int]]:
    """(core atom, group atom) for every bond between a group and the core."""
    return [
        (neighbour.GetIdx(), atom)
        for atom in group
        for neighbour in parent.GetAtomWithIdx(atom).GetNeighbors()
        if neighbour.GetIdx() in core
    ]


def _best_core_match(parent: Chem.Mol, core: Chem.Mol) -> tuple[int, ...] | None:
    matches = parent.GetSubstructMatches(core, uniquify=False, maxMatches=64)
    if not matches:
        return None

    def preference(match: tuple[int, ...]) -> tuple[int, int, int]:
        acyl_oxygen = parent.GetAtomWithIdx(match[1]).GetSymbol() == "O"
        aromatic = parent.GetAtomWithIdx(match[3]).GetIsAromatic()
        return (0 if acyl_oxygen else 1, 0 if aromatic else 1, 0)

    best: tuple[int, ...] = min(matches, key=preference)
    return best


def _smallest_ring(parent: Chem.Mol, atom: int) -> set[int]:
    rings = [set(ring) for ring in parent.GetRingInfo().AtomRings() if atom in ring]
    return min(rings, key=len) if rings else {atom}


def _describe_ring(parent: Chem.Mol, shape: RegionShape, ring: set[int], attachment: int) -> None:
    ring_info = parent.GetRingInfo()
    shape.ring_is_monocycle = all(ring_info.NumAtomRings(a) == 1 for a in ring)
    shape.ring_is_aromatic = all(parent.GetAtomWithIdx(a).GetIsAromatic() for a in ring)
    shape.ring_name = group_name(_ring_only_fragment(parent, ring, attachment))
    shape.ring_is_phenyl = shape.ring_name == "phenyl"


def _substituents_on(
    parent: Chem.Mol,
    shape: RegionShape,
    base: set[int],
    groups: list[set[int]],
    position_of: dict[int, str],
) -> None:
    """Record each group hanging on `base` as a substituent (or a problem if it is fused)."""
    for group in groups:
        links = _attachments(parent, group, base)
        shape.atoms |= group
        if len({anchor for anchor, _ in links}) > 1 or len(links) > 1:
            shape.problems.append(
                T(
                    "a ring is fused or bridged onto the %(region)s",
                    region=REGION_LABELS[shape.name],
                )
            )
            shape.ring_is_monocycle = False
            continue
        anchor, root = links[0]
        smiles = _fragment(parent, root, [(anchor, root)])
        shape.substituents.append(
            Substituent(
                position=position_of.get(anchor, "?"),
                kind=classify_substituent(parent, group, root, anchor),
                smiles=smiles,
                atoms=tuple(sorted(group)),
            )
        )


def decompose(parent: Chem.Mol, semantics: ClassSemantics) -> Decomposition | None:
    """Fentanyl's regions in `parent`, or None when it has no 4-anilidopiperidine core."""
    match = _best_core_match(parent, semantics.core)
    if match is None:
        return None
    reference = _reference_fragments(semantics.reference_smiles, semantics.core_smarts)
    acyl_c, acyl_x, amide_n, aryl, c4, c3, c2, n1, c6, c5 = match
    piperidine = {c4, c3, c2, n1, c6, c5}
    aniline_ring = _smallest_ring(parent, aryl)
    regions = {name: RegionShape(name) for name in REGION_LABELS}
    acyl, aniline, pip, linker, terminal = (regions[name] for name in REGION_LABELS)
    acyl.atoms = {acyl_c, acyl_x, amide_n}
    aniline.atoms = set(aniline_ring)
    pip.atoms = set(piperidine)
    if aniline_ring & (piperidine | acyl.atoms):
        aniline.problems.append(T("the amide nitrogen's ring is fused with the core"))
        aniline_ring -= piperidine | acyl.atoms
    core = acyl.atoms | aniline_ring | piperidine
    region_of_core = {acyl_c: "acyl", acyl_x: "acyl", amide_n: "acyl", n1: "nitrogen"}
    region_of_core |= {a: "aniline" for a in aniline_ring}
    region_of_core |= {a: "piperidine" for a in piperidine - {n1}}

    expected_core_bonds = {
        frozenset(pair)
        for pair in ((acyl_c, acyl_x), (acyl_c, amide_n), (amide_n, aryl), (amide_n, c4))
    }
    for bond in parent.GetBonds():
        a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        if a in core and b in core and frozenset((a, b)) not in expected_core_bonds:
            ra, rb = region_of_core[a], region_of_core[b]
            if {ra, rb} == {"nitrogen", "piperidine"}:
                ra = rb = "piperidine"
            if ra != rb:
                for name in {ra, rb} - {"nitrogen"}:
                    regions[name].problems.append(
                        T(
                            "the %(one)s and the %(other)s are joined directly",
                            one=REGION_LABELS.get(ra, N_SUBSTITUENT),
                            other=REGION_LABELS.get(rb, N_SUBSTITUENT),
                        )
                    )

    groups: dict[str, list[set[int]]] = {
        "acyl": [],
        "aniline": [],
        "piperidine": [],
        "nitrogen": [],
    }
    for group in _components(parent, core):
        touched = {region_of_core[anchor] for anchor, _ in _attachments(parent, group, core)}
        if len(touched) == 1:
            groups[touched.pop()].append(group)
            continue
        names = sorted(touched)
        owner = "linker" if "nitrogen" in touched else names[0]
        regions[owner].atoms |= group
        joined_regions = joined((REGION_LABELS.get(n, N_SUBSTITUENT) for n in names), " and ")
        for name in touched:
            regions["linker" if name == "nitrogen" else name].problems.append(
                T("a ring joins the %(regions)s", regions=joined_regions)
            )

    # Acyl: everything on the carbonyl carbon.
    for group in groups["acyl"]:
        acyl.atoms |= group
    acyl.fragment = _fragment(parent, acyl_c, [(acyl_c, amide_n)])
    acyl.changed = acyl.fragment != reference["acyl"] or bool(acyl.problems)
    thioacyl = parent.GetAtomWithIdx(acyl_x).GetSymbol() != "O"
    if thioacyl:
        acyl.problems.append(T("thioamide (C=S) in place of the amide carbonyl: not an acyl group"))

    # Aniline ring and its substituents.
    _describe_ring(parent, aniline, aniline_ring, amide_n)
    _substituents_on(
        parent,
        aniline,
        aniline_ring,
        groups["aniline"],
        _ring_positions(parent, aniline_ring, aryl),
    )
    aniline.fragment = _fragment(parent, aryl, [(amide_n, aryl)])
    aniline.changed = aniline.fragment != reference["aniline"] or bool(aniline.problems)

    # Piperidine ring and its substituents.
    positions = {c4: "4", c3: "3", c5: "3", c2: "2", c6: "2"}
    ring_bonds = [(c4, c3), (c3, c2), (c2, n1), (n1, c6), (c6, c5), (c5, c4)]
    if any(
        parent.GetBondBetweenAtoms(a, b).GetBondType() != Chem.BondType.SINGLE
        for a, b in ring_bonds
    ):
        pip.problems.append(T("the piperidine ring is unsaturated"))
    _substituents_on(parent, pip, piperidine - {n1}, groups["piperidine"], positions)
    pip.changed = bool(pip.substituents or pip.problems)

    # The phenethyl group: linker chain to the first ring, then that ring. An oxygen alone on
    # the piperidine nitrogen makes an amine N-oxide: a change of the piperidine, not a
    # second group in place of phenethyl.
    nitrogen_groups = groups["nitrogen"]
    oxides = [
        group
        for group in nitrogen_groups
        if len(group) == 1 and parent.GetAtomWithIdx(next(iter(group))).GetSymbol() == "O"
    ]
    if len(oxides) == 1:
        pip.atoms |= oxides[0]
        pip.problems.append(N_OXIDE)
        pip.changed = True
        nitrogen_groups = [group for group in nitrogen_groups if group is not oxides[0]]
    if not nitrogen_groups and linker.problems:  # the N's only group is joined to another region
        linker.changed = True
    elif not nitrogen_groups:
        linker.absent = terminal.absent = True
        linker.changed = terminal.changed = True
    elif len(nitrogen_groups) > 1:
        linker.atoms = set().union(*nitrogen_groups)
        linker.problems.append(QUATERNARY)
        linker.changed = True
    else:
        _describe_phenethyl(parent, n1, nitrogen_groups, linker, terminal, reference)
    return Decomposition(regions=regions, core_atoms=tuple(sorted(core)), thioacyl=thioacyl)


def _ring_positions(parent: Chem.Mol, ring: set[int], attachment_atom: int) -> dict[int, str]:
    """Ring atoms numbered 1 (the attachment) to n around the ring, for explanations."""
    positions: dict[int, str] = {}
    for atom in ring:
        path = (
            Chem.GetShortestPath(parent, attachment_atom, atom) if atom != attachment_atom else ()
        )
        distance = len(path) - 1 if path else 0
        label = {0: "1", 1: T("2 (ortho)"), 2: T("3 (meta)"), 3: T("4 (para)")}.get(
            distance, str(distance + 1)
        )
        positions[atom] = label
    return positions


def _describe_phenethyl(
    parent: Chem.Mol,
    n1: int,
    groups: list[set[int]],
    linker: RegionShape,
    terminal: RegionShape,
    reference: dict[str, str],
) -> None:
    group = set().union(*groups)
    ring_info = parent.GetRingInfo()
    roots = [atom for atom in group if parent.GetBondBetweenAtoms(n1, atom) is not None]
    linker.fragment = _fragment(parent, roots[0], [(n1, roots[0])])
    # Breadth-first from the nitrogen: the chain ends at the first ring atom met.
    distance = {n1: 0}
    queue = deque([n1])
    first_ring_atom: int | None = None
    while queue and first_ring_atom is None:
        atom = queue.popleft()
        for neighbour in parent.GetAtomWithIdx(atom).GetNeighbors():
            index = neighbour.GetIdx()
            if index in group and index not in distance:
                distance[index] = distance[atom] + 1
                if ring_info.NumAtomRings(index):
                    first_ring_atom = index
                    break
                queue.append(index)
    if first_ring_atom is None:
        linker.atoms |= group
        linker.acyclic_replacement = True
        linker.changed = terminal.changed = True
        return
    chain = list(Chem.GetShortestPath(parent, n1, first_ring_atom))[1:-1]
    ring = _smallest_ring(parent, first_ring_atom)
    _describe_ring(parent, terminal, ring, chain[-1] if chain else n1)
    rest = _components(parent, (set(range(parent.GetNumAtoms())) - group) | set(chain) | ring)
    on_chain = [g for g in rest if _attachments(parent, g, set(chain))]
    on_ring = [g for g in rest if not _attachments(parent, g, set(chain))]
    linker.atoms |= set(chain)
    terminal.atoms |= ring
    chain_labels: dict[int, str] = dict(zip(chain, _CHAIN_POSITIONS, strict=False))
    _substituents_on(parent, linker, set(chain), on_chain, chain_labels)
    _substituents_on(
        parent, terminal, ring, on_ring, _ring_positions(parent, ring, first_ring_atom)
    )
    if len(chain) != 2:
        linker.problems.append(
            T(
                "the chain from the piperidine nitrogen to the ring has %(count)s atom(s), "
                "fentanyl's has 2",
                count=len(chain),
            )
        )
    symbols = {parent.GetAtomWithIdx(a).GetSymbol() for a in chain}
    if symbols - {"C"}:
        linker.problems.append(
            T("the chain contains %(elements)s", elements=", ".join(sorted(symbols - {"C"})))
        )
    chain_bonds = list(zip([n1, *chain], [*chain, first_ring_atom], strict=False))
    if any(
        parent.GetBondBetweenAtoms(a, b).GetBondType() != Chem.BondType.SINGLE
        for a, b in chain_bonds
    ):
        linker.problems.append(T("the chain has a multiple bond"))
    linker.changed = bool(linker.problems or linker.substituents)
    terminal.fragment = _fragment(
        parent, first_ring_atom, [(chain[-1] if chain else n1, first_ring_atom)]
    )
    terminal.changed = (
        not terminal.ring_is_phenyl or bool(terminal.substituents) or bool(terminal.problems)
    )


_CHAIN_POSITIONS = (T("alpha"), T("beta"), T("gamma"), T("delta"))


@lru_cache(maxsize=4)
def _reference_fragments(reference_smiles: str, core_smarts: str) -> dict[str, str]:
    """Fentanyl's own region fragments: what 'unchanged' means."""
    parent = Chem.MolFromSmiles(reference_smiles)
    match = parent.GetSubstructMatch(Chem.MolFromSmarts(core_smarts))
    acyl_c, _, amide_n, aryl, _, _, _, n1, _, _ = match
    nitrogen_root = next(
        n.GetIdx() for n in parent.GetAtomWithIdx(n1).GetNeighbors() if n.GetIdx() not in match
    )
    return {
        "acyl": _fragment(parent, acyl_c, [(acyl_c, amide_n)]),
        "aniline": _fragment(parent, aryl, [(amide_n, aryl)]),
        "nitrogen": _fragment(parent, nitrogen_root, [(n1, nitrogen_root)]),
    }


# ----------------------------------------------------------------------------- evaluation


# Ends the explanation of a change the law's text may be read either way on.
OPEN_READING = T("is a question of reading the law: an expert must decide")


@dataclass(frozen=True)
class ClassFinding:
    status: Status  # controlled (member) | review | no_match
    regions: tuple[RegionFinding, ...]
    reason: str


def _clauses_for(
    definition: DefinitionSemantics, region: str, change: str
) -> list[ClauseSemantics]:
    return [
        clause
        for clause in definition.clauses.values()
        if region in clause.regions and clause.change == change
    ]


def _judge_substituents(
    definition: DefinitionSemantics, shape: RegionShape
) -> tuple[list[str], list[str], list[str]]:
    """(covering clause ids, explanations, open-list doubts) for the substituents of a region;
    an explanation without a clause means not covered."""
    clause_ids: list[str] = []
    notes: list[str] = []
    uncovered: list[str] = []
    clauses = _clauses_for(definition, shape.name, "substituents")
    for substituent in shape.substituents:
        covering = next((c for c in clauses if substituent.kind in c.kinds), None)
        if covering is not None:
            clause_ids.append(covering.id)
            notes.append(
                T("%(clause)s: %(change)s", clause=covering.id, change=substituent.describe())
            )
            continue
        open_clause = next((c for c in clauses if c.open_list), None)
        if open_clause is not None:
            uncovered.append(
                T(
                    "%(clause)s: %(substituent)s is not among the substituents the condition "
                    "names, but its list is open-ended (等, 'and the like'); whether it is of "
                    "the like %(open_reading)s",
                    clause=open_clause.id,
                    substituent=substituent.describe(),
                    open_reading=OPEN_READING,
                )
            )
        elif clauses:
            uncovered.append(
                T(
                    "%(substituent)s: %(clauses)s names only %(kinds)s",
                    substituent=substituent.describe(),
                    clauses=", ".join(c.id for c in clauses),
                    kinds=joined(clauses[0].kinds, ", "),
                )
            )
        else:
            uncovered.append(
                T(
                    "%(substituent)s: no clause allows substituents here",
                    substituent=substituent.describe(),
                )
            )
    return clause_ids, notes, uncovered


def _finding(
    shape: RegionShape, clause_ids: list[str], notes: list[str], problems: list[str]
) -> RegionFinding:
    covered = not problems
    text = joined(notes + problems) if notes or problems else T("unchanged")
    clause = "+".join(dict.fromkeys(clause_ids)) if covered and clause_ids else None
    return RegionFinding(
        region=shape.name,
        clause=clause,
        explanation=text,
        atoms=tuple(sorted(shape.atoms)),
        covered=covered,
    )


def _judge_ring_region(definition: DefinitionSemantics, shape: RegionShape) -> RegionFinding:
    """aniline and terminal_ring: ring replacement, or substituents on the original phenyl."""
    problems = list(shape.problems)
    if problems:
        return _finding(shape, [], [], problems)
    if shape.ring_is_phenyl and not shape.substituents:
        return _finding(shape, [], [], [])
    replacing = [
        clause
        for clause in _clauses_for(definition, shape.name, "replace_ring")
        if shape.ring_is_monocycle and (clause.ring == "monocycle" or shape.ring_is_aromatic)
    ]
    listed = joined((s.describe() for s in shape.substituents), ", ")
    if shape.ring_is_phenyl:
        # The phenyl stays; substituents on it: a substituents clause first (US B on the
        # phenethyl phenyl), else a ring clause that allows a substituted ring (US D, CN 2).
        ids, notes, uncovered = _judge_substituents(definition, shape)
        if not uncovered:
            return _finding(shape, ids, notes, [])
        ring_clauses = [c for c in replacing if c.regions == (shape.name,)]
        if ring_clauses and shape.name == "aniline":
            clause = ring_clauses[0]
            note = T("%(clause)s: phenyl substituted (%(listed)s)", clause=clause.id, listed=listed)
            return _finding(shape, [clause.id], [note], [])
        if ring_clauses:
            # US A lets the phenethyl phenyl be "any monocycle, whether or not further
            # substituted"; a phenyl with a substituent B does not list is one reading of it,
            # and B's list, which names the substituents allowed there, is the other.
            ring_clause = ring_clauses[0]
            substituent_ids = sorted(
                {c.id for c in _clauses_for(definition, shape.name, "substituents")}
            )
            unlisted = joined(
                (
                    s.describe()
                    for s in shape.substituents
                    if not any(
                        s.kind in c.kinds
                        for c in _clauses_for(definition, shape.name, "substituents")
                    )
                ),
                ", ",
            )
            return _finding(
                shape,
                [],
                notes,
                [
                    T(
                        "%(unlisted)s: clause %(ring_clause)s (the phenyl replaced by any "
                        "monocycle, whether or not further substituted) may be read to cover a "
                        "substituted phenyl, but clause %(substituent_clauses)s's list of "
                        "substituents does not include it; which clause governs "
                        "%(open_reading)s",
                        unlisted=unlisted,
                        ring_clause=ring_clause.id,
                        substituent_clauses="/".join(substituent_ids) or "-",
                        open_reading=OPEN_READING,
                    )
                ],
            )
        return _finding(shape, [], notes, uncovered)
    if replacing:
        clause = replacing[0]
        if listed:
            note = T(
                "%(clause)s: %(region)s replaced by substituted %(ring)s (%(listed)s)",
                clause=clause.id,
                region=REGION_LABELS[shape.name],
                ring=shape.ring_name,
                listed=listed,
            )
        else:
            note = T(
                "%(clause)s: %(region)s replaced by %(ring)s",
                clause=clause.id,
                region=REGION_LABELS[shape.name],
                ring=shape.ring_name,
            )
        return _finding(shape, [clause.id], [note], [])
    required = {
        "aromatic_monocycle": T("an aromatic monocycle"),
        "monocycle": T("a monocycle"),
    }
    needs = [required[c.ring] for c in _clauses_for(definition, shape.name, "replace_ring")]
    if not needs:
        return _finding(
            shape,
            [],
            [],
            [
                T(
                    "%(region)s replaced by %(ring)s: no clause covers it",
                    region=REGION_LABELS[shape.name],
                    ring=shape.ring_name,
                )
            ],
        )
    kind = (
        T("not a monocycle")
        if not shape.ring_is_monocycle
        else T("not aromatic")
        if not shape.ring_is_aromatic
        else T("not allowed")
    )
    region, ring = REGION_LABELS[shape.name], shape.ring_name
    replaced = (
        T("%(region)s replaced by substituted %(ring)s", region=region, ring=ring)
        if shape.substituents
        else T("%(region)s replaced by %(ring)s", region=region, ring=ring)
    )
    return _finding(
        shape,
        [],
        [],
        [
            T(
                "%(replaced)s, which is %(kind)s; the definition requires %(needs)s",
                replaced=replaced,
                kind=kind,
                needs=needs[0],
            )
        ],
    )


def evaluate(decomposition: Decomposition, definition: DefinitionSemantics) -> ClassFinding:
    """Judge every changed region of `decomposition` against one definition's clauses."""
    regions = decomposition.regions
    if decomposition.identical_to_reference:
        return ClassFinding(
            "no_match", (), T("identical to fentanyl itself, the definition's reference")
        )
    findings: list[RegionFinding] = []
    excluded: list[str] = []

    acyl = regions["acyl"]
    if acyl.changed:
        clauses = _clauses_for(definition, "acyl", "replace_acyl")
        if acyl.problems or not clauses:
            findings.append(
                _finding(
                    acyl, [], [], acyl.problems or [T("acyl group changed: no clause covers it")]
                )
            )
        else:
            name = group_name(acyl.fragment)
            note = T("%(clause)s: propionyl replaced by %(name)s", clause=clauses[0].id, name=name)
            findings.append(_finding(acyl, [clauses[0].id], [note], []))

    if regions["aniline"].changed:
        findings.append(_judge_ring_region(definition, regions["aniline"]))

    pip = regions["piperidine"]
    if pip.changed:
        ids, notes, uncovered = _judge_substituents(definition, pip)
        findings.append(_finding(pip, ids, notes, pip.problems + uncovered))

    linker, terminal = regions["linker"], regions["terminal_ring"]
    group_clauses = [
        c
        for c in definition.clauses.values()
        if c.change == "replace_group" and {"linker", "terminal_ring"} <= set(c.regions)
    ]
    if linker.changed or terminal.changed:
        if group_clauses:
            clause = group_clauses[0]
            if linker.absent and clause.except_hydrogen:
                excluded.append(
                    T(
                        "%(clause)s: the phenethyl group is replaced by a hydrogen atom, which "
                        "the definition expressly excludes",
                        clause=clause.id,
                    )
                )
                findings.append(RegionFinding("linker", None, excluded[-1], (), covered=False))
            elif linker.absent:
                findings.append(
                    RegionFinding(
                        "linker",
                        clause.id,
                        T("%(clause)s: phenethyl group replaced by hydrogen", clause=clause.id),
                        (),
                        True,
                    )
                )
            else:
                # Condition 4 allows any group in place of phenethyl, but not a ring joining it
                # to another region, nor a second group on the nitrogen.
                problems = [p for p in linker.problems if "ring joins" in p or p == QUATERNARY]
                replaced_by = group_name(linker.fragment)
                atoms = tuple(sorted(linker.atoms | terminal.atoms))
                findings.append(
                    RegionFinding(
                        "linker",
                        None if problems else clause.id,
                        joined(problems)
                        if problems
                        else T(
                            "%(clause)s: phenethyl group replaced by %(name)s",
                            clause=clause.id,
                            name=replaced_by,
                        ),
                        atoms,
                        covered=not problems,
                    )
                )
        elif linker.absent:
            findings.append(
                RegionFinding(
                    "linker",
                    None,
                    T("phenethyl group replaced by hydrogen: no clause covers it"),
                    (),
                    False,
                )
            )
        elif linker.acyclic_replacement:
            findings.append(
                RegionFinding(
                    "linker",
                    None,
                    T(
                        "phenethyl group replaced by %(name)s, which has no ring: no clause "
                        "covers it",
                        name=group_name(linker.fragment),
                    ),
                    tuple(sorted(linker.atoms)),
                    False,
                )
            )
        else:
            if linker.changed:
                ids, notes, uncovered = _judge_substituents(definition, linker)
                findings.append(_finding(linker, ids, notes, linker.problems + uncovered))
            if terminal.changed:
                findings.append(_judge_ring_region(definition, terminal))

    changes = joined(f.explanation for f in findings)
    # Regions as in fentanyl complete the picture (every atom in one region, for depiction).
    placed = {atom for finding in findings for atom in finding.atoms}
    findings += [
        RegionFinding(name, None, UNCHANGED, tuple(sorted(region.atoms)), covered=True)
        for name, region in regions.items()
        if region.atoms and not region.atoms & placed
    ]
    if excluded:
        return ClassFinding("no_match", tuple(findings), joined(excluded))
    open_questions = list(dict.fromkeys(f.explanation for f in findings if not f.covered))
    if open_questions:
        # A question of reading (an open list, two clauses that pull apart) is not a change the
        # definition has no clause for: it already says why an expert must decide.
        # Nor is it ever settled as "not a member": the text leaves it open.
        if all(OPEN_READING in question for question in open_questions):
            return ClassFinding(
                "review", tuple(findings), T("%(questions)s.", questions=joined(open_questions))
            )
        reason = T(
            "%(questions)s. %(reason)s",
            questions=joined(open_questions),
            reason=definition.uncovered_reason,
        )
        return ClassFinding(
            "review" if definition.uncovered == "review" else "no_match",
            tuple(findings),
            reason,
        )
    return ClassFinding("controlled", tuple(findings), changes)
