"""What the engine answers: one verdict per jurisdiction, each with the legal basis it rests on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Status = Literal["controlled", "precursor", "review", "no_match", "invalid"]
QueryKind = Literal["smiles", "inchi", "molblock", "cas", "name", "unknown"]
BasisKind = Literal["named", "family", "class"]

# When several rules match, the strongest status wins: a listing outranks a precursor
# control, which outranks "an expert must look at this", which outranks "nothing matched".
STATUS_RANK: dict[str, int] = {
    "controlled": 4,
    "precursor": 3,
    "review": 2,
    "no_match": 1,
    "invalid": 0,
}


# The key of the one picture with every jurisdiction's regions, among a record's pictures (here,
# not in chem.report: screening without a report does not import the report's HTML).
COMBINED = "*"

# Said of a plant, extract or preparation listed by name only (no structure to compare).
NO_STRUCTURE = "no structure applies"

# How far a law's date is known: "year" and "month" dates are stored as their first day.
DatePrecision = Literal["year", "month", "day"]


@dataclass(frozen=True)
class RegionFinding:
    """How one region of fentanyl changed in the query, and which clause (if any) covers it."""

    region: str  # acyl | aniline | piperidine | linker | terminal_ring
    clause: str | None  # clause id that covers the change, None when none does
    explanation: str  # "D: aniline ring replaced by pyrimidin-2-yl"
    atoms: tuple[int, ...]  # atoms of the region on the standardized molecule
    covered: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "clause": self.clause,
            "covered": self.covered,
            "explanation": self.explanation,
            "atoms": list(self.atoms),
        }


@dataclass(frozen=True)
class Basis:
    """One rule that matched: the listing or class, the entry or clauses, and the legal citation."""

    kind: BasisKind
    rule_id: str
    status: Status  # what this rule alone says (a class near-miss says "review")
    list: str
    name: str  # entry name, family name or class name
    citation: str
    in_force_from: date
    in_force_to: date | None
    atoms: tuple[int, ...] = ()
    clauses: tuple[str, ...] = ()
    regions: tuple[RegionFinding, ...] = ()
    confirmed: bool = True
    note: str = ""
    # The fragment (standardized SMILES) the rule matched, when the query held several organic
    # fragments (a salt with an unlisted counter-ion, a seized mixture); None for one.
    fragment: str | None = None
    in_force_precision: DatePrecision = "day"
    # A precursor list's reporting threshold with its citation (US List I/II); "" when none
    # is recorded.
    threshold: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rule_id": self.rule_id,
            "status": self.status,
            "list": self.list,
            "name": self.name,
            "clauses": list(self.clauses),
            "citation": self.citation,
            "in_force_from": self.in_force_from.isoformat(),
            "in_force_to": self.in_force_to.isoformat() if self.in_force_to else None,
            "in_force_precision": self.in_force_precision,
            "atoms": list(self.atoms),
            "regions": [region.to_dict() for region in self.regions],
            "confirmed": self.confirmed,
            "note": self.note,
            "fragment": self.fragment,
            "threshold": self.threshold or None,
        }


@dataclass(frozen=True)
class Verdict:
    status: Status
    basis: list[Basis] = field(default_factory=list)
    explanation: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "basis": [basis.to_dict() for basis in self.basis],
            "explanation": self.explanation,
        }


@dataclass
class Identification:
    """The answer to one query: what it was, what structure it stands for, and the verdicts."""

    query: str
    query_kind: QueryKind
    verdicts: dict[str, Verdict]
    standardized_smiles: str | None = None
    error: str | None = None
    id: str | None = None
    as_of: date | None = None
    # How the input was read when that is not plain: Unicode normalized, CXSMILES extension
    # parsed, repeated fragments judged once.
    notes: list[str] = field(default_factory=list)
    # The standardized parent (an RDKit Mol) that every atom index in the basis refers to;
    # kept for depiction, left out of to_dict().
    parent: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "input": self.query,
            "query_kind": self.query_kind,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "verdicts": {code: verdict.to_dict() for code, verdict in self.verdicts.items()},
            "error": self.error,
            "notes": list(self.notes),
        }

    @property
    def flagged(self) -> bool:
        """True when any jurisdiction says anything other than no_match."""
        return any(verdict.status != "no_match" for verdict in self.verdicts.values())
