"""The cooperation overview page, its printable report (one self-contained HTML file, or a
PDF) and the timeline chart, drawn here as SVG so it reads without JavaScript and in print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from liaison.capabilities import Capability
from liaison.errors import InvalidInput
from liaison.services import cooperation
from liaison.tariffs import load_measures, rate_timeline
from liaison.web.api.cooperation import compute
from liaison.web.auth import Principal, db_session, require
from liaison.web.context import runtime_of
from liaison.web.ui import render
from liaison.web.ui.cooperation_pdf import report_pdf, step_name

router = APIRouter(include_in_schema=False)
viewers = require(Capability.VIEW_COOPERATION)
# Okabe-Ito colours, and a dash pattern and a marker shape per line as well, so the lines
# are told apart with any colour vision and in greyscale print.
STYLES = (
    ("#0072B2", "", "circle"),
    ("#D55E00", "8 4", "square"),
    ("#009E73", "2 3", "triangle"),
    ("#CC79A7", "10 3 2 3", "diamond"),
    ("#E69F00", "4 2", "circle"),
    ("#56B4E9", "1 2", "square"),
)
TARIFF_ORIGIN = "CN"
WIDTH = 880
LEFT, RIGHT = 56, 16
COUNTS_TOP, COUNTS_BOTTOM = 16, 216  # the panel of monthly counts
RATES_TOP, RATES_BOTTOM = 246, 336  # the panel of the additional tariff rate
HEIGHT = 372


@dataclass(frozen=True)
class Line:
    label: str
    series: str
    direction: str
    colour: str
    dashes: str
    marker: str
    points: list[tuple[float, float, int]]  # x, y, count

    @property
    def path(self) -> str:
        return " ".join(f"{x},{y}" for x, y, _ in self.points)


@dataclass(frozen=True)
class EventMark:
    number: int
    x: float | None  # None: outside the chart's months
    day: date
    title: str
    citation: str
    confirmed: bool
    kind: str  # "legal" or "tariff"


def _ceiling(value: float, step: int) -> int:
    return max(step, int(Decimal(value / step).to_integral_value(rounding=ROUND_CEILING)) * step)


def chart(result: cooperation.Overview) -> dict[str, Any]:
    """Geometry for the template: one line per series and direction of monthly counts,
    the additional US tariff rate on goods of China below it, and the dated legal and
    tariff events as numbered vertical marks."""
    months = result.months
    span = max(len(months) - 1, 1)

    def month_x(index: float) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * index / span, 1)

    def day_x(day: date) -> float | None:
        index = (day.year - result.since.year) * 12 + day.month - result.since.month
        if day < result.since.replace(day=1) or index > len(months) - 1:
            return None
        # Within the month, by day: a month is one unit of the axis.
        return month_x(index + (day.day - 1) / 31)

    counts: dict[tuple[str, str, str], dict[str, int]] = {}
    for series in result.series:
        for row in series.rows:
            line_of = (series.key, series.label, f"{row.sender} → {row.receiver}")
            counts.setdefault(line_of, {})[row.month] = row.count
    highest = max((n for per_month in counts.values() for n in per_month.values()), default=0)
    top = _ceiling(highest, 5)
    lines = []
    for index, ((key, label, direction), per_month) in enumerate(sorted(counts.items())):
        colour, dashes, marker = STYLES[index % len(STYLES)]
        points = []
        for position, month in enumerate(months):
            n = per_month.get(month, 0)
            y = round(COUNTS_BOTTOM - (COUNTS_BOTTOM - COUNTS_TOP) * n / top, 1)
            points.append((month_x(position), y, n))
        lines.append(Line(label, key, direction, colour, dashes, marker, points))
    count_ticks = [
        (n, round(COUNTS_BOTTOM - (COUNTS_BOTTOM - COUNTS_TOP) * n / top, 1))
        for n in range(0, top + 1, max(1, top // 5))
    ]

    book = load_measures()
    steps = rate_timeline(TARIFF_ORIGIN, result.since, result.until, book)
    top_rate = _ceiling(float(max((s.rate_percent for s in steps), default=Decimal(0))), 10)

    def rate_y(rate: Decimal) -> float:
        return round(RATES_BOTTOM - (RATES_BOTTOM - RATES_TOP) * float(rate) / top_rate, 1)

    rate_points: list[str] = []
    for step in steps:
        start, end = day_x(step.start), day_x(step.end)
        if start is None or end is None:
            continue
        rate_points += [
            f"{start},{rate_y(step.rate_percent)}",
            f"{end},{rate_y(step.rate_percent)}",
        ]
    rate_ticks = [(rate, rate_y(Decimal(rate))) for rate in range(0, top_rate + 1, top_rate // 2)]

    dated = [
        (event.date, event.title, event.citation, event.confirmed, "legal")
        for event in cooperation.legal_events()
    ] + [
        (event.date, event.title, event.citation, event.confirmed, "tariff")
        for event in book.events
    ]
    marks = [
        EventMark(number, day_x(day), day, title, citation, confirmed, kind)
        for number, (day, title, citation, confirmed, kind) in enumerate(sorted(dated), start=1)
    ]
    month_ticks = [
        (month, month_x(position))
        for position, month in enumerate(months)
        if len(months) <= 12 or month.endswith(("-01", "-04", "-07", "-10"))
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "counts_top": COUNTS_TOP,
        "counts_bottom": COUNTS_BOTTOM,
        "rates_top": RATES_TOP,
        "rates_bottom": RATES_BOTTOM,
        "lines": lines,
        "count_ticks": count_ticks,
        "rate_points": " ".join(rate_points),
        "rate_ticks": rate_ticks,
        "tariff_origin": TARIFF_ORIGIN,
        "month_ticks": month_ticks,
        "marks": marks,
    }


def _context(request: Request, session: Session) -> dict[str, Any]:
    """The figures for the period asked; a bad period shows the default one and says why."""
    params = request.query_params
    error = None
    try:
        result = compute(request, session, params.get("from") or None, params.get("to") or None)
    except InvalidInput as problem:
        error = problem.detail
        result = compute(request, session, None, None)
    # Read only: end the transaction before the layout opens its own session.
    session.rollback()
    return {
        "result": result,
        "chart": chart(result),
        "error": error,
        "query": {"from": result.since.isoformat(), "to": result.until.isoformat()},
        "step_name": step_name,
    }


@router.get("/cooperation")
def cooperation_page(
    request: Request,
    principal: Principal = Depends(viewers),
    session: Session = Depends(db_session),
) -> Response:
    context = _context(request, session)
    return render(
        request, "cooperation.html", context, status_code=422 if context["error"] else 200
    )


@router.get("/cooperation/report")
def cooperation_report(
    request: Request,
    principal: Principal = Depends(viewers),
    session: Session = Depends(db_session),
) -> Response:
    """The same figures as one printable, self-contained HTML file (inline SVG and styles,
    nothing fetched), to take to a meeting."""
    context = _context(request, session)
    response = render(request, "cooperation_report.html", context)
    name = f"cooperation-{context['query']['from']}-{context['query']['to']}.html"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/cooperation/report.pdf")
def cooperation_report_pdf(
    request: Request,
    principal: Principal = Depends(viewers),
    session: Session = Depends(db_session),
) -> Response:
    """The same report as a PDF, in the reader's language (the CJK font embedded)."""
    context = _context(request, session)
    name = f"cooperation-{context['query']['from']}-{context['query']['to']}.pdf"
    return Response(
        report_pdf(context, runtime_of(request).config.name),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
