"""Batches: one result or one error per row, numbered as a spreadsheet numbers rows, and
totals over the good rows; one bad row never stops the rest."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from liaison.errors import InvalidInput
from liaison.tariffs import BatchTotals, calculate_rows, read_rows, write_batch

ENTRIES = """reference,origin,entry_date,customs_value,hts,usmca,category,extra
a,CN,2025-03-10,10000,2933.39.41,,,ignored
b,CA,2025-13-01,500,,,,
c,MX,2025-03-10,1000,,yes,,

d,CA,2025-08-01,1000,,no,energy,
e,XX,2025-08-01,,,,,
f,CN,2026-03-02,100,,,,
"""


def run(text: str) -> tuple[list[dict[str, str]], BatchTotals]:
    out = io.StringIO()
    totals = write_batch(out, calculate_rows(read_rows(io.StringIO(text), "entries.csv")))
    return list(csv.DictReader(io.StringIO(out.getvalue()))), totals


def test_every_row_gets_a_result_or_an_error_with_its_spreadsheet_row_number() -> None:
    rows, totals = run(ENTRIES)
    assert [(r["row"], r["reference"]) for r in rows] == [
        ("2", "a"),
        ("3", "b"),
        ("4", "c"),
        ("6", "d"),  # the blank line 5 is skipped, not renumbered
        ("7", "e"),
        ("8", "f"),
    ]
    by_ref = {r["reference"]: r for r in rows}
    assert by_ref["a"]["measures"] == "CN-IEEPA-FENTANYL-20 20% 2000.00"
    assert by_ref["a"]["total_additional"] == "2000.00" and by_ref["a"]["ieepa_total"] == "2000.00"
    assert by_ref["a"]["hts"] == "2933.39.41" and by_ref["a"]["error"] == ""
    assert (
        by_ref["b"]["error"] == "row 3, column entry_date: '2025-13-01' is not a date (YYYY-MM-DD)"
    )
    assert by_ref["b"]["total_additional"] == ""
    assert by_ref["c"]["measures"] == "" and by_ref["c"]["total_additional"] == "0.00"
    assert by_ref["d"]["measures"] == "CA-IEEPA-ENERGY-10 10% 100.00"
    assert by_ref["e"]["error"] == "row 7, column customs_value: missing"
    assert (
        by_ref["f"]["measures"] == "US-S122-10 10% 10.00" and by_ref["f"]["ieepa_total"] == "0.00"
    )
    assert totals.entries == 4 and totals.errors == 2
    assert totals.total_additional == Decimal("2110.00")
    assert totals.ieepa_total == Decimal("2100.00")


def test_a_header_without_the_required_columns_is_refused_as_a_whole() -> None:
    with pytest.raises(InvalidInput, match=r"entries\.csv, row 1: missing column"):
        list(read_rows(io.StringIO("origin,date,value\nCN,2025-03-10,1\n"), "entries.csv"))
    with pytest.raises(InvalidInput, match=r"entries\.csv: empty file"):
        list(read_rows(io.StringIO(""), "entries.csv"))


def test_excel_byte_order_mark_and_header_case_are_accepted() -> None:
    rows, _ = run("\ufeffOrigin,Entry_Date,Customs_Value\nCN,2025-03-10,100\n")
    assert rows[0]["total_additional"] == "20.00"
