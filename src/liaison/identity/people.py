"""Registry extracts and requests: CSV or Parquet tables of people, read and checked.

Every row is kept. A field that cannot be read (an impossible date, a malformed resident
identity number, a sex other than M or F) is blanked and reported with its row; the rest of
the row is used. The table gains the comparison columns that matching uses (name keys in
pinyin across romanisations, date parts, place keys).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liaison.identity import PERSON_FIELDS
from liaison.identity.documents import check_resident_id, is_resident_id_form, normalise_id_number
from liaison.identity.names import (
    HANZI,
    combine_name_keys,
    name_keys,
    normalise,
    quick_pinyin,
    to_pinyin,
)
from liaison.identity.passport import read_passport_mrz

if TYPE_CHECKING:
    import pandas as pd

# The columns of a REGISTRY (id column person_id) or REQUESTS (request_id) file, after the id.
COLUMNS = PERSON_FIELDS
SEXES = {"m": "M", "male": "M", "男": "M", "f": "F", "female": "F", "女": "F"}
DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
EARLIEST_YEAR = 1880
# Administrative words that say nothing about which place: dropped from place keys.
ADMIN_CHARACTERS = re.compile(r"[省市县區区镇鎮乡鄉村]")
ADMIN_WORDS = frozenset(
    [
        "province",
        "city",
        "county",
        "district",
        "town",
        "village",
        "prefecture",
        "sheng",
        "shi",
        "xian",
        "qu",
        "zhen",
        "xiang",
        "cun",
        "autonomous",
        "region",
        "zizhiqu",
        "prc",
        "china",
        "zhongguo",
    ]
)


# Places whose usual English spelling is not their pinyin (哈尔滨 Harbin, 陕西 Shaanxi, set
# apart from 山西 Shanxi; the older postal spellings): the pinyin, as the characters read.
PLACE_SPELLINGS = {
    "harbin": "haerbin",
    "shaanxi": "shanxi",
    "hohhot": "huhehaote",
    "urumqi": "wulumuqi",
    "lhasa": "lasa",
    "amoy": "xiamen",
    "canton": "guangzhou",
    "peking": "beijing",
}


@dataclass(frozen=True)
class RowProblem:
    """A field read as empty (or in part): `row` is the 1-based data row (header not counted),
    0 for a problem of the whole file (a missing column)."""

    row: int
    field: str
    message: str


def read_people(path: Path, id_column: str) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Read a CSV or Parquet file of people and prepare it (see prepare_people). Raises
    ValueError naming the file when it cannot be read at all or has no `id_column`."""
    import pandas as pd

    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, encoding="utf-8-sig", on_bad_lines="warn"
            )
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise ValueError(f"{path}: cannot be read as CSV or Parquet ({error})") from error
    if id_column not in frame.columns:
        raise ValueError(f"{path}: no column {id_column!r} (columns: {', '.join(frame.columns)})")
    return prepare_people(frame, id_column)


def prepare_people(frame: pd.DataFrame, id_column: str) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Clean the COLUMNS of a table of people and add the comparison columns. The result has
    `unique_id` (the row, 0-based), the id column, the cleaned COLUMNS (empty = None) and:
    name_key, family_keys, given_keys, name_keys (see names.NameKeys), dob_year, dob_month,
    dob_day, place_keys, address_key."""
    import pandas as pd

    problems: list[RowProblem] = []
    for column in COLUMNS:
        if column not in frame.columns:
            problems.append(RowProblem(0, column, "no such column: read as empty"))
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    values = frame.reindex(columns=[id_column, *COLUMNS]).astype(object)
    # An optional passport_mrz column (requests): the zone fills what the row left empty.
    zones = (
        [_text(v) for v in frame["passport_mrz"].astype(object)]
        if "passport_mrz" in frame.columns
        else None
    )
    today = date.today()
    for index, row in enumerate(values.itertuples(index=False, name=None)):
        number = index + 1
        fields = dict(zip([id_column, *COLUMNS], (_text(v) for v in row), strict=True))
        if zones is not None and zones[index]:
            mrz = read_passport_mrz(zones[index], today)
            if mrz.failing:
                failing = ", ".join(dict.fromkeys(part for part, _ in mrz.failing))
                problems.append(
                    RowProblem(number, "passport_mrz", f"does not check out ({failing})")
                )
            fields = mrz.fill(fields)
            passport_name = (mrz.fields.get("surname", ""), mrz.fields.get("given_names", ""))
        else:
            passport_name = ("", "")
        identifier = fields[id_column]
        if not identifier:
            problems.append(RowProblem(number, id_column, "empty"))
        elif identifier in seen:
            problems.append(RowProblem(number, id_column, f"{identifier!r} appears twice"))
        seen.add(identifier)
        records.append(_prepare_row(index, fields, problems, passport_name))
    table = pd.DataFrame.from_records(records, columns=OUTPUT_COLUMNS(id_column))
    for column in ("dob_year", "dob_month", "dob_day"):
        table[column] = table[column].astype("Int64")
    return table, problems


def OUTPUT_COLUMNS(id_column: str) -> list[str]:
    return ["unique_id", id_column, *COLUMNS, *DERIVED]


DERIVED = (
    "name_key",
    "native_name",
    "family_keys",
    "given_keys",
    "name_keys",
    "dob_year",
    "dob_month",
    "dob_day",
    "place_keys",
    "address_key",
    "id_number_misread",
)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):  # NaN from Parquet
        return ""
    return " ".join(str(value).split())


def _prepare_row(
    index: int,
    fields: dict[str, str],
    problems: list[RowProblem],
    passport_name: tuple[str, str] = ("", ""),
) -> dict[str, Any]:
    """`passport_name`: (surname, given names) of the request's passport MRZ, whose readings
    join those of the name as written (a name mistyped from the passport still meets the
    registry's through the MRZ)."""
    number = index + 1
    sex = fields["sex"]
    if sex:
        fields["sex"] = SEXES.get(sex.casefold(), "")
        if not fields["sex"]:
            problems.append(RowProblem(number, "sex", f"{sex!r} is not M or F: read as empty"))
    born, problem = parse_date(fields["date_of_birth"])
    if problem:
        problems.append(RowProblem(number, "date_of_birth", problem))
    fields["date_of_birth"] = born
    identity = fields["id_number"]
    misread = ""
    if identity:
        fields["id_number"], problem = _identity_number(identity)
        if problem:
            problems.append(RowProblem(number, "id_number", problem))
            # Kept aside for the near-match level only: one mistyped digit of an 18-character
            # number still points at one person, and a failing check is never an exact match.
            misread = normalise_id_number(identity) if is_resident_id_form(identity) else ""
    keys = _name_keys(
        fields["family_name"],
        fields["given_name"],
        fields["family_name_native"],
        fields["given_name_native"],
    )
    if any(passport_name):
        keys = combine_name_keys(keys, _name_keys(*passport_name))
    native = fields["family_name_native"] + fields["given_name_native"]
    parts = [int(p) for p in born.split("-")] if born else []
    record: dict[str, Any] = {name: (value or None) for name, value in fields.items()}
    record.update(
        unique_id=index,
        name_key=(keys.family + " " + keys.given) if keys.family and keys.given else None,
        # Both names in characters, or none: homophones (陈欣, 陈鑫) read the same in Latin.
        native_name=native.replace(" ", "")
        if fields["family_name_native"] and fields["given_name_native"]
        else None,
        family_keys=list(keys.family_variants) or None,
        given_keys=list(keys.given_variants) or None,
        name_keys=list(keys.full) or None,
        dob_year=parts[0] if parts else None,
        dob_month=parts[1] if len(parts) > 1 else None,
        dob_day=parts[2] if len(parts) > 2 else None,
        place_keys=list(_place_keys(fields["place_of_birth"])) or None,
        address_key=address_key(fields["address"]) or None,
        id_number_misread=misread or None,
    )
    return record


_name_keys = lru_cache(maxsize=200_000)(name_keys)


def parse_date(value: str) -> tuple[str, str]:
    """(the date as YYYY-MM-DD, YYYY-MM or YYYY, a problem or ""). An impossible date keeps
    what is certain: its year, when the year itself is plausible."""
    if not value:
        return "", ""
    match = DATE.match(value.strip())
    if not match:
        return "", f"{value!r} is not YYYY-MM-DD, YYYY-MM or YYYY: read as empty"
    year, month, day = (int(p) if p else None for p in match.groups())
    assert year is not None
    if not EARLIEST_YEAR <= year <= date.today().year:
        return "", f"{value!r}: year {year} is not a plausible year of birth: read as empty"
    if month is None:
        return f"{year:04d}", ""
    if not 1 <= month <= 12:
        # A month past 12 with a day that can be a month has one reading: day and month
        # swapped (written month first, as in the United States).
        if day and day <= 12 and month <= 31:
            try:
                swapped = date(year, day, month)
            except ValueError:
                pass
            else:
                if swapped <= date.today():
                    return swapped.isoformat(), (
                        f"{value!r}: no month {month}: day and month swapped, read as "
                        f"{swapped.isoformat()}"
                    )
        return f"{year:04d}", f"{value!r}: no month {month}: read as the year {year}"
    if day is None:
        return f"{year:04d}-{month:02d}", ""
    try:
        born = date(year, month, day)
    except ValueError:
        return f"{year:04d}-{month:02d}", f"{value!r}: no such day: read as {year:04d}-{month:02d}"
    if born > date.today():
        return "", f"{value!r} is in the future: read as empty"
    return born.isoformat(), ""


def _identity_number(value: str) -> tuple[str, str]:
    """(the comparable number or "" when malformed, a problem or "")."""
    if not is_resident_id_form(value) and not re.fullmatch(r"[\dXx]{14,19}", value.strip()):
        return normalise_id_number(value), ""
    check = check_resident_id(value)
    if not check.valid:
        reasons = "; ".join(f"{part}: {message}" for part, message in check.problems)
        return "", (
            f"{value!r} is not a valid resident identity number ({reasons}): read as empty "
            "(compared only for a near match)"
        )
    return check.normalised, ""


@lru_cache(maxsize=100_000)
def _place_keys(place: str) -> tuple[str, ...]:
    return tuple(place_keys(place))


def place_keys(place: str) -> list[str]:
    """The words naming a place, in pinyin, without administrative words ("福建省福州市" and
    "Fuzhou City, Fujian" both give fuzhou and fujian)."""
    if not place:
        return []
    words: list[str] = []
    for piece in re.split(r"[,;/()\s]+", place):
        if HANZI.search(piece):
            # Read as words, not character by character: 厦门 is xiamen, 长沙 changsha.
            words.extend(
                normalise(to_pinyin(part)) for part in ADMIN_CHARACTERS.split(piece) if part
            )
        else:
            word = normalise(piece)
            # "Xi'an" is a city; "xian" alone, a county.
            if word in ADMIN_WORDS and "'" not in piece and "’" not in piece:
                continue
            words.append(PLACE_SPELLINGS.get(word, word))
    return sorted({w for w in words if w})


def address_key(address: str) -> str:
    """Address for fuzzy comparison: pinyin for characters, lower case, single spaces."""
    text = quick_pinyin(address) if HANZI.search(address) else address
    return " ".join(re.sub(r"[^0-9a-z]+", " ", normalise_spaces(text)).split())


def normalise_spaces(text: str) -> str:
    return " ".join(text.casefold().split())
