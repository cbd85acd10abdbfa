"""Checks on the rule data itself (`liaison rules check`) and the reviewer's report of it
(`liaison rules report`). Pure: reads a rule directory, returns findings and tables.

Loading already refuses an entry whose structure does not parse or standardise, whose CAS
check digit is wrong or which lacks a citation or a first day in force; the checks here are the
ones that need the whole book: stated formulas, shared InChIKeys, overlapping ranges within a
list, names that resolve to another entry's structure, unconfirmed entries without a note.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path

from rdkit import Chem

from liaison.chem.rulebook import (
    ClassDefinition,
    Family,
    NamedEntry,
    NameOnlyEntry,
    RuleBook,
    RuleFileError,
    load_rulebook_from,
    normalize_name,
)
from liaison.chem.standardize import standardize, structure_keys

Rule = NamedEntry | NameOnlyEntry | Family | ClassDefinition


@dataclass(frozen=True)
class Finding:
    severity: str  # error | warning
    rule_id: str
    check: str
    message: str

    def line(self) -> str:
        return f"{self.severity}: {self.rule_id}: {self.check}: {self.message}"


@dataclass(frozen=True)
class CheckResult:
    book: RuleBook | None
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


def _overlap(a: Rule, b: Rule) -> bool:
    a_end = a.in_force_to or date.max
    b_end = b.in_force_to or date.max
    return a.in_force_from <= b_end and b.in_force_from <= a_end


def _formula_findings(entries: Iterable[NamedEntry]) -> list[Finding]:
    return [
        Finding(
            "error",
            entry.id,
            "formula",
            f"structure formula {entry.formula} differs from stated {entry.stated_formula}",
        )
        for entry in entries
        if entry.stated_formula and entry.stated_formula != entry.formula
    ]


def _duplicate_findings(entries: list[NamedEntry]) -> list[Finding]:
    """Same InChIKey in one jurisdiction: fine in sequence (a temporary order, then the
    permanent listing); at the same time only when flagged (also_listed_as), and never
    within one list, where it would be two overlapping ranges of the same listing."""
    findings: list[Finding] = []
    groups: dict[tuple[str, str], list[NamedEntry]] = defaultdict(list)
    for entry in entries:
        groups[(entry.jurisdiction, entry.inchikey)].append(entry)
    for group in groups.values():
        for index, first in enumerate(group):
            for second in group[index + 1 :]:
                if not _overlap(first, second):
                    continue
                pair = f"{first.id} and {second.id} share InChIKey {first.inchikey}"
                if first.list == second.list:
                    findings.append(
                        Finding(
                            "error",
                            second.id,
                            "overlapping ranges",
                            f"{pair} on the same list '{first.list}' with overlapping dates",
                        )
                    )
                elif second.id in first.also_listed_as or first.id in second.also_listed_as:
                    findings.append(
                        Finding("warning", second.id, "duplicate InChIKey", f"{pair} (flagged)")
                    )
                else:
                    findings.append(
                        Finding(
                            "error",
                            second.id,
                            "duplicate InChIKey",
                            f"{pair} at the same time; flag it with also_listed_as if deliberate",
                        )
                    )
    return findings


def _overlap_findings(rules: list[Family | ClassDefinition]) -> list[Finding]:
    """Families and classes: one id per listing, so two with the same name on one list must
    follow each other in time."""
    findings: list[Finding] = []
    groups: dict[tuple[str, str, str], list[Family | ClassDefinition]] = defaultdict(list)
    for rule in rules:
        groups[(rule.jurisdiction, rule.list, rule.name)].append(rule)
    for group in groups.values():
        for index, first in enumerate(group):
            for second in group[index + 1 :]:
                if _overlap(first, second):
                    findings.append(
                        Finding(
                            "error",
                            second.id,
                            "overlapping ranges",
                            f"{first.id} and {second.id} list '{first.name}' on "
                            f"'{first.list}' with overlapping dates",
                        )
                    )
    return findings


def _name_findings(book: RuleBook) -> list[Finding]:
    """Every name, synonym, Chinese name and CAS number of an entry leads back to its substance,
    or is one the law gives two substances, declared so by both (shared_names: a query by it is
    refused as ambiguous); any other clash is an error."""
    findings: list[Finding] = []
    keys_of: dict[str, str] = {}

    def key_of(smiles: str) -> str:
        if smiles not in keys_of:
            molecule = Chem.MolFromSmiles(smiles)
            keys_of[smiles] = structure_keys(standardize(molecule))[0] if molecule else ""
        return keys_of[smiles]

    for entry in book.entries:
        declared = {normalize_name(shared) for shared in entry.shared_names}
        for name in entry.names:
            key = normalize_name(name)
            record = book.names.get(key)
            if key in book.ambiguous_names:
                others = [  # the records of the other substances of that name
                    found.source
                    for connectivity, found in book.ambiguous_names[key].items()
                    if connectivity != entry.connectivity
                ]
                if key in declared:
                    detail = f"{name!r} also names {', '.join(others)}: refused as ambiguous"
                    findings.append(Finding("warning", entry.id, "shared name", detail))
                else:
                    detail = (
                        f"{name!r} also names {', '.join(others)}, another substance; "
                        "list it in shared_names of each if the law gives both that name"
                    )
                    findings.append(Finding("error", entry.id, "name", detail))
            elif record is None:
                findings.append(Finding("error", entry.id, "name", f"{name!r} resolves to nothing"))
            elif key_of(record.smiles) != entry.inchikey:
                findings.append(
                    Finding(
                        "error",
                        entry.id,
                        "name",
                        f"{name!r} resolves to {record.source} ({record.smiles}), "
                        "another substance",
                    )
                )
    for listing in book.name_only:
        for name in listing.names:
            record = book.names.get(normalize_name(name))
            if record is not None:
                # Structures are looked up first: the name-only listing would never be found.
                findings.append(
                    Finding(
                        "error",
                        listing.id,
                        "name",
                        f"{name!r} also names a structure ({record.source}): "
                        "the name-only listing cannot be reached by it",
                    )
                )
    return findings


def _threshold_findings(book: RuleBook) -> list[Finding]:
    """A US List I or II chemical whose threshold (21 CFR 1310.04) is not recorded: its
    verdict cannot say above what quantity a transaction is regulated."""
    return [
        Finding("warning", entry.id, "threshold", "List I/II chemical without a threshold")
        for entry in book.entries
        if entry.jurisdiction == "US"
        and entry.list in ("List I", "List II")
        and not entry.threshold
    ]


def _note_findings(rules: Iterable[Rule]) -> list[Finding]:
    findings: list[Finding] = []
    for rule in rules:
        if not rule.confirmed and not rule.note.strip():
            findings.append(
                Finding("error", rule.id, "unconfirmed", "confirmed = false without a note")
            )
    return findings


def check_rules(directory: Path) -> CheckResult:
    """Every check on the rule files in `directory`; a file that does not load is one error."""
    try:
        book = load_rulebook_from(directory)
    except RuleFileError as error:
        return CheckResult(None, (Finding("error", "(load)", "load", str(error)),))
    findings = [
        *_formula_findings(book.entries),
        *_duplicate_findings(book.entries),
        *_overlap_findings([*book.families, *book.classes]),
        *_name_findings(book),
        *_threshold_findings(book),
        *_note_findings(_rules(book)),
    ]
    return CheckResult(book, tuple(findings))


# ----------------------------------------------------------------------------- the report

CSV_COLUMNS = (
    "jurisdiction",
    "list",
    "kind",
    "id",
    "name",
    "names_zh",
    "cas",
    "smiles",
    "formula",
    "stated_formula",
    "threshold",
    "in_force_from",
    "in_force_to",
    "confirmed",
    "citation",
    "source",
    "note",
)


def _kind(rule: Rule) -> str:
    kinds = {NamedEntry: "entry", NameOnlyEntry: "name-only", Family: "family"}
    return kinds.get(type(rule), "class")


def _rules(book: RuleBook) -> list[Rule]:
    return [*book.entries, *book.name_only, *book.families, *book.classes]


def report_csv(book: RuleBook) -> str:
    """One row per entry, family and class: what a reviewer checks line by line."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for rule in _rules(book):
        entry = rule if isinstance(rule, NamedEntry) else None
        listed = rule if isinstance(rule, (NamedEntry, NameOnlyEntry)) else None
        writer.writerow(
            {
                "jurisdiction": rule.jurisdiction,
                "list": rule.list,
                "kind": _kind(rule),
                "id": rule.id,
                "name": rule.name,
                "names_zh": "; ".join(listed.names_zh) if listed else "",
                "cas": "; ".join(listed.cas) if listed else "",
                "smiles": entry.smiles if entry else getattr(rule, "smarts", ""),
                "formula": entry.formula if entry else "",
                "stated_formula": entry.stated_formula if entry else "",
                "threshold": entry.threshold if entry else "",
                "in_force_from": rule.in_force_from.isoformat(),
                "in_force_to": rule.in_force_to.isoformat() if rule.in_force_to else "",
                "confirmed": "yes" if rule.confirmed else "no",
                "citation": rule.citation,
                "source": rule.source,
                "note": rule.note,
            }
        )
    return out.getvalue()


def list_sizes(book: RuleBook) -> list[tuple[str, str, int, int]]:
    """(jurisdiction, list, rules, of which unconfirmed), in file order."""
    total: Counter[tuple[str, str]] = Counter()
    unconfirmed: Counter[tuple[str, str]] = Counter()
    for rule in _rules(book):
        total[(rule.jurisdiction, rule.list)] += 1
        unconfirmed[(rule.jurisdiction, rule.list)] += 0 if rule.confirmed else 1
    order = {code: index for index, code in enumerate(book.jurisdictions)}
    keys = sorted(total, key=lambda key: (order[key[0]], key[1]))
    return [(j, name, total[(j, name)], unconfirmed[(j, name)]) for j, name in keys]


_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
.error { background: #fbd5d5; } .warning { background: #fff6bf; }
.note { color: #555; font-size: 0.9em; }
"""


def _table(headers: tuple[str, ...], rows: Iterable[Iterable[object]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def report_html(result: CheckResult) -> str:
    """The page a reviewer reads to trust the data: lists and sizes, the checks' findings,
    every unconfirmed rule with its note, and the sources cited."""
    book = result.book
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Liaison rule data</title><style>{_STYLE}</style></head><body>",
        "<h1>Liaison rule data</h1>",
    ]
    if book is None:
        parts.append("<p class='error'>The rule files do not load:</p>")
    else:
        rules = _rules(book)
        unconfirmed = [rule for rule in rules if not rule.confirmed]
        parts.append(
            f"<p>{len(book.entries)} named entries, {len(book.name_only)} name-only listings "
            f"(plants, preparations: no structure), {len(book.families)} families, "
            f"{len(book.classes)} class definitions; {len(unconfirmed)} unconfirmed.</p>"
        )
        parts.append("<h2>Lists</h2>")
        for code in book.jurisdictions:
            parts.append(f"<p><b>{escape(code)}</b>: {escape(book.titles[code])}</p>")
        parts.append(_table(("jurisdiction", "list", "rules", "unconfirmed"), list_sizes(book)))
    parts.append("<h2>Checks</h2>")
    if result.findings:
        parts.append(
            "<table><tr><th>severity</th><th>rule</th><th>check</th><th>finding</th></tr>"
            + "".join(
                f'<tr class="{f.severity}"><td>{f.severity}</td><td>{escape(f.rule_id)}</td>'
                f"<td>{escape(f.check)}</td><td>{escape(f.message)}</td></tr>"
                for f in result.findings
            )
            + "</table>"
        )
    else:
        parts.append("<p>Every check passed.</p>")
    if book is not None:
        parts.append("<h2>Unconfirmed rules</h2>")
        parts.append(
            _table(
                ("id", "list", "from", "to", "citation", "note"),
                (
                    (r.id, r.list, r.in_force_from, r.in_force_to or "", r.citation, r.note)
                    for r in _rules(book)
                    if not r.confirmed
                ),
            )
        )
        sources = Counter(rule.source for rule in _rules(book) if rule.source)
        parts.append("<h2>Sources</h2>")
        parts.append(_table(("source", "rules citing it"), sorted(sources.items())))
    parts.append("</body></html>")
    return "\n".join(parts)
