"""Registry extracts and requests: CSV or Parquet tables of people, read and checked.

INTERFACE (implementation follows in the next commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

# The columns of a REGISTRY (id column person_id) or REQUESTS (request_id) file, after the id.
COLUMNS = (
    "family_name",
    "given_name",
    "family_name_native",
    "given_name_native",
    "sex",
    "date_of_birth",
    "place_of_birth",
    "id_number",
    "address",
)


@dataclass(frozen=True)
class RowProblem:
    """A field read as empty: `row` is the 1-based data row (the header not counted)."""

    row: int
    field: str
    message: str


def read_people(path: Path, id_column: str) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Read a CSV or Parquet file of people; every row is kept, a bad field is blanked and
    reported. The table has the id column, the COLUMNS (cleaned: dates as YYYY-MM-DD, YYYY-MM or
    YYYY, identity numbers normalised) and the derived comparison columns used by matching."""
    raise NotImplementedError


def prepare_people(frame: pd.DataFrame, id_column: str) -> tuple[pd.DataFrame, list[RowProblem]]:
    """As read_people, for a table already in memory (e.g. records read from a database)."""
    raise NotImplementedError
