"""standardize.cleanup: rdMolStandardize.Cleanup's steps with tools made once. It must give
what Cleanup gives, atom for atom; this fails if RDKit's Cleanup gains or changes a step."""

from __future__ import annotations

from pathlib import Path

from rdkit import Chem, RDConfig
from rdkit.Chem.MolStandardize import rdMolStandardize

from liaison.chem.standardize import cleanup

NCI = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
# What Cleanup acts on: metals bonded to N, O, S, halogens and carbon, pyridinium ligands,
# charged groups the normalizer rewrites, acids the reionizer moves a charge between,
# explicit hydrogens, stereo, isotopes.
DRAWN = (
    "N[Co](N)(N)(N)(N)Cl",
    "O=C1O[Cu]2(NC3=C1C=CC=C3)NC4=C(C=CC=C4)C(=O)O2",
    "N#CS[Co](SC#N)([N+]1=CC=CC=C1)([N+]2=CC=CC=C2)([N+]3=CC=CC=C3)[N+]4=CC=CC=C4",
    "SC#N.C1=CC=[N+](C=C1)[Zn++]([N+]2=CC=CC=C2)([N+]3=CC=CC=C3)[N+]4=CC=CC=C4",
    "Cl[Hg]C1=CC=CO1",
    "CC1=CC=C(C=C1)[Sb](C2=CC=C(C)C=C2)C3=CC=C(C)C=C3",
    "CCC(=O)O[Na]",
    "C[S+](C)[O-]",
    "CN(=O)=O",
    "C[n+]1ccccc1[O-]",
    "[O-]c1ccc(cc1)S(=O)(=O)O.[Na+]",
    "C[C@H](N)C(=O)O",
    "[2H]C([2H])([2H])N1CCC(CC1)N(c1ccccc1)C(=O)CC",
    "[H]OC(=O)C([H])([H])[H]",
    "C1C[N+](CCC1N(c1ccccc1)C(CC)=O)CCc1ccccc1",
)


def _written(molecule: Chem.Mol) -> str:
    return Chem.MolToSmiles(molecule) + "\n" + Chem.MolToMolBlock(molecule)


def test_cleanup_gives_what_rdkit_cleanup_gives() -> None:
    texts = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()]
    checked = 0
    for text in [*DRAWN, *texts]:
        molecule = Chem.MolFromSmiles(text)
        if molecule is None:
            continue
        assert _written(cleanup(molecule)) == _written(rdMolStandardize.Cleanup(molecule)), text
        checked += 1
    assert checked > 4000


def test_cleanup_leaves_its_input_as_it_was() -> None:
    molecule = Chem.MolFromSmiles("N[Co](N)(N)(N)(N)Cl")
    drawn = _written(molecule)
    cleaned = cleanup(molecule)
    assert _written(molecule) == drawn
    assert _written(cleaned) != drawn  # the metal was disconnected from the copy only
