"""A substituent the engine has no name for, described in words: its formula, the functional
groups and rings in it, and the atom it is bonded through. The SMILES follows in brackets
for the chemist who wants the exact group, never in place of the words."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from rdkit import Chem

# Checked in order; a group is named once however often it occurs.
_FUNCTIONAL_GROUPS = (
    ("a nitrile", "C#N"),
    ("a nitro group", "[N+](=O)[O-]"),
    ("a sulfonamide", "S(=O)(=O)N"),
    ("a sulfonyl", "S(=O)=O"),
    ("a carboxylic acid", "C(=O)[OX2H1]"),
    ("an ester", "C(=O)[OX2][#6]"),
    ("an amide", "C(=O)N"),
    ("a ketone", "[#6][CX3](=O)[#6]"),
    ("a aldehyde", "[CX3H1](=O)"),
    ("a hydroxyl", "[OX2H1]"),
    ("an ether oxygen", "[OD2]([#6])[#6]"),
    ("an amine", "[NX3;!$(N-C=O);!$(N-S=O)]"),
    ("a thioether", "[SD2]([#6])[#6]"),
    ("a halogen", "[F,Cl,Br,I]"),
    ("a double bond", "C=C"),
    ("a triple bond", "C#C"),
)
_NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four"}


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, Chem.Mol], ...]:
    return tuple((name, Chem.MolFromSmarts(smarts)) for name, smarts in _FUNCTIONAL_GROUPS)


def _formula(molecule: Chem.Mol) -> str:
    """Hill formula of the group's own atoms (the attachment point * left out)."""
    counts: Counter[str] = Counter()
    for atom in molecule.GetAtoms():
        if atom.GetAtomicNum() == 0:
            continue
        counts[atom.GetSymbol()] += 1
        counts["H"] += atom.GetTotalNumHs()
    order = ["C", "H"] if counts["C"] else []
    order += sorted(symbol for symbol in counts if symbol not in order)
    return "".join(f"{s}{counts[s] if counts[s] > 1 else ''}" for s in order if counts[s])


def _rings(molecule: Chem.Mol) -> str:
    rings = molecule.GetRingInfo().AtomRings()
    if not rings:
        return ""
    aromatic = sum(all(molecule.GetAtomWithIdx(i).GetIsAromatic() for i in ring) for ring in rings)
    hetero = sum(any(molecule.GetAtomWithIdx(i).GetSymbol() != "C" for i in ring) for ring in rings)
    sizes = "-, ".join(str(len(ring)) for ring in rings)
    count = _NUMBERS.get(len(rings), str(len(rings)))
    text = f"{count} ring{'s' if len(rings) > 1 else ''} ({sizes}-membered"
    if aromatic:
        text += f"; {_NUMBERS.get(aromatic, str(aromatic))} aromatic"
    if hetero:
        text += f"; {_NUMBERS.get(hetero, str(hetero))} with a heteroatom"
    shared = [len(set(a) & set(b)) for i, a in enumerate(rings) for b in rings[i + 1 :]]
    if any(count > 2 for count in shared):
        text += "; bridged"
    elif any(count == 2 for count in shared):
        text += "; fused"
    return text + ")"


def describe_group(fragment_smiles: str) -> str:
    """'a group of formula C3H2NO with a nitrile, bonded through carbon (SMILES …)'."""
    molecule = Chem.MolFromSmiles(fragment_smiles)
    if molecule is None:
        return f"an unnamed group (SMILES {fragment_smiles})"
    features = [name for name, pattern in _patterns() if molecule.HasSubstructMatch(pattern)]
    if "a sulfonamide" in features:  # a sulfonamide is a sulfonyl: said once
        features.remove("a sulfonyl")
    rings = _rings(molecule)
    if rings:
        features.append(rings)
    through = sorted(
        {
            neighbour.GetSymbol()
            for atom in molecule.GetAtoms()
            if atom.GetAtomicNum() == 0
            for neighbour in atom.GetNeighbors()
        }
    )
    names = {"C": "carbon", "N": "nitrogen", "O": "oxygen", "S": "sulfur"}
    text = f"a group of formula {_formula(molecule)}"
    if features:
        text += " with " + (
            ", ".join(features[:-1]) + " and " + features[-1] if len(features) > 1 else features[0]
        )
    if through:
        text += ", bonded through " + " and ".join(names.get(s, s) for s in through)
    return f"{text} (SMILES {fragment_smiles})"
