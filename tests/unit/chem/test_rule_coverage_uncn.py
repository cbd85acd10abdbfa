"""UN and China entries added for issue 13's third pass: the 1961 Schedule I opioids of the
Commentary's list, the 1971 Schedule II additions of 2018 and 2019, APAAN and MAPA in
Table I of the 1988 Convention, and the Chinese
catalogue and supplementary-list additions of 2017-2024, each by name, Chinese name or
structure, on both sides of its first day, with its salts and isomers."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import identify

TODAY = date(2026, 1, 1)
PRECURSORS_2 = "易制毒化学品 第二类 (category 2 precursor chemicals)"
PRECURSORS_3 = "易制毒化学品 第三类 (category 3 precursor chemicals)"


@pytest.mark.parametrize(
    ("code", "query", "rule_id"),
    [
        ("UN", "anileridine", "UN-anileridine"),
        ("UN", "CCC(=O)OC1(c2ccccc2)CCN(C)CC1C", "UN-alphaprodine"),  # alpha/betaprodine
        ("UN", "betacetylmethadol", "UN-acetylmethadol"),  # a separately listed isomer
        ("UN", "dihydrodeoxymorphine", "UN-desomorphine"),
        ("UN", "5F-MDMB-PINACA", "UN-5F-ADB"),
        ("UN", "CCCC(NCC)C(=O)c1ccc2OCOc2c1", "UN-N-ethylnorpentylone"),
        ("UN", "phenazepam", "UN-phenazepam"),
        ("UN", "MXE", "UN-methoxetamine"),
        ("UN", "etodesnitazene", "UN-etazene"),
        ("UN", "CC(C)CC(N1CCCC1)C(=O)c1ccccc1", "UN-alpha-PiHP"),
        ("CN", "奥赛利定", "CN-oliceridine"),
        ("CN", "吡仑帕奈", "CN-perampanel"),
        ("CN", "溴啡", "CN-brorphine"),
        ("CN", "氟胺酮", "CN-2-FDCK"),
        ("CN", "CNC(C)Cc1ccc(OC)cc1", "CN-PMMA"),
    ],
)
def test_added_entries_answer_by_name_chinese_name_and_structure(
    code: str, query: str, rule_id: str
) -> None:
    verdict = identify(query, as_of=TODAY, jurisdictions=[code]).verdicts[code]
    assert verdict.status == "controlled", verdict.explanation
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert basis.citation and basis.in_force_from <= TODAY


@pytest.mark.parametrize(
    ("query", "code", "before", "first", "rule_id"),
    [
        ("AB-CHMINACA", "UN", date(2018, 3, 15), date(2018, 3, 16), "UN-AB-CHMINACA"),
        ("FUB-AMB", "UN", date(2019, 3, 21), date(2019, 3, 22), "UN-FUB-AMB"),
        ("suvorexant", "CN", date(2023, 6, 30), date(2023, 7, 1), "CN-suvorexant"),
        ("2-FDCK", "CN", date(2021, 6, 30), date(2021, 7, 1), "CN-2-FDCK"),
        ("MT-45", "CN", date(2017, 6, 30), date(2017, 7, 1), "CN-MT-45"),
        ("4-CEC", "CN", date(2018, 8, 31), date(2018, 9, 1), "CN-4-CEC"),
        ("MT-45", "UN", date(2016, 3, 17), date(2016, 3, 18), "UN-MT-45"),
        ("protonitazene", "UN", date(2023, 3, 16), date(2023, 3, 17), "UN-protonitazene"),
        ("brorphine", "UN", date(2022, 5, 26), date(2022, 5, 27), "UN-brorphine"),
        ("metonitazene", "UN", date(2022, 5, 26), date(2022, 5, 27), "UN-metonitazene"),
        # corrected: a recommendation for the CND meeting of April 2021, not a 2020 listing
        ("isotonitazene", "UN", date(2021, 3, 31), date(2021, 4, 1), "UN-isotonitazene"),
        ("APAAN", "UN", date(2014, 10, 5), date(2014, 10, 6), "UN-APAAN"),
        ("16648-44-5", "UN", date(2020, 11, 2), date(2020, 11, 3), "UN-MAPA"),
        ("alpha-phenylacetoacetamide", "UN", date(2019, 3, 18), date(2019, 3, 19), "UN-APAA"),
        ("13956-29-1", "CN", date(2024, 8, 31), date(2024, 9, 1), "CN-CBD"),
    ],
)
def test_an_addition_applies_from_its_first_day(
    query: str, code: str, before: date, first: date, rule_id: str
) -> None:
    earlier = identify(query, as_of=before, jurisdictions=[code]).verdicts[code]
    assert rule_id not in {b.rule_id for b in earlier.basis}
    later = identify(query, as_of=first, jurisdictions=[code]).verdicts[code]
    assert rule_id in {b.rule_id for b in later.basis}


def test_the_2024_listing_of_brorphine_applies_from_its_first_day() -> None:
    verdict = identify("brorphine", as_of=date(2024, 7, 1), jurisdictions=["CN"]).verdicts["CN"]
    basis = next(b for b in verdict.basis if b.rule_id == "CN-brorphine")
    assert (basis.in_force_from, basis.in_force_precision) == (date(2024, 7, 1), "day")
    earlier = identify("brorphine", as_of=date(2024, 6, 30), jurisdictions=["CN"]).verdicts["CN"]
    assert "CN-brorphine" not in {b.rule_id for b in earlier.basis}


@pytest.mark.parametrize(
    ("code", "query", "rule_id"),
    [
        # (R)-4-fluoroamphetamine: one enantiomer of a listing that covers isomers
        ("UN", "C[C@@H](N)Cc1ccc(F)cc1", "UN-4-FA"),
        # dextromoramide's hydrogen tartrate
        (
            "UN",
            "CC(CN1CCOCC1)C(C(=O)N1CCCC1)(c1ccccc1)c1ccccc1.OC(C(O)C(=O)O)C(=O)O",
            "UN-dextromoramide",
        ),
        # oliceridine fumarate
        ("CN", "COc1ccsc1CNCCC1(CCOC2(CCCC2)C1)c1ccccn1.OC(=O)/C=C/C(=O)O", "CN-oliceridine"),
    ],
)
def test_isomers_and_salts_get_the_verdict_of_the_listed_substance(
    code: str, query: str, rule_id: str
) -> None:
    verdict = identify(query, as_of=TODAY, jurisdictions=[code]).verdicts[code]
    assert verdict.status == "controlled", verdict.explanation
    assert rule_id in {b.rule_id for b in verdict.basis}


@pytest.mark.parametrize(
    ("query", "rule_id", "list_name"),
    [
        ("苯乙腈", "CN-benzyl-cyanide", PRECURSORS_3),
        ("COC(=O)C1(C)OC1c1ccc2OCOc2c1", "CN-PMK-glycidate", PRECURSORS_2),
    ],
)
def test_the_2021_precursor_additions_are_precursors_from_june_2021(
    query: str, rule_id: str, list_name: str
) -> None:
    before = identify(query, as_of=date(2021, 6, 6), jurisdictions=["CN"]).verdicts["CN"]
    assert rule_id not in {b.rule_id for b in before.basis}
    verdict = identify(query, as_of=date(2021, 6, 7), jurisdictions=["CN"]).verdicts["CN"]
    assert verdict.status == "precursor", verdict.explanation
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert basis.list == list_name and not basis.confirmed
