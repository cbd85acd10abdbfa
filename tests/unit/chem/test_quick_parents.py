"""quick_parents: the standardized parents without MolStandardize, only where its steps would
change nothing. A nitro group drawn [N+](=O)[O-] is such a case (the form the normalizer
makes); the nitrate ion, whose second O- the uncharger protonates, is not."""

from __future__ import annotations

from pathlib import Path

from rdkit import Chem, RDConfig

from liaison.chem.standardize import plain_atoms, quick_parents, standardize_all

NCI = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
NITRO = Chem.MolFromSmarts("[N+](=O)[O-]")
# Nitro groups beside what the standardizer might act on: an acid, a phenol, a hydrate,
# a nitrate ester, a nitramine, nitromethane's acidic C-H, two nitro groups, a salt's HCl.
DRAWN = (
    "C[N+](=O)[O-]",
    "CN(=O)=O",
    "OC(=O)C[N+](=O)[O-]",
    "[O-][N+](=O)c1ccc(O)cc1C(=O)O",
    "OC(O)(C)C[N+](=O)[O-]",
    "OCC(O[N+]([O-])=O)CO[N+]([O-])=O",
    "CN1CCN([N+](=O)[O-])CC1",
    "[O-][N+](=O)c1ccc(cc1)[N+](=O)[O-]",
    "[O-][N+](=O)c1ccc(cc1)C(=O)NCCN(C)C.Cl",
    "O[N+](=O)[O-]",
)


def _smiles(parents: list[Chem.Mol]) -> list[str]:
    return [Chem.MolToSmiles(parent) for parent in parents]


def test_a_nitro_group_is_judged_as_drawn_as_standardization_would() -> None:
    texts = [line.split()[0] for line in NCI.read_text().splitlines() if line.strip()]
    checked = 0
    for text in [*texts, *DRAWN]:
        molecule = Chem.MolFromSmiles(text)
        if molecule is None or not molecule.HasSubstructMatch(NITRO):
            continue
        quick = quick_parents(molecule)
        if quick is None:  # another charge, a metal, an isotope...
            continue
        assert _smiles(quick) == _smiles(standardize_all(molecule)), text
        checked += 1
    assert checked > 100  # nitro compounds are common in the NCI set


def test_nitro_groups_alone_leave_a_molecule_plain() -> None:
    assert plain_atoms(Chem.MolFromSmiles("[O-][N+](=O)c1ccccc1"))
    assert plain_atoms(Chem.MolFromSmiles("OCC(O[N+]([O-])=O)CO[N+]([O-])=O"))
    assert not plain_atoms(Chem.MolFromSmiles("[O-][N+](=O)c1ccccc1.[Na+].[Cl-]"))
    assert not plain_atoms(Chem.MolFromSmiles("C[N+](=O)[O-].C[O-]"))
    assert not plain_atoms(Chem.MolFromSmiles("C=[N+]([O-])O"))  # a nitronic acid


def test_the_nitrate_ion_is_left_to_standardization() -> None:
    nitrate = Chem.MolFromSmiles("[O-][N+](=O)[O-]")
    assert not plain_atoms(nitrate)
    assert _smiles(standardize_all(nitrate)) == ["O=[N+]([O-])O"]  # one oxygen protonated
