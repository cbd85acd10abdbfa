"""The complete rule files (issue 13): every schedule, list, table and category answers by
structure, English or Chinese name and CAS number, on the right side of its dates, for salts
and isomers."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import identify, load_rulebook
from support import CN_SUPPLEMENTARY

TODAY = date(2026, 1, 1)

# (jurisdiction, list, query, rule id): one substance of every schedule, list, table and
# category loaded, asked by a name, a Chinese name, a CAS number or a structure.
EVERY_LIST = [
    ("US", "Schedule I", "heroin", "US-heroin"),
    ("US", "Schedule II", "cocaine", "US-cocaine"),
    ("US", "Schedule II (immediate precursor)", "phenylacetone", "US-P2P"),
    ("US", "Schedule III", "6740-88-1", "US-ketamine"),
    ("US", "Schedule IV", "阿普唑仑", "US-alprazolam"),
    ("US", "Schedule V", "pregabalin", "US-pregabalin"),
    ("US", "List I", "ephedrine", "US-ephedrine"),
    ("US", "List II", "acetone", "US-acetone"),
    ("UN", "Single Convention 1961, Schedule I", "morphine", "UN-morphine"),
    ("UN", "Single Convention 1961, Schedule II", "codeine", "UN-codeine"),
    ("UN", "Single Convention 1961, Schedules I and IV", "diacetylmorphine", "UN-heroin"),
    ("UN", "Single Convention 1961, Schedule IV", "ketobemidone", "UN-ketobemidone-schedule-IV"),
    ("UN", "1971 Convention, Schedule I", "LSD", "UN-LSD"),
    ("UN", "1971 Convention, Schedule II", "CNC(C)Cc1ccccc1", "UN-methamphetamine"),
    ("UN", "1971 Convention, Schedule III", "flunitrazepam", "UN-flunitrazepam"),
    ("UN", "1971 Convention, Schedule IV", "diazepam", "UN-diazepam"),
    ("UN", "1988 Convention, Table I", "胡椒醛", "UN-piperonal"),
    ("UN", "1988 Convention, Table II", "110-89-4", "UN-piperidine"),
    ("CN", "麻醉药品品种目录 (catalogue of narcotic drugs)", "海洛因", "CN-heroin"),
    ("CN", "精神药品品种目录 第一类 (catalogue of psychotropic substances, category I)", "冰毒",
     "CN-methamphetamine"),
    ("CN", "精神药品品种目录 第二类 (catalogue of psychotropic substances, category II)", "地西泮",
     "CN-diazepam"),
    ("CN", CN_SUPPLEMENTARY, "CN(C)C1CCCCC1N(C)C(=O)c1ccc(Cl)c(Cl)c1", "CN-U-47700"),
    ("CN", "易制毒化学品 第一类 (category 1 precursor chemicals)", "麻黄碱", "CN-ephedrine"),
    ("CN", "易制毒化学品 第二类 (category 2 precursor chemicals)", "三氯甲烷", "CN-chloroform"),
    ("CN", "易制毒化学品 第三类 (category 3 precursor chemicals)", "丁酮", "CN-MEK"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "list_name", "query", "rule_id"), EVERY_LIST)
def test_every_list_answers_with_its_entry_citation_and_date(
    code: str, list_name: str, query: str, rule_id: str
) -> None:
    verdict = identify(query, as_of=TODAY, jurisdictions=[code]).verdicts[code]
    assert verdict.status in ("controlled", "precursor"), verdict.explanation
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert basis.list == list_name
    assert basis.citation and basis.in_force_from <= TODAY


def test_every_named_list_of_the_files_is_in_the_table_above() -> None:
    """A list added to the files without a test here fails (families and classes have theirs)."""
    named = {(e.jurisdiction, e.list) for e in load_rulebook().entries}
    assert named == {(code, name) for code, name, _, _ in EVERY_LIST}


# (query, jurisdiction, last day before, first day in force, rule id)
DATED = [
    ("CC(N)Cc1ccccc1", "US", date(1971, 7, 6), date(1971, 7, 7), "US-amphetamine"),
    ("ketamine", "US", date(1999, 8, 11), date(1999, 8, 12), "US-ketamine"),
    ("tramadol", "US", date(2014, 8, 17), date(2014, 8, 18), "US-tramadol"),
    ("isotonitazene", "US", date(2020, 8, 19), date(2020, 8, 20), "US-isotonitazene"),
    ("mephedrone", "UN", date(2015, 3, 16), date(2015, 3, 17), "UN-mephedrone"),
    ("U-47700", "CN", date(2017, 6, 30), date(2017, 7, 1), "CN-U-47700"),
    ("piperonal", "CN", date(2005, 10, 31), date(2005, 11, 1), "CN-piperonal"),
    ("safrole", "UN", date(1992, 9, 30), date(1992, 10, 1), "UN-safrole"),
    ("etizolam", "US", date(2023, 7, 25), date(2023, 7, 26), "US-etizolam-temporary"),
    ("etizolam", "US", date(2026, 3, 31), date(2026, 4, 1), "US-etizolam"),
    ("flualprazolam", "US", date(2023, 7, 25), date(2023, 7, 26), "US-flualprazolam-temporary"),
    ("clonazolam", "US", date(2026, 3, 31), date(2026, 4, 1), "US-clonazolam"),
]


@pytest.mark.parametrize(("query", "code", "before", "first", "rule_id"), DATED)
def test_a_dated_addition_applies_from_its_first_day(
    query: str, code: str, before: date, first: date, rule_id: str
) -> None:
    earlier = identify(query, as_of=before, jurisdictions=[code]).verdicts[code]
    assert rule_id not in {b.rule_id for b in earlier.basis}
    later = identify(query, as_of=first, jurisdictions=[code]).verdicts[code]
    assert rule_id in {b.rule_id for b in later.basis}


def test_amphetamine_was_schedule_iii_before_its_1971_transfer() -> None:
    verdict = identify("amphetamine", as_of=date(1971, 7, 6), jurisdictions=["US"]).verdicts["US"]
    assert [(b.rule_id, b.list) for b in verdict.basis] == [("US-amphetamine-1971", "Schedule III")]


@pytest.mark.parametrize("query", ["fentanyl", "海洛因", "CNC(C)Cc1ccccc1"])
def test_a_chinese_verdict_before_2014_says_the_rules_do_not_reach_back(query: str) -> None:
    early = identify(query, as_of=date(2010, 1, 1), jurisdictions=["CN"]).verdicts["CN"]
    assert early.status == "no_match"
    assert "do not reach back before 1 Jan 2014" in early.explanation
    later = identify(query, as_of=date(2014, 1, 1), jurisdictions=["CN"]).verdicts["CN"]
    assert later.status == "controlled" and "reach back" not in later.explanation


def test_a_precursor_verdict_before_2014_also_carries_the_warning() -> None:
    verdict = identify("piperidine", as_of=date(2010, 1, 1), jurisdictions=["CN"]).verdicts["CN"]
    assert verdict.status == "precursor"
    assert "do not reach back" in verdict.explanation


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("53-21-4", "US-cocaine"),  # cocaine hydrochloride, by CAS
        ("51-57-0", "US-methamphetamine"),  # methamphetamine hydrochloride
        ("60561-17-3", "US-sufentanil"),  # sufentanil citrate
        ("40064-34-4", "US-4-piperidone"),  # 4-piperidone monohydrate hydrochloride
        ("COC(=O)[C@H]1[C@@H](OC(=O)c2ccccc2)C[C@@H]2CC[C@H]1[NH+]2C.[Cl-]", "US-cocaine"),
        (
            "CN1CC[C@]23[C@@H]4[C@H]1CC5=C2C(=C(C=C5)O)O[C@H]3[C@H](C=C4)O.OS(=O)(=O)O",
            "US-morphine",
        ),
    ],
)
def test_salts_get_the_verdict_of_their_base(query: str, rule_id: str) -> None:
    verdict = identify(query, as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    assert rule_id in {b.rule_id for b in verdict.basis}, verdict.explanation


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("CN[C@@H](C)Cc1ccccc1", "US-methamphetamine"),  # (S): the drug
        ("CN[C@H](C)Cc1ccccc1", "US-methamphetamine"),  # (R): levmetamfetamine, an isomer
        ("C[C@@H]([C@H](c1ccccc1)O)NC", "US-pseudoephedrine"),
        ("C[C@@H]([C@H](c1ccccc1)O)NC", "US-ephedrine"),  # optical isomers are covered
    ],
)
def test_isomers_are_covered_where_the_listing_says_so(query: str, rule_id: str) -> None:
    verdict = identify(query, as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    assert rule_id in {b.rule_id for b in verdict.basis}, verdict.explanation


def test_an_isomer_of_a_listing_without_isomers_is_not_that_listing() -> None:
    """Morphine is listed with its salts only: its enantiomer does not match US-morphine."""
    ent_morphine = "CN1CC[C@@]23[C@H]4[C@@H]1CC5=C2C(=C(C=C5)O)O[C@@H]3[C@@H](C=C4)O"
    verdict = identify(ent_morphine, as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    assert "US-morphine" not in {b.rule_id for b in verdict.basis}


def test_positional_isomers_stay_apart() -> None:
    """Isotonitazene (isopropoxy) and protonitazene (propoxy) share a formula, not a listing."""
    iso = identify("isotonitazene", as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    assert {b.rule_id for b in iso.basis} == {"US-isotonitazene"}


@pytest.mark.parametrize(
    "name", ["etizolam", "flualprazolam", "clonazolam", "flubromazolam", "diclazepam"]
)
def test_the_permanent_rule_of_april_2026_ends_the_temporary_order(name: str) -> None:
    def ids(day: date) -> set[str]:
        verdict = identify(name, as_of=day, jurisdictions=["US"]).verdicts["US"]
        return {basis.rule_id for basis in verdict.basis}

    assert ids(date(2026, 3, 31)) == {f"US-{name}-temporary"}
    assert ids(date(2026, 4, 1)) == {f"US-{name}"}


@pytest.mark.parametrize(
    "name",
    [
        "etodesnitazene",
        "N-pyrrolidino etonitazene",
        "butonitazene",
        "flunitazene",
        "metodesnitazene",
        "metonitazene",
        "protonitazene",
    ],
)
def test_the_seven_nitazenes_of_april_2022_are_controlled_without_a_gap(name: str) -> None:
    """Temporary order of 12 Apr 2022, then the extension or the permanent rules of 2023-2024:
    one entry each, from 12 Apr 2022 on."""
    for day in (date(2022, 4, 12), date(2024, 4, 12), date(2024, 10, 24), TODAY):
        verdict = identify(name, as_of=day, jurisdictions=["US"]).verdicts["US"]
        assert verdict.status == "controlled", (day, verdict.explanation)
    before = identify(name, as_of=date(2022, 4, 11), jurisdictions=["US"]).verdicts["US"]
    assert f"US-{name.replace(' ', '-')}" not in {basis.rule_id for basis in before.basis}


@pytest.mark.parametrize(
    ("query", "rule_id"), [("美托尼秦", "CN-metonitazene"), ("丙托尼秦", "CN-protonitazene")]
)
def test_chinese_nitazene_listings_of_2024_apply_from_1_july_2024(query: str, rule_id: str) -> None:
    later = identify(query, as_of=date(2024, 7, 1), jurisdictions=["CN"]).verdicts["CN"]
    basis = next(b for b in later.basis if b.rule_id == rule_id)
    assert basis.in_force_precision == "day" and basis.confirmed
    earlier = identify(query, as_of=date(2024, 6, 30), jurisdictions=["CN"]).verdicts["CN"]
    assert rule_id not in {b.rule_id for b in earlier.basis}


@pytest.mark.parametrize("name", ["etizolam", "flualprazolam"])
def test_the_2020_benzodiazepines_are_in_schedule_iv_of_the_1971_convention(name: str) -> None:
    verdict = identify(name, as_of=TODAY, jurisdictions=["UN"]).verdicts["UN"]
    basis = next(b for b in verdict.basis if b.rule_id == f"UN-{name}")
    assert basis.list == "1971 Convention, Schedule IV" and not basis.confirmed
    earlier = identify(name, as_of=date(2020, 3, 3), jurisdictions=["UN"]).verdicts["UN"]
    assert earlier.status == "no_match"
