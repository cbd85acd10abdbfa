"""What a chemist asks about a structure after the verdict: formula, weight, InChIKey, the CAS
numbers and names the rule data knows for it, and the closest listed substances."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator, rdMolDescriptors
from rdkit.Chem.Descriptors import MolWt  # type: ignore[attr-defined]

from liaison.chem.compiled import load_rulebook
from liaison.chem.rulebook import RuleBook
from liaison.chem.standardize import standardize, structure_keys

# Morgan radius 2 in 2048 bits (ECFP4-like): the usual choice for "nearest analogue".
_RADIUS, _BITS = 2, 2048
SIMILAR_COUNT = 5


@dataclass(frozen=True)
class Similar:
    name: str
    rules: tuple[str, ...]  # ids of the listings naming it
    smiles: str
    similarity: float  # Tanimoto on Morgan fingerprints, 0..1


@dataclass(frozen=True)
class Facts:
    formula: str
    molecular_weight: float  # average, g/mol
    inchikey: str
    cas: tuple[str, ...]
    synonyms: tuple[str, ...]
    similar: tuple[Similar, ...]
    molblock: str


def _fingerprint(molecule: Chem.Mol) -> DataStructs.ExplicitBitVect:
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=_RADIUS, fpSize=_BITS)
    fingerprint: DataStructs.ExplicitBitVect = generator.GetFingerprint(molecule)
    return fingerprint


@dataclass(frozen=True)
class _Listed:
    name: str
    inchikey: str
    smiles: str
    rules: tuple[str, ...]
    fingerprint: DataStructs.ExplicitBitVect


@lru_cache(maxsize=1)
def _listed() -> tuple[_Listed, ...]:
    """One per distinct listed structure, with the ids of every listing naming it."""
    book = load_rulebook()
    by_key: dict[str, list[str]] = {}
    first: dict[str, tuple[str, str]] = {}
    for entry in book.entries:
        by_key.setdefault(entry.inchikey, []).append(entry.id)
        first.setdefault(entry.inchikey, (entry.name, entry.smiles))
    listed = []
    for key, rules in by_key.items():
        name, smiles = first[key]
        molecule = standardize(Chem.MolFromSmiles(smiles))
        listed.append(_Listed(name, key, smiles, tuple(rules), _fingerprint(molecule)))
    return tuple(listed)


def _names_for(book: RuleBook, inchikey: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(CAS numbers, names) the listings give for this structure, in file order."""
    cas: dict[str, None] = {}
    names: dict[str, None] = {}
    for entry in book.by_inchikey.get(inchikey, []):
        cas.update(dict.fromkeys(entry.cas))
        names.update(dict.fromkeys((entry.name, *entry.synonyms, *entry.names_zh)))
    return tuple(cas), tuple(names)


def facts_of(smiles: str) -> Facts | None:
    """Facts about a standardized structure (SMILES from an identification); None if it
    cannot be read."""
    molecule = Chem.MolFromSmiles(smiles)
    if molecule is None:
        return None
    book = load_rulebook()
    inchikey, _ = structure_keys(molecule)
    cas, synonyms = _names_for(book, inchikey)
    fingerprint = _fingerprint(molecule)
    listed = [item for item in _listed() if item.inchikey != inchikey]
    scores = DataStructs.BulkTanimotoSimilarity(fingerprint, [item.fingerprint for item in listed])
    ranked = sorted(zip(scores, listed, strict=True), key=lambda pair: -pair[0])
    similar = tuple(
        Similar(item.name, item.rules, item.smiles, round(score, 3))
        for score, item in ranked[:SIMILAR_COUNT]
    )
    return Facts(
        formula=rdMolDescriptors.CalcMolFormula(molecule),
        molecular_weight=round(MolWt(molecule), 2),
        inchikey=inchikey,
        cas=cas,
        synonyms=synonyms,
        similar=similar,
        molblock=Chem.MolToMolBlock(molecule),
    )
