"""UN rules, thirteenth pass (rulesun6): norephedrine in Table I of the 1988 Convention from
September 2000 (a decision of the CND's March 2000 session takes effect 180 days after its
communication), the Chinese names the UN entries take from the CN entry of the same
structure, and the listings whose day of effect stays unread (MMDA's two drawings,
propylhexedrine's deletion)."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import identify, load_rulebook
from liaison.chem.rulebook import NamedEntry

TABLE_I = "1988 Convention, Table I"
R1S2 = "C[C@H](N)[C@H](O)c1ccccc1"  # (1R,2S)-norephedrine
S1R2 = "C[C@@H](N)[C@@H](O)c1ccccc1"  # (1S,2R)-norephedrine
CATHINE = "C[C@H](N)[C@@H](O)c1ccccc1"  # (1S,2S)-norpseudoephedrine, threo


def un_lists(query: str, day: date) -> dict[str, str]:
    """Rule id -> list of every UN basis the verdict for `query` on `day` shows."""
    verdict = identify(query, as_of=day, jurisdictions=["UN"]).verdicts["UN"]
    return {b.rule_id: b.list for b in verdict.basis}


def un_entries() -> dict[str, NamedEntry]:
    return {e.id: e for e in load_rulebook().entries if e.jurisdiction == "UN"}


NOREPHEDRINE = [
    (["(1R,2S)-norephedrine", "(-)-norephedrine", "去甲麻黄素", R1S2], "UN-norephedrine"),
    (["(1S,2R)-norephedrine", "(+)-norephedrine", S1R2], "UN-norephedrine-1S2R"),
]


@pytest.mark.parametrize(("queries", "rule_id"), NOREPHEDRINE)
def test_norephedrine_is_in_table_i_from_the_earliest_month_its_2000_decision_took_effect(
    queries: list[str], rule_id: str
) -> None:
    for query in queries:
        assert rule_id not in un_lists(query, date(2000, 8, 31)), query
        assert un_lists(query, date(2000, 9, 1)).get(rule_id) == TABLE_I, query


def test_cathine_the_threo_isomer_is_not_table_i_norephedrine() -> None:
    lists = un_lists(CATHINE, date(2024, 1, 1))
    assert TABLE_I not in lists.values()
    assert lists.get("UN-cathine") == "1971 Convention, Schedule III"


def test_the_norephedrine_entries_are_unconfirmed_and_say_the_decision_was_not_read() -> None:
    entries = un_entries()
    for rule_id in ("UN-norephedrine", "UN-norephedrine-1S2R"):
        entry = entries[rule_id]
        assert entry.confirmed is False and entry.in_force_to is None
        assert entry.in_force_from == date(2000, 9, 1) and entry.in_force_precision == "month"
        assert "the decision itself was not read" in entry.note
        assert entry.covers == ("salts",)


def test_every_un_entry_with_a_cn_entry_of_its_structure_has_its_chinese_names() -> None:
    book = load_rulebook()
    cn_names: dict[str, set[str]] = {}
    for entry in book.entries:
        if entry.jurisdiction == "CN":
            cn_names.setdefault(entry.inchikey, set()).update(entry.names_zh)
    missing = [
        entry.id
        for entry in book.entries
        if entry.jurisdiction == "UN" and cn_names.get(entry.inchikey) and not entry.names_zh
    ]
    assert missing == []


CHINESE = [
    ("芬纳西泮", "UN-phenazepam", "1971 Convention, Schedule IV", date(2016, 3, 18)),
    ("溴啡", "UN-brorphine", "Single Convention 1961, Schedule I", date(2022, 5, 27)),
    ("3-氯甲卡西酮", "UN-3-CMC", "1971 Convention, Schedule II", date(2024, 12, 3)),
    ("去甲可待因", "UN-norcodeine", "Single Convention 1961, Schedule II", date(1982, 2, 8)),
]


@pytest.mark.parametrize(("name_zh", "rule_id", "listed", "first_day"), CHINESE)
def test_a_chinese_name_copied_from_china_finds_the_un_listing(
    name_zh: str, rule_id: str, listed: str, first_day: date
) -> None:
    day_before = date.fromordinal(first_day.toordinal() - 1)
    assert rule_id not in un_lists(name_zh, day_before)
    assert un_lists(name_zh, first_day).get(rule_id) == listed


MMDA_AS_PRINTED_1988 = "COc1cc2OCOc2cc1CC(C)N"  # 2-methoxy-4,5-methylenedioxy
MMDA_US_CN = "COc1cc(CC(C)N)cc2OCOc12"  # 5-methoxy-3,4-methylenedioxy


def test_mmda_as_the_1988_schedules_print_it_is_listed_from_12_october_1988() -> None:
    printed_name = un_entries()["UN-MMDA"].name
    for query in (MMDA_AS_PRINTED_1988, printed_name):
        assert "UN-MMDA" not in un_lists(query, date(1988, 10, 11)), query
        assert un_lists(query, date(1988, 10, 12)).get("UN-MMDA") == (
            "1971 Convention, Schedule I"
        ), query


def test_mmda_by_name_is_the_us_and_cn_drawing_which_no_un_text_read_names() -> None:
    # The UN's current chemical name for MMDA was not read, so 'MMDA' (the US/CN drawing)
    # finds no UN listing; the 1988 drawing keeps its own entry.
    for query in ("MMDA", MMDA_US_CN):
        assert "UN-MMDA" not in un_lists(query, date(2024, 1, 1)), query
    assert "UN-MMDA" in un_lists(MMDA_AS_PRINTED_1988, date(2024, 1, 1))


def test_propylhexedrine_keeps_its_1988_listing_with_no_end_day_read() -> None:
    entry = un_entries()["UN-propylhexedrine"]
    assert entry.in_force_to is None and entry.confirmed is False
    assert "UN-propylhexedrine" not in un_lists("propylhexedrine", date(1988, 10, 11))
    assert un_lists("propylhexedrine", date(1988, 10, 12)).get("UN-propylhexedrine") == (
        "1971 Convention, Schedule IV"
    )


TABLE_I_1992 = ["UN-safrole", "UN-piperonal", "UN-isosafrole"]


@pytest.mark.parametrize("rule_id", TABLE_I_1992)
def test_the_april_1992_table_i_decision_is_noted_with_the_article_read(rule_id: str) -> None:
    entry = un_entries()[rule_id]
    assert entry.confirmed is False
    assert "93/46/EEC" in entry.note and "April 1992" in entry.note
    assert "one hundred and eighty days after the date of such communication" in entry.note
