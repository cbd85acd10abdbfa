"""A synthetic population for demos, tests and benchmarks.

INTERFACE (implementation follows in the next commits).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def synthesise(
    people: int, requests: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(registry, requests, truth): truth has request_id, person_id (empty for a request whose
    person is not in the registry)."""
    raise NotImplementedError


def write(out: Path, people: int, requests: int, seed: int) -> list[Path]:
    """Write registry.csv, requests.csv and truth.csv to `out`; the paths written."""
    raise NotImplementedError
