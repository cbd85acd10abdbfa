"""The jsonl line of a record no rule matched is written by a fast path; it must be the very
text the general path writes."""

from __future__ import annotations

import json
from datetime import date

from liaison.chem.bulk import Record, screen_records

CODES = ("US", "CN", "UN")


def test_the_fast_jsonl_line_is_the_general_line_character_for_character() -> None:
    odd = 'say "hi" \\ back, 丙酮, tab\there, \u2028 and \x01'
    records = [Record(odd, "CCO " + odd, "CCO"), Record("plain", "乙醇", "乙醇")]
    day = date(2019, 5, 1)
    fast = list(screen_records(records, day, CODES, jobs=1, render="jsonl", keep="none"))
    general = list(screen_records(records, day, CODES, jobs=1, render="jsonl", keep="all"))
    for quick, full in zip(fast, general, strict=True):
        assert quick.record == {} and full.record  # the two paths were taken
        assert quick.line == json.dumps(full.record, ensure_ascii=False) + "\n"
        assert quick.line == full.line
