"""Text every database stores alike and every page shows as written.

SQLite keeps a NUL character that PostgreSQL refuses, so a record one node accepted was
lost at its peer. The same rule applies everywhere text enters a node (the API, the web
forms, the federation inbox): refused are the C0 controls but tab, line feed and
carriage return, DEL, the C1 controls, lone surrogates (not UTF-8) and the Unicode
noncharacters, which HTML parsers treat as errors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from liaison.errors import InvalidInput
from liaison.messages import T

_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_UNSTORABLE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}]")


def _describe(character: str) -> str:
    code = f"U+{ord(character):04X}"
    name = unicodedata.name(character, "")
    return f"{name} ({code})" if name else f"the character {code}"


def check_storable_text(value: str, what: str) -> None:
    """Refuse text with a character no backend or page keeps as it is, saying which and
    where."""
    found = _UNSTORABLE.search(value)
    if found is not None:
        raise InvalidInput(
            T(
                "%(what)s contains %(found)s at character %(start)s, which cannot be"
                " stored or shown as written",
                what=what,
                found=_describe(found.group()),
                start=found.start() + 1,
            )
        )


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{where} key", str(key)
            yield from _strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")


def check_storable_document(value: Any, where: str) -> None:
    """check_storable_text for every string (and key) of decoded JSON, naming its path."""
    for path, text in _strings(value, where):
        check_storable_text(text, path)
