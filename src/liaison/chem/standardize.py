"""Standardization: the structure the law is applied to, as RDKit MolStandardize makes it.

Every distinct organic fragment but known counter-ions and solvents (a salt gives one, a
mixture several), neutralized, normalized, ketone hydrates back to the ketone,
isotopes removed (a deuterated or 13C-labelled substance is the substance). Stereo is kept:
whether it matters is decided per entry (a listing that covers isomers matches on the
connectivity layer of the InChIKey).

A structure without carbon is an inorganic substance, judged whole: a salt keeps its cations
(sodium chloride is not hydrogen chloride, sodium sulfate not sulfuric acid) and its anion as
drawn (permanganate is not torn into Mn and oxide ions). Beside an organic substance, the
inorganic pieces stay counter-ions (fentanyl hydrochloride is fentanyl, not hydrochloric acid).
"""

from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING

from rdkit import Chem, rdBase
from rdkit.Chem import rdMolDescriptors, rdqueries

if TYPE_CHECKING:
    # Imported where used: a screen whose records the prefilter clears never standardizes.
    from rdkit.Chem.MolStandardize import rdMolStandardize

rdBase.DisableLog("rdApp.*")  # parse failures are reported in the verdict, not on stderr


@lru_cache(maxsize=1)
def _tools() -> tuple[rdMolStandardize.LargestFragmentChooser, rdMolStandardize.Uncharger]:
    from rdkit.Chem.MolStandardize import rdMolStandardize

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


@lru_cache(maxsize=1)
def _largest_counter_ion() -> int:
    return max(Chem.MolFromSmiles(smiles).GetNumHeavyAtoms() for smiles in COUNTER_IONS)


# A ketone hydrate (gem-diol on a carbon with no other heteroatom): 4-piperidone monohydrate
# hydrochloride is sold drawn as OC1(O)CCNCC1.Cl; the law lists the ketone and its salts.
_GEM_DIOL = Chem.MolFromSmarts("[CX4;!$(C(O)(O)[!#6])]([OX2H1])[OX2H1]")
# The same without its recursive part, which costs a search of the whole molecule: asked
# first, a molecule without a carbon bearing two OH (nearly every one) needs no more.
_TWO_HYDROXYLS = Chem.MolFromSmarts("[CX4]([OX2H1])[OX2H1]")


def _has_gem_diol(molecule: Chem.Mol) -> bool:
    return bool(
        molecule.HasSubstructMatch(_TWO_HYDROXYLS) and molecule.HasSubstructMatch(_GEM_DIOL)
    )


_CARBON = rdqueries.AtomNumEqualsQueryAtom(6)


def _fragment_key(fragment: Chem.Mol) -> str:
    _, uncharger = _tools()
    return str(Chem.MolToSmiles(uncharger.uncharge(fragment), isomericSmiles=False))


# Bonds of alkali and alkaline-earth metals are ionic: [Na]Cl and [Na+].[Cl-] are one salt.
# Other metals keep their bonds (the Mn=O of permanganate); InChI disconnects them itself.
_IONIC_BOND = "[Li,Na,K,Rb,Cs,Mg,Ca,Sr,Ba]~[!#1]"
_WATER = "O"
# Hydronium is a proton on water: [OH3+].[Cl-] is hydrochloric acid, as [H+].[Cl-] is.
_HYDRONIUM = "[OH3+]"


@lru_cache(maxsize=1)
def _cleaners() -> tuple[
    rdMolStandardize.MetalDisconnector, rdMolStandardize.Normalizer, rdMolStandardize.Reionizer
]:
    from rdkit.Chem.MolStandardize import rdMolStandardize

    return (
        rdMolStandardize.MetalDisconnector(),
        rdMolStandardize.Normalizer(),
        rdMolStandardize.Reionizer(),
    )


def cleanup(molecule: Chem.Mol) -> Chem.Mol:
    """rdMolStandardize.Cleanup(molecule), its steps in its order, with tools made once: Cleanup
    builds its metal disconnector, normalizer and reionizer again for every molecule, which
    costs more than using them on a metal complex."""
    disconnector, normalizer, reionizer = _cleaners()
    cleaned = Chem.RWMol(Chem.RemoveHs(molecule))
    disconnector.DisconnectInPlace(cleaned)
    normalizer.normalizeInPlace(cleaned)
    reionizer.reionizeInPlace(cleaned)
    Chem.AssignStereochemistry(cleaned, cleanIt=True, force=True)
    return cleaned


@lru_cache(maxsize=1)
def _ionic_disconnector() -> rdMolStandardize.MetalDisconnector:
    from rdkit.Chem.MolStandardize import rdMolStandardize

    disconnector = rdMolStandardize.MetalDisconnector()
    bond = Chem.MolFromSmarts(_IONIC_BOND)
    disconnector.SetMetalNof(bond)
    disconnector.SetMetalNon(bond)
    return disconnector


def _inorganic_substances(fragments: tuple[Chem.Mol, ...]) -> list[Chem.Mol]:
    """The substances of a structure without carbon, largest first: each distinct neutral
    fragment, and the charged ones together as one salt. Water goes when anything else is
    left (a hydrate, an aqueous acid)."""
    neutral: dict[str, Chem.Mol] = {}
    ions: list[Chem.Mol] = []
    for fragment in fragments:
        fragment.UpdatePropertyCache(strict=False)
        Chem.GetSymmSSSR(fragment)
        key = Chem.MolToSmiles(fragment)
        if key == _HYDRONIUM:
            ions.append(Chem.MolFromSmiles("[H+]"))
        elif Chem.GetFormalCharge(fragment):
            ions.append(fragment)
        else:
            neutral.setdefault(key, fragment)
    substances = [fragment for key, fragment in neutral.items() if key != _WATER]
    if ions:
        substances.append(_salt(ions))
    if not substances:  # water itself
        substances = list(neutral.values())
    return sorted(substances, key=lambda substance: -substance.GetNumHeavyAtoms())


def _salt(ions: list[Chem.Mol]) -> Chem.Mol:
    """The ions as one salt. One cation and one anion, however often each is drawn, are put
    in the proportion that makes the salt neutral: a query judges each distinct fragment once
    (query.smiles_shape), and calcium hypophosphite is Ca(H2PO2)2 however it was written."""
    distinct = {Chem.MolToSmiles(ion): ion for ion in ions}
    charges = [Chem.GetFormalCharge(ion) for ion in distinct.values()]
    parts = ions
    if len(charges) == 2 and charges[0] * charges[1] < 0:
        common = math.gcd(*charges)
        counts = (abs(charges[1]) // common, abs(charges[0]) // common)
        pairs = zip(distinct.values(), counts, strict=True)
        parts = [ion for ion, count in pairs for _ in range(count)]
    salt = parts[0]
    for ion in parts[1:]:
        salt = Chem.CombineMols(salt, ion)
    salt.UpdatePropertyCache(strict=False)
    Chem.GetSymmSSSR(salt)
    return salt


def _substance_fragments(molecule: Chem.Mol) -> list[Chem.Mol]:
    """The fragments that may be the substance: counter-ions, inorganic pieces and repeats
    dropped, largest first, every distinct one (the caller limits how many). When nothing is
    left (organic counter-ions or solvents only), the largest fragment of all, so every
    structure has a parent. Without carbon, the inorganic substances (_inorganic_substances)."""
    if len(Chem.GetMolFrags(molecule)) < 2:  # atom indices only: no copy of the molecule
        return [molecule]
    fragments = Chem.GetMolFrags(molecule, asMols=True, sanitizeFrags=False)
    organic = [fragment for fragment in fragments if fragment.GetAtomsMatchingQuery(_CARBON)]
    if not organic:
        return _inorganic_substances(fragments)
    sizes = Counter(fragment.GetNumHeavyAtoms() for fragment in organic)
    kept: dict[str | int, Chem.Mol] = {}
    for index, fragment in enumerate(organic):
        fragment.UpdatePropertyCache(strict=False)
        Chem.GetSymmSSSR(fragment)  # ring perception; the fragment keeps the parent's aromaticity
        size = fragment.GetNumHeavyAtoms()
        if size > _largest_counter_ion() and sizes[size] == 1:
            # No counter-ion, no repeat (uncharging keeps heavy atoms): its key, the dearest
            # step here, would tell nothing.
            kept[index] = fragment
            continue
        key = _fragment_key(fragment)
        if key not in _counter_ion_keys():
            kept.setdefault(key, fragment)
    if not kept:
        largest_fragment, _ = _tools()
        return [largest_fragment.choose(molecule)]
    ordered = sorted(kept.values(), key=lambda f: -f.GetNumHeavyAtoms())
    return ordered


def _dehydrate_gem_diols(molecule: Chem.Mol) -> Chem.Mol:
    """C(OH)(OH) -> C=O: the hydrate of a ketone is judged as the ketone."""
    if not _has_gem_diol(molecule):
        return molecule
    matches = molecule.GetSubstructMatches(_GEM_DIOL)
    editable = Chem.RWMol(molecule)
    removed: list[int] = []
    for carbon, first, second in matches:
        if first in removed or second in removed:
            continue
        editable.GetBondBetweenAtoms(carbon, first).SetBondType(Chem.BondType.DOUBLE)
        editable.GetAtomWithIdx(first).SetNumExplicitHs(0)
        removed.append(second)
    for index in sorted(removed, reverse=True):
        editable.RemoveAtom(index)
    result = editable.GetMol()
    Chem.SanitizeMol(result)
    return result


def _standardize_fragment(fragment: Chem.Mol) -> Chem.Mol:
    _, uncharger = _tools()
    parent = _dehydrate_gem_diols(uncharger.uncharge(fragment))
    if any(atom.GetIsotope() for atom in parent.GetAtoms()):
        parent = Chem.RWMol(parent)
        for atom in parent.GetAtoms():
            atom.SetIsotope(0)
        parent = Chem.RemoveHs(parent.GetMol())  # deuterium atoms become implicit hydrogens
    return parent


def standardize_all(molecule: Chem.Mol) -> list[Chem.Mol]:
    """The standardized parent of every substance `molecule` may hold (one for a pure substance
    or a salt, several for a mixture), largest first; the input is left as it was."""
    if molecule.GetAtomsMatchingQuery(_CARBON):
        cleaned = cleanup(molecule)
    else:  # Cleanup would disconnect every metal and reionize the salt's acid
        cleaned = _ionic_disconnector().Disconnect(Chem.RemoveHs(molecule))
    return [_standardize_fragment(fragment) for fragment in _substance_fragments(cleaned)]


def standardize(molecule: Chem.Mol) -> Chem.Mol:
    """The standardized parent of `molecule`'s largest substance fragment."""
    return standardize_all(molecule)[0]


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


def quick_parents(molecule: Chem.Mol) -> list[Chem.Mol] | None:
    """standardize_all(molecule) without the expensive steps, when they would change nothing:
    no charge, no isotope, no metal, every atom at its lowest valence, nitro groups as the
    normalizer writes them (it only rewrites other charged or hypervalent groups: sulfoxides,
    N-oxides, N(=O)=O...). Then the
    parents are the substance fragments themselves, ketone hydrates turned back into ketones.
    None when the full standardization is needed."""
    if not plain_atoms(molecule):
        return None
    return [_dehydrate_gem_diols(fragment) for fragment in _substance_fragments(molecule)]


def plain_atoms(molecule: Chem.Mol) -> bool:
    """No charge, no isotope, no metal, every atom at its lowest valence (or a sulfonyl's,
    a phosphate's), but for nitro groups drawn [N+](=O)[O-]: what no MolStandardize step
    changes."""
    unusual, without_nitro, isotope = _unusual_atom_queries()
    if molecule.HasSubstructMatch(without_nitro) and molecule.HasSubstructMatch(unusual):
        return False
    return not molecule.GetAtomsMatchingQuery(isotope)


# Groups a chemist draws for the less usual tautomer: enols, enethiols, imidic acids, lactims,
# enamines, NH imines. A drawing without any is already in the form rules are written for.
UNUSUAL_TAUTOMER = Chem.MolFromSmarts(
    "[$([O,S;X2;H1]-[#6]=[#6,#7]),$([O,S;X2;H1]-c:n),$([N;X3;!H0]-[C]=[C]),$([C]=[N;X2;H1])]"
)


def judged_as_drawn(molecule: Chem.Mol) -> bool:
    """True when the parents of `molecule` are its own fragments, atoms, bonds and aromaticity
    as drawn (quick_parents' condition, and no ketone hydrate to turn back), and none is an
    unusual tautomer, so no tautomer of it is ever matched against a pattern."""
    return (
        plain_atoms(molecule)
        and not _has_gem_diol(molecule)
        and not molecule.HasSubstructMatch(UNUSUAL_TAUTOMER)
    )


# A nitro group's charged atoms as drawn charge-separated, [N+](=O)[O-]: the form the
# normalizer makes of N(=O)=O, which the uncharger keeps (its N+ has no hydrogen to give up,
# and the O- balances it), so no step changes it. Its third neighbour is uncharged: in the
# nitrate ion, [O-][N+](=O)[O-], the uncharger does protonate one oxygen.
_NITRO_NITROGEN = "$([N+](=O)(-[O-])-[!-])"
_NITRO_OXYGEN = "$([O-]-[N+](=O)-[!-])"


@lru_cache(maxsize=1)
def _unusual_atom_queries() -> tuple[Chem.Mol, Chem.Mol, Chem.Atom]:
    """A SMARTS atom matching what plain_atoms refuses (a charge, another element, a higher
    valence; a nitro group's charged atoms excepted), the same without the exception, and a
    query for isotopes: tested in C++, 30x cheaper than a loop over atoms. The exception's
    recursive SMARTS cost a search of the molecule each, paid only when the second matches
    (a charge, a nitro group: few molecules)."""
    parts = [
        f"!+0&!{_NITRO_NITROGEN}&!{_NITRO_OXYGEN}",
        "&".join(f"!#{number}" for number in _LOWEST_VALENCE),
    ]
    for number, lowest in _LOWEST_VALENCE.items():
        four = _FOUR_COORDINATE_VALENCE.get(number)
        nitro = {7: f"&!{_NITRO_NITROGEN}", 8: f"&!{_NITRO_OXYGEN}"}.get(number, "")
        if four is None:
            parts.append(f"#{number}&!v{lowest}{nitro}")
        else:  # v != lowest and not (D4 and v == four)
            parts += [f"#{number}&!v{lowest}&!D4", f"#{number}&!v{lowest}&!v{four}"]
    unusual = f"[{','.join(parts)}]"
    without_nitro = unusual
    for exception in (f"&!{_NITRO_NITROGEN}", f"&!{_NITRO_OXYGEN}"):
        without_nitro = without_nitro.replace(exception, "")
    return (
        Chem.MolFromSmarts(unusual),
        Chem.MolFromSmarts(without_nitro),
        rdqueries.IsotopeGreaterQueryAtom(0),
    )


@lru_cache(maxsize=1)
def _tautomer_enumerator() -> rdMolStandardize.TautomerEnumerator:
    from rdkit.Chem.MolStandardize import rdMolStandardize

    params = rdMolStandardize.CleanupParameters()
    # Bounded: the time limit is for the whole record.
    params.maxTautomers = 200  # type: ignore[assignment]
    params.maxTransforms = 500  # type: ignore[assignment]
    return rdMolStandardize.TautomerEnumerator(params)


def canonical_tautomer(parent: Chem.Mol) -> Chem.Mol:
    """RDKit's canonical tautomer of `parent`, atoms in the same order: NPP drawn as its enol
    and as its ketone give the same one."""
    return _tautomer_enumerator().Canonicalize(parent)


def structure_keys(parent: Chem.Mol) -> tuple[str, str]:
    """(full InChIKey, connectivity block) of a standardized parent; ('', '') if InChI fails."""
    key = str(Chem.MolToInchiKey(parent) or "")  # type: ignore[no-untyped-call]
    return key, key.split("-")[0] if key else ""


def molecular_formula(parent: Chem.Mol) -> str:
    return str(rdMolDescriptors.CalcMolFormula(parent))


def canonical_smiles(molecule: Chem.Mol) -> str:
    return str(Chem.MolToSmiles(molecule))
