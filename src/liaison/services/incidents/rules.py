"""The incident rules: units, entity normalisation and validation, dose equivalents.

Pure functions of their arguments; no database, no transport.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from liaison.errors import InvalidInput
from liaison.messages import T
from liaison.store.incident_tables import Unit
from liaison.text import check_storable_text

MAX_NARRATIVE = 20_000
MAX_ITEMS = 50
MAX_ENTITIES = 50
MAX_ROUTE = 12
# Exact by definition (international yard and pound agreement, 1959).
GRAMS_PER_UNIT: dict[str, float] = {
    Unit.MG: 0.001,
    Unit.G: 1.0,
    Unit.KG: 1000.0,
    Unit.LB: 453.59237,
    Unit.OZ: 28.349523125,
}
COUNTRY = re.compile(r"^[A-Z]{2}$")


def to_grams(quantity: float, unit: str) -> float | None:
    """The mass in grams; None for a volume or a count (no density or weight assumed)."""
    factor = GRAMS_PER_UNIT.get(unit)
    return None if factor is None else quantity * factor


def check_country(value: str, where: str) -> str:
    code = value.strip().upper()
    if not COUNTRY.match(code):
        raise InvalidInput(
            T(
                "%(where)s: %(value)s is not a two-letter country code (ISO 3166)",
                where=where,
                value=repr(value),
            )
        )
    return code


def parse_route(value: str | list[str], where: str = "route") -> list[str]:
    """Country codes in travel order: a list, or a string of codes separated by `>`."""
    parts = value.split(">") if isinstance(value, str) else value
    codes = [check_country(part, f"{where}[{i}]") for i, part in enumerate(parts) if part.strip()]
    if len(codes) > MAX_ROUTE:
        raise InvalidInput(
            T("%(where)s: at most %(max_route)s countries", where=where, max_route=MAX_ROUTE)
        )
    return codes


def check_plain(value: str, where: str, limit: int) -> str:
    check_storable_text(value, where)
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(
            T(
                "%(where)s has %(count)s characters; the limit is %(limit)s",
                where=where,
                count=len(value),
                limit=limit,
            )
        )
    return value


def statuses_of(verdicts: dict[str, Any]) -> str:
    """The distinct verdict statuses as the `statuses` column holds them: ",a,b,"."""
    found = sorted({str(v.get("status", "")) for v in verdicts.values()})
    return "," + ",".join(found) + ","


# ---------------------------------------------------------------- dose equivalents


@dataclass(frozen=True)
class DoseDefault:
    dose_mg: float
    source: str
    url: str
    retrieved: date
    confirmed: bool
    note: str


# Only figures an authority states; a substance without one needs dose_mg from the user.
DOSE_DEFAULTS: dict[str, DoseDefault] = {
    "fentanyl": DoseDefault(
        2.0,
        "US DEA: 2 mg of fentanyl is a potentially deadly dose (One Pill Can Kill)",
        "https://www.dea.gov/onepill",
        date(2026, 11, 29),
        False,
        "the DEA page itself was not reachable from here; the 2 mg figure is the one the DEA "
        "states in its public campaign and press releases, as reported in the press "
        "(e.g. KELO, 2022-08). Check the page before relying on the wording.",
    ),
}


@dataclass(frozen=True)
class DoseEquivalent:
    doses: float
    grams: float
    pure_grams: float
    purity_percent: float
    dose_mg: float
    assumptions: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "doses": self.doses,
            "grams": self.grams,
            "pure_grams": self.pure_grams,
            "purity_percent": self.purity_percent,
            "dose_mg": self.dose_mg,
            "assumptions": self.assumptions,
        }


def dose_equivalents(
    substance: str,
    quantity: float,
    unit: str,
    purity_percent: float | None = None,
    dose_mg: float | None = None,
) -> DoseEquivalent:
    """How many doses of `dose_mg` the pure substance in the quantity makes, with every
    assumption stated. Counts and volumes have no mass here: they are refused."""
    if quantity < 0:
        raise InvalidInput(T("quantity must not be negative (got %(quantity)s)", quantity=quantity))
    grams = to_grams(quantity, unit)
    if grams is None:
        raise InvalidInput(
            T(
                "unit %(unit)s is not a mass; give the quantity in %(units)s",
                unit=repr(unit),
                units=", ".join(GRAMS_PER_UNIT),
            )
        )
    assumptions = [f"{quantity:g} {unit} = {grams:g} g"]
    if purity_percent is None:
        purity_percent = 100.0
        assumptions.append("purity 100% assumed (none given): an upper bound")
    elif not 0 < purity_percent <= 100:
        raise InvalidInput(
            T(
                "purity_percent must be above 0 and at most 100 (got %(purity_percent)s)",
                purity_percent=purity_percent,
            )
        )
    else:
        assumptions.append(f"purity {purity_percent:g}% as given")
    if dose_mg is None:
        default = DOSE_DEFAULTS.get(substance.strip().casefold())
        if default is None:
            raise InvalidInput(
                T(
                    "no default dose for %(substance)s; give dose_mg (defaults exist for: "
                    "%(substances)s)",
                    substance=repr(substance),
                    substances=", ".join(DOSE_DEFAULTS),
                )
            )
        dose_mg = default.dose_mg
        assumptions.append(
            f"dose {dose_mg:g} mg: {default.source} ({default.url}, "
            f"{default.retrieved.isoformat()}"
            f"{'' if default.confirmed else '; not confirmed: ' + default.note})"
        )
    elif dose_mg <= 0:
        raise InvalidInput(T("dose_mg must be above 0 (got %(dose_mg)s)", dose_mg=dose_mg))
    else:
        assumptions.append(f"dose {dose_mg:g} mg as given")
    pure_grams = grams * purity_percent / 100
    doses = pure_grams * 1000 / dose_mg
    return DoseEquivalent(doses, grams, pure_grams, purity_percent, dose_mg, assumptions)
