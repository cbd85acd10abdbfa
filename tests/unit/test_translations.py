"""Every string the interface shows has a Simplified Chinese translation in some catalog."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from liaison.web import i18n

WEB = Path(i18n.__file__).resolve().parent
PACKAGE = WEB.parent
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]


def interface_msgids() -> dict[str, str]:
    """msgid (a plural's singular: the catalog keys it so) -> where it is first used: the
    web layer's `_("…")`, and every `T("…")` of the layers below (liaison.messages)."""
    found: dict[str, str] = {}
    extracted = [
        *((WEB, *found_at) for found_at in extract_from_dir(WEB, METHODS)),
        *(
            (PACKAGE, *found_at)
            for found_at in extract_from_dir(PACKAGE, [("**.py", "python")], keywords={"T": None})
        ),
    ]
    for root, filename, lineno, message, _comments, _context in extracted:
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"{root.name}/{filename}:{lineno}")
    return found


def test_the_extraction_finds_the_interface_strings() -> None:
    msgids = interface_msgids()
    # One from a template, one from Python: both extractors ran.
    assert "Log out" in msgids
    assert "overdue by %(span)s" in msgids
    # And the texts made below the web layer: the engine's, the audit chain's.
    assert "%(clause)s: propionyl replaced by %(name)s" in msgids
    assert "audit chain intact: %(count)s entries" in msgids


def test_every_interface_string_is_translated() -> None:
    catalog = i18n.read_catalogs()
    missing = [
        f"{where}: {msgid!r}"
        for msgid, where in sorted(interface_msgids().items(), key=lambda item: item[1])
        if not (message := catalog.get(msgid)) or not message.string or message.fuzzy
    ]
    assert not missing, "no zh_CN translation (add them to your area's .po):\n" + "\n".join(missing)


def test_catalog_placeholders_match_their_msgids() -> None:
    # A translation that drops or renames %(name)s would fail only when shown.
    for message in i18n.read_catalogs():
        if message.id and message.string:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in strings:
                if text:
                    assert placeholders(text) == placeholders(ids[-1]), (message.id, text)


def placeholders(text: str) -> set[str]:
    import re

    return set(re.findall(r"%\((\w+)\)", text))
