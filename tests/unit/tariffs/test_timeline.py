"""rate_timeline: the general additional rate on a country's goods, day by day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from liaison.tariffs import load_measures, rate_timeline
from liaison.tariffs.calculator import Entry, calculate

START, END = date(2025, 1, 1), date(2026, 9, 30)


def test_the_steps_of_china_follow_the_orders() -> None:
    steps = rate_timeline("CN", START, END)
    assert [(s.start, s.end, s.rate_percent, s.ieepa_percent) for s in steps] == [
        (date(2025, 1, 1), date(2025, 2, 3), 0, 0),
        (date(2025, 2, 4), date(2025, 3, 3), 10, 10),
        (date(2025, 3, 4), date(2025, 11, 9), 20, 20),
        (date(2025, 11, 10), date(2026, 2, 23), 10, 10),
        (date(2026, 2, 24), date(2026, 7, 23), 10, 0),  # section 122 after the ruling
        (date(2026, 7, 24), date(2026, 9, 30), 0, 0),
    ]


def test_steps_cover_every_day_once_and_agree_with_the_calculator() -> None:
    book = load_measures()
    for origin in ("CN", "CA", "MX"):
        steps = rate_timeline(origin, START, END, book)
        assert steps[0].start == START and steps[-1].end == END
        for before, after in pairwise(steps):
            assert after.start == before.end + timedelta(days=1)
        for step in steps:
            for day in (step.start, step.end):
                result = calculate(Entry(origin, day, Decimal(100)), book)
                assert sum(m.measure.rate_percent for m in result.measures) == step.rate_percent
