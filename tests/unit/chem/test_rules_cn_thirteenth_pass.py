"""China, thirteenth pass (rules-cn13): 4-piperidone and 1-boc-4-piperidone now cite the
announcement by its title, as MOFCOM's copy gives it (列为易制毒化学品管理, 自2025年7月20日起施行),
and still begin on 20 Jul 2025; they stay unconfirmed because the category (第二类) was read only
in reports and the announcement's own text not at all. Nothing else changed: the 2021 and
2017/18 precursor entries keep their days, and the CN rules still do not reach back before
2014."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem.compiled import load_rulebook
from support import first_day_basis

FIRST_DAY = date(2025, 7, 20)
CATEGORY_2 = "易制毒化学品 第二类 (category 2 precursor chemicals)"
TITLE = "《关于将4-哌啶酮和1-叔丁氧羰基-4-哌啶酮列为易制毒化学品管理的公告》"


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("4-piperidone", "CN-4-piperidone"),
        ("4-哌啶酮", "CN-4-piperidone"),
        ("79099-07-3", "CN-1-boc-4-piperidone"),
        ("CC(C)(C)OC(=O)N1CCC(=O)CC1", "CN-1-boc-4-piperidone"),
    ],
)
def test_a_piperidone_is_a_precursor_from_20_july_2025_citing_the_announcement_unconfirmed(
    query: str, rule_id: str
) -> None:
    basis = first_day_basis("CN", query, rule_id, FIRST_DAY)
    assert basis.status == "precursor" and basis.list == CATEGORY_2
    assert basis.in_force_from == FIRST_DAY
    assert TITLE in basis.citation and "自2025年7月20日起施行" in basis.citation
    assert not basis.confirmed


def test_the_piperidone_entries_say_where_the_first_day_was_read() -> None:
    book = load_rulebook()
    for rule_id in ("CN-4-piperidone", "CN-1-boc-4-piperidone"):
        (entry,) = [e for e in book.entries if e.id == rule_id]
        assert "zcfggzqd/202506/1149.html" in entry.note
        assert "weiqi-kids/agent.cross-border-trade" in entry.source


@pytest.mark.parametrize(
    ("query", "rule_id", "first"),
    [
        ("gamma-butyrolactone", "CN-GBL", date(2021, 6, 7)),
        ("benzyl cyanide", "CN-benzyl-cyanide", date(2021, 6, 7)),
        ("NPP", "CN-NPP", date(2018, 2, 1)),
        ("ANPP", "CN-ANPP", date(2018, 2, 1)),
        ("hydroxylimine", "CN-hydroxylimine", date(2008, 8, 1)),
    ],
)
def test_the_precursors_still_unread_keep_their_days_and_stay_unconfirmed(
    query: str, rule_id: str, first: date
) -> None:
    assert not first_day_basis("CN", query, rule_id, first).confirmed


def test_the_cn_rules_still_begin_in_2014_with_sixteen_entries_unconfirmed() -> None:
    book = load_rulebook()
    assert book.history["CN"][0] == date(2014, 1, 1)
    cn = [e for e in book.entries if e.jurisdiction == "CN"]
    assert sum(not e.confirmed for e in cn) == 16
