"""Standardization: the structure the law is applied to, as RDKit MolStandardize makes it.

Largest organic fragment (salts, solvents and counter-ions go), neutralized, normalized,
isotopes removed (a deuterated or 13C-labelled substance is the substance). Stereo is kept:
whether it matters is decided per entry (a listing that covers isomers matches on the
connectivity layer of the InChIKey).
"""

from __future__ import annotations

from functools import lru_cache

from rdkit import Chem, rdBase
from rdkit.Chem.MolStandardize import rdMolStandardize

rdBase.DisableLog("rdApp.*")  # parse failures are reported in the verdict, not on stderr


@lru_cache(maxsize=1)
def _tools() -> tuple[rdMolStandardize.LargestFragmentChooser, rdMolStandardize.Uncharger]:
    return (
        rdMolStandardize.LargestFragmentChooser(preferOrganic=True),
        rdMolStandardize.Uncharger(canonicalOrder=True),
    )


def standardize(molecule: Chem.Mol) -> Chem.Mol:
    """The standardized parent of `molecule` (a new molecule; the input is left as it was)."""
    largest_fragment, uncharger = _tools()
    parent = rdMolStandardize.Cleanup(molecule)
    parent = largest_fragment.choose(parent)
    parent = uncharger.uncharge(parent)
    if any(atom.GetIsotope() for atom in parent.GetAtoms()):
        parent = Chem.RWMol(parent)
        for atom in parent.GetAtoms():
            atom.SetIsotope(0)
        parent = Chem.RemoveHs(parent.GetMol())  # deuterium atoms become implicit hydrogens
    return parent


def structure_keys(parent: Chem.Mol) -> tuple[str, str]:
    """(full InChIKey, connectivity block) of a standardized parent; ('', '') if InChI fails."""
    key = str(Chem.MolToInchiKey(parent) or "")  # type: ignore[no-untyped-call]
    return key, key.split("-")[0] if key else ""


def canonical_smiles(molecule: Chem.Mol) -> str:
    return str(Chem.MolToSmiles(molecule))
