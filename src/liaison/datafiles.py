"""Reading the project's TOML data files (substance rules, tariff measures).

Typed access to one table of a file; every failure raises the caller's error type with a
message naming the file, the entry and the field, so a typo in the data can never silently
drop or change a rule.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from liaison.errors import ConfigurationError


def read_toml(path: Path, error: type[ConfigurationError], kind: str) -> dict[str, Any]:
    """The parsed file; `kind` ("rule file") names it in the message when it is missing."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as missing:
        raise error(f"{path}: {kind} missing") from missing
    except OSError as unreadable:
        raise error(f"{path}: {kind} cannot be read ({unreadable.strerror})") from unreadable
    except tomllib.TOMLDecodeError as invalid:
        raise error(f"{path.name}: not valid TOML: {invalid}") from invalid


def array_of_tables(
    path: Path, document: Mapping[str, Any], key: str, error: type[ConfigurationError]
) -> list[dict[str, Any]]:
    tables = document.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise error(f"{path.name}: '{key}' must be an array of tables ([[{key}]])")
    return tables


class TableReader:
    """Typed access to one table of a data file; subclasses set `error`."""

    error: ClassVar[type[ConfigurationError]] = ConfigurationError

    def __init__(self, path: Path, table: Mapping[str, Any], what: str) -> None:
        self.path = path
        self.table = table
        self.what = what

    def fail(self, key: str, message: str) -> ConfigurationError:
        return self.error(f"{self.path.name}: {self.what}, field '{key}': {message}")

    def text(self, key: str, *, required: bool = True) -> str:
        value = self.table.get(key)
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return value

    def texts(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(key, f"expected a list of strings, got {value!r}")
        if required and not value:
            raise self.fail(key, "missing or empty")
        return tuple(value)

    def day(self, key: str, *, required: bool = True) -> date | None:
        value = self.table.get(key)
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return None
        if not isinstance(value, date) or hasattr(value, "hour"):
            raise self.fail(key, f"expected a TOML local date (2019-05-01), got {value!r}")
        return value

    def flag(self, key: str, default: bool | None = None) -> bool:
        """A boolean; without a default the field is required."""
        value = self.table.get(key, default)
        if value is None:
            raise self.fail(key, "missing")
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def choice(self, key: str, allowed: Iterable[str]) -> str:
        value = self.text(key)
        options = tuple(allowed)
        if value not in options:
            raise self.fail(key, f"{value!r} is not one of {', '.join(options)}")
        return value
