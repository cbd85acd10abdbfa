"""What kind of query a text is, and the molecule it stands for."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdkit import Chem

from liaison.chem.models import QueryKind
from liaison.chem.rulebook import RuleBook, cas_check_digit_ok, normalize_name

CAS_PATTERN = re.compile(r"\d{2,7}-\d\d-\d")
_WHITESPACE = re.compile(r"\s")
NOT_RECOGNIZED = "not a SMILES, InChI, MOL block, CAS number or known name"


@dataclass(frozen=True)
class ParsedQuery:
    kind: QueryKind
    molecule: Chem.Mol | None
    error: str | None = None
    resolved_name: str | None = None  # the dictionary name a name or CAS query resolved to


def _expected_check_digit(number: str) -> int:
    digits = number.replace("-", "")[:-1][::-1]
    return sum((position + 1) * int(digit) for position, digit in enumerate(digits)) % 10


def parse_query(text: str, rulebook: RuleBook) -> ParsedQuery:
    """Detect the kind of `text` and parse it; never raises."""
    query = text.strip()
    if not query:
        return ParsedQuery("unknown", None, "empty query")
    if query.startswith("InChI="):
        molecule = Chem.MolFromInchi(query, sanitize=True, removeHs=True)  # type: ignore[no-untyped-call]
        if molecule is None:
            return ParsedQuery("inchi", None, "InChI could not be parsed")
        return ParsedQuery("inchi", molecule)
    if "M  END" in text:
        molecule = Chem.MolFromMolBlock(text, sanitize=False, removeHs=False)
        if molecule is None:
            return ParsedQuery("molblock", None, "MOL block could not be parsed")
        return _sanitized("molblock", molecule, "MOL block")
    if query[0].isdigit() and CAS_PATTERN.fullmatch(query):
        if not cas_check_digit_ok(query):
            return ParsedQuery(
                "cas",
                None,
                f"CAS number {query} has a bad check digit "
                f"(the last digit should be {_expected_check_digit(query)})",
            )
        record = rulebook.names.get(normalize_name(query))
        if record is None:
            return ParsedQuery(
                "cas",
                None,
                f"CAS number {query} is not in the dictionary or any rule file; "
                "give the structure (SMILES, InChI or MOL block)",
            )
        return ParsedQuery("cas", Chem.MolFromSmiles(record.smiles), resolved_name=record.name)
    record = rulebook.names.get(normalize_name(query))
    if record is not None:
        return ParsedQuery("name", Chem.MolFromSmiles(record.smiles), resolved_name=record.name)
    if _WHITESPACE.search(query):
        return ParsedQuery("unknown", None, NOT_RECOGNIZED)
    molecule = Chem.MolFromSmiles(query, sanitize=False)
    if molecule is None:
        return ParsedQuery("unknown", None, NOT_RECOGNIZED)
    return _sanitized("smiles", molecule, "SMILES")


def radical_error(molecule: Chem.Mol) -> str | None:
    """Why a structure with an unpaired electron is refused, naming the atom (counted from 1
    in the order written); None when it has none. A radical is almost always a drawing error
    (fentanyl written with [N+] and no H on the piperidine N parses as a radical cation), and
    judged as drawn it would silently match nothing. Only asked of prefilter candidates: the
    prefilter looks at elements and connectivity alone, so a missing H or charge cannot hide
    a match from it, and a molecule it rules out matches no rule however it is corrected."""
    for atom in molecule.GetAtoms():
        if atom.GetNumRadicalElectrons():
            charge = atom.GetFormalCharge()
            sign = "" if not charge else ("+" if charge > 0 else "-") * abs(charge)
            return (
                f"atom {atom.GetIdx() + 1} ({atom.GetSymbol()}{sign}) has an unpaired electron: "
                "charge or hydrogens missing?"
            )
    return None


def _sanitized(kind: QueryKind, molecule: Chem.Mol, label: str) -> ParsedQuery:
    try:
        Chem.SanitizeMol(molecule)
        if molecule.GetNumAtoms() != molecule.GetNumHeavyAtoms():  # explicit [H] atoms
            molecule = Chem.RemoveHs(molecule)
    except (ValueError, RuntimeError) as error:  # RDKit's sanitization errors
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return ParsedQuery(kind, None, f"{label} is not a valid structure: {reason}")
    if molecule.GetNumAtoms() == 0:
        return ParsedQuery(kind, None, f"{label} has no atoms")
    return ParsedQuery(kind, molecule)
