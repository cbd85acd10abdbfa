"""The additional rate on a country's goods over time, from the measure data (for charts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from liaison.tariffs.measures import DAY, MeasureBook, load_measures


@dataclass(frozen=True)
class RateStep:
    """From `start` to `end` (both included) goods of the origin paid `rate_percent` in
    additional duties under the general measures (scope "all": no category, no exemption
    claimed), of which `ieepa_percent` under IEEPA."""

    start: date
    end: date
    rate_percent: Decimal
    ieepa_percent: Decimal
    measure_ids: tuple[str, ...]


def rate_timeline(
    origin: str, start: date, end: date, book: MeasureBook | None = None
) -> list[RateStep]:
    """Steps covering `start`..`end` for goods of `origin`; a day without any measure is a
    step at 0 %. Adjacent days with the same measures form one step."""
    book = book or load_measures()
    general = [m for m in book.measures if m.scope == "all" and m.covers_origin(origin)]
    # The rate can change only on a first day in force or on the day after a last one.
    changes = {start}
    for measure in general:
        changes.add(measure.in_force_from)
        if measure.in_force_to is not None:
            changes.add(measure.in_force_to + DAY)
    days = sorted(day for day in changes if start <= day <= end)
    steps: list[RateStep] = []
    for index, first in enumerate(days):
        last = days[index + 1] - DAY if index + 1 < len(days) else end
        applied = [m for m in general if m.in_force(first)]
        steps.append(
            RateStep(
                start=first,
                end=last,
                rate_percent=sum((m.rate_percent for m in applied), Decimal(0)),
                ieepa_percent=sum((m.rate_percent for m in applied if m.ieepa), Decimal(0)),
                measure_ids=tuple(m.id for m in applied),
            )
        )
    return steps
