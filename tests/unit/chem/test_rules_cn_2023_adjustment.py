"""China's adjustment of the narcotic drugs and psychotropic substances catalogues of April 2023
(国家药监局 公安部 国家卫生健康委 2023年第43号), confirmed for issue 13: oliceridine is a narcotic
drug and suvorexant and perampanel are category II psychotropic substances from 1 Jul 2023 and
not the day before, each cited by its item of the announcement; the CAS numbers of the 2025
medical catalogues' tables find oliceridine and perampanel."""

from __future__ import annotations

from datetime import date

import pytest

from support import CN_CATEGORY_II, CN_NARCOTIC, cn_verdict

FIRST_DAY = date(2023, 7, 1)
DAY_BEFORE = date(2023, 6, 30)


@pytest.mark.parametrize(
    ("query", "rule_id", "list_name", "item"),
    [
        ("oliceridine", "CN-oliceridine", CN_NARCOTIC, "item 一"),
        ("suvorexant", "CN-suvorexant", CN_CATEGORY_II, "item 二"),
        ("perampanel", "CN-perampanel", CN_CATEGORY_II, "item 二"),
    ],
)
def test_the_2023_additions_are_confirmed_from_1_july_2023(
    query: str, rule_id: str, list_name: str, item: str
) -> None:
    assert rule_id not in {b.rule_id for b in cn_verdict(query, DAY_BEFORE).basis}
    verdict = cn_verdict(query, FIRST_DAY)
    assert verdict.status == "controlled", verdict.explanation
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert basis.confirmed and basis.list == list_name and basis.in_force_from == FIRST_DAY
    assert "2023年第43号" in basis.citation and item in basis.citation


@pytest.mark.parametrize(
    ("cas", "rule_id"),
    [("1401028-24-7", "CN-oliceridine"), ("380917-97-5", "CN-perampanel")],
)
def test_the_2025_tables_cas_numbers_find_the_2023_entries(cas: str, rule_id: str) -> None:
    verdict = cn_verdict(cas, date(2026, 1, 1))
    assert rule_id in {b.rule_id for b in verdict.basis}, verdict.explanation
