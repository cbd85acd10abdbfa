"""The interface's two languages and the user's time zone, for the current request.

Catalogs: every `locale/zh_CN/LC_MESSAGES/*.po` (one per area of the interface, so that
engineers never edit one file together) is read with Babel the first time Chinese is asked
for (once per process) and merged into one in-memory catalog: no compiled .mo is committed,
no build step runs.

The current request's language and time zone live in context variables. `Preferences`
(ASGI middleware) sets them from the language cookie and `Accept-Language`, and the node's
time zone; `use_user_preferences` (called once the user is known, see web/auth.py) puts the
user's own preferences over them. Templates and Python code both translate through them:
templates with `{{ _("Text") }}` (jinja2.ext.i18n, newstyle), Python with `_("Text")`.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from functools import cache, partial
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton, format_timedelta
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment
from markupsafe import Markup, escape
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from liaison.chem.models import DatePrecision
from liaison.messages import Text
from liaison.services.accounts import LANGUAGES as USER_LANGUAGES

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# Language tags as the API and the <html lang> attribute write them -> Babel's locale names.
LANGUAGES = dict(zip(USER_LANGUAGES, ("en", "zh_Hans_CN"), strict=True))
LANGUAGE_NAMES = {"en": "English", "zh-CN": "中文"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "liaison_language"

_language: ContextVar[str] = ContextVar("liaison_language", default=DEFAULT_LANGUAGE)
_zone: ContextVar[ZoneInfo] = ContextVar(
    "liaison_time_zone",
    default=ZoneInfo("UTC"),  # noqa: B039 (a ZoneInfo is immutable)
)


def read_catalogs(directory: Path = LOCALE_DIR / "zh_CN" / "LC_MESSAGES") -> Catalog:
    """Every area's .po merged into one catalog (fuzzy entries are kept, marked, not used)."""
    merged = Catalog(locale="zh_Hans_CN", domain="liaison")
    for path in sorted(directory.glob("*.po")):
        with path.open("rb") as file:
            catalog = read_po(file, locale="zh_Hans_CN", domain=path.stem)
        for message in catalog:
            if message.id:
                merged[message.id] = message
    return merged


@cache
def _chinese() -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, read_catalogs(), use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain="liaison")


_ENGLISH = stdlib_gettext.NullTranslations()  # the source language: no catalog


def translations() -> stdlib_gettext.NullTranslations:
    """The current request's catalog; English is the source language (no catalog)."""
    if _language.get() == "zh-CN":
        return _chinese()
    return _ENGLISH


def current_language() -> str:
    """`en` or `zh-CN`: for <html lang> and the language switch."""
    return _language.get()


def current_zone() -> ZoneInfo:
    return _zone.get()


@cache
def _babel_locale(name: str) -> Locale:
    return Locale.parse(name)


def babel_locale() -> Locale:
    """The current language's Babel locale (parsed once per language, not per date shown)."""
    return _babel_locale(LANGUAGES[_language.get()])


# --------------------------------------------------------------- Python-side strings


def _(message: str, **variables: Any) -> str:
    """`message` in the current request's language, `%(name)s` filled from `variables`."""
    text = translations().gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Singular or plural, translated; `%(num)d` is filled in like Jinja's ngettext."""
    text = translations().ngettext(singular, plural, num)
    return text % {"num": num, **variables}


def N_(message: str) -> str:
    """Marks a module-level string for extraction; translate it where it is shown."""
    return message


# How a language joins the parts of a `Text` (liaison.messages.joined).
_SEPARATORS = {"zh-CN": {"; ": "；", ", ": "、", " and ": "和"}}
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def translate(value: Any) -> Any:
    """A text made below the web layer (liaison.messages.Text), in the current language.

    Its msgid is looked up in the catalogs and filled with its parameters, each translated
    the same way; a plain string parameter is translated when the catalogs know it (a group
    or region name) and kept as written otherwise (a SMILES, a citation, a rule's name).
    English, and any value that is not a string, come back as they are.
    """
    if not isinstance(value, str) or _language.get() == DEFAULT_LANGUAGE:
        return value
    return _translated(value, translations(), _SEPARATORS.get(_language.get(), {}), str)


def translate_to(language: str, value: Any) -> Any:
    """`translate` into `language`, wherever it runs (an engine worker has no request): the
    depictions' legends, made in the worker, get it as `partial(translate_to, language)`."""
    with preferences(language):
        return translate(value)


def language_translator() -> Callable[[str], str]:
    """The current language's `translate`, picklable (a worker process may call it); for
    English `str`, the engine's text as it is: a worker then never imports the web layer."""
    language = current_language()
    return str if language == DEFAULT_LANGUAGE else partial(translate_to, language)


def translate_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """An identification's `to_dict()` with its texts (explanations, notes, the error) in the
    current language; for an API request that asks for one with `Accept-Language`."""
    verdicts = {
        code: {
            **verdict,
            "explanation": translate(verdict["explanation"]),
            "basis": [
                {
                    **basis,
                    "note": translate(basis["note"]),
                    "regions": [
                        {**region, "explanation": translate(region["explanation"])}
                        for region in basis["regions"]
                    ],
                }
                for basis in verdict["basis"]
            ],
        }
        for code, verdict in answer["verdicts"].items()
    }
    return {
        **answer,
        "verdicts": verdicts,
        "error": translate(answer["error"]),
        "notes": [translate(note) for note in answer["notes"]],
    }


def asked_language(headers: Headers | Any) -> str:
    """The language a request asks for itself (`Accept-Language`), whatever the user's
    preference: the API answers in English unless the request asks for another."""
    return accepted_language(headers.get("accept-language")) or DEFAULT_LANGUAGE


def translate_html(value: Any) -> Any:
    """Jinja filter `tr`: `translate`, escaped, with what stays English (a rule's name, its
    citation, a note from the rule data) in `<span lang="en">`, as screen readers need it."""
    if not isinstance(value, str):
        return value
    if _language.get() == DEFAULT_LANGUAGE:
        return escape(value)
    return _translated(value, translations(), _SEPARATORS.get(_language.get(), {}), _marked)


def _marked(text: str) -> Markup:
    return Markup('<span lang="en">{}</span>').format(text)


def _translated(
    value: str,
    catalog: stdlib_gettext.NullTranslations,
    separators: dict[str, str],
    untranslated: Callable[[str], str],
) -> str:
    markup = untranslated is not str
    if not isinstance(value, Text):
        found = catalog.gettext(value) if value.strip() else value
        if found == value and _LATIN_WORD.search(value):
            return untranslated(value)
        return escape(found) if markup else found
    if value.parts is not None:
        separator = separators.get(value.separator, value.separator)
        parts = [_translated(part, catalog, separators, untranslated) for part in value.parts]
        return Markup(escape(separator)).join(parts) if markup else separator.join(parts)
    template = catalog.gettext(value.msgid)
    if template == value.msgid and _LATIN_WORD.search(_PLACEHOLDER.sub("", value.msgid)):
        # No translation of this sentence: all of it stays English, marked as such.
        return untranslated(str(value))
    params = {
        name: _translated(param, catalog, separators, untranslated)
        if isinstance(param, str)
        else param
        for name, param in value.params.items()
    }
    if markup:
        return Markup(escape(template)) % params if params else Markup(escape(template))
    return template % params if params else template


# --------------------------------------------------------------- preferences


def accepted_language(header: str | None) -> str | None:
    """The first of LANGUAGES an `Accept-Language` header asks for, by its q-values."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, position, tag.strip().lower()))
    for negative_quality, _position, tag in sorted(ranked):
        if negative_quality >= 0:
            break  # q=0: "not this one"; all that follow are the same or worse
        if tag.startswith("zh"):
            # Simplified Chinese is the only Chinese there is; zh-TW readers still get it.
            return "zh-CN"
        if tag.startswith("en") or tag == "*":
            return "en"
    return None


def language_tag(value: str | None) -> str | None:
    """A stored or submitted language, if it is one the interface has."""
    return value if value in LANGUAGES else None


def zone_named(name: str | None) -> ZoneInfo | None:
    """The IANA time zone of that name, or None (unknown names are refused where they enter)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@cache
def time_zone_names() -> list[str]:
    """The IANA names a user may choose, for the preferences form."""
    return sorted(name for name in available_timezones() if "/" in name or name == "UTC")


class HasPreferences(Protocol):
    language: str | None
    time_zone: str | None


def use_user_preferences(user: HasPreferences) -> None:
    """The signed-in user's own language and time zone, over the browser's and the node's."""
    language = language_tag(user.language)
    if language:
        _language.set(language)
    zone = zone_named(user.time_zone)
    if zone:
        _zone.set(zone)


@contextmanager
def preferences(language: str, zone: ZoneInfo | str = "UTC") -> Iterator[None]:
    """Run a block in a language and time zone (tests, exports made outside a request)."""
    language_token = _language.set(language)
    zone_token = _zone.set(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone))
    try:
        yield
    finally:
        _zone.reset(zone_token)
        _language.reset(language_token)


class Preferences:
    """ASGI middleware: the request's language (cookie, then Accept-Language) and zone (node).

    Plain ASGI like SecurityHeaders (web/app.py): no extra task per request.
    """

    def __init__(self, app: ASGIApp, *, time_zone: str) -> None:
        self.app = app
        self.zone = ZoneInfo(time_zone)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookie = cookie_parser(headers.get("cookie", "")).get(LANGUAGE_COOKIE)
        language = (
            language_tag(cookie)
            or accepted_language(headers.get("accept-language"))
            or DEFAULT_LANGUAGE
        )
        with preferences(language, self.zone):
            await self.app(scope, receive, send)


# --------------------------------------------------------------- dates and times


def _aware(moment: datetime) -> datetime:
    # The store's UTCDateTime gives aware datetimes; a naive one is taken as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_text(moment: datetime) -> str:
    """`2026-11-29 23:30 UTC`: the hover text and the exports' form."""
    return _aware(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def utc_iso(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")


def format_local(moment: datetime, format: str = "medium") -> str:
    """The moment in the user's time zone and language, as plain text."""
    return format_datetime(_aware(moment), format, tzinfo=current_zone(), locale=babel_locale())


def _time_element(moment: datetime, text: str) -> Markup:
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        utc_iso(moment), utc_text(moment), text
    )


def local_datetime(moment: datetime | None, format: str = "medium") -> Markup:
    """Jinja filter: `<time>` in the user's zone, the UTC time on hover."""
    if moment is None:
        return Markup("")
    return _time_element(moment, format_local(moment, format))


PRECISIONS: tuple[DatePrecision, ...] = ("year", "month", "day")


def local_date(value: date | str | None, precision: DatePrecision | None = None) -> Markup:
    """Jinja filter: `<time>` for a date as precise as its source (a year, a month, a day).

    A date known only to the year or month is shown as such, never as its first day: pass
    an ISO string of that length (`"1980"`, `"2019-05"`), or a date with `precision`.
    """
    if value is None:
        return Markup("")
    if isinstance(value, str):
        parts = [int(part) for part in value.split("-")]
        precision = PRECISIONS[len(parts) - 1]
        value = date(*parts, *[1] * (3 - len(parts)))
    return Markup('<time datetime="{}">{}</time>').format(
        value.isoformat()[: {"year": 4, "month": 7}.get(precision or "day", 10)],
        date_text(value, precision),
    )


def date_text(value: date, precision: DatePrecision | None = None) -> str:
    """The date in the current language, to the year, the month or the day."""
    locale = babel_locale()
    if precision == "year":
        return format_skeleton("y", value, locale=locale)
    if precision == "month":
        return format_skeleton("yMMMM", value, locale=locale)
    return format_date(value, "medium", locale=locale)


def time_left(moment: datetime, now: datetime | None = None) -> str:
    """`in 18 min` / `overdue by 2 hr`, in the current language."""
    delta = _aware(moment) - (now or datetime.now(UTC))
    span = format_timedelta(abs(delta), threshold=1.5, format="short", locale=babel_locale())
    if delta >= timedelta(0):
        return _("in %(span)s", span=span)
    return _("overdue by %(span)s", span=span)


def deadline(moment: datetime | None, now: datetime | None = None) -> Markup:
    """Jinja filter: a deadline's local time and how long is left (or how late it is)."""
    if moment is None:
        return Markup("")
    left = time_left(moment, now)
    overdue = _aware(moment) < (now or datetime.now(UTC))
    return Markup('{} <span class="{}">({})</span>').format(
        _time_element(moment, format_local(moment, "short")),
        "overdue" if overdue else "time-left",
        escape(left),
    )


# --------------------------------------------------------------- Jinja


def _template_gettext(message: str) -> str:
    return translations().gettext(message)


def _template_ngettext(singular: str, plural: str, num: int) -> str:
    return translations().ngettext(singular, plural, num)


def install(env: Environment) -> None:
    """The i18n extension (newstyle: `_("Due %(when)s", when=x)`) and the time filters."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _template_gettext, _template_ngettext, newstyle=True
    )
    env.filters["local_datetime"] = local_datetime
    env.filters["local_date"] = local_date
    env.filters["deadline"] = deadline
    env.filters["tr"] = translate_html
    env.globals["current_language"] = current_language
    env.globals["language_names"] = LANGUAGE_NAMES
