"""The tariff page: the duty calculator (a GET form: it changes nothing) and a timeline chart
of the additional rates by country, drawn here as SVG so it reads without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from liaison.capabilities import Capability
from liaison.errors import InvalidInput
from liaison.tariffs import CATEGORIES, RateStep, calculate, entry_from_fields, load_measures
from liaison.tariffs import rate_timeline as steps_of
from liaison.web.auth import Principal, require
from liaison.web.ui import render

router = APIRouter(include_in_schema=False)
calculators = require(Capability.USE_TARIFFS)
FIELDS = ("origin", "entry_date", "customs_value", "hts", "ordinary_rate", "category", "loaded_on")
FLAGS = ("usmca", "de_minimis")
# Okabe-Ito colours (told apart with any colour vision) and a dash pattern per line as well.
SERIES = (
    ("CN", "#D55E00", ""),
    ("CA", "#0072B2", "8 4"),
    ("MX", "#009E73", "2 3"),
)
CHART_START = date(2025, 1, 1)
CHART_END = date(2026, 9, 30)
WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40


@dataclass(frozen=True)
class Line:
    origin: str
    colour: str
    dashes: str
    points: str  # SVG polyline points
    steps: list[RateStep]


def _x(day: date) -> float:
    span = (CHART_END - CHART_START).days
    return round(LEFT + (WIDTH - LEFT - RIGHT) * (day - CHART_START).days / span, 1)


def _y(rate: Decimal, top_rate: Decimal) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * float(1 - rate / top_rate), 1)


@lru_cache(maxsize=1)
def timeline_chart() -> dict[str, Any]:
    """Everything the template needs to draw the chart: one step line per country, the
    axes' ticks and the dated events (the court's decision) as vertical marks. It depends
    only on the measure book (itself loaded once) and fixed dates, so it is drawn once, not
    on every page view; the template only reads it."""
    book = load_measures()
    timelines = {origin: steps_of(origin, CHART_START, CHART_END, book) for origin, _, _ in SERIES}
    highest = max(step.rate_percent for steps in timelines.values() for step in steps)
    top_rate = max(Decimal(10), (highest / 10).to_integral_value(rounding=ROUND_CEILING) * 10)
    lines = []
    for origin, colour, dashes in SERIES:
        points: list[str] = []
        for step in timelines[origin]:
            y = _y(step.rate_percent, top_rate)
            points += [f"{_x(step.start)},{y}", f"{_x(step.end)},{y}"]
        lines.append(Line(origin, colour, dashes, " ".join(points), timelines[origin]))
    rate_ticks = [(rate, _y(Decimal(rate), top_rate)) for rate in range(0, int(top_rate) + 1, 10)]
    months = [date(year, month, 1) for year in (2025, 2026) for month in (1, 4, 7, 10)]
    day_ticks = [(day, _x(day)) for day in months if CHART_START <= day <= CHART_END]
    ruling = book.event("learning-resources-v-trump")
    events = [(ruling, _x(ruling.date))] if ruling is not None else []
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "lines": lines,
        "rate_ticks": rate_ticks,
        "day_ticks": day_ticks,
        "events": events,
        "start": CHART_START,
        "end": CHART_END,
    }


@router.get("/tariffs")
def tariff_page(request: Request, principal: Principal = Depends(calculators)) -> Response:
    """The form; with its fields in the query string, the duties on that entry as well."""
    params = request.query_params
    form = {name: params.get(name, "").strip() for name in FIELDS}
    flags = {name: params.get(name, "") in ("true", "on", "1") for name in FLAGS}
    result = None
    error = None
    status_code = 200
    if any(form.values()):
        fields: dict[str, str | bool | None] = {**form, **flags}
        try:
            result = calculate(entry_from_fields(fields))
        except InvalidInput as problem:
            error = problem.detail
            status_code = 422
    return render(
        request,
        "tariffs.html",
        {
            "form": form,
            "flags": flags,
            "categories": CATEGORIES,
            "result": result,
            "error": error,
            "chart": timeline_chart(),
        },
        status_code=status_code,
    )
