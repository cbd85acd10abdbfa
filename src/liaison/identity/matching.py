"""Probabilistic matching of requests against a registry extract (Splink, DuckDB backend).

INTERFACE (implementation follows in the next commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Candidate:
    """One registry person proposed for a request. `evidence` maps each compared field
    (name, date_of_birth, sex, place_of_birth, id_number, address) to the comparison level it
    fell into ("level": its label) and that level's match weight ("weight", log2 Bayes factor)."""

    request_id: str
    person_id: str
    match_probability: float
    match_weight: float
    evidence: dict[str, dict[str, str | float]]


class Matcher:
    """A trained Splink model bound to a registry table (from people.read_people/prepare_people).

    Matcher.train(registry) estimates u by random sampling of the registry and m by EM without
    labels (on registry x requests pairs when requests are given); save/load keep the model JSON.
    """

    @classmethod
    def train(cls, registry: pd.DataFrame, requests: pd.DataFrame | None = None) -> Matcher:
        raise NotImplementedError

    @classmethod
    def load(cls, path: Path, registry: pd.DataFrame) -> Matcher:
        raise NotImplementedError

    def save(self, path: Path) -> None:
        raise NotImplementedError

    def match(self, requests: pd.DataFrame, k: int = 1) -> list[Candidate]:
        """The k best candidates of each request, best first (fewer when blocking finds fewer)."""
        raise NotImplementedError


def exact_match(registry: pd.DataFrame, requests: pd.DataFrame) -> list[Candidate]:
    """The baseline: same identity number, or same normalised name and full date of birth."""
    raise NotImplementedError
