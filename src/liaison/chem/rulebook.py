"""The rule data: legal listings (us/cn/un.toml), the class clause semantics and the dictionary.

Every file is validated on load; a broken file raises RuleFileError naming the file, the entry
id and the field, so a typo in a listing can never silently drop a substance.
"""

from __future__ import annotations

import copy
import csv
import pickle
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdkit import Chem

from liaison.chem.models import DatePrecision
from liaison.chem.standardize import (
    canonical_tautomer,
    molecular_formula,
    standardize,
    structure_keys,
)
from liaison.datafiles import TableReader, array_of_tables, read_toml
from liaison.errors import ConfigurationError

RULES_DIR = Path(__file__).resolve().parent / "rules"
JURISDICTION_FILES = ("us.toml", "cn.toml", "un.toml")
CLAUSE_FILE = "fentanyl_class_clauses.toml"
DICTIONARY_FILE = "dictionary.csv"

RULE_STATUSES = ("controlled", "precursor")
# A family may also send its matches to review: a class whose clauses are not all modelled
# (its general formula read only in part) screens its core and leaves the decision to an expert.
FAMILY_STATUSES = (*RULE_STATUSES, "review")
REGIONS = ("acyl", "aniline", "piperidine", "linker", "terminal_ring")
CHANGES = ("replace_acyl", "replace_ring", "substituents", "replace_group")
RING_KINDS = ("monocycle", "aromatic_monocycle")
SUBSTITUENT_KINDS = (
    "alkyl",
    "alkenyl",
    "alkynyl",
    "alkoxyl",
    "ester",
    "ether",
    "hydroxyl",
    "halo",
    "haloalkyl",
    "amino",
    "nitro",
    "oxo",
    "alkylidene",
    "hydroxyalkyl",
    "carboxyl",
    "acyl",
    "aryl",
    "cycloalkyl",
    "ring",
    "other",
)


class RuleFileError(ConfigurationError):
    """A rule file is missing, unreadable or has an entry that does not validate."""


@dataclass(frozen=True)
class NamedEntry:
    id: str
    jurisdiction: str
    name: str
    smiles: str
    status: str
    list: str
    citation: str
    in_force_from: date
    in_force_to: date | None
    # "year" / "month": the law's date is known only that far (in_force_from is its first day).
    in_force_precision: DatePrecision = "day"
    synonyms: tuple[str, ...] = ()
    names_zh: tuple[str, ...] = ()
    cas: tuple[str, ...] = ()
    covers: tuple[str, ...] = ()
    confirmed: bool = True
    source: str = ""
    note: str = ""
    inchikey: str = ""
    connectivity: str = ""
    formula: str = ""  # of the standardized parent: a cheap gate before computing InChIKeys
    # The free base's formula as an independent source states it (`liaison rules check`).
    stated_formula: str = ""
    # Ids of entries of the same jurisdiction deliberately listing the same substance at the
    # same time (e.g. a drug schedule and a precursor list): `liaison rules check` accepts them.
    also_listed_as: tuple[str, ...] = ()
    # Names it deliberately shares with another listed substance: the law uses one name for
    # two (六氢大麻酚: parahexyl in the 2013 catalogue, HHC in 2025). A query by such a name is
    # refused as ambiguous; `liaison rules check` accepts the clash only when both declare it.
    shared_names: tuple[str, ...] = ()
    # Keys of its canonical tautomer: the substance is found whichever tautomer is drawn.
    tautomer_inchikey: str = ""
    tautomer_connectivity: str = ""
    # A precursor list's reporting threshold as the regulation states it (US List I/II:
    # 21 CFR 1310.04), with its citation; shown in the verdict. Empty: not recorded.
    threshold: str = ""

    @property
    def covers_isomers(self) -> bool:
        return "isomers" in self.covers

    @property
    def names(self) -> tuple[str, ...]:
        """Every text a query may find it by: name, synonyms, Chinese names, CAS numbers."""
        return (self.name, *self.synonyms, *self.names_zh, *self.cas)


@dataclass(frozen=True)
class NameOnlyEntry:
    """A listing with no structure to compare: a plant, a plant part, an extract or a
    preparation (coca leaf, opium poppy, cannabis, khat). Found by name, synonym or CAS number
    only; every verdict on it says that no structure applies."""

    id: str
    jurisdiction: str
    name: str
    status: str
    list: str
    citation: str
    in_force_from: date
    in_force_to: date | None
    material: str  # what it is, in a few words: "plant", "plant resin", "preparation"
    in_force_precision: DatePrecision = "day"
    synonyms: tuple[str, ...] = ()
    names_zh: tuple[str, ...] = ()
    cas: tuple[str, ...] = ()
    confirmed: bool = True
    source: str = ""
    note: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.synonyms, *self.names_zh, *self.cas)


@dataclass(frozen=True)
class Family:
    id: str
    jurisdiction: str
    name: str
    smarts: str
    status: str
    list: str
    citation: str
    in_force_from: date
    in_force_to: date | None
    # "year" / "month": the law's date is known only that far (in_force_from is its first day).
    in_force_precision: DatePrecision = "day"
    examples: tuple[str, ...] = ()
    confirmed: bool = True
    source: str = ""
    note: str = ""
    threshold: str = ""  # as NamedEntry.threshold
    pattern: Any = field(default=None, compare=False, repr=False)  # compiled SMARTS


@dataclass(frozen=True)
class ClassDefinition:
    id: str
    jurisdiction: str
    name: str
    status: str
    list: str
    citation: str
    in_force_from: date
    in_force_to: date | None
    definition: str
    clauses: Mapping[str, str]
    excludes_listed: bool = True
    covers: tuple[str, ...] = ()
    confirmed: bool = True
    source: str = ""
    note: str = ""
    # "year" / "month": the law's date is known only that far (in_force_from is its first day).
    in_force_precision: DatePrecision = "day"


@dataclass(frozen=True)
class ClauseSemantics:
    """What one clause lets change, in terms of fentanyl's regions (fentanyl_class_clauses.toml)."""

    id: str
    regions: tuple[str, ...]
    change: str
    summary: str
    ring: str = ""  # replace_ring: monocycle | aromatic_monocycle
    kinds: tuple[str, ...] = ()  # substituents: the kinds the clause names
    open_list: bool = False  # substituents: the list ends with "and the like" (等)
    except_hydrogen: bool = False  # replace_group: the group may be anything but hydrogen


@dataclass(frozen=True)
class DefinitionSemantics:
    id: str
    law: str
    uncovered: str  # status for a change no clause covers: review | no_match
    uncovered_reason: str
    clauses: Mapping[str, ClauseSemantics]


@dataclass(frozen=True)
class ClassSemantics:
    reference_smiles: str
    core_smarts: str
    definitions: Mapping[str, DefinitionSemantics]
    core: Chem.Mol = field(compare=False, repr=False)


@dataclass(frozen=True)
class NameRecord:
    """A name, synonym or CAS number and the structure it stands for."""

    name: str
    smiles: str
    source: str  # rule id or "dictionary"


# Hydrogens (not He, Hf, Hg, Ho, Hs) and the charge at the end of a formula's text.
_HYDROGENS_AND_CHARGE = re.compile(r"H(?![a-z])\d*|[+-]\d*$")


def heavy_atoms(formula: str) -> str:
    """A molecular formula's heavy atoms (its text without hydrogens and charge)."""
    return _HYDROGENS_AND_CHARGE.sub("", formula)


def _in_force(as_of: date, start: date, end: date | None) -> bool:
    return start <= as_of and (end is None or as_of <= end)


# The named entries and their indexes: read only when a structure the prefilter lets through
# is looked up. The compiled cache (chem.compiled) keeps them pickled apart,
# unpickled when first read: a run whose records the prefilter clears never pays for them
# (half the time of loading the book).
DEFERRED = (
    "entries",
    "by_inchikey",
    "by_connectivity",
    "by_tautomer_inchikey",
    "by_tautomer_connectivity",
    "named_formulas",
    "formulas_by_jurisdiction",
    "by_heavy_atoms",
)
_PICKLED_PART = "_deferred_pickle"
_UNPICKLING = threading.Lock()  # threads of the node read one book


@dataclass
class RuleBook:
    jurisdictions: tuple[str, ...]
    titles: dict[str, str]
    entries: list[NamedEntry]
    families: list[Family]
    classes: list[ClassDefinition]
    semantics: ClassSemantics
    names: dict[str, NameRecord]
    # Normalized name -> connectivity -> its first record, for a name two substances are given.
    ambiguous_names: dict[str, dict[str, NameRecord]] = field(default_factory=dict)
    name_only: list[NameOnlyEntry] = field(default_factory=list)
    # Normalized name -> ids of the name-only entries (of any jurisdiction) it names.
    name_only_names: dict[str, list[str]] = field(default_factory=dict)
    # Jurisdiction -> (first day the loaded lists reach, what that means for earlier days).
    history: dict[str, tuple[date, str]] = field(default_factory=dict)
    # The entry indexes below are built in __post_init__ and cannot be passed (init=False):
    # dataclasses.replace(book, entries=...) builds them afresh instead of indexing into the
    # original's, which would double every entry in both books.
    by_inchikey: dict[str, list[NamedEntry]] = field(default_factory=dict, init=False)
    by_connectivity: dict[str, list[NamedEntry]] = field(default_factory=dict, init=False)
    named_formulas: set[str] = field(default_factory=set, init=False)
    # Per jurisdiction: a tautomer has its substance's formula, so a parent whose formula no
    # entry of the jurisdiction has needs no canonical tautomer to be looked up there.
    formulas_by_jurisdiction: dict[str, set[str]] = field(default_factory=dict, init=False)
    by_tautomer_inchikey: dict[str, list[NamedEntry]] = field(default_factory=dict, init=False)
    by_tautomer_connectivity: dict[str, list[NamedEntry]] = field(default_factory=dict, init=False)
    # (jurisdiction, heavy_atoms() of the formula) -> entries: InChI adds or removes protons
    # to neutralize a charged structure, so a tautomer's keys may be of another formula with
    # the same heavy atoms (identify._tautomer_listed).
    by_heavy_atoms: dict[tuple[str, str], list[NamedEntry]] = field(
        default_factory=dict, init=False
    )

    if not TYPE_CHECKING:  # mypy would take any misspelt attribute for one of these

        def __getattr__(self, name: str) -> Any:
            # Reached only for an attribute not set: the part a compiled book defers.
            if name not in DEFERRED:
                raise AttributeError(name)
            with _UNPICKLING:
                if name not in self.__dict__:
                    if _PICKLED_PART not in self.__dict__:
                        raise AttributeError(name)
                    self.__dict__.update(pickle.loads(self.__dict__[_PICKLED_PART]))
                    del self.__dict__[_PICKLED_PART]
            return self.__dict__[name]

    def __post_init__(self) -> None:
        for listing in self.name_only:
            for name in listing.names:
                ids = self.name_only_names.setdefault(normalize_name(name), [])
                if listing.id not in ids:
                    ids.append(listing.id)
        for entry in self.entries:
            self.named_formulas.add(entry.formula)
            self.formulas_by_jurisdiction.setdefault(entry.jurisdiction, set()).add(entry.formula)
            self.by_inchikey.setdefault(entry.inchikey, []).append(entry)
            self.by_connectivity.setdefault(entry.connectivity, []).append(entry)
            self.by_tautomer_inchikey.setdefault(entry.tautomer_inchikey, []).append(entry)
            self.by_tautomer_connectivity.setdefault(entry.tautomer_connectivity, []).append(entry)
            key = (entry.jurisdiction, heavy_atoms(entry.formula))
            self.by_heavy_atoms.setdefault(key, []).append(entry)

    def name_only_in_force(
        self, ids: tuple[str, ...], jurisdiction: str, as_of: date
    ) -> list[NameOnlyEntry]:
        return [
            listing
            for listing in self.name_only
            if listing.id in ids
            and listing.jurisdiction == jurisdiction
            and _in_force(as_of, listing.in_force_from, listing.in_force_to)
        ]

    def families_in_force(self, jurisdiction: str, as_of: date) -> list[Family]:
        return [
            family
            for family in self.families
            if family.jurisdiction == jurisdiction
            and _in_force(as_of, family.in_force_from, family.in_force_to)
        ]

    def classes_in_force(self, jurisdiction: str, as_of: date) -> list[ClassDefinition]:
        return [
            klass
            for klass in self.classes
            if klass.jurisdiction == jurisdiction
            and _in_force(as_of, klass.in_force_from, klass.in_force_to)
        ]

    def named_matches(
        self,
        inchikey: str,
        connectivity: str,
        jurisdiction: str,
        as_of: date,
        *,
        tautomer: bool = False,
    ) -> list[NamedEntry]:
        """Entries in force whose substance this is: same InChIKey, or same connectivity where
        the listing covers isomers (stereoisomers of a listed substance are listed). With
        `tautomer`, the keys are of a canonical tautomer and compared with the entries' own."""
        by_key = self.by_tautomer_inchikey if tautomer else self.by_inchikey
        by_connectivity = self.by_tautomer_connectivity if tautomer else self.by_connectivity
        found: dict[str, NamedEntry] = {}
        for entry in by_key.get(inchikey, []) if inchikey else []:
            found[entry.id] = entry
        for entry in by_connectivity.get(connectivity, []) if connectivity else []:
            if entry.covers_isomers:
                found[entry.id] = entry
        return [
            entry
            for entry in found.values()
            if entry.jurisdiction == jurisdiction
            and _in_force(as_of, entry.in_force_from, entry.in_force_to)
        ]

    def stereoisomers_listed(
        self, parent: Chem.Mol, inchikey: str, connectivity: str, jurisdiction: str, as_of: date
    ) -> list[NamedEntry]:
        """Entries in force of `parent`'s connectivity, not covering isomers, whose structure
        defines stereo that `parent` (standardized, with these keys) leaves undefined: a
        drawing without that stereo may be any of them. Partly defined stereo is read
        conservatively: an entry is one when the drawing leaves undefined any stereo element
        the entry defines, whatever the drawing gives the others."""
        listed = [
            entry
            for entry in (self.by_connectivity.get(connectivity, []) if connectivity else [])
            if not entry.covers_isomers
            and entry.inchikey != inchikey
            and entry.jurisdiction == jurisdiction
            and _in_force(as_of, entry.in_force_from, entry.in_force_to)
        ]
        if not listed:  # nearly every query: no InChI made
            return []
        drawn = defined_stereo(parent)
        return [entry for entry in listed if _listed_stereo(entry.smiles) - drawn]


# A stereo layer of an InChI's main part: /t tetrahedral, /b double bonds.
_STEREO_LAYER = re.compile(r"/([bt])([^/]*)")


def defined_stereo(parent: Chem.Mol) -> frozenset[str]:
    """The stereo elements `parent` gives a configuration, named as in its standard InChI
    ("t1:7" a centre, "b1:4-3" a double bond, of the first component): InChI numbers the
    atoms of one connectivity alike, whatever the stereo drawn. Undefined ones ("?") are
    left out; so is the isotopic layer's own stereo."""
    inchi = str(Chem.MolToInchi(parent) or "")  # type: ignore[no-untyped-call]
    main = inchi.split("/i", 1)[0]
    defined: set[str] = set()
    for layer, text in _STEREO_LAYER.findall(main):
        for component, items in enumerate(text.split(";"), start=1):
            for item in items.split(","):
                if item[-1:] in ("+", "-"):
                    defined.add(f"{layer}{component}:{item[:-1]}")
    return frozenset(defined)


@lru_cache(maxsize=256)
def _listed_stereo(smiles: str) -> frozenset[str]:
    """defined_stereo() of an entry's parent: asked only of the few entries sharing a
    query's connectivity, so not made for every entry on load."""
    return defined_stereo(standardize(Chem.MolFromSmiles(smiles)))


_IGNORED_IN_NAMES = str.maketrans("", "", " \t\r\n\u3000\u00a0-\u2010\u2011\u2013\u2014_")


def normalize_name(text: str) -> str:
    """Key for name lookup: case, whitespace and hyphens do not matter."""
    return text.casefold().translate(_IGNORED_IN_NAMES)


# ----------------------------------------------------------------------------- validation


class _Reader(TableReader):
    """Typed access to one table of a rule file; every error names file, entry and field."""

    error = RuleFileError

    def legal_fields(
        self, jurisdiction: str, statuses: tuple[str, ...] = RULE_STATUSES
    ) -> dict[str, Any]:
        """The fields every entry, family and class has: who, what list, which law, when."""
        start, precision, end = _dates(self)
        return {
            "id": self.text("id"),
            "jurisdiction": jurisdiction,
            "name": self.text("name"),
            "status": self.choice("status", statuses),
            "list": self.text("list"),
            "citation": self.text("citation"),
            "in_force_from": start,
            "in_force_to": end,
            "in_force_precision": precision,
            "confirmed": self.flag("confirmed", True),
            "source": self.text("source", required=False),
            "note": self.text("note", required=False),
        }


def _load_toml(path: Path) -> dict[str, Any]:
    return read_toml(path, RuleFileError, "rule file")


def _tables(path: Path, document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return array_of_tables(path, document, key, RuleFileError)


def _what(kind: str, table: Mapping[str, Any], index: int) -> str:
    ident = table.get("id")
    return f"{kind} '{ident}'" if isinstance(ident, str) else f"{kind} #{index + 1} (no id)"


def _dates(reader: _Reader) -> tuple[date, DatePrecision, date | None]:
    """in_force_from (a TOML date, or "1980" / "1980-05" when the source gives only the year
    or month: the first day then counts, and the precision is kept for display)."""
    value = reader.table.get("in_force_from")
    precision: DatePrecision = "day"
    if isinstance(value, str):
        match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", value)
        if match is None or not 1 <= int(match[2] or 1) <= 12:
            raise reader.fail(
                "in_force_from", f"expected a date, a year or a year-month, got {value!r}"
            )
        start = date(int(match[1]), int(match[2] or 1), 1)
        precision = "month" if match[2] else "year"
    else:
        day = reader.day("in_force_from")
        assert day is not None
        start = day
    end = reader.day("in_force_to", required=False)
    if end is not None and end < start:
        raise reader.fail("in_force_to", f"{end} is before in_force_from {start}")
    return start, precision, end


def _parse_entry(path: Path, jurisdiction: str, table: dict[str, Any], index: int) -> NamedEntry:
    reader = _Reader(path, table, _what("entry", table, index))
    smiles = reader.text("smiles")
    molecule = Chem.MolFromSmiles(smiles)
    if molecule is None:
        raise reader.fail("smiles", f"RDKit cannot parse {smiles!r}")
    parent = standardize(molecule)
    inchikey, connectivity = structure_keys(parent)
    tautomer_inchikey, tautomer_connectivity = structure_keys(canonical_tautomer(parent))
    if not inchikey:
        raise reader.fail("smiles", f"no InChIKey can be computed for {smiles!r}")
    cas = reader.texts("cas")
    for number in cas:
        if not cas_check_digit_ok(number):
            raise reader.fail("cas", f"{number!r} is not a CAS number with a valid check digit")
    return NamedEntry(
        **reader.legal_fields(jurisdiction),
        smiles=smiles,
        synonyms=reader.texts("synonyms"),
        names_zh=reader.texts("names_zh"),
        cas=cas,
        covers=reader.texts("covers"),
        inchikey=inchikey,
        connectivity=connectivity,
        formula=molecular_formula(parent),
        stated_formula=reader.text("stated_formula", required=False),
        also_listed_as=reader.texts("also_listed_as"),
        shared_names=reader.texts("shared_names"),
        tautomer_inchikey=tautomer_inchikey,
        tautomer_connectivity=tautomer_connectivity,
        threshold=reader.text("threshold", required=False),
    )


def _parse_name_only(
    path: Path, jurisdiction: str, table: dict[str, Any], index: int
) -> NameOnlyEntry:
    reader = _Reader(path, table, _what("name_only", table, index))
    if "smiles" in table:
        raise reader.fail("smiles", "a name-only listing has no structure: use [[entry]]")
    cas = reader.texts("cas")
    for number in cas:
        if not cas_check_digit_ok(number):
            raise reader.fail("cas", f"{number!r} is not a CAS number with a valid check digit")
    return NameOnlyEntry(
        **reader.legal_fields(jurisdiction),
        material=reader.text("material"),
        synonyms=reader.texts("synonyms"),
        names_zh=reader.texts("names_zh"),
        cas=cas,
    )


def _parse_family(path: Path, jurisdiction: str, table: dict[str, Any], index: int) -> Family:
    reader = _Reader(path, table, _what("family", table, index))
    smarts = reader.text("smarts")
    pattern = Chem.MolFromSmarts(smarts)
    if pattern is None:
        raise reader.fail("smarts", f"RDKit cannot parse the SMARTS {smarts!r}")
    examples = reader.texts("examples")
    for example in examples:
        molecule = Chem.MolFromSmiles(example)
        if molecule is None:
            raise reader.fail("examples", f"RDKit cannot parse {example!r}")
        if not standardize(molecule).HasSubstructMatch(pattern):
            raise reader.fail("examples", f"{example!r} does not match the family's SMARTS")
    return Family(
        **reader.legal_fields(jurisdiction, FAMILY_STATUSES),
        smarts=smarts,
        examples=examples,
        pattern=pattern,
        threshold=reader.text("threshold", required=False),
    )


def _parse_class(
    path: Path, jurisdiction: str, table: dict[str, Any], index: int, semantics: ClassSemantics
) -> ClassDefinition:
    reader = _Reader(path, table, _what("class", table, index))
    definition = reader.text("definition")
    if definition not in semantics.definitions:
        raise reader.fail(
            "definition",
            f"{definition!r} has no structural clause table in {CLAUSE_FILE} "
            f"(known: {', '.join(sorted(semantics.definitions))})",
        )
    clauses = table.get("clauses")
    if not isinstance(clauses, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in clauses.items()
    ):
        raise reader.fail("clauses", "expected a table of clause id = paraphrase")
    known = set(semantics.definitions[definition].clauses)
    if set(clauses) != known:
        raise reader.fail(
            "clauses",
            f"clause ids {sorted(clauses)} differ from those of {definition!r} in "
            f"{CLAUSE_FILE}: {sorted(known)}",
        )
    return ClassDefinition(
        **reader.legal_fields(jurisdiction),
        definition=definition,
        clauses=dict(clauses),
        excludes_listed=reader.flag("excludes_listed", True),
        covers=reader.texts("covers"),
    )


def _load_semantics(path: Path) -> ClassSemantics:
    document = _load_toml(path)
    top = _Reader(path, document, "top level")
    reference = top.text("reference")
    if Chem.MolFromSmiles(reference) is None:
        raise top.fail("reference", f"RDKit cannot parse {reference!r}")
    core_table = document.get("core")
    if not isinstance(core_table, dict):
        raise top.fail("core", "missing [core] table")
    core_reader = _Reader(path, core_table, "[core]")
    core_smarts = core_reader.text("smarts")
    core = Chem.MolFromSmarts(core_smarts)
    if core is None or core.GetNumAtoms() != 10:
        raise core_reader.fail("smarts", "expected a parseable SMARTS of the 10 core atoms")
    raw_definitions = document.get("definitions")
    if not isinstance(raw_definitions, dict) or not raw_definitions:
        raise top.fail("definitions", "missing [definitions.<id>] tables")
    definitions: dict[str, DefinitionSemantics] = {}
    for definition_id, table in raw_definitions.items():
        reader = _Reader(path, table, f"definition '{definition_id}'")
        raw_clauses = table.get("clauses")
        if not isinstance(raw_clauses, dict) or not raw_clauses:
            raise reader.fail("clauses", "missing [definitions.<id>.clauses.<clause>] tables")
        clauses: dict[str, ClauseSemantics] = {}
        for clause_id, clause_table in raw_clauses.items():
            clause = _Reader(
                path, clause_table, f"definition '{definition_id}' clause '{clause_id}'"
            )
            regions = clause.texts("regions")
            if not regions or any(region not in REGIONS for region in regions):
                raise clause.fail("regions", f"expected a non-empty list out of {REGIONS}")
            change = clause.choice("change", CHANGES)
            kinds = clause.texts("kinds")
            unknown_kinds = [kind for kind in kinds if kind not in SUBSTITUENT_KINDS]
            if unknown_kinds:
                raise clause.fail("kinds", f"unknown substituent kinds {unknown_kinds}")
            ring = clause.text("ring", required=change == "replace_ring")
            if ring and ring not in RING_KINDS:
                raise clause.fail("ring", f"{ring!r} is not one of {RING_KINDS}")
            clauses[clause_id] = ClauseSemantics(
                id=clause_id,
                regions=regions,
                change=change,
                summary=clause.text("summary"),
                ring=ring,
                kinds=kinds,
                open_list=clause.flag("open_list", False),
                except_hydrogen=clause.flag("except_hydrogen", False),
            )
        definitions[definition_id] = DefinitionSemantics(
            id=definition_id,
            law=reader.text("law"),
            uncovered=reader.choice("uncovered", ("review", "no_match")),
            uncovered_reason=reader.text("uncovered_reason"),
            clauses=clauses,
        )
    return ClassSemantics(
        reference_smiles=reference, core_smarts=core_smarts, definitions=definitions, core=core
    )


def cas_check_digit_ok(number: str) -> bool:
    """CAS registry number check: the last digit is the weighted sum of the others mod 10."""
    parts = number.split("-")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return False
    if not (2 <= len(parts[0]) <= 7 and len(parts[1]) == 2 and len(parts[2]) == 1):
        return False
    digits = (parts[0] + parts[1])[::-1]
    total = sum((position + 1) * int(digit) for position, digit in enumerate(digits))
    return total % 10 == int(parts[2])


def _load_dictionary(path: Path) -> list[tuple[list[str], str]]:
    """(names and CAS numbers, SMILES) per row of dictionary.csv."""
    rows: list[tuple[list[str], str]] = []
    try:
        handle = path.open(encoding="utf-8", newline="")
    except FileNotFoundError as error:
        raise RuleFileError(f"{path}: dictionary file missing") from error
    with handle:
        for line_number, row in enumerate(csv.DictReader(handle), start=2):
            where = f"{path.name}: line {line_number} ({row.get('name')!r})"
            smiles = (row.get("smiles") or "").strip()
            if Chem.MolFromSmiles(smiles) is None:
                raise RuleFileError(f"{where}, field 'smiles': RDKit cannot parse {smiles!r}")
            cas = [c.strip() for c in (row.get("cas") or "").split(";") if c.strip()]
            for number in cas:
                if not cas_check_digit_ok(number):
                    raise RuleFileError(f"{where}, field 'cas': bad CAS number {number!r}")
            names = [(row.get("name") or "").strip()]
            for column in ("synonyms", "names_zh"):
                names += [n.strip() for n in (row.get(column) or "").split(";") if n.strip()]
            if not names[0]:
                raise RuleFileError(f"{where}, field 'name': missing")
            rows.append((names + cas, smiles))
    return rows


def deferring_entries(book: RuleBook) -> RuleBook:
    """A shallow copy of `book` holding its DEFERRED part pickled (one pickle, so the indexes
    keep pointing at the entries), unpickled when one of them is first read."""
    deferred = copy.copy(book)
    part = {name: deferred.__dict__.pop(name) for name in DEFERRED}
    deferred.__dict__[_PICKLED_PART] = pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)
    return deferred


def load_rulebook_from(directory: Path) -> RuleBook:
    """Load and validate every rule file in `directory` (tests point this at broken copies)."""
    semantics = _load_semantics(directory / CLAUSE_FILE)
    jurisdictions: list[str] = []
    titles: dict[str, str] = {}
    history: dict[str, tuple[date, str]] = {}
    entries: list[NamedEntry] = []
    name_only: list[NameOnlyEntry] = []
    families: list[Family] = []
    classes: list[ClassDefinition] = []
    for file_name in JURISDICTION_FILES:
        path = directory / file_name
        document = _load_toml(path)
        top = _Reader(path, document, "top level")
        jurisdiction = top.text("jurisdiction")
        if jurisdiction in jurisdictions:
            raise top.fail("jurisdiction", f"{jurisdiction!r} is also defined in another file")
        jurisdictions.append(jurisdiction)
        titles[jurisdiction] = top.text("title")
        history_from = top.day("history_from", required=False)
        if history_from is not None:
            history[jurisdiction] = (history_from, top.text("history_note"))
        for index, table in enumerate(_tables(path, document, "entry")):
            entries.append(_parse_entry(path, jurisdiction, table, index))
        for index, table in enumerate(_tables(path, document, "name_only")):
            name_only.append(_parse_name_only(path, jurisdiction, table, index))
        for index, table in enumerate(_tables(path, document, "family")):
            families.append(_parse_family(path, jurisdiction, table, index))
        for index, table in enumerate(_tables(path, document, "class")):
            classes.append(_parse_class(path, jurisdiction, table, index, semantics))
    seen: set[str] = set()
    rules: list[NamedEntry | NameOnlyEntry | Family | ClassDefinition] = [
        *entries,
        *name_only,
        *families,
        *classes,
    ]
    for rule in rules:
        if rule.id in seen:
            raise RuleFileError(f"rule id '{rule.id}' is used twice (ids are unique across files)")
        seen.add(rule.id)

    names: dict[str, NameRecord] = {}
    # Per name, the first record of each substance (connectivity) it names: more than one is a
    # name the law gives two substances, refused as ambiguous, never silently the first.
    substances: dict[str, dict[str, NameRecord]] = {}
    for entry in entries:
        for name in entry.names:
            key, record = normalize_name(name), NameRecord(name, entry.smiles, entry.id)
            names.setdefault(key, record)
            substances.setdefault(key, {}).setdefault(entry.connectivity, record)
    for row_names, smiles in _load_dictionary(directory / DICTIONARY_FILE):
        for name in row_names:
            names.setdefault(normalize_name(name), NameRecord(name, smiles, "dictionary"))
    return RuleBook(
        jurisdictions=tuple(jurisdictions),
        titles=titles,
        entries=entries,
        families=families,
        classes=classes,
        semantics=semantics,
        names=names,
        ambiguous_names={key: found for key, found in substances.items() if len(found) > 1},
        name_only=name_only,
        history=history,
    )
