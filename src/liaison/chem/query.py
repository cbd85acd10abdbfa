"""What kind of query a text is, and the molecule it stands for."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rdkit import Chem
from rdkit.Chem import rdqueries

from liaison.chem.limits import (
    ATOM_TOKEN,
    CX_EXTENSION,
    Limits,
    SmilesShape,
    check_atoms,
    check_characters,
    check_smiles,
    inchi_atoms,
    molblock_atoms,
    normalize_text,
    smiles_shape,
    within_by_length,
)
from liaison.chem.models import QueryKind
from liaison.chem.rulebook import NameRecord, RuleBook, cas_check_digit_ok, normalize_name
from liaison.messages import T, joined

if TYPE_CHECKING:
    from liaison.chem.prefilter import Prefilter

CAS_PATTERN = re.compile(r"\d{2,7}-\d\d-\d")
_WHITESPACE = re.compile(r"\s")
_RADICAL = rdqueries.NumRadicalElectronsGreaterQueryAtom(0)
NOT_RECOGNIZED = T("not a SMILES, InChI, MOL block, CAS number or known name")
NOT_A_NAME = T("not a name Liaison knows")
# Salt and hydrate words written after a name ("fentanyl hydrochloride", "fentanyl HCl"):
# the base is judged, as the engine judges the parent of a drawn salt.
SALT_WORDS = (
    "hydrochloride",
    "dihydrochloride",
    "monohydrochloride",
    "hcl",
    "hydrobromide",
    "hbr",
    "citrate",
    "dihydrogen citrate",
    "sulfate",
    "sulphate",
    "phosphate",
    "tartrate",
    "bitartrate",
    "oxalate",
    "maleate",
    "fumarate",
    "mesylate",
    "tosylate",
    "besylate",
    "acetate",
    "salt",
    "hydrate",
    "monohydrate",
    "dihydrate",
    "free base",
    "base",
    "sodium",
    "disodium",
    "potassium",
    "dipotassium",
    "trihydrate",
    "pentahydrate",
    "hemihydrate",
    "napsylate",
    "盐酸盐",
    "枸橼酸盐",
    "柠檬酸盐",
    "硫酸盐",
    "氢溴酸盐",
    "磷酸盐",
    "酒石酸盐",
    "钠盐",
    "钾盐",
    "钠",
    "二钠",
    "钾",
    "二钾",
    "一水合物",
    "二水合物",
    "三水合物",
    "五水合物",
    "半水合物",
    "水合物",
)
# Chinese salt names put the acid first (盐酸氯胺酮, ketamine hydrochloride; 枸橼酸芬太尼).
# Not 醋酸/乙酸: before an alcohol it names the ester (醋酸地塞米松, dexamethasone acetate).
ACID_PREFIXES_ZH = (
    "盐酸",
    "二盐酸",
    "氢溴酸",
    "枸橼酸",
    "柠檬酸",
    "硫酸",
    "磷酸",
    "酒石酸",
    "重酒石酸",
    "草酸",
    "马来酸",
    "富马酸",
    "甲磺酸",
    "苯磺酸",
    "对甲苯磺酸",
    "萘磺酸",
)
_ACID_PREFIX = re.compile(
    "|".join(re.escape(p) for p in sorted(ACID_PREFIXES_ZH, key=len, reverse=True))
)
_SALT_WORD = "|".join(re.escape(w) for w in sorted(SALT_WORDS, key=len, reverse=True))
# After the name, or in brackets after it ("fentanyl (citrate)", "氯胺酮（盐酸盐）" once NFKC
# has made the full-width brackets ASCII).
_SALT_SUFFIX = re.compile(
    rf"[\s,;/-]*(?:{_SALT_WORD}|\(\s*(?:{_SALT_WORD})\s*\))\s*$", re.IGNORECASE
)
# A cheap test before the regular expression, which costs a sixth of a SMILES parse on every
# query: what re.IGNORECASE matches to an ASCII letter, casefold() gives that letter, except
# the dotted and dotless capital/small i, mapped here.
_SALT_ENDINGS = tuple(word.casefold() for word in SALT_WORDS)
_SALT_TAIL = max(map(len, SALT_WORDS))
# Salt words set aside after one name at most ("dihydrochloride monohydrate", "sodium salt"),
# and how much of the end a salt word and its separators or brackets may take.
_MOST_SALT_WORDS = 4
_SALT_WINDOW = _SALT_TAIL + 16
_FOLD_I = str.maketrans({"\u0131": "i", "\u0130": "i"})


def ends_with_salt_word(text: str) -> bool:
    """Whether `text` may end with a salt word (never False when _SALT_SUFFIX would strip)."""
    tail = text.rstrip().removesuffix(")").rstrip()
    return tail[-_SALT_TAIL:].translate(_FOLD_I).casefold().endswith(_SALT_ENDINGS)


# Meant as a name: a Chinese character (白粉, two of them, is a whole word), or three letters
# in a row, one of them no SMILES atom letter or not Latin (a Cyrillic С alone is a typo).
_WORDLIKE = re.compile(
    r"[\u3400-\u9fff\uf900-\ufaff]"
    r"|(?=[^\W\d_]{3,})[^\W\d_]*(?:[adefghijkmqtuvwxyz]|[^\x00-\x7f])"
)


@dataclass(frozen=True)
class ParsedQuery:
    kind: QueryKind
    molecule: Chem.Mol | None
    error: str | None = None
    resolved_name: str | None = None  # the dictionary name a name or CAS query resolved to
    notes: tuple[str, ...] = ()  # how the text was read (normalized, extension parsed...)
    # Ids of the name-only listings (plants, preparations) the name stands for: no structure.
    name_only: tuple[str, ...] = ()
    # Parsed with partial=True and only checked (see _checked): the molecule is fit for the
    # prefilter's screens alone; parse again without partial for anything else.
    partial: bool = False
    # The prefilter let this molecule through (identify.parse_for_screening asked it).
    screened: bool = False


def _expected_check_digit(number: str) -> int:
    digits = number.replace("-", "")[:-1][::-1]
    return sum((position + 1) * int(digit) for position, digit in enumerate(digits)) % 10


def parse_query(
    text: str, rulebook: RuleBook, limits: Limits | None = None, *, partial: bool = False
) -> ParsedQuery:
    """Detect the kind of `text` and parse it; never raises. Every limit is checked on the
    text before RDKit reads it. partial=True: a valid SMILES may come back only checked
    (ParsedQuery.partial), an invalid one is refused exactly as without it."""
    limits = limits or Limits()
    too_long = check_characters(text, limits)
    if too_long is not None:
        return ParsedQuery("unknown", None, too_long)
    normalized, note = normalize_text(text)
    parsed = _parse(normalized, rulebook, limits, partial)
    if note is None:
        return parsed
    return replace(parsed, notes=(note, *parsed.notes))


def _parse(text: str, rulebook: RuleBook, limits: Limits, partial: bool) -> ParsedQuery:
    query = text.strip()
    if not query:
        return ParsedQuery("unknown", None, T("empty query"))
    if query.startswith("InChI="):
        problem = check_atoms(inchi_atoms(query), "InChI", limits)
        if problem is not None:
            return ParsedQuery("inchi", None, problem)
        molecule = Chem.MolFromInchi(query, sanitize=True, removeHs=True)  # type: ignore[no-untyped-call]
        if molecule is None:
            return ParsedQuery("inchi", None, T("InChI could not be parsed"))
        return ParsedQuery("inchi", molecule)
    if "M  END" in text:
        problem = check_atoms(molblock_atoms(text), "MOL block", limits)
        if problem is not None:
            return ParsedQuery("molblock", None, problem)
        molecule = Chem.MolFromMolBlock(text, sanitize=False, removeHs=False)
        if molecule is None:
            return ParsedQuery("molblock", None, T("MOL block could not be parsed"))
        return _sanitized("molblock", molecule, "MOL block")
    if query[0].isdigit() and CAS_PATTERN.fullmatch(query):
        if not cas_check_digit_ok(query):
            return ParsedQuery(
                "cas",
                None,
                T(
                    "CAS number %(cas)s has a bad check digit (the last digit should be %(digit)s)",
                    cas=query,
                    digit=_expected_check_digit(query),
                ),
            )
        key = normalize_name(query)
        record = rulebook.names.get(key)
        if record is None and (listed := _name_only(key, rulebook)) is not None:
            return replace(listed, kind="cas")
        if record is None:
            return ParsedQuery(
                "cas",
                None,
                T(
                    "CAS number %(cas)s is not in the dictionary or any rule file; give the "
                    "structure (SMILES, InChI or MOL block)",
                    cas=query,
                ),
            )
        if shared := rulebook.ambiguous_names.get(key):
            return ParsedQuery("cas", None, _ambiguous(query, shared))
        return ParsedQuery("cas", Chem.MolFromSmiles(record.smiles), resolved_name=record.name)
    key = normalize_name(query)  # once for both lookups: a translation character by character
    # One short fragment of SMILES tokens, most of a catalogue: it may still be a name ("PCP",
    # "psilocin"), but ends with no salt word (each has a letter no token has) and has no
    # CXSMILES extension; whitespace could only be inside brackets.
    plain = within_by_length(query, limits) and ("[" not in query or not _WHITESPACE.search(query))
    named = _named(query, key, rulebook, salt_words=not plain) or _name_only(key, rulebook)
    if named is not None:
        return named
    if not plain:
        extension = CX_EXTENSION.fullmatch(query) if "|" in query else None
        if extension is not None:
            return _cxsmiles(extension.group(1), extension.group(2), limits)
        if _WHITESPACE.search(query):
            return _unknown_name(query, rulebook, ParsedQuery("unknown", None, NOT_RECOGNIZED))
    parsed = _smiles(query, limits, partial, plain=plain)
    if parsed.molecule is None and (parsed.error or "").startswith(NOT_RECOGNIZED):
        return _unknown_name(query, rulebook, parsed)
    return parsed


def _named(
    query: str, key: str, rulebook: RuleBook, *, salt_words: bool = True
) -> ParsedQuery | None:
    """A name of the rule files or the dictionary, with any salt words after it or, in
    Chinese, an acid before it (unless salt_words is False: the caller knows `query` is a run
    of SMILES tokens, which holds neither); `key` is normalize_name(query)."""
    record = rulebook.names.get(key)
    salt = ""
    if record is None:
        if not salt_words:
            return None
        found = _salt_of_name(query, rulebook)
        if found is None:
            return None
        record, salt = found
    shared = rulebook.ambiguous_names.get(normalize_name(record.name))
    if shared:
        return ParsedQuery("name", None, _ambiguous(record.name, shared))
    notes: list[str] = []
    if salt:
        notes.append(
            T(
                "read as %(name)s: the salt or hydrate (%(salt)s) is judged as its base",
                name=record.name,
                salt=salt,
            )
        )
    if record.source == "dictionary":
        notes.append(
            T(
                "%(name)s is a name Liaison knows from its dictionary, not from a loaded rule: "
                "the verdicts come from its structure alone",
                name=record.name,
            )
        )
    return ParsedQuery(
        "name", Chem.MolFromSmiles(record.smiles), resolved_name=record.name, notes=tuple(notes)
    )


def _ambiguous(name: str, records: Mapping[str, NameRecord]) -> str:
    return T(
        "%(name)s names more than one listed substance (%(substances)s): give the structure, "
        "the CAS number or another name",
        name=name,
        substances=joined(f"{record.source}: {record.smiles}" for record in records.values()),
    )


def _salt_of_name(query: str, rulebook: RuleBook) -> tuple[NameRecord, str] | None:
    """The name `query` holds once its salt words are set aside (the words after it, then a
    Chinese acid before it), and those words; None when no name is left. Only an organic
    substance is read so: potassium sulfate (硫酸钾, "sulfuric acid, potassium salt") is no
    sulfuric acid, and an inorganic salt is named whole or not at all."""
    base, salt = query, ""
    for _ in range(_MOST_SALT_WORDS):
        if not ends_with_salt_word(base):
            break
        # Only the end is read: the pattern on a whole 100,000-character text, once per word
        # set aside, took a minute (a query of "fentanyl" and ten thousand "hcl").
        head, tail = base[:-_SALT_WINDOW], base[-_SALT_WINDOW:]
        stripped = (head + _SALT_SUFFIX.sub("", tail)).rstrip(" ,;/-")
        if stripped == base or not stripped.strip():
            break
        salt = base[len(stripped) :].strip(" ,;/-()") + (f" {salt}" if salt else "")
        base = stripped
        record = rulebook.names.get(normalize_name(base))
        if record is not None:
            return (record, salt) if _organic(record) else None
    acid = _ACID_PREFIX.match(base.strip())
    if acid is None:
        return None
    record = rulebook.names.get(normalize_name(base.strip()[acid.end() :]))
    if record is None or not _organic(record):
        return None
    return record, acid.group() + (f" {salt}" if salt else "")


def _organic(record: NameRecord) -> bool:
    molecule = Chem.MolFromSmiles(record.smiles)
    return molecule is not None and any(atom.GetAtomicNum() == 6 for atom in molecule.GetAtoms())


def _name_only(key: str, rulebook: RuleBook) -> ParsedQuery | None:
    """A plant, extract or preparation listed by name (`key`: normalize_name() of the query):
    no structure to parse."""
    ids = rulebook.name_only_names.get(key)
    if not ids:
        return None
    listing = next(item for item in rulebook.name_only if item.id == ids[0])
    return ParsedQuery("name", None, resolved_name=listing.name, name_only=tuple(ids))


def close_names(text: str, rulebook: RuleBook, count: int = 5) -> list[str]:
    """Names the rule files or the dictionary know that are spelled like `text`."""
    key = normalize_name(_SALT_SUFFIX.sub("", text) or text)
    known = {key: record.name for key, record in rulebook.names.items()}
    for listing in rulebook.name_only:
        for name in listing.names:
            known.setdefault(normalize_name(name), name)
    keys = difflib.get_close_matches(key, list(known), n=count * 3, cutoff=0.7)
    names = dict.fromkeys(known[found] for found in keys)
    return list(names)[:count]


def _unknown_name(query: str, rulebook: RuleBook, parsed: ParsedQuery) -> ParsedQuery:
    """A text that is no structure (`parsed` says why): when it reads as a name, say that it
    is none Liaison knows and suggest close ones."""
    if not _WORDLIKE.search(query):
        return parsed
    suggestions = close_names(query, rulebook)
    error = T(
        "%(query)s is %(not_a_name)s (%(why)s)",
        query=repr(query[:80]),
        not_a_name=NOT_A_NAME,
        why=parsed.error,
    )
    if suggestions:
        error = joined([error, T("close names: %(names)s", names=", ".join(suggestions))])
    return ParsedQuery("unknown", None, error)


def _shape_within(smiles: str, limits: Limits) -> SmilesShape | ParsedQuery:
    """The shape of `smiles`, or the refusal when it is not SMILES or exceeds a limit."""
    shape = smiles_shape(smiles)
    if isinstance(shape, str):
        return ParsedQuery(
            "unknown",
            None,
            T("%(not_recognized)s (as SMILES: %(why)s)", not_recognized=NOT_RECOGNIZED, why=shape),
        )
    problem = check_smiles(shape, limits)
    if problem is not None:
        return ParsedQuery("smiles", None, problem)
    return shape


def _smiles(query: str, limits: Limits, partial: bool, *, plain: bool) -> ParsedQuery:
    """plain: within_by_length(query, limits), as the caller found it."""
    notes: tuple[str, ...] = ()
    if not plain:
        shape = _shape_within(query, limits)
        if isinstance(shape, ParsedQuery):
            return shape
        if shape.repeats:
            query = ".".join(shape.fragments)
            notes = (
                T(
                    "%(count)s repeated fragment(s) left out: each distinct one is judged once",
                    count=shape.repeats,
                ),
            )
    molecule = Chem.MolFromSmiles(query, sanitize=False)
    if molecule is None:
        return ParsedQuery("unknown", None, NOT_RECOGNIZED)
    if partial and not notes:
        if _checked(molecule):
            return ParsedQuery("smiles", molecule, partial=True)
        # Refused, or explicit [H] atoms: read again, as the check changed the molecule.
        molecule = Chem.MolFromSmiles(query, sanitize=False)
    parsed = _sanitized("smiles", molecule, "SMILES")
    return replace(parsed, notes=notes) if notes else parsed


def _cxsmiles(smiles: str, extension: str, limits: Limits) -> ParsedQuery:
    """ChemDraw and Marvin export `SMILES |extension|`: the extension is parsed by RDKit (it
    may hold enhanced stereo, atom labels, coordinates), never taken for a name or id."""
    refused = _shape_within(smiles, limits)
    if isinstance(refused, ParsedQuery):
        return refused
    params = Chem.SmilesParserParams()
    params.allowCXSMILES = True  # type: ignore[assignment]
    params.strictCXSMILES = True  # type: ignore[assignment]
    params.sanitize = False  # type: ignore[assignment]
    molecule = Chem.MolFromSmiles(f"{smiles} |{extension}|", params)
    if molecule is None:
        return ParsedQuery(
            "smiles",
            None,
            T("CXSMILES extension |%(extension)s| could not be parsed", extension=extension),
        )
    parsed = _sanitized("smiles", molecule, "CXSMILES")
    note = T(
        "CXSMILES: the extension |%(extension)s| was parsed (not stripped); the verdict is on "
        "the structure as drawn, enhanced stereo groups do not change it",
        extension=extension,
    )
    return replace(parsed, notes=(note,))


def radical_error(molecule: Chem.Mol, prefilter: Prefilter) -> str | None:
    """Why a structure with an unpaired electron is refused, naming the atom (counted from 1
    in the order written); None when it has none. A radical is almost always a drawing error
    (fentanyl written with [N+] and no H on the piperidine N parses as a radical cation), and
    judged as drawn it would silently match nothing. Only asked of a fragment the prefilter
    lets through: it looks at elements and connectivity alone, so a missing H or charge cannot
    hide a match from it, and a fragment it rules out (beside a salt's acid, say) matches no
    rule however it is corrected."""
    radicals = [atom.GetIdx() for atom in molecule.GetAtomsMatchingQuery(_RADICAL)]  # in C++
    if not radicals:
        return None
    if len(Chem.GetMolFrags(molecule)) > 1:
        atoms_of: list[tuple[int, ...]] = []
        fragments = Chem.GetMolFrags(
            molecule, asMols=True, sanitizeFrags=False, fragsMolAtomMapping=atoms_of
        )
        candidates: set[int] = set()
        for fragment, atoms in zip(fragments, atoms_of, strict=True):
            if set(atoms).intersection(radicals):
                fragment.UpdatePropertyCache(strict=False)
                Chem.GetSymmSSSR(fragment)  # ring queries of the prefilter
                if prefilter.could_match(fragment):
                    candidates.update(atoms)
        radicals = [index for index in radicals if index in candidates]
        if not radicals:
            return None
    atom = molecule.GetAtomWithIdx(radicals[0])
    charge = atom.GetFormalCharge()
    sign = "" if not charge else ("+" if charge > 0 else "-") * abs(charge)
    return T(
        "atom %(number)s (%(atom)s) has an unpaired electron: charge or hydrogens missing?",
        number=atom.GetIdx() + 1,
        atom=f"{atom.GetSymbol()}{sign}",
    )


# The steps of sanitization that can refuse a structure, in its order (RDKit's
# detectChemistryProblems runs the same: clean-up, valences, kekulization); the others (ring
# perception, radicals, aromaticity, conjugation, hybridization, stereo clean-up, hydrogens)
# cost twice as much and only annotate the molecule. That a structure these pass is never
# refused by the rest is tested on the benchmark and test corpora and mutated SMILES
# (tests/unit/chem/test_partial_parse.py).
_CHECKS = (
    Chem.SanitizeFlags.SANITIZE_CLEANUP
    | Chem.SanitizeFlags.SANITIZE_CLEANUP_ORGANOMETALLICS
    | Chem.SanitizeFlags.SANITIZE_PROPERTIES
    | Chem.SanitizeFlags.SANITIZE_KEKULIZE
)


def _checked(molecule: Chem.Mol) -> bool:
    """Whether `molecule` (parsed without sanitization) passes the checks, changed in place:
    then its atoms, connectivity, charges, hydrogens and ring membership are the fully
    sanitized molecule's, but for rings through a dative bond, which only this ring search
    counts, and aromatic rings, left kekulized and not marked aromatic."""
    atoms = molecule.GetNumAtoms()
    if atoms == 0 or atoms != molecule.GetNumHeavyAtoms():  # explicit [H] atoms: RemoveHs
        return False
    if Chem.SanitizeMol(molecule, _CHECKS, catchErrors=True) != Chem.SanitizeFlags.SANITIZE_NONE:
        return False
    Chem.FastFindRings(molecule)  # done by kekulization only for a molecule with aromatic atoms
    return True


def finish_sanitizing(parsed: ParsedQuery, smiles: str) -> ParsedQuery | None:
    """A partial parse (ParsedQuery.partial) of `smiles` sanitized in full, its molecule
    changed in place: what parsing the text in full gives, atom for atom (order, aromaticity,
    rings, hydrogens, hybridization, stereo; tested on the benchmark and test corpora and
    mutated SMILES), for the steps the checks left (the text is not parsed again). None when
    it may not be (then the caller parses the text in full): an atom written aromatic that
    ends in no aromatic ring ([se] or [s+] in a ring that is not aromatic) keeps, parsed in
    full, the valence counted on its aromatic bonds, here the one counted on the Kekule form;
    a text read with a note (normalized); a refusal, which the checks are tested never to
    let through."""
    molecule = parsed.molecule
    if not parsed.partial or parsed.notes or molecule is None:
        return None
    atoms = ATOM_TOKEN.findall(smiles)
    if len(atoms) != molecule.GetNumAtoms():
        return None
    try:
        Chem.SanitizeMol(molecule)
    except (ValueError, RuntimeError):
        return None
    for index, atom in enumerate(atoms):
        written_aromatic = atom.lstrip("[0123456789")[:1].islower()
        if written_aromatic and not molecule.GetAtomWithIdx(index).GetIsAromatic():
            return None
    return replace(parsed, partial=False)


def _sanitized(kind: QueryKind, molecule: Chem.Mol, label: str) -> ParsedQuery:
    try:
        Chem.SanitizeMol(molecule)
        if molecule.GetNumAtoms() != molecule.GetNumHeavyAtoms():  # explicit [H] atoms
            molecule = Chem.RemoveHs(molecule)
    except (ValueError, RuntimeError) as error:  # RDKit's sanitization errors
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        refused = T("%(kind)s is not a valid structure: %(problem)s", kind=label, problem=reason)
        return ParsedQuery(kind, None, refused)
    if molecule.GetNumAtoms() == 0:
        return ParsedQuery(kind, None, T("%(kind)s has no atoms", kind=label))
    return ParsedQuery(kind, molecule)
