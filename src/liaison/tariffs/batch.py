"""Many entries from a CSV file: one result or one error per row, and the totals.

Rows are numbered as a spreadsheet numbers them (the header is row 1), so an error points at
the row the user sees. A bad row never stops the others.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TextIO

from liaison.errors import InvalidInput
from liaison.messages import T
from liaison.tariffs.calculator import DutyResult, EntryError, calculate, entry_from_fields
from liaison.tariffs.measures import MeasureBook, load_measures

REQUIRED_COLUMNS = ("origin", "entry_date", "customs_value")
OUTPUT_COLUMNS = (
    "row",
    "reference",
    "origin",
    "entry_date",
    "customs_value",
    "hts",
    "usmca",
    "measures",
    "total_additional",
    "ieepa_total",
    "ordinary_duty",
    "error",
)


@dataclass(frozen=True)
class BatchRow:
    row: int  # as a spreadsheet numbers it: the header is row 1
    fields: dict[str, str]
    result: DutyResult | None = None
    error: str | None = None


@dataclass
class BatchTotals:
    entries: int = 0
    errors: int = 0
    total_additional: Decimal = Decimal("0.00")
    ieepa_total: Decimal = Decimal("0.00")

    def add(self, row: BatchRow) -> None:
        if row.result is None:
            self.errors += 1
            return
        self.entries += 1
        self.total_additional += row.result.total_additional
        self.ieepa_total += row.result.ieepa_total


def read_rows(stream: TextIO, name: str = "input") -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, fields) for every non-empty data row. A header without the required
    columns is an error for the whole file (InvalidInput naming the missing columns)."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        raise InvalidInput(
            T(
                "%(name)s: empty file, expected a header row with %(required_columns)s",
                name=name,
                required_columns=", ".join(REQUIRED_COLUMNS),
            )
        )
    columns = [column.strip().lstrip("\ufeff").lower() for column in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise InvalidInput(
            T(
                "%(name)s, row 1: missing column(s) %(missing)s",
                name=name,
                missing=", ".join(missing),
            )
        )
    for number, values in enumerate(reader, start=2):
        if not any(value.strip() for value in values):
            continue
        yield number, dict(zip(columns, values, strict=False))


def calculate_rows(
    rows: Iterable[tuple[int, dict[str, str]]], book: MeasureBook | None = None
) -> Iterator[BatchRow]:
    book = book or load_measures()
    for number, fields in rows:
        try:
            result = calculate(entry_from_fields(fields), book)
        except EntryError as error:
            yield BatchRow(
                number, fields, error=f"row {number}, column {error.field}: {error.message}"
            )
            continue
        yield BatchRow(number, fields, result=result)


def _measures_cell(result: DutyResult) -> str:
    return "; ".join(
        f"{m.measure.id} {m.measure.rate_percent}% {m.to_dict()['amount']}" for m in result.measures
    )


def output_row(row: BatchRow) -> list[str]:
    fields = row.fields
    result = row.result
    if result is None:
        computed = ["", "", "", "", row.error or ""]
        echoed = [
            fields.get(column, "")
            for column in ("origin", "entry_date", "customs_value", "hts", "usmca")
        ]
    else:
        summary = result.to_dict()
        entry = summary["entry"]
        echoed = [
            entry["origin"],
            entry["entry_date"],
            entry["customs_value"],
            entry["hts"] or "",
            "true" if entry["usmca"] else "false",
        ]
        computed = [
            _measures_cell(result),
            summary["total_additional"],
            summary["ieepa_total"],
            summary["ordinary_duty"] or "",
            "",
        ]
    return [str(row.row), fields.get("reference", ""), *echoed, *computed]


def write_batch(stream: TextIO, rows: Iterable[BatchRow]) -> BatchTotals:
    """Write one output row per input row (errors included) and return the totals."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    totals = BatchTotals()
    for row in rows:
        writer.writerow(output_row(row))
        totals.add(row)
    return totals
