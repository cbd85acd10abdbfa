"""Matching on a small labelled set: the expected candidate ranks first, with its evidence."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from liaison.identity.matching import (
    PARTIAL_DATE_M,
    Candidate,
    Matcher,
    _floor_m,
    exact_match,
    posterior,
    share_in_registry,
)
from liaison.identity.people import prepare_people
from liaison.identity.synth import synthesise

# Registry people the requests below are about, beside a synthetic population; K1 and K2 are
# homonyms born the same day, told apart by the place of birth.
KNOWN = [
    ("K1", "Huang", "Xiaoming", "黄", "小明", "M", "1985-05-03", "福建省福州市",
     "350102198505030016"),
    ("K2", "Huang", "Xiaoming", "黄", "小明", "M", "1985-05-03", "广东省广州市",
     "440104198505030037"),
    ("K3", "Zhang", "Xueyou", "张", "学友", "M", "1961-07-10", "天津市", ""),
    ("K4", "Chen", "Meiling", "陈", "美玲", "F", "1992-11-08", "浙江省温州市",
     "330302199211080028"),
    ("K5", "Ouyang", "Na", "欧阳", "娜", "F", "1979-02-14", "湖北省武汉市", ""),
]  # fmt: skip
# (request, the registry person it is about or "" for none)
REQUESTS = [
    # Cantonese family name, Wade-Giles given name, place in English: K1 not K2.
    (("Q1", "Wong", "Hsiao-ming", "", "", "M", "1985-05-03", "Fuzhou, Fujian", ""), "K1"),
    # Wade-Giles, day and month swapped.
    (("Q2", "Chang", "Hsueh-yu", "", "", "M", "1961-10-07", "Tianjin", ""), "K3"),
    # Identity number alone, with the name written family name last.
    (("Q3", "Meiling", "Chen", "", "", "F", "", "", "330302199211080028"), "K4"),
    # A compound family name and a partial date (the year only).
    (("Q4", "Ouyang", "Na", "", "", "F", "1979", "Wuhan", ""), "K5"),
    # Hokkien spelling of Chen, legacy 15-digit number of K4.
    (("Q5", "Tan", "Mei Ling", "", "", "F", "1992-11", "", "330302921108002"), "K4"),
    # Nobody in the registry.
    (("Q6", "Xiong", "Zhiqiang", "", "", "M", "1944-01-01", "Lhasa", ""), ""),
    # Two letters of the given name swapped.
    (("Q7", "Chen", "Meilnig", "", "", "F", "1992-11-08", "", ""), "K4"),
]
COLUMNS = ["family_name", "given_name", "family_name_native", "given_name_native", "sex",
           "date_of_birth", "place_of_birth", "id_number"]  # fmt: skip


@pytest.fixture(scope="module")
def registry() -> pd.DataFrame:
    population, _, _ = synthesise(3000, 0, seed=11)
    known = pd.DataFrame([dict(zip(["person_id", *COLUMNS], k, strict=True)) for k in KNOWN])
    table, _ = prepare_people(pd.concat([population, known], ignore_index=True), "person_id")
    return table


@pytest.fixture(scope="module")
def requests() -> pd.DataFrame:
    rows = [dict(zip(["request_id", *COLUMNS], r, strict=True)) for r, _ in REQUESTS]
    table, _ = prepare_people(pd.DataFrame(rows), "request_id")
    return table


@pytest.fixture(scope="module")
def matcher(registry: pd.DataFrame) -> Matcher:
    return Matcher.train(registry, u_pairs=200_000)


def best(candidates: list[Candidate]) -> dict[str, Candidate]:
    first: dict[str, Candidate] = {}
    for candidate in candidates:
        first.setdefault(candidate.request_id, candidate)
    return first


def test_each_request_finds_its_person_first(matcher: Matcher, requests: pd.DataFrame) -> None:
    found = best(matcher.match(requests, k=3))
    for request, expected in REQUESTS:
        if expected:
            assert found[request[0]].person_id == expected, request
            assert found[request[0]].match_probability > 0.9, found[request[0]]
        else:
            assert request[0] not in found or found[request[0]].match_probability < 0.5


def test_candidates_are_ranked_with_the_evidence_per_field(
    matcher: Matcher, requests: pd.DataFrame
) -> None:
    ranked = [c for c in matcher.match(requests, k=3) if c.request_id == "Q1"]
    assert [c.person_id for c in ranked[:2]] == ["K1", "K2"]
    assert ranked[0].match_probability > ranked[1].match_probability
    evidence = ranked[0].evidence
    assert set(evidence) == {"name", "date_of_birth", "sex", "id_number", "place_of_birth",
                             "address"}  # fmt: skip
    assert evidence["name"]["level"] == "same name in another romanisation or order"
    assert evidence["place_of_birth"]["level"] == "same place (two names in common)"
    assert ranked[1].evidence["place_of_birth"]["level"] == "different places"
    assert float(ranked[1].evidence["place_of_birth"]["weight"]) < 0
    assert evidence["id_number"] == {"level": "empty on one side", "weight": 0.0}


def test_a_swapped_date_is_its_own_level(matcher: Matcher, requests: pd.DataFrame) -> None:
    found = best(matcher.match(requests))
    assert found["Q2"].evidence["date_of_birth"]["level"] == "day and month swapped"
    assert found["Q4"].evidence["date_of_birth"]["level"] == "partial date that agrees (year)"


def test_a_mistyped_given_name_beside_the_same_family_name_is_a_typing_error(
    matcher: Matcher, requests: pd.DataFrame
) -> None:
    found = best(matcher.match(requests))["Q7"]
    assert found.evidence["name"]["level"] == "one name the same, the other mistyped"
    assert float(found.evidence["name"]["weight"]) > 0


@pytest.mark.parametrize(
    ("family_name", "given_name", "born", "expected"),
    [
        # Wade-Giles Hsueh-yu with two letters swapped: it reads as no pinyin, but is one
        # keystroke from K3's Xueyou written in Wade-Giles.
        ("Chang", "Hsuhe-yu", "1961-07-10", "K3"),
        # Family name written last, the given name mistyped.
        ("Meilnig", "Chen", "1992-11-08", "K4"),
    ],
)
def test_a_mistyped_name_in_wade_giles_or_in_the_other_field_is_a_typing_error(
    matcher: Matcher, family_name: str, given_name: str, born: str, expected: str
) -> None:
    row = {"request_id": "T", "family_name": family_name, "given_name": given_name,
           "date_of_birth": born}  # fmt: skip
    table, _ = prepare_people(pd.DataFrame([row]), "request_id")
    found = [c for c in matcher.match(table, k=50) if c.person_id == expected]
    assert found
    assert found[0].evidence["name"]["level"] == "one name the same, the other mistyped"


def test_other_characters_are_not_a_typing_error(matcher: Matcher) -> None:
    # The Latin name one letter from K4's (Meilnig), but the characters given differ (林, not
    # 玲): another name, not a mistyped one.
    row = {"request_id": "C", "family_name": "Chen", "given_name": "Meilnig",
           "family_name_native": "陈", "given_name_native": "美林", "sex": "F",
           "date_of_birth": "1992-11-08"}  # fmt: skip
    table, _ = prepare_people(pd.DataFrame([row]), "request_id")
    found = [c for c in matcher.match(table, k=5) if c.person_id == "K4"]
    assert found
    assert found[0].evidence["name"]["level"] != "one name the same, the other mistyped"


def test_a_name_in_wade_giles_weighs_as_much_as_the_same_name_in_pinyin(
    matcher: Matcher,
) -> None:
    # How a request is spelt decides which of the two levels a true pair falls in: each is
    # worth the share of true pairs agreeing either way over how common the name is.
    rows = [
        {"request_id": "W", "family_name": "Wong", "given_name": "Hsiao-ming"},
        {"request_id": "P", "family_name": "Huang", "given_name": "Xiaoming"},
    ]
    table, _ = prepare_people(pd.DataFrame(rows), "request_id")
    found = best(matcher.match(table, k=1))
    levels = {r: found[r].evidence["name"]["level"] for r in ("W", "P")}
    assert levels == {"W": "same name in another romanisation or order", "P": "same name"}
    assert found["W"].evidence["name"]["weight"] == pytest.approx(
        found["P"].evidence["name"]["weight"], abs=1e-3
    )


def test_a_partial_date_weighs_by_the_share_of_the_registry_born_then(
    matcher: Matcher, registry: pd.DataFrame, requests: pd.DataFrame
) -> None:
    # Q4 gives the year 1979 only: its Bayes factor is m (PARTIAL_DATE_M) over the share of
    # the registry born in 1979, not an average over every year.
    share = float((registry["dob_year"] == 1979).mean())
    weight = float(best(matcher.match(requests))["Q4"].evidence["date_of_birth"]["weight"])
    assert weight == pytest.approx(math.log2(PARTIAL_DATE_M / share), abs=1e-3)


def test_a_saved_model_gives_the_same_answer(
    matcher: Matcher, registry: pd.DataFrame, requests: pd.DataFrame, tmp_path: Path
) -> None:
    matcher.save(tmp_path / "model.json")
    loaded = Matcher.load(tmp_path / "model.json", registry)
    assert loaded.match(requests, k=2) == matcher.match(requests, k=2)


def test_the_baseline_finds_only_exact_agreement(
    registry: pd.DataFrame, requests: pd.DataFrame
) -> None:
    found = {c.request_id: c.person_id for c in exact_match(registry, requests)}
    assert found == {"Q3": "K4", "Q5": "K4"}


def test_two_equally_good_candidates_share_the_probability() -> None:
    # Either alone would be named; beside each other (log2(2^30 + 2^30) = 31), neither.
    alone = posterior(30.0, 30.0, share=0.9)
    assert alone > 0.999
    assert posterior(30.0, 31.0, share=0.9) == pytest.approx(alone / 2, rel=1e-6)


def test_not_in_the_registry_keeps_its_share() -> None:
    # A lone candidate whose Bayes factor equals the registry size (weight 0) is likely when
    # most requests concern registry people, a coin toss when half do, unlikely when few do.
    assert posterior(0.0, 0.0, share=0.9) > 0.85
    assert 0.45 < posterior(0.0, 0.0, share=0.5) < 0.5
    assert posterior(0.0, 0.0, share=0.1) < 0.15
    # A negligible candidate beside a strong one, and a very weak one alone.
    assert posterior(-50.0, 30.0, share=0.9) == 0.0
    assert posterior(-2000.0, -2000.0, share=0.9) < 1e-6


def test_the_share_in_the_registry_is_estimated_from_the_batch() -> None:
    # 90 requests with a strong candidate, 10 with none: about 0.9.
    assert share_in_registry([40.0] * 90 + [-math.inf] * 10) == pytest.approx(0.9, abs=0.01)
    # One request says little: the estimate stays between a third and two thirds.
    assert 1 / 3 <= share_in_registry([40.0]) <= 2 / 3
    assert 1 / 3 <= share_in_registry([-math.inf]) <= 2 / 3


def test_characters_tell_homophones_apart_and_a_mistyped_number_still_counts() -> None:
    population, _, _ = synthesise(3000, 0, seed=12)
    known = [
        ("H1", "Chen", "Xin", "陈", "欣", "F", "1990-01-01", "福建省福州市", "350102199001010024"),
        ("H2", "Chen", "Xin", "陈", "鑫", "F", "1990-01-01", "福建省福州市", "350102199001010040"),
    ]  # fmt: skip
    frame = pd.DataFrame([dict(zip(["person_id", *COLUMNS], k, strict=True)) for k in known])
    registry, _ = prepare_people(pd.concat([population, frame], ignore_index=True), "person_id")
    asked = [
        ("Q1", "Chen", "Xin", "陈", "鑫", "F", "1990-01-01", "Fuzhou, Fujian", ""),
        # H1's number with one digit mistyped: its check character fails.
        ("Q2", "Chen", "Xin", "", "", "F", "1990-01-01", "Fuzhou, Fujian", "350102199001011024"),
    ]  # fmt: skip
    requests, problems = prepare_people(
        pd.DataFrame([dict(zip(["request_id", *COLUMNS], r, strict=True)) for r in asked]),
        "request_id",
    )
    assert [(p.row, p.field) for p in problems if p.row] == [(2, "id_number")]
    found = Matcher.train(registry, u_pairs=200_000).match(requests, k=2)
    first = best(found)
    assert first["Q1"].person_id == "H2"
    assert first["Q1"].evidence["name"]["level"] == "same name in characters"
    other = next(c for c in found if c.request_id == "Q1" and c.person_id == "H1")
    assert other.evidence["name"]["level"] == "same reading, other characters"
    assert first["Q1"].match_probability > 0.9
    assert first["Q2"].person_id == "H1"
    level = first["Q2"].evidence["id_number"]["level"]
    assert level == "a mistyped number, one character from this one"
    second = next(c for c in found if c.request_id == "Q2" and c.person_id == "H2")
    assert first["Q2"].match_probability > 0.9 > second.match_probability


def test_a_place_spelt_slightly_differently_never_outweighs_the_same_place() -> None:
    # Random pairs never reached the misspelt level (u unset): Splink's u of 1e-6 would make
    # it worth 2^15 where the same place is worth 20.
    model = {
        "comparisons": [
            {
                "output_column_name": "place_of_birth",
                "comparison_levels": [
                    {"is_null_level": True},
                    {"m_probability": 0.95, "u_probability": 0.05},
                    {"m_probability": 0.03},
                    {"m_probability": 0.02, "u_probability": 0.9},
                ],
            }
        ]
    }
    levels = _floor_m(model)["comparisons"][0]["comparison_levels"]
    factors = [level["m_probability"] / level["u_probability"] for level in levels[1:]]
    assert factors == pytest.approx([19.0, 19.0, 0.02 / 0.9])
