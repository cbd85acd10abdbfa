"""Tariff measures tied to fentanyl: dated, cited measure data and a duty calculator.

A pure library: it imports nothing from the web, the store or federation. The data lives in
measures/*.toml (see measures/SOURCES.md); `check_measures` is the data check.
"""

from liaison.tariffs.batch import BatchRow, BatchTotals, calculate_rows, read_rows, write_batch
from liaison.tariffs.calculator import (
    AppliedMeasure,
    DutyResult,
    Entry,
    EntryError,
    Exempted,
    calculate,
    entry_from_fields,
)
from liaison.tariffs.measures import (
    CATEGORIES,
    Event,
    Exemption,
    Measure,
    MeasureBook,
    MeasureFileError,
    check_measures,
    load_measure_files,
    load_measures,
    measures_in_force,
)
from liaison.tariffs.timeline import RateStep, rate_timeline

__all__ = [
    "CATEGORIES",
    "AppliedMeasure",
    "BatchRow",
    "BatchTotals",
    "DutyResult",
    "Entry",
    "EntryError",
    "Event",
    "Exempted",
    "Exemption",
    "Measure",
    "MeasureBook",
    "MeasureFileError",
    "RateStep",
    "calculate",
    "calculate_rows",
    "check_measures",
    "entry_from_fields",
    "load_measure_files",
    "load_measures",
    "measures_in_force",
    "rate_timeline",
    "read_rows",
    "write_batch",
]
