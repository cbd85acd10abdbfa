"""Limits checked on the text of a query before RDKit sees it, and the reading of the text.

RDKit can take minutes on, or crash in, structures no chemist draws (a 3,000-atom ring, a
chain of 9,000 benzene rings); such a query is refused by counting its characters, atoms,
fragments, ring closures and branch depth in the text itself. The time limit is enforced by
the caller (liaison.chem.isolation), which runs the engine in a worker it can stop.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# The time limit a record gets when nobody says otherwise (the issue asks for at most 10 s).
DEFAULT_SECONDS = 10.0


@dataclass(frozen=True)
class Limits:
    """What one query may be. Counts are of distinct fragments: a salt drawn with 12,000
    waters is one organic fragment and one water."""

    characters: int = 100_000
    atoms: int = 500  # heavy atoms written, over the distinct fragments
    fragments: int = 32  # distinct fragments (dot-separated parts)
    ring_closures: int = 100
    branch_depth: int = 40
    seconds: float = DEFAULT_SECONDS  # per record, enforced by the worker pool

    def refusal(self, name: str, value: int, limit: int, unit: str) -> str:
        return f"{value} {unit}; the limit is {limit} (limit {name}={limit})"


# One SMILES token each: a bracket atom, an organic-subset atom, a bond, a branch, a ring
# closure, a dot. Anything else is not SMILES, and RDKit would stop reading there or skip it.
_TOKEN = re.compile(
    r"(\[[^\[\]]*\])|(Br|Cl|[BCNOPSFI]|[bcnops]|\*)|(%\(\d+\)|%\d\d|\d)|(\()|(\))|(\.)|([-=#$:/\\~])"
)
_INCHI_FORMULA = re.compile(r"([A-Z][a-z]?)(\d*)")
CX_EXTENSION = re.compile(r"^(\S+)\s+\|(.*)\|$", re.DOTALL)


@dataclass(frozen=True)
class SmilesShape:
    """What the text of a SMILES says about its size, counted over distinct fragments."""

    fragments: tuple[str, ...]  # the distinct fragments, in the order first written
    repeats: int  # fragments left out because an identical one was written before
    atoms: int
    ring_closures: int
    branch_depth: int


def smiles_shape(smiles: str) -> SmilesShape | str:
    """The shape of `smiles`, or why it is not SMILES (the first character RDKit would have
    to ignore, by position counted from 1)."""
    position = 0
    depth = deepest = 0
    parts: list[str] = []
    start = 0
    for match in _TOKEN.finditer(smiles):
        if match.start() != position:
            return _not_smiles(smiles, position)
        position = match.end()
        if match.group(4):
            depth += 1
            deepest = max(deepest, depth)
        elif match.group(5):
            depth -= 1
        elif match.group(6):
            parts.append(smiles[start : match.start()])
            start = match.end()
    if position != len(smiles):
        return _not_smiles(smiles, position)
    parts.append(smiles[start:])
    # Identical parts can be read once only when no ring bond joins two parts (RDKit allows
    # "C1.C1"): each ring label then occurs an even number of times in every part.
    distinct = list(dict.fromkeys(parts)) if all(map(_closed_rings, parts)) else parts
    atoms = closures = 0
    for part in distinct:
        for match in _TOKEN.finditer(part):
            atoms += bool(match.group(1) or match.group(2))
            closures += bool(match.group(3))
    return SmilesShape(tuple(distinct), len(parts) - len(distinct), atoms, closures // 2, deepest)


def _closed_rings(part: str) -> bool:
    labels: dict[str, int] = {}
    for match in _TOKEN.finditer(part):
        if match.group(3):
            labels[match.group(3)] = labels.get(match.group(3), 0) + 1
    return all(count % 2 == 0 for count in labels.values())


def _not_smiles(smiles: str, position: int) -> str:
    return (
        f"character {smiles[position]!r} at position {position + 1} is not SMILES syntax; "
        "RDKit would ignore or misread it"
    )


def check_smiles(shape: SmilesShape, limits: Limits) -> str | None:
    """Which limit the SMILES exceeds, with its value; None when it is within all of them."""
    if len(shape.fragments) > limits.fragments:
        return "SMILES has " + limits.refusal(
            "fragments", len(shape.fragments), limits.fragments, "distinct fragments"
        )
    if shape.atoms > limits.atoms:
        return "SMILES has " + limits.refusal("atoms", shape.atoms, limits.atoms, "atoms")
    if shape.ring_closures > limits.ring_closures:
        return "SMILES has " + limits.refusal(
            "ring_closures", shape.ring_closures, limits.ring_closures, "ring closures"
        )
    if shape.branch_depth > limits.branch_depth:
        return "SMILES has branches nested " + limits.refusal(
            "branch_depth", shape.branch_depth, limits.branch_depth, "deep"
        )
    return None


def check_characters(text: str, limits: Limits) -> str | None:
    if len(text) > limits.characters:
        return "query has " + limits.refusal(
            "characters", len(text), limits.characters, "characters"
        )
    return None


def check_atoms(atoms: int, label: str, limits: Limits) -> str | None:
    if atoms > limits.atoms:
        return f"{label} has " + limits.refusal("atoms", atoms, limits.atoms, "atoms")
    return None


def inchi_atoms(inchi: str) -> int:
    """Heavy atoms of an InChI, read from its formula layer (0 when it has none)."""
    layers = inchi.split("/")
    if len(layers) < 2:
        return 0
    total = 0
    for component in layers[1].split("."):
        count = re.match(r"\d*", component)
        times = int(count.group()) if count and count.group() else 1
        for element, number in _INCHI_FORMULA.findall(component):
            if element != "H":
                total += times * (int(number) if number else 1)
    return total


def molblock_atoms(block: str) -> int:
    """Atoms of a MOL block, read from its counts line (V2000) or COUNTS line (V3000)."""
    v3000 = re.search(r"M  V30 COUNTS (\d+)", block)
    if v3000:
        return int(v3000.group(1))
    lines = block.splitlines()
    if len(lines) > 3 and lines[3][:3].strip().isdigit():
        return int(lines[3][:3])
    return 0


def normalize_text(text: str) -> tuple[str, str | None]:
    """`text` in Unicode NFKC without format characters (zero-width spaces, joiners, the
    byte-order mark, direction marks), and a note saying what changed (None when nothing)."""
    removed = [char for char in text if unicodedata.category(char) == "Cf"]
    stripped = "".join(char for char in text if unicodedata.category(char) != "Cf")
    normalized = unicodedata.normalize("NFKC", stripped)
    if normalized == text:
        return text, None
    changes = []
    if removed:
        codes = ", ".join(dict.fromkeys(f"U+{ord(char):04X}" for char in removed))
        changes.append(f"removed {len(removed)} format character(s) ({codes})")
    if normalized != stripped:
        changes.append("compatibility characters (full-width digits, ligatures) normalized (NFKC)")
    shown = repr(normalized) if len(normalized) <= 80 else "the query"
    return normalized, f"input read as {shown}: " + "; ".join(changes)
