"""Canonical JSON: the one byte form that is signed and verified.

Both nodes must produce identical bytes for the same value, so the rules are fixed:
keys sorted, UTF-8 without escaping, no insignificant whitespace. Floats are refused
outright because their text form is not stable across implementations; numbers that
cross the wire are integers (sequence numbers, Unix seconds, byte sizes).
"""

from __future__ import annotations

import json
from typing import Any

from liaison.errors import InvalidInput


def _check(value: Any, where: str) -> None:
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        raise InvalidInput(f"{where}: floats are not allowed in signed JSON (got {value!r})")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"{where}: object keys must be strings (got {key!r})")
            _check(item, f"{where}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]")
        return
    raise InvalidInput(f"{where}: {type(value).__name__} cannot be signed as JSON")


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 bytes of `value`; raises InvalidInput naming the offending path."""
    _check(value, "$")
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
