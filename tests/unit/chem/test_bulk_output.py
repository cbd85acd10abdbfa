"""The jsonl and csv lines of a record no rule matched are written by a fast path (in the
parent, from the record, for a record the prefilter rules out); they must be the very text
the general path writes."""

from __future__ import annotations

import json
from datetime import date

import pytest

from liaison.chem.bulk import Record, screen_records

CODES = ("US", "CN", "UN")
ODD = 'say "hi" \\ back, 丙酮, tab\there, \u2028 and \x01'
AWKWARD = [
    Record(ODD, "CCO " + ODD, "CCO"),
    Record("plain", "乙醇", "乙醇"),
    Record("\ttab first", "=HYPERLINK(1)", "CCO"),
    Record("-1,5", 'c1ccccc1 "quoted", two\nlines', "c1ccccc1"),
    Record("", "+CCN", "CCN", columns=(("note", '@"x",\t中文'), ("batch", "-2"))),
]


@pytest.mark.parametrize("render", ["jsonl", "csv"])
def test_the_fast_line_is_the_general_line_character_for_character(render: str) -> None:
    day = date(2019, 5, 1)
    fast = list(screen_records(AWKWARD, day, CODES, jobs=1, render=render, keep="none"))
    general = list(screen_records(AWKWARD, day, CODES, jobs=1, render=render, keep="all"))
    for quick, full in zip(fast, general, strict=True):
        assert quick.record == {} and full.record  # the two paths were taken
        assert quick.statuses == full.statuses == ("no_match",) * len(CODES)
        assert quick.line == full.line
    if render == "jsonl":
        for quick, full in zip(fast, general, strict=True):
            assert quick.line == json.dumps(full.record, ensure_ascii=False) + "\n"
