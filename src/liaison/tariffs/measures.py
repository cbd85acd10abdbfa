"""The measure data: dated, cited tariff measures and legal events (measures/*.toml).

Every file is validated on load; a broken file raises MeasureFileError naming the file, the
measure or event and the field, so a typo can never silently drop or change a duty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from liaison.datafiles import TableReader, array_of_tables, read_toml
from liaison.errors import ConfigurationError

MEASURES_DIR = Path(__file__).resolve().parent / "measures"
IEEPA = "IEEPA"
ANY_ORIGIN = "*"
# Goods the entry can declare; `scope` of a measure is "all" or one of these.
CATEGORIES = ("energy", "potash", "donation", "informational_materials")
SCOPES = ("all", *CATEGORIES)
EXEMPTION_KINDS = ("usmca", "de_minimis", "in_transit", "category")
USMCA_ORIGINS = ("CA", "MX")
DAY = timedelta(days=1)
# An unconfirmed measure, exemption or event must say in its note what could not be confirmed.
SAYS_WHAT_IS_MISSING = ("not found", "not seen", "not read", "not confirmed")


class MeasureFileError(ConfigurationError):
    """A measure file is missing, unreadable or has an entry that does not validate."""


@dataclass(frozen=True)
class Exemption:
    """One way out of a measure. Which fields matter depends on `kind`:
    usmca and de_minimis: the days (`start`..`end`) the treatment was available;
    in_transit: loaded on or before `loaded_by` and entered on or before `entered_by`;
    category: the declared categories that are outside the measure."""

    kind: str
    citation: str
    confirmed: bool
    note: str
    start: date | None = None
    end: date | None = None
    loaded_by: date | None = None
    entered_by: date | None = None
    categories: tuple[str, ...] = ()
    hts_heading: str = ""

    def available_on(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Measure:
    id: str
    name: str
    origins: tuple[str, ...]
    authority: str
    instrument: str
    citation: str
    source: str
    hts_heading: str
    rate_percent: Decimal
    in_force_from: date
    in_force_to: date | None
    scope: str
    stacking: str
    confirmed: bool
    note: str
    file: str
    exemptions: tuple[Exemption, ...] = ()
    ended_by: str = ""  # an event id
    superseded_by: str = ""  # a measure id starting the day after in_force_to
    stacks_with: tuple[str, ...] = ()  # measures it may overlap with by design

    @property
    def ieepa(self) -> bool:
        """Collected under IEEPA: held unlawful in Learning Resources, potentially refundable."""
        return self.authority == IEEPA

    def in_force(self, day: date) -> bool:
        return self.in_force_from <= day and (self.in_force_to is None or day <= self.in_force_to)

    def covers_origin(self, origin: str) -> bool:
        return ANY_ORIGIN in self.origins or origin in self.origins

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "origins": list(self.origins),
            "authority": self.authority,
            "ieepa": self.ieepa,
            "instrument": self.instrument,
            "citation": self.citation,
            "source": self.source,
            "hts_heading": self.hts_heading,
            "rate_percent": str(self.rate_percent),
            "in_force_from": self.in_force_from.isoformat(),
            "in_force_to": None if self.in_force_to is None else self.in_force_to.isoformat(),
            "scope": self.scope,
            "exemptions": [exemption.kind for exemption in self.exemptions],
            "stacking": self.stacking,
            "confirmed": self.confirmed,
            "note": self.note,
        }


@dataclass(frozen=True)
class Event:
    id: str
    date: date
    title: str
    citation: str
    source: str
    confirmed: bool
    note: str
    file: str


@dataclass(frozen=True)
class MeasureBook:
    measures: tuple[Measure, ...]
    events: tuple[Event, ...]

    def measures_in_force(self, origin: str | None, as_of: date) -> list[Measure]:
        """The measures in force on `as_of` for goods of `origin` (every origin when None)."""
        return [
            measure
            for measure in self.measures
            if measure.in_force(as_of) and (origin is None or measure.covers_origin(origin))
        ]

    def measure(self, measure_id: str) -> Measure | None:
        return next((m for m in self.measures if m.id == measure_id), None)

    def event(self, event_id: str) -> Event | None:
        return next((e for e in self.events if e.id == event_id), None)


class _Fields(TableReader):
    """Typed access to one table of a measure file; failures name file, entry and field."""

    error = MeasureFileError

    def rate(self, key: str) -> Decimal:
        # A string or an integer: a TOML float would carry binary rounding into the money.
        value = self.table.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(key, f"expected a percentage as text or a whole number, got {value!r}")
        try:
            rate = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.fail(key, f"{value!r} is not a number") from None
        if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(1000):
            raise self.fail(key, f"{value!r} is not a percentage between 0 and 1000")
        return rate


def _label(kind: str, table: Mapping[str, Any], index: int) -> str:
    ident = table.get("id")
    return f"{kind} {ident!r} (#{index})" if isinstance(ident, str) else f"{kind} #{index}"


def _exemption(path: Path, owner: str, table: Mapping[str, Any], index: int) -> Exemption:
    fields = _Fields(path, table, f"{owner}, exemption #{index}")
    kind = fields.choice("kind", EXEMPTION_KINDS)
    start = end = loaded_by = entered_by = None
    categories: tuple[str, ...] = ()
    if kind in ("usmca", "de_minimis"):
        start = fields.day("from")
        end = fields.day("to", required=False)
        if start is not None and end is not None and end < start:
            raise fields.fail("to", f"{end} is before 'from' {start}")
    elif kind == "in_transit":
        loaded_by = fields.day("loaded_by")
        entered_by = fields.day("entered_by")
        if loaded_by is not None and entered_by is not None and entered_by < loaded_by:
            raise fields.fail("entered_by", f"{entered_by} is before loaded_by {loaded_by}")
    else:
        categories = fields.texts("categories", required=True)
        for category in categories:
            if category not in CATEGORIES:
                raise fields.fail(
                    "categories", f"{category!r} is not one of {', '.join(CATEGORIES)}"
                )
    return Exemption(
        kind=kind,
        citation=fields.text("citation"),
        confirmed=fields.flag("confirmed"),
        note=fields.text("note"),
        start=start,
        end=end,
        loaded_by=loaded_by,
        entered_by=entered_by,
        categories=categories,
        hts_heading=fields.text("hts_heading", required=False),
    )


def _measure(path: Path, table: Mapping[str, Any], index: int) -> Measure:
    what = _label("measure", table, index)
    fields = _Fields(path, table, what)
    start = fields.day("in_force_from")
    end = fields.day("in_force_to", required=False)
    assert start is not None  # required
    if end is not None and end < start:
        raise fields.fail("in_force_to", f"{end} is before in_force_from {start}")
    origins = fields.texts("origins", required=True)
    for origin in origins:
        if origin != ANY_ORIGIN and not (
            len(origin) == 2 and origin.isalpha() and origin.isupper()
        ):
            raise fields.fail("origins", f"{origin!r} is not a two-letter country code or '*'")
    exemptions = table.get("exemption", [])
    if not isinstance(exemptions, list):
        raise fields.fail("exemption", "must be an array of tables ([[measure.exemption]])")
    return Measure(
        id=fields.text("id"),
        name=fields.text("name"),
        origins=origins,
        authority=fields.text("authority"),
        instrument=fields.text("instrument"),
        citation=fields.text("citation"),
        source=fields.text("source"),
        hts_heading=fields.text("hts_heading"),
        rate_percent=fields.rate("rate_percent"),
        in_force_from=start,
        in_force_to=end,
        scope=fields.choice("scope", SCOPES),
        stacking=fields.text("stacking"),
        confirmed=fields.flag("confirmed"),
        note=fields.text("note"),
        file=path.name,
        exemptions=tuple(
            _exemption(path, what, exemption, number)
            for number, exemption in enumerate(exemptions, start=1)
        ),
        ended_by=fields.text("ended_by", required=False),
        superseded_by=fields.text("superseded_by", required=False),
        stacks_with=fields.texts("stacks_with"),
    )


def _event(path: Path, table: Mapping[str, Any], index: int) -> Event:
    fields = _Fields(path, table, _label("event", table, index))
    day = fields.day("date")
    assert day is not None  # required
    return Event(
        id=fields.text("id"),
        date=day,
        title=fields.text("title"),
        citation=fields.text("citation"),
        source=fields.text("source"),
        confirmed=fields.flag("confirmed"),
        note=fields.text("note"),
        file=path.name,
    )


def load_measure_files(paths: Iterable[Path]) -> MeasureBook:
    """Load and validate these files; ids must be unique across all of them and every
    reference (ended_by, superseded_by, stacks_with) must name something loaded."""
    measures: list[Measure] = []
    events: list[Event] = []
    for path in sorted(paths):
        document = read_toml(path, MeasureFileError, "measure file")
        unknown = set(document) - {"title", "measure", "event"}
        if unknown:
            raise MeasureFileError(f"{path.name}: unknown top-level keys {sorted(unknown)}")
        measures += [
            _measure(path, t, i)
            for i, t in enumerate(array_of_tables(path, document, "measure", MeasureFileError), 1)
        ]
        events += [
            _event(path, t, i)
            for i, t in enumerate(array_of_tables(path, document, "event", MeasureFileError), 1)
        ]
    book = MeasureBook(tuple(measures), tuple(events))
    _check_references(book)
    return book


def _check_references(book: MeasureBook) -> None:
    seen: dict[str, str] = {}
    items: list[Measure | Event] = [*book.measures, *book.events]
    for item in items:
        if item.id in seen:
            raise MeasureFileError(f"{item.file}: id {item.id!r} is also used in {seen[item.id]}")
        seen[item.id] = item.file
    for measure in book.measures:
        where = f"{measure.file}: measure {measure.id!r}"
        if measure.ended_by and book.event(measure.ended_by) is None:
            raise MeasureFileError(f"{where}, field 'ended_by': no event {measure.ended_by!r}")
        if measure.superseded_by and book.measure(measure.superseded_by) is None:
            raise MeasureFileError(
                f"{where}, field 'superseded_by': no measure {measure.superseded_by!r}"
            )
        for other in measure.stacks_with:
            if book.measure(other) is None:
                raise MeasureFileError(f"{where}, field 'stacks_with': no measure {other!r}")


@lru_cache(maxsize=1)
def load_measures() -> MeasureBook:
    """The shipped measure files, loaded and validated once per process."""
    return load_measure_files(MEASURES_DIR.glob("*.toml"))


def measures_in_force(origin: str | None, as_of: date) -> list[Measure]:
    """The shipped measures in force on `as_of` for goods of `origin` (None: every origin)."""
    return load_measures().measures_in_force(origin, as_of)


def _scopes_meet(first: Measure, second: Measure) -> bool:
    """Could one entry be charged both? Only if the scopes can hold for the same goods."""
    return first.scope == second.scope


def _origins_meet(first: Measure, second: Measure) -> bool:
    return (
        ANY_ORIGIN in first.origins
        or ANY_ORIGIN in second.origins
        or bool(set(first.origins) & set(second.origins))
    )


def _periods_meet(first: Measure, second: Measure) -> bool:
    first_end = first.in_force_to or date.max
    second_end = second.in_force_to or date.max
    return first.in_force_from <= second_end and second.in_force_from <= first_end


def _says_what_is_missing(note: str) -> bool:
    return any(words in note for words in SAYS_WHAT_IS_MISSING)


def check_measures(book: MeasureBook) -> list[str]:
    """The data checks, one line per problem (empty: all good): every measure and event
    cited and dated; every unconfirmed one saying what is missing; every end explained (an
    event the day after, or a successor starting the day after); and no two measures charged
    on the same goods of one origin on the same day unless both say they stack by design."""
    problems: list[str] = []
    for measure in book.measures:
        where = f"{measure.file}: {measure.id}"
        if not measure.citation or not measure.source:
            problems.append(f"{where}: no citation or source")
        checked: list[tuple[Measure | Exemption, str]] = [(measure, "it")]
        checked += [(e, f"its {e.kind} exemption") for e in measure.exemptions]
        for item, label in checked:
            if not item.confirmed and not _says_what_is_missing(item.note):
                problems.append(
                    f"{where}: {label} is unconfirmed but the note does not say what was not found"
                )
        if measure.in_force_to is not None:
            ended = book.event(measure.ended_by) if measure.ended_by else None
            successor = book.measure(measure.superseded_by) if measure.superseded_by else None
            if ended is None and successor is None:
                problems.append(
                    f"{where}: ends {measure.in_force_to} but says neither why nor what follows"
                )
            if ended is not None and ended.date != measure.in_force_to + DAY:
                problems.append(
                    f"{where}: last day {measure.in_force_to} but event {ended.id} "
                    f"is on {ended.date}"
                )
            if successor is not None and successor.in_force_from != measure.in_force_to + DAY:
                problems.append(
                    f"{where}: last day {measure.in_force_to} but successor {successor.id} "
                    f"starts {successor.in_force_from}"
                )
        for exemption in measure.exemptions:
            if exemption.kind == "usmca" and not (
                ANY_ORIGIN in measure.origins or set(measure.origins) & set(USMCA_ORIGINS)
            ):
                problems.append(f"{where}: a USMCA exemption on goods of {measure.origins}")
    for event in book.events:
        if not event.citation or not event.source:
            problems.append(f"{event.file}: {event.id}: no citation or source")
        if not event.confirmed and not _says_what_is_missing(event.note):
            problems.append(
                f"{event.file}: {event.id}: unconfirmed, "
                "but the note does not say what was not found"
            )
    for index, first in enumerate(book.measures):
        for second in book.measures[index + 1 :]:
            if not (
                _origins_meet(first, second)
                and _scopes_meet(first, second)
                and _periods_meet(first, second)
            ):
                continue
            if second.id in first.stacks_with and first.id in second.stacks_with:
                continue
            problems.append(
                f"{first.id} ({first.in_force_from}..{first.in_force_to or 'open'}) and "
                f"{second.id} ({second.in_force_from}..{second.in_force_to or 'open'}) overlap "
                f"on the same goods without stacking by design (stacks_with)"
            )
    return problems
