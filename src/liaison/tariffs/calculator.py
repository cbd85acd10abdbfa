"""The duty calculator: which additional duties applied to one entry, and how much.

Money is Decimal. Each measure's amount is customs value x rate / 100, rounded to the cent
half-up (as a customs line is); the totals are sums of the rounded amounts. Duties are ad
valorem on the customs value and cumulative with the ordinary duty, as the orders say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from liaison.errors import InvalidInput
from liaison.messages import T
from liaison.tariffs.measures import (
    CATEGORIES,
    USMCA_ORIGINS,
    Exemption,
    Measure,
    MeasureBook,
    load_measures,
)

CENT = Decimal("0.01")
DE_MINIMIS_LIMIT = Decimal(800)  # 19 U.S.C. 1321(a)(2)(C)
HTS = re.compile(r"\d{4}(\.\d{2}(\.\d{2}(\.\d{2})?)?)?")
TRUE = ("true", "yes", "y", "1")
FALSE = ("false", "no", "n", "0", "")
# Said with every result: what the calculator cannot know from the data it has.
LIMITS = (
    "Only the measures loaded in liaison.tariffs are computed: the ordinary duty (when given), "
    "section 301 and section 232 duties, antidumping and countervailing duties, the IEEPA "
    "reciprocal duties and fees are not. The HTS code is recorded, not used to find product "
    "exclusions."
)


class EntryError(InvalidInput):
    """A field of an entry is missing or malformed; `field` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(T("%(field)s: %(message)s", field=field_name, message=message))
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Entry:
    origin: str  # country of origin, ISO 3166 alpha-2
    entry_date: date  # entered for consumption or withdrawn from warehouse
    customs_value: Decimal  # US dollars
    hts: str | None = None
    usmca: bool = False  # qualifies for duty-free entry under USMCA
    ordinary_rate: Decimal | None = None  # percent
    category: str | None = None  # one of CATEGORIES, when the goods are one
    loaded_on: date | None = None  # loaded / in final transit to the US on this day
    de_minimis: bool = False  # entered under 19 U.S.C. 1321 (value $800 or less)

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "entry_date": self.entry_date.isoformat(),
            "customs_value": _money(self.customs_value),
            "hts": self.hts,
            "usmca": self.usmca,
            "ordinary_rate": None if self.ordinary_rate is None else str(self.ordinary_rate),
            "category": self.category,
            "loaded_on": None if self.loaded_on is None else self.loaded_on.isoformat(),
            "de_minimis": self.de_minimis,
        }


@dataclass(frozen=True)
class AppliedMeasure:
    measure: Measure
    amount: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.measure.id,
            "name": self.measure.name,
            "citation": self.measure.citation,
            "rate_percent": str(self.measure.rate_percent),
            "amount": _money(self.amount),
            "ieepa": self.measure.ieepa,
        }


@dataclass(frozen=True)
class Exempted:
    measure: Measure
    exemption: Exemption

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.measure.id,
            "exemption": self.exemption.kind,
            "hts_heading": self.exemption.hts_heading or None,
            "citation": self.exemption.citation,
        }


@dataclass(frozen=True)
class DutyResult:
    entry: Entry
    measures: tuple[AppliedMeasure, ...]
    exempted: tuple[Exempted, ...]
    ordinary_duty: Decimal | None
    notes: tuple[str, ...] = field(default=())

    @property
    def total_additional(self) -> Decimal:
        return sum((m.amount for m in self.measures), Decimal("0.00"))

    @property
    def ieepa_total(self) -> Decimal:
        """The part collected under IEEPA: potentially refundable after Learning Resources."""
        return sum((m.amount for m in self.measures if m.measure.ieepa), Decimal("0.00"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry.to_dict(),
            "measures": [m.to_dict() for m in self.measures],
            "total_additional": _money(self.total_additional),
            "ieepa_total": _money(self.ieepa_total),
            "ordinary_duty": None if self.ordinary_duty is None else _money(self.ordinary_duty),
            "exempted": [e.to_dict() for e in self.exempted],
            "notes": list(self.notes),
        }


def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def _percent_of(value: Decimal, rate: Decimal) -> Decimal:
    return (value * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)


# A field as text (a CSV cell, a form or query value), or a flag already a bool (the API's and
# the command line's options, taken as they are rather than written out and parsed again).
Fields = Mapping[str, str | bool | None]


def _text(fields: Fields, name: str) -> str:
    value = fields.get(name)
    if isinstance(value, bool):
        raise EntryError(name, T("is a flag, not text"))
    return value.strip() if value is not None else ""


def _day(fields: Fields, name: str, *, required: bool) -> date | None:
    text = _text(fields, name)
    if not text:
        if required:
            raise EntryError(name, T("missing"))
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise EntryError(name, T("%(text)s is not a date (YYYY-MM-DD)", text=repr(text))) from None


def _number(fields: Fields, name: str, *, required: bool) -> Decimal | None:
    text = _text(fields, name).replace(",", "")
    if not text:
        if required:
            raise EntryError(name, T("missing"))
        return None
    try:
        number = Decimal(text.removeprefix("$"))
    except InvalidOperation:
        raise EntryError(name, T("%(text)s is not a number", text=repr(text))) from None
    if not number.is_finite() or number < 0:
        raise EntryError(name, T("%(text)s is not a non-negative number", text=repr(text)))
    return number


def _flag(fields: Fields, name: str) -> bool:
    value = fields.get(name)
    if isinstance(value, bool):
        return value
    text = _text(fields, name).lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise EntryError(name, T("%(text)s is not true or false (yes/no, 1/0)", text=repr(text)))


def entry_from_fields(fields: Fields) -> Entry:
    """Build and check an entry from text fields (a CSV row, command-line options): origin,
    entry_date, customs_value required; hts, usmca, ordinary_rate, category, loaded_on,
    de_minimis optional. Raises EntryError naming the field."""
    origin = _text(fields, "origin").upper()
    if not origin:
        raise EntryError("origin", T("missing"))
    if not (len(origin) == 2 and origin.isalpha()):
        raise EntryError(
            "origin",
            T("%(origin)s is not a two-letter country code (CN, CA, MX)", origin=repr(origin)),
        )
    entry_date = _day(fields, "entry_date", required=True)
    value = _number(fields, "customs_value", required=True)
    assert entry_date is not None and value is not None  # required
    hts = _text(fields, "hts") or None
    if hts is not None and not HTS.fullmatch(hts):
        if hts.isdigit() and len(hts) in (6, 8, 10):
            hts = ".".join([hts[:4], *[hts[i : i + 2] for i in range(4, len(hts), 2)]])
        else:
            raise EntryError(
                "hts", T("%(hts)s is not an HTS code (2933.39.41 or 2933394100)", hts=repr(hts))
            )
    usmca = _flag(fields, "usmca")
    if usmca and origin not in USMCA_ORIGINS:
        raise EntryError(
            "usmca", T("only goods of Canada or Mexico can qualify, not %(origin)s", origin=origin)
        )
    ordinary_rate = _number(fields, "ordinary_rate", required=False)
    category = _text(fields, "category").lower() or None
    if category is not None and category not in CATEGORIES:
        raise EntryError(
            "category",
            T(
                "%(category)s is not one of %(categories)s",
                category=repr(category),
                categories=", ".join(CATEGORIES),
            ),
        )
    loaded_on = _day(fields, "loaded_on", required=False)
    if loaded_on is not None and loaded_on > entry_date:
        raise EntryError(
            "loaded_on",
            T(
                "%(loaded_on)s is after the entry date %(entry_date)s",
                loaded_on=loaded_on,
                entry_date=entry_date,
            ),
        )
    de_minimis = _flag(fields, "de_minimis")
    if de_minimis and value > DE_MINIMIS_LIMIT:
        raise EntryError(
            "de_minimis",
            T(
                "a shipment valued at %(value)s is above the $%(de_minimis_limit)s limit",
                value=value,
                de_minimis_limit=DE_MINIMIS_LIMIT,
            ),
        )
    return Entry(
        origin=origin,
        entry_date=entry_date,
        customs_value=value,
        hts=hts,
        usmca=usmca,
        ordinary_rate=ordinary_rate,
        category=category,
        loaded_on=loaded_on,
        de_minimis=de_minimis,
    )


def _exempts(exemption: Exemption, entry: Entry) -> bool:
    day = entry.entry_date
    if exemption.kind == "usmca":
        return entry.usmca and exemption.available_on(day)
    if exemption.kind == "de_minimis":
        return entry.de_minimis and exemption.available_on(day)
    if exemption.kind == "in_transit":
        assert exemption.loaded_by is not None and exemption.entered_by is not None
        return (
            entry.loaded_on is not None
            and entry.loaded_on <= exemption.loaded_by
            and day <= exemption.entered_by
        )
    return entry.category in exemption.categories


def _charged(in_force: list[Measure], category: str | None) -> list[Measure]:
    """A measure for the declared category (Canadian energy, potash) replaces the general rate;
    otherwise the general ("all") measures apply."""
    specific = [m for m in in_force if category is not None and m.scope == category]
    return specific or [m for m in in_force if m.scope == "all"]


def _claims_not_honoured(entry: Entry, measure: Measure) -> list[str]:
    claims = (
        (entry.usmca, "USMCA qualification"),
        (entry.de_minimis, "de minimis treatment"),
        (entry.loaded_on is not None, "the in-transit exemption"),
    )
    day = entry.entry_date.isoformat()
    return [
        f"{measure.id}: {label} did not exempt this entry on {day}"
        for claimed, label in claims
        if claimed
    ]


def calculate(entry: Entry, book: MeasureBook | None = None) -> DutyResult:
    """The additional duties that applied to `entry` on its entry date."""
    book = book or load_measures()
    applied: list[AppliedMeasure] = []
    exempted: list[Exempted] = []
    notes: list[str] = []
    for measure in _charged(book.measures_in_force(entry.origin, entry.entry_date), entry.category):
        exemption = next((e for e in measure.exemptions if _exempts(e, entry)), None)
        if exemption is not None:
            exempted.append(Exempted(measure, exemption))
            continue
        applied.append(
            AppliedMeasure(measure, _percent_of(entry.customs_value, measure.rate_percent))
        )
        notes += _claims_not_honoured(entry, measure)
        if not measure.confirmed:
            notes.append(f"{measure.id} is not fully confirmed: {measure.note}")
    notes.append(LIMITS)
    ordinary = (
        None
        if entry.ordinary_rate is None
        else _percent_of(entry.customs_value, entry.ordinary_rate)
    )
    return DutyResult(entry, tuple(applied), tuple(exempted), ordinary, tuple(notes))
