"""Standardization: the structure the law is applied to, as RDKit MolStandardize makes it.

Largest organic fragment (salts, solvents and counter-ions go), neutralized, normalized,
isotopes removed (a deuterated or 13C-labelled substance is the substance). Stereo is kept:
whether it matters is decided per entry (a listing that covers isomers matches on the
connectivity layer of the InChIKey).
"""

from __future__ import annotations

from functools import lru_cache

from rdkit import Chem, rdBase
from rdkit.Chem import rdMolDescriptors
from rdkit.Chem.MolStandardize import rdMolStandardize

rdBase.DisableLog("rdApp.*")  # parse failures are reported in the verdict, not on stderr


@lru_cache(maxsize=1)
def _tools() -> tuple[rdMolStandardize.LargestFragmentChooser, rdMolStandardize.Uncharger]:
    return (
        rdMolStandardize.LargestFragmentChooser(preferOrganic=True),
        rdMolStandardize.Uncharger(canonicalOrder=True),
    )


# Acids, bases and solvents that substances are sold or seized with. They are dropped before
# the largest fragment is chosen, so a counter-ion bigger than the substance (4-piperidone
# citrate, a tosylate) is never taken for it.
COUNTER_IONS = (
    "Cl",
    "Br",
    "I",
    "F",
    "O",
    "OS(=O)(=O)O",
    "OP(=O)(O)O",
    "O[N+](=O)[O-]",
    "CC(=O)O",
    "OC(=O)C(F)(F)F",
    "OC=O",
    "OC(=O)C(=O)O",
    "OC(=O)CC(O)(CC(=O)O)C(=O)O",
    "OC(=O)C(O)C(O)C(=O)O",
    "OC(=O)C=CC(=O)O",
    "OC(=O)CCC(=O)O",
    "CC(O)C(=O)O",
    "OC(=O)CC(O)C(=O)O",
    "CS(=O)(=O)O",
    "Cc1ccc(S(=O)(=O)O)cc1",
    "OS(=O)(=O)c1ccccc1",
    "OC(=O)c1ccccc1",
    "CCO",
    "CO",
    "CC(C)O",
    "CC(C)=O",
    "ClCCl",
    "ClC(Cl)Cl",
    "[Na]",
    "[K]",
    "[Li]",
    "[Ca]",
    "[Mg]",
    "[Zn]",
    "[NH4+]",
    "N",
)


@lru_cache(maxsize=1)
def _counter_ion_keys() -> frozenset[str]:
    _, uncharger = _tools()
    return frozenset(
        Chem.MolToSmiles(uncharger.uncharge(Chem.MolFromSmiles(s)), isomericSmiles=False)
        for s in COUNTER_IONS
    )


def _drop_counter_ions(molecule: Chem.Mol) -> Chem.Mol:
    fragments = Chem.GetMolFrags(molecule, asMols=True, sanitizeFrags=False)
    if len(fragments) < 2:
        return molecule
    _, uncharger = _tools()
    keys = _counter_ion_keys()
    kept = [
        fragment
        for fragment in fragments
        if Chem.MolToSmiles(uncharger.uncharge(fragment), isomericSmiles=False) not in keys
    ]
    if not kept or len(kept) == len(fragments):
        return molecule
    combined: Chem.Mol = kept[0]
    for fragment in kept[1:]:
        combined = Chem.CombineMols(combined, fragment)
    return combined


def standardize(molecule: Chem.Mol) -> Chem.Mol:
    """The standardized parent of `molecule` (a new molecule; the input is left as it was)."""
    largest_fragment, uncharger = _tools()
    parent = rdMolStandardize.Cleanup(molecule)
    parent = largest_fragment.choose(_drop_counter_ions(parent))
    parent = uncharger.uncharge(parent)
    if any(atom.GetIsotope() for atom in parent.GetAtoms()):
        parent = Chem.RWMol(parent)
        for atom in parent.GetAtoms():
            atom.SetIsotope(0)
        parent = Chem.RemoveHs(parent.GetMol())  # deuterium atoms become implicit hydrogens
    return parent


# Elements whose neutral atoms at their lowest valence no MolStandardize step touches.
_LOWEST_VALENCE = {
    1: 1,
    5: 3,
    6: 4,
    7: 3,
    8: 2,
    9: 1,
    14: 4,
    15: 3,
    16: 2,
    17: 1,
    34: 2,
    35: 1,
    53: 1,
}
# Four-coordinate S(VI) and P(V) (sulfonyl, sulfonamide, phosphate): the normalizer only
# rewrites their three-coordinate or charged forms.
_FOUR_COORDINATE_VALENCE = {15: 5, 16: 6}


def quick_parent(molecule: Chem.Mol) -> Chem.Mol | None:
    """standardize(molecule) without the expensive steps, when they would change nothing: no
    charge, no isotope, no metal, every atom at its lowest valence (the normalizer only
    rewrites charged or hypervalent groups: sulfoxides, nitro groups, N-oxides...). Then the
    parent is the molecule itself, or its largest fragment once counter-ions are dropped.
    None when the full standardization is needed."""
    if not _plain_atoms(molecule):
        return None
    if len(Chem.GetMolFrags(molecule)) == 1:
        return molecule
    largest_fragment, _ = _tools()
    chosen: Chem.Mol = largest_fragment.choose(_drop_counter_ions(molecule))
    return chosen


def _plain_atoms(molecule: Chem.Mol) -> bool:
    for atom in molecule.GetAtoms():
        number = atom.GetAtomicNum()
        lowest = _LOWEST_VALENCE.get(number)
        if lowest is None or atom.GetFormalCharge() or atom.GetIsotope():
            return False
        valence = atom.GetTotalValence()
        if valence != lowest and not (
            atom.GetDegree() == 4 and valence == _FOUR_COORDINATE_VALENCE.get(number)
        ):
            return False
    return True


def structure_keys(parent: Chem.Mol) -> tuple[str, str]:
    """(full InChIKey, connectivity block) of a standardized parent; ('', '') if InChI fails."""
    key = str(Chem.MolToInchiKey(parent) or "")  # type: ignore[no-untyped-call]
    return key, key.split("-")[0] if key else ""


def molecular_formula(parent: Chem.Mol) -> str:
    return str(rdMolDescriptors.CalcMolFormula(parent))


def canonical_smiles(molecule: Chem.Mol) -> str:
    return str(Chem.MolToSmiles(molecule))
