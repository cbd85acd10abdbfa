"""UN rules of issue 13: one entry of every Schedule and Table loaded, the CND additions of
2015-2025 on both sides of their first day, salts and isomers, the transfers between the
1988 Tables, and the checks on the UN data (the treaty rule on when a decision takes effect)."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import identify, load_rulebook
from liaison.chem.models import NO_STRUCTURE

TODAY = date(2026, 1, 1)
BOOK = load_rulebook()

# One query per UN list, with a day on which its listing is in force.
EVERY_LIST = {
    "Single Convention 1961, Schedule I": ("ketobemidone", TODAY, "UN-ketobemidone"),
    "Single Convention 1961, Schedules I and IV": ("carfentanil", TODAY, "UN-carfentanil"),
    "Single Convention 1961, Schedule II": ("pholcodine", TODAY, "UN-pholcodine"),
    "Single Convention 1961, Schedule IV": (
        "cannabis resin",
        date(2019, 1, 1),
        "UN-cannabis-schedule-IV",
    ),
    "1971 Convention, Schedule I": ("DOC", TODAY, "UN-DOC"),
    "1971 Convention, Schedule II": ("4-CMC", TODAY, "UN-4-CMC"),
    "1971 Convention, Schedule III": ("pentobarbital", TODAY, "UN-pentobarbital"),
    "1971 Convention, Schedule IV": ("bromazolam", TODAY, "UN-bromazolam"),
    "1988 Convention, Table I": ("ergometrine", TODAY, "UN-ergometrine"),
    "1988 Convention, Table II": ("acetone", TODAY, "UN-acetone"),
}


def _ids(query: str, as_of: date) -> set[str]:
    verdict = identify(query, as_of=as_of, jurisdictions=["UN"]).verdicts["UN"]
    return {basis.rule_id for basis in verdict.basis}


def test_every_un_list_has_a_case_here() -> None:
    lists = {
        rule.list
        for rule in (*BOOK.entries, *BOOK.name_only, *BOOK.families, *BOOK.classes)
        if rule.jurisdiction == "UN"
    }
    assert lists == set(EVERY_LIST)


@pytest.mark.parametrize("list_name", sorted(EVERY_LIST))
def test_one_entry_of_every_list_gets_its_verdict_and_basis(list_name: str) -> None:
    query, as_of, rule_id = EVERY_LIST[list_name]
    verdict = identify(query, as_of=as_of, jurisdictions=["UN"]).verdicts["UN"]
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert basis.list == list_name
    assert verdict.status == ("precursor" if "1988" in list_name else "controlled")
    assert basis.citation and basis.in_force_from <= as_of


@pytest.mark.parametrize(
    ("query", "before", "first", "rule_id"),
    [
        ("25I-NBOMe", date(2015, 3, 16), date(2015, 3, 17), "UN-25I-NBOMe"),
        ("ethylphenidate", date(2017, 10, 17), date(2017, 10, 18), "UN-ethylphenidate"),
        ("U-47700", date(2017, 4, 20), date(2017, 4, 21), "UN-U-47700"),
        ("4-CMC", date(2020, 11, 2), date(2020, 11, 3), "UN-4-CMC"),
        ("etizolam", date(2020, 11, 2), date(2020, 11, 3), "UN-etizolam"),
        ("crotonylfentanyl", date(2020, 5, 6), date(2020, 5, 7), "UN-crotonylfentanyl"),
        ("CUMYL-PEGACLONE", date(2021, 3, 31), date(2021, 4, 1), "UN-CUMYL-PEGACLONE"),
        ("eutylone", date(2022, 11, 22), date(2022, 11, 23), "UN-eutylone"),
        ("butonitazene", date(2024, 6, 5), date(2024, 6, 6), "UN-butonitazene"),
        ("2-FDCK", date(2024, 12, 2), date(2024, 12, 3), "UN-2-FDCK"),
        ("BMK glycidic acid", date(2024, 12, 2), date(2024, 12, 3), "UN-BMK-glycidic-acid"),
        ("protonitazepyne", date(2025, 3, 11), date(2025, 3, 12), "UN-N-pyrrolidino-protonitazene"),
        ("HHC", date(2025, 3, 11), date(2025, 3, 12), "UN-HHC"),
        ("carisoprodol", date(2025, 3, 11), date(2025, 3, 12), "UN-carisoprodol"),
        ("ergotamine", date(1990, 11, 10), date(1990, 11, 11), "UN-ergotamine"),
        ("ketobemidone", date(1964, 12, 12), date(1964, 12, 13), "UN-ketobemidone"),
        ("meprobamate", date(1976, 8, 15), date(1976, 8, 16), "UN-meprobamate"),
        # WHO recommended midazolam in 1989 (TRS 787): the year of the recommendation counts
        ("midazolam", date(1988, 12, 31), date(1989, 1, 1), "UN-midazolam"),
    ],
)
def test_an_addition_applies_from_its_first_day_and_not_the_day_before(
    query: str, before: date, first: date, rule_id: str
) -> None:
    assert rule_id not in _ids(query, before)
    assert rule_id in _ids(query, first)


@pytest.mark.parametrize(
    ("query", "last_in_table_ii", "table_ii_id", "table_i_id"),
    [
        (
            "acetic anhydride",
            date(2001, 2, 28),
            "UN-acetic-anhydride",
            "UN-acetic-anhydride-table-I",
        ),
        (
            "potassium permanganate",
            date(2001, 2, 28),
            "UN-potassium-permanganate",
            "UN-potassium-permanganate-table-I",
        ),
        (
            "phenylacetic acid",
            date(2010, 3, 7),
            "UN-phenylacetic-acid",
            "UN-phenylacetic-acid-table-I",
        ),
    ],
)
def test_a_transfer_between_the_tables_names_the_table_of_the_day(
    query: str, last_in_table_ii: date, table_ii_id: str, table_i_id: str
) -> None:
    def basis_on(day: date) -> list[tuple[str, str]]:
        verdict = identify(query, as_of=day, jurisdictions=["UN"]).verdicts["UN"]
        assert verdict.status == "precursor", verdict.explanation
        return [(b.rule_id, b.list) for b in verdict.basis]

    assert basis_on(last_in_table_ii) == [(table_ii_id, "1988 Convention, Table II")]
    next_day = date.fromordinal(last_in_table_ii.toordinal() + 1)
    assert basis_on(next_day) == [(table_i_id, "1988 Convention, Table I")]


def test_midazolam_is_not_one_of_the_benzodiazepines_of_1984() -> None:
    """WHO recommended midazolam only in 1989 (TRS 787); diazepam was in the 1984 decision."""
    assert "UN-diazepam" in _ids("diazepam", date(1985, 1, 1))
    assert "UN-midazolam" not in _ids("midazolam", date(1985, 1, 1))


def test_ghb_is_in_schedule_iv_from_2001_and_in_schedule_ii_from_2013() -> None:
    def basis_on(day: date) -> list[tuple[str, str]]:
        verdict = identify("GHB", as_of=day, jurisdictions=["UN"]).verdicts["UN"]
        return [(b.rule_id, b.list) for b in verdict.basis]

    assert basis_on(date(2001, 2, 28)) == []
    assert basis_on(date(2013, 2, 28)) == [("UN-GHB-schedule-IV", "1971 Convention, Schedule IV")]
    assert basis_on(date(2013, 3, 1)) == [("UN-GHB", "1971 Convention, Schedule II")]


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("60561-17-3", "UN-sufentanil"),  # sufentanil citrate, by CAS
        ("40064-34-4", "UN-4-piperidone"),  # 4-piperidone hydrochloride, by CAS
        ("50-98-6", "UN-ephedrine"),  # ephedrine hydrochloride, by CAS
        ("CNC(C)C(=O)c1ccc(Cl)cc1.Cl", "UN-4-CMC"),  # 4-CMC hydrochloride
        # butonitazene citrate
        (
            "CCCCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN(CC)CC)cc1.OC(=O)CC(O)(CC(=O)O)C(=O)O",
            "UN-butonitazene",
        ),
        # ergotamine tartrate: Table I covers the salts
        (
            "C[C@@]1(C(=O)N2[C@H](C(=O)N3CCC[C@H]3[C@@]2(O1)O)CC4=CC=CC=C4)NC(=O)"
            "[C@H]5CN([C@@H]6CC7=CNC8=CC=CC(=C78)C6=C5)C.OC(C(O)C(=O)O)C(=O)O",
            "UN-ergotamine",
        ),
        ("CCCC[C@H](N1CCCC1)C(=O)c1ccccc1", "UN-alpha-PHP"),  # (S)-alpha-PHP
        ("CCCCCc1cc(O)c2c(c1)OC(C)(C)[C@@H]1CC[C@@H](C)C[C@H]21", "UN-HHC"),  # one HHC epimer
    ],
)
def test_salts_and_isomers_get_the_verdict_of_the_listed_substance(
    query: str, rule_id: str
) -> None:
    assert rule_id in _ids(query, TODAY)


def test_dextromethorphan_is_not_levomethorphan() -> None:
    """Schedule I excepts dextromethorphan: the levo isomer's entry does not cover isomers."""
    dextromethorphan = "CN1CC[C@@]23CCCC[C@@H]2[C@@H]1CC4=C3C=C(C=C4)OC"
    assert "UN-levomethorphan" not in _ids(dextromethorphan, TODAY)
    assert "UN-levomethorphan" in _ids("levomethorphan", TODAY)


def test_levopropoxyphene_is_not_dextropropoxyphene() -> None:
    """Schedule II lists the dextro isomer by its designation; its enantiomer is not listed."""
    levopropoxyphene = "CCC(=O)O[C@@](Cc1ccccc1)(c1ccccc1)[C@@H](C)CN(C)C"
    assert "UN-dextropropoxyphene" not in _ids(levopropoxyphene, TODAY)
    assert "UN-dextropropoxyphene" in _ids("dextropropoxyphene", TODAY)


def test_potassium_permanganate_is_a_precursor_by_name_and_by_structure() -> None:
    for query in ("KMnO4", "[K+].[O-][Mn](=O)(=O)=O"):
        verdict = identify(query, as_of=TODAY, jurisdictions=["UN"]).verdicts["UN"]
        assert verdict.status == "precursor", query
        assert [b.rule_id for b in verdict.basis] == ["UN-potassium-permanganate-table-I"]
        assert NO_STRUCTURE not in verdict.explanation


def test_table_salt_is_not_a_precursor() -> None:
    """Hydrochloric acid is loaded, but Table II excludes its salts: a chloride is not it."""
    verdict = identify("[Na+].[Cl-]", as_of=TODAY, jurisdictions=["UN"]).verdicts["UN"]
    assert verdict.status != "precursor"


def _treaty_rule(list_name: str) -> str:
    if list_name.startswith("Single Convention"):
        return "art. 3(7)"
    return "art. 2(7)" if list_name.startswith("1971") else "art. 12(6)"


def test_every_cnd_addition_since_2015_says_when_such_a_decision_takes_effect() -> None:
    additions = [
        entry
        for entry in BOOK.entries
        if entry.jurisdiction == "UN"
        and entry.citation.startswith("CND decision")
        and entry.in_force_from >= date(2015, 1, 1)
    ]
    assert len(additions) > 60
    for entry in additions:
        assert _treaty_rule(entry.list) in entry.note, entry.id


def test_an_effective_day_taken_from_another_decision_is_unconfirmed_and_says_so() -> None:
    inferred = [
        entry
        for entry in BOOK.entries
        if entry.jurisdiction == "UN" and "communicated together" in entry.note
    ]
    assert len(inferred) > 20
    for entry in inferred:
        assert not entry.confirmed, entry.id
        assert "assumption, not verified" in entry.note, entry.id
