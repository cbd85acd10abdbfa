"""Texts made below the web layer (the engine's explanations, services' errors, the audit
chain's findings) that the web layer can show in the user's language.

A `Text` is the English text itself (a `str`: the API, the CSV and every comparison see
exactly what they saw before) that also keeps how it was made: a gettext msgid with
`%(name)s` placeholders and its parameters, or the parts it joins. Pure: no Babel, no
catalog; `liaison.web.i18n.translate` puts the current language in its place, translating
each parameter that is itself a `Text`, or a plain word the catalogs know (a group name, a
region), and leaving the rest (SMILES, citations, names from the rule data) as written.

Mark a msgid with `T("...")` (the extractor's keyword, like `_` in the web layer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class Text(str):
    """English text with its msgid and parameters (or its parts and their separator)."""

    msgid: str
    params: Mapping[str, Any]
    parts: tuple[str, ...] | None
    separator: str

    def __new__(
        cls,
        english: str,
        msgid: str = "",
        params: Mapping[str, Any] | None = None,
        parts: tuple[str, ...] | None = None,
        separator: str = "",
    ) -> Text:
        text = super().__new__(cls, english)
        text.msgid = msgid or english
        text.params = params or {}
        text.parts = parts
        text.separator = separator
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        # Verdicts cross process boundaries (the engine's isolated workers): keep the structure.
        return (Text, (str(self), self.msgid, dict(self.params), self.parts, self.separator))


def T(msgid: str, **params: Any) -> Text:
    """`msgid` filled from `params` (`%(name)s`), in English, remembering both."""
    return Text(msgid % params if params else msgid, msgid, params)


def joined(parts: Iterable[str], separator: str = "; ") -> Text:
    """Parts joined by `separator` ("; " or ", "); each part translated on its own."""
    kept = tuple(parts)
    return Text(separator.join(kept), parts=kept, separator=separator)
