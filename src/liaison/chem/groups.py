"""A substituent the engine has no name for, described in words: its formula, the functional
groups and rings in it, and the atom it is bonded through. The SMILES follows in brackets
for the chemist who wants the exact group, never in place of the words."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from rdkit import Chem

from liaison.messages import T, Text, joined

# Checked in order; a group is named once however often it occurs.
_FUNCTIONAL_GROUPS = (
    (T("a nitrile"), "C#N"),
    (T("a nitro group"), "[N+](=O)[O-]"),
    (T("a sulfonamide"), "S(=O)(=O)N"),
    (T("a sulfonyl"), "S(=O)=O"),
    (T("a carboxylic acid"), "C(=O)[OX2H1]"),
    (T("an ester"), "C(=O)[OX2][#6]"),
    (T("an amide"), "C(=O)N"),
    (T("a ketone"), "[#6][CX3](=O)[#6]"),
    (T("a aldehyde"), "[CX3H1](=O)"),
    (T("a hydroxyl"), "[OX2H1]"),
    (T("an ether oxygen"), "[OD2]([#6])[#6]"),
    (T("an amine"), "[NX3;!$(N-C=O);!$(N-S=O)]"),
    (T("a thioether"), "[SD2]([#6])[#6]"),
    (T("a halogen"), "[F,Cl,Br,I]"),
    (T("a double bond"), "C=C"),
    (T("a triple bond"), "C#C"),
)
_NUMBERS = {1: T("one"), 2: T("two"), 3: T("three"), 4: T("four")}


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


def _rings(molecule: Chem.Mol) -> Text | None:
    rings = molecule.GetRingInfo().AtomRings()
    if not rings:
        return None
    aromatic = sum(all(molecule.GetAtomWithIdx(i).GetIsAromatic() for i in ring) for ring in rings)
    hetero = sum(any(molecule.GetAtomWithIdx(i).GetSymbol() != "C" for i in ring) for ring in rings)
    sizes = "-, ".join(str(len(ring)) for ring in rings)
    count = _NUMBERS.get(len(rings), str(len(rings)))
    facts = [
        T("%(count)s ring (%(sizes)s-membered", count=count, sizes=sizes)
        if len(rings) == 1
        else T("%(count)s rings (%(sizes)s-membered", count=count, sizes=sizes)
    ]
    if aromatic:
        facts.append(T("%(count)s aromatic", count=_NUMBERS.get(aromatic, str(aromatic))))
    if hetero:
        facts.append(T("%(count)s with a heteroatom", count=_NUMBERS.get(hetero, str(hetero))))
    shared = [len(set(a) & set(b)) for i, a in enumerate(rings) for b in rings[i + 1 :]]
    if any(count > 2 for count in shared):
        facts.append(T("bridged"))
    elif any(count == 2 for count in shared):
        facts.append(T("fused"))
    return T("%(facts)s)", facts=joined(facts))


def describe_group(fragment_smiles: str) -> Text:
    """'a group of formula C3H2NO with a nitrile, bonded through carbon (SMILES …)'."""
    molecule = Chem.MolFromSmiles(fragment_smiles)
    if molecule is None:
        return T("an unnamed group (SMILES %(smiles)s)", smiles=fragment_smiles)
    features: list[str] = [
        name for name, pattern in _patterns() if molecule.HasSubstructMatch(pattern)
    ]
    if T("a sulfonamide") in features:  # a sulfonamide is a sulfonyl: said once
        features.remove(T("a sulfonyl"))
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
    names = {"C": T("carbon"), "N": T("nitrogen"), "O": T("oxygen"), "S": T("sulfur")}
    formula = _formula(molecule)
    if len(features) > 1:
        what = T(
            "a group of formula %(formula)s with %(features)s and %(last)s",
            formula=formula,
            features=joined(features[:-1], ", "),
            last=features[-1],
        )
    elif features:
        what = T(
            "a group of formula %(formula)s with %(features)s",
            formula=formula,
            features=features[0],
        )
    else:
        what = T("a group of formula %(formula)s", formula=formula)
    if through:
        what = T(
            "%(group)s, bonded through %(atoms)s",
            group=what,
            atoms=joined((names.get(s, s) for s in through), " and "),
        )
    return T("%(group)s (SMILES %(smiles)s)", group=what, smiles=fragment_smiles)
