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
from typing import NamedTuple

from liaison.messages import T, Text, joined

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

    def refusal(self, what: str, name: str, value: int, limit: int, unit: str) -> Text:
        """ "SMILES has 600 atoms; the limit is 500 (limit atoms=500)"."""
        return T(
            "%(what)s has %(value)s %(unit)s; the limit is %(limit)s (limit %(name)s=%(limit)s)",
            what=what,
            value=value,
            unit=unit,
            limit=limit,
            name=name,
        )


# SMILES tokens: a bracket atom, an organic-subset atom, a ring closure, a branch, a dot, a
# bond. Text that is not a run of these is not SMILES: RDKit would stop there or skip it.
_BRACKET_ATOM = r"\[[^\[\]]*\]"
_ORGANIC_ATOM = r"Br|Cl|[BCNOPSFI]|[bcnops]|\*"
_RING_LABEL = r"%\(\d+\)|%\d\d|\d"
_TOKENS = re.compile(rf"(?:{_BRACKET_ATOM}|{_ORGANIC_ATOM}|{_RING_LABEL}|[().=#$:/\\~-])*")
_BRACKETS = re.compile(_BRACKET_ATOM)
# One atom of a SMILES (bracket or organic subset), in the order RDKit numbers them.
ATOM_TOKEN = re.compile(f"{_BRACKET_ATOM}|{_ORGANIC_ATOM}")
_NOT_LETTERS = str.maketrans("", "", "BCNOPSFIbcnopslr")
_NOT_DIGITS = str.maketrans("", "", "0123456789")
_NOT_SMILES_CHARACTERS = str.maketrans("", "", "BCNOPSFIbcnopslr*0123456789%().=#$:/\\~-")
_RING_LABELS = re.compile(_RING_LABEL)
_INCHI_FORMULA = re.compile(r"([A-Z][a-z]?)(\d*)")
_INNERMOST_BRANCH = re.compile(r"\([^()]*\)")
_QUICK_LEVELS = 8
CX_EXTENSION = re.compile(r"^(\S+)\s+\|(.*)\|$", re.DOTALL)


class SmilesShape(NamedTuple):  # a named tuple: built for every record, cheaper than a dataclass
    """What the text of a SMILES says about its size, counted over distinct fragments."""

    fragments: tuple[str, ...]  # the distinct fragments, in the order first written
    repeats: int  # fragments left out because an identical one was written before
    atoms: int
    ring_closures: int
    branch_depth: int


def smiles_shape(smiles: str) -> SmilesShape | str:
    """The shape of `smiles`, or why it is not SMILES (the first character RDKit would have
    to ignore, by position counted from 1). Regular expressions only: a 100,000-character
    query is measured in milliseconds."""
    if not _only_tokens(smiles):
        read = _TOKENS.match(smiles)  # slower, but finds where it stops
        return _not_smiles(smiles, read.end() if read else 0)
    parts = smiles.split(".")
    distinct = list(dict.fromkeys(parts)) if len(parts) > 1 else parts
    # Identical parts can be read once only when no ring bond joins two parts (RDKit allows
    # "C1.C1"): each ring label then occurs an even number of times in every part.
    if len(distinct) < len(parts) and not all(map(_closed_rings, distinct)):
        distinct = parts
    text = ".".join(distinct) if len(distinct) < len(parts) else smiles
    atoms = 0
    if "[" in text:
        atoms = len(_BRACKETS.findall(text))
        text = _BRACKETS.sub("", text)  # digits inside brackets are not ring closures
    # Outside brackets every letter is an organic-subset atom but for the second of Cl, Br.
    atoms += len(text) - len(text.translate(_NOT_LETTERS)) - text.count("l") - text.count("r")
    atoms += text.count("*")
    if "%" in text:
        closures = len(_RING_LABELS.findall(text)) // 2
    else:
        closures = (len(text) - len(text.translate(_NOT_DIGITS))) // 2
    depth = _branch_depth(text) if "(" in text else 0
    return SmilesShape(tuple(distinct), len(parts) - len(distinct), atoms, closures, depth)


def _branch_depth(text: str) -> int:
    """How deep branches nest: innermost branches are removed a level per pass, one regex pass
    each (drawn molecules nest 1 to 3 deep); past _QUICK_LEVELS, or with parentheses that do
    not pair, counted character by character."""
    bare, depth = text, 0
    while "(" in bare and depth < _QUICK_LEVELS:
        bare, removed = _INNERMOST_BRANCH.subn("", bare)
        if not removed:
            break
        depth += 1
    if "(" not in bare and ")" not in bare:
        return depth
    depth = deepest = 0
    for paren in re.findall(r"[()]", text):
        depth += 1 if paren == "(" else -1
        deepest = max(deepest, depth)
    return deepest


def within_by_length(smiles: str, limits: Limits) -> bool:
    """Whether `smiles` is one fragment of SMILES tokens too short for any count of
    smiles_shape to reach its limit (an atom takes a character at least, a ring closure two
    digits, a branch a parenthesis), so counting can be skipped: most drawn molecules."""
    return (
        len(smiles) <= min(limits.atoms, 2 * limits.ring_closures + 1)
        and limits.fragments >= 1
        and "." not in smiles
        and smiles.count("(") <= limits.branch_depth
        and _only_tokens(smiles)
    )


def _only_tokens(smiles: str) -> bool:
    """Whether `smiles` is a run of SMILES tokens (str methods: the common case is fast)."""
    bare = _BRACKETS.sub("", smiles) if "[" in smiles else smiles
    if bare.translate(_NOT_SMILES_CHARACTERS):
        return False  # a character outside SMILES, or a bracket left unclosed
    if bare.count("l") != bare.count("Cl") or bare.count("r") != bare.count("Br"):
        return False
    return "%" not in bare or _TOKENS.fullmatch(bare) is not None


def _closed_rings(part: str) -> bool:
    labels = _RING_LABELS.findall(_BRACKETS.sub("", part))
    return all(labels.count(label) % 2 == 0 for label in set(labels))


def _not_smiles(smiles: str, position: int) -> str:
    return T(
        "character %(character)s at position %(position)s is not SMILES syntax; RDKit would "
        "ignore or misread it",
        character=repr(smiles[position]),
        position=position + 1,
    )


def check_smiles(shape: SmilesShape, limits: Limits) -> str | None:
    """Which limit the SMILES exceeds, with its value; None when it is within all of them."""
    if len(shape.fragments) > limits.fragments:
        return limits.refusal(
            "SMILES",
            "fragments",
            len(shape.fragments),
            limits.fragments,
            T("distinct fragments"),
        )
    if shape.atoms > limits.atoms:
        return limits.refusal("SMILES", "atoms", shape.atoms, limits.atoms, T("atoms"))
    if shape.ring_closures > limits.ring_closures:
        return limits.refusal(
            "SMILES", "ring_closures", shape.ring_closures, limits.ring_closures, T("ring closures")
        )
    if shape.branch_depth > limits.branch_depth:
        return T(
            "SMILES has branches nested %(value)s deep; the limit is %(limit)s "
            "(limit branch_depth=%(limit)s)",
            value=shape.branch_depth,
            limit=limits.branch_depth,
        )
    return None


def check_characters(text: str, limits: Limits) -> str | None:
    if len(text) > limits.characters:
        return limits.refusal(
            T("query"), "characters", len(text), limits.characters, T("characters")
        )
    return None


def check_atoms(atoms: int, label: str, limits: Limits) -> str | None:
    if atoms > limits.atoms:
        return limits.refusal(label, "atoms", atoms, limits.atoms, T("atoms"))
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
    if text.isascii():  # nothing to normalize; the common case, kept cheap
        return text, None
    removed = [char for char in text if unicodedata.category(char) == "Cf"]
    stripped = "".join(char for char in text if unicodedata.category(char) != "Cf")
    normalized = unicodedata.normalize("NFKC", stripped)
    if normalized == text:
        return text, None
    changes = []
    if removed:
        codes = ", ".join(dict.fromkeys(f"U+{ord(char):04X}" for char in removed))
        changes.append(
            T(
                "removed %(count)s format character(s) (%(codes)s)",
                count=len(removed),
                codes=codes,
            )
        )
    if normalized != stripped:
        changes.append(
            T("compatibility characters (full-width digits, ligatures) normalized (NFKC)")
        )
    shown = repr(normalized) if len(normalized) <= 80 else T("the query")
    return normalized, T(
        "input read as %(shown)s: %(changes)s", shown=shown, changes=joined(changes)
    )
