"""Identity documents: the Chinese resident identity number and passport machine-readable zones.

The resident identity number (GB 11643-1999) uses python-stdnum (stdnum.cn.ric) for the check
character and its region table; unlike stdnum's `validate`, a region code the table does not
know for the birth year is only a note: tables lag behind renamed and new regions, and a number
whose check character is right is strong evidence. MRZs (ICAO Doc 9303 parts 4 and 5, TD3 and
TD1) are parsed here: no maintained library on PyPI checks them (the `mrz` package was last
released in 2020) and the 7-3-1 check digit is a few lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")
LEGACY_RESIDENT_ID = re.compile(r"^\d{15}$")
SEPARATORS = re.compile(r"[\s\-./]+")

Problem = tuple[str, str]


@dataclass(frozen=True)
class DocumentCheck:
    """The verdict on one identity number.

    `kind` is "resident_id" (18 characters), "resident_id_15" (the legacy 15-digit form) or
    "other" (not a Chinese resident identity number: compared as an opaque string).
    `normalised` is the form to compare: the 18-character number (a legacy number upgraded,
    with its computed check character) or the opaque string upper-cased without separators.
    `parts` names each part read ("region_code", "date_of_birth" ISO, "sequence", "sex" M/F,
    "check_character"); `problems` (part, message) make the number invalid; `notes` do not.
    """

    value: str
    kind: str
    valid: bool
    normalised: str
    parts: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def normalise_id_number(value: str) -> str:
    """The comparable form of any identity number: upper case, no spaces or separators."""
    return SEPARATORS.sub("", value).upper()


def is_resident_id_form(value: str) -> bool:
    """True when the value has the shape of a Chinese resident identity number (18 or 15)."""
    compact = normalise_id_number(value)
    return bool(RESIDENT_ID.match(compact) or LEGACY_RESIDENT_ID.match(compact))


def check_resident_id(value: str) -> DocumentCheck:
    """Check a Chinese resident identity number: format, date of birth, check character, and
    the region code (a note when the table does not know it for the birth year)."""
    compact = normalise_id_number(value)
    if LEGACY_RESIDENT_ID.match(compact):
        return _check_legacy(value, compact)
    if len(compact) == 18 and compact[:17].isdigit() and compact[17] in "0123456789X":
        return _check_18(value, compact)
    if re.fullmatch(r"[\dXx]{14,19}", compact):
        problem = _format_problem(compact)
        return DocumentCheck(value, "resident_id", False, compact, problems=[problem])
    return DocumentCheck(
        value,
        "other",
        bool(compact),
        compact,
        notes=[("format", "not a Chinese resident identity number: compared as written")],
        problems=[] if compact else [("format", "empty")],
    )


def _format_problem(compact: str) -> Problem:
    if len(compact) not in (15, 18):
        return ("format", f"{len(compact)} characters; a resident identity number has 18 (or 15)")
    where = next(i for i, c in enumerate(compact) if not c.isdigit())
    return ("format", f"character {where + 1} is {compact[where]!r}; only the last may be X")


def _check_18(value: str, compact: str) -> DocumentCheck:
    problems: list[Problem] = []
    notes: list[Problem] = []
    sequence = compact[14:17]
    parts = {
        "region_code": compact[:6],
        "sequence": sequence,
        "sex": "M" if int(sequence[-1]) % 2 else "F",
        "check_character": compact[17],
    }
    born = _birth_date(compact[6:14], problems)
    if born is not None:
        parts["date_of_birth"] = born.isoformat()
    expected = ric.calc_check_digit(compact)
    if expected != compact[17]:
        problems.append(
            ("check_character", f"is {compact[17]}, the first 17 characters give {expected}")
        )
    if born is not None:
        notes.extend(_region_notes(compact))
    return DocumentCheck(value, "resident_id", not problems, compact, parts, problems, notes)


def _check_legacy(value: str, compact: str) -> DocumentCheck:
    """The 15-digit form (before 1999): YYMMDD of a 19xx birth, three-digit sequence, no check
    character. Normalised to the 18-character number it became."""
    problems: list[Problem] = []
    upgraded17 = compact[:6] + "19" + compact[6:]
    parts = {
        "region_code": compact[:6],
        "sequence": compact[12:15],
        "sex": "M" if int(compact[14]) % 2 else "F",
    }
    born = _birth_date(upgraded17[6:14], problems)
    if born is not None:
        parts["date_of_birth"] = born.isoformat()
    normalised = upgraded17 + ric.calc_check_digit(upgraded17 + "0")
    notes: list[Problem] = [("format", f"legacy 15-digit number; 18-character form {normalised}")]
    if born is not None:
        notes.extend(_region_notes(normalised))
    return DocumentCheck(value, "resident_id_15", not problems, normalised, parts, problems, notes)


def _birth_date(digits: str, problems: list[Problem]) -> date | None:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        problems.append(("date_of_birth", f"{digits} is not a date (YYYYMMDD)"))
        return None
    if born.year < 1850 or born > date.today():
        problems.append(("date_of_birth", f"{born.isoformat()} is not a plausible date of birth"))
        return None
    return born


def _region_notes(number18: str) -> list[Problem]:
    if not _region_known(number18[:6], number18[6:10]):
        return [
            (
                "region_code",
                f"{number18[:6]} is not in python-stdnum's region table for the birth year "
                "(tables lag behind changes): the number is not rejected for it",
            )
        ]
    return []


@lru_cache(maxsize=50_000)
def _region_known(region: str, year: str) -> bool:
    try:
        ric.get_birth_place(f"{region}{year}0101")
    except ValidationError:
        return False
    return True


# ICAO 9303 character values: digits, A=10 ... Z=35, the filler < = 0.
def _char_value(char: str) -> int:
    if char.isdigit():
        return int(char)
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    return 0


def mrz_check_digit(data: str) -> str:
    """ICAO 9303 part 3 check digit: weights 7, 3, 1 repeated, modulo 10."""
    weights = (7, 3, 1)
    return str(sum(_char_value(c) * weights[i % 3] for i, c in enumerate(data)) % 10)


@dataclass(frozen=True)
class CheckDigit:
    """One check digit of an MRZ: what it covers, the digit written, the digit computed."""

    name: str
    found: str
    expected: str

    @property
    def ok(self) -> bool:
        # ICAO lets the check digit of empty optional data be the filler.
        return self.found == self.expected or (self.found == "<" and self.expected == "0")


@dataclass(frozen=True)
class MrzCheck:
    """A parsed MRZ. `format` is "TD3" (passport, 2 x 44) or "TD1" (card, 3 x 30), or "" when
    the text is neither; `fields` holds every field without fillers (names split into
    "surname" and "given_names"; dates as written, YYMMDD); `problems` (part, message) list
    layout errors and every failing check digit; valid = no problems."""

    format: str
    fields: dict[str, str]
    check_digits: list[CheckDigit]
    problems: list[Problem]

    @property
    def valid(self) -> bool:
        return bool(self.format) and not self.problems


MRZ_CHARS = re.compile(r"^[A-Z0-9<]+$")


def parse_mrz(text: str) -> MrzCheck:
    """Parse and check a TD3 (two lines of 44) or TD1 (three lines of 30) MRZ."""
    # Lines hold no spaces ("<" is the filler): any whitespace separates them, so a zone
    # kept on one line of a CSV cell, its lines joined by a space, is read too.
    lines = [line.upper() for line in text.split()]
    if len(lines) == 1 and len(lines[0]) in (88, 90):  # pasted without line breaks
        width = 44 if len(lines[0]) == 88 else 30
        lines = [lines[0][i : i + width] for i in range(0, len(lines[0]), width)]
    shape = [len(line) for line in lines]
    if shape == [44, 44]:
        layout, kind = TD3, "TD3"
    elif shape == [30, 30, 30]:
        layout, kind = TD1, "TD1"
    else:
        message = f"{len(lines)} line(s) of {shape} characters; TD3 is 2 x 44, TD1 is 3 x 30"
        return MrzCheck("", {}, [], [("layout", message)])
    problems: list[Problem] = []
    for number, line in enumerate(lines, 1):
        if not MRZ_CHARS.match(line):
            bad = sorted({c for c in line if not MRZ_CHARS.match(c)})
            problems.append((f"line {number}", f"characters not allowed in an MRZ: {bad}"))
    fields = {name: _field(lines, span) for name, span in layout.fields.items()}
    surname, _, given = fields.pop("name").partition("  ")
    fields["surname"] = surname.strip()
    fields["given_names"] = " ".join(given.split())
    checks = [
        CheckDigit(name, _raw(lines, digit), mrz_check_digit("".join(_raw(lines, s) for s in data)))
        for name, (data, digit) in layout.checks.items()
    ]
    for check in checks:
        if not check.ok:
            problems.append(
                (check.name, f"check digit is {check.found!r}, the data give {check.expected}")
            )
    for name in ("date_of_birth", "date_of_expiry"):
        if not re.fullmatch(r"\d{6}", fields[name]) or _yymmdd(fields[name]) is None:
            problems.append((name, f"{fields[name]!r} is not a date (YYMMDD)"))
    if fields["sex"] not in ("M", "F", ""):
        problems.append(("sex", f"{fields['sex']!r} is not M, F or <"))
    return MrzCheck(kind, fields, checks, problems)


Span = tuple[int, int, int]  # line index, start, end


@dataclass(frozen=True)
class _Layout:
    fields: dict[str, Span]
    checks: dict[str, tuple[list[Span], Span]]


def _raw(lines: list[str], span: Span) -> str:
    line, start, end = span
    return lines[line][start:end]


def _field(lines: list[str], span: Span) -> str:
    return _raw(lines, span).replace("<", " ").strip()


def _yymmdd(value: str) -> tuple[int, int, int] | None:
    year, month, day = int(value[:2]), int(value[2:4]), int(value[4:6])
    try:
        date(2000 + year, month, day)
    except ValueError:
        return None
    return year, month, day


TD3 = _Layout(
    fields={
        "document_code": (0, 0, 2),
        "issuing_state": (0, 2, 5),
        "name": (0, 5, 44),
        "document_number": (1, 0, 9),
        "nationality": (1, 10, 13),
        "date_of_birth": (1, 13, 19),
        "sex": (1, 20, 21),
        "date_of_expiry": (1, 21, 27),
        "optional_data": (1, 28, 42),
    },
    checks={
        "document_number": ([(1, 0, 9)], (1, 9, 10)),
        "date_of_birth": ([(1, 13, 19)], (1, 19, 20)),
        "date_of_expiry": ([(1, 21, 27)], (1, 27, 28)),
        "optional_data": ([(1, 28, 42)], (1, 42, 43)),
        "composite": ([(1, 0, 10), (1, 13, 20), (1, 21, 43)], (1, 43, 44)),
    },
)

TD1 = _Layout(
    fields={
        "document_code": (0, 0, 2),
        "issuing_state": (0, 2, 5),
        "document_number": (0, 5, 14),
        "optional_data": (0, 15, 30),
        "date_of_birth": (1, 0, 6),
        "sex": (1, 7, 8),
        "date_of_expiry": (1, 8, 14),
        "nationality": (1, 15, 18),
        "optional_data_2": (1, 18, 29),
        "name": (2, 0, 30),
    },
    checks={
        "document_number": ([(0, 5, 14)], (0, 14, 15)),
        "date_of_birth": ([(1, 0, 6)], (1, 6, 7)),
        "date_of_expiry": ([(1, 8, 14)], (1, 14, 15)),
        "composite": ([(0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)], (1, 29, 30)),
    },
)
