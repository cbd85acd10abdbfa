"""Chinese names in characters and in Latin script, normalised for comparison.

INTERFACE (implementation follows in the next commits).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NameKeys:
    """Comparison keys of one person's name. `family` and `given` are the primary pinyin
    readings (lower case, syllables joined: "wang", "xiaoming"); the variants are every reading
    the name may stand for (Wade-Giles, Cantonese and Hokkien surnames, pinyin of the native
    characters); `full` holds family+given and given+family of every variant pair (order)."""

    family: str
    given: str
    family_variants: tuple[str, ...]
    given_variants: tuple[str, ...]
    full: tuple[str, ...]


def normalise(text: str) -> str:
    """Lower case Latin letters only: accents, tone marks, spaces, hyphens, apostrophes removed."""
    raise NotImplementedError


def to_pinyin(text: str) -> str:
    """Hanzi to toneless pinyin syllables separated by spaces ("王小明" -> "wang xiao ming")."""
    raise NotImplementedError


def name_keys(
    family_name: str = "",
    given_name: str = "",
    family_name_native: str = "",
    given_name_native: str = "",
) -> NameKeys:
    """The comparison keys of a name written in Latin script, in characters, or both."""
    raise NotImplementedError
