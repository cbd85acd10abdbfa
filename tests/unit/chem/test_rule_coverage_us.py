"""The US schedules as 21 CFR 1308.11-1308.15 and 1310.02 state them (issue 13): one substance
of every paragraph answers with its paragraph and code, dates apply from their first day,
stereo-dependent exceptions hold, salts take their base's verdict, thresholds are shown."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import identify

TODAY = date(2026, 1, 1)

# (query, rule id, list, paragraph and DEA code as the citation gives them)
EVERY_PARAGRAPH = [
    ("ketobemidone", "US-ketobemidone", "Schedule I", "1308.11(b)(33) (DEA code 9628)"),
    ("thebacon", "US-thebacon", "Schedule I", "1308.11(c)(23) (DEA code 9315)"),
    ("COc1cc(CCN)c(OC)cc1Br", "US-2C-B", "Schedule I", "1308.11(d)(3) (DEA code 7392)"),
    ("methaqualone", "US-methaqualone", "Schedule I", "1308.11(e)(3) (DEA code 2565)"),
    ("BZP", "US-BZP", "Schedule I", "1308.11(f)(2) (DEA code 7493)"),
    ("JWH-250", "US-JWH-250", "Schedule I", "1308.11(g)(7) (DEA code 6250)"),
    ("thebaine", "US-thebaine", "Schedule II", "1308.12(b)(1)(xviii) (DEA code 9333)"),
    ("ecgonine", "US-ecgonine", "Schedule II", "1308.12(b)(4) (DEA code 9180)"),
    ("tapentadol", "US-tapentadol", "Schedule II", "1308.12(c)(29) (DEA code 9780)"),
    ("lisdexamfetamine", "US-lisdexamfetamine", "Schedule II", "1308.12(d)(5) (DEA code 1205)"),
    ("secobarbital", "US-secobarbital", "Schedule II", "1308.12(e)(5) (DEA code 2315)"),
    ("nabilone", "US-nabilone", "Schedule II", "1308.12(f)(1) (DEA code 7379)"),
    ("PCC", "US-PCC", "Schedule II (immediate precursor)", "1308.12(g)(2)(ii) (DEA code 8603)"),
    ("benzphetamine", "US-benzphetamine", "Schedule III", "1308.13(b)(2) (DEA code 1228)"),
    ("perampanel", "US-perampanel", "Schedule III", "1308.13(c)(11) (DEA code 2261)"),
    ("nalorphine", "US-nalorphine", "Schedule III", "1308.13(d) (DEA code 9400)"),
    ("buprenorphine", "US-buprenorphine", "Schedule III", "1308.13(e)(2)(i) (DEA code 9064)"),
    ("testosterone", "US-testosterone", "Schedule III", "1308.13(f)(1) (DEA code 4000)"),
    ("temazepam", "US-temazepam", "Schedule IV", "1308.14(c)(54) (DEA code 2925)"),
    ("modafinil", "US-modafinil", "Schedule IV", "1308.14(f)(7) (DEA code 1680)"),
    ("pentazocine", "US-pentazocine", "Schedule IV", "1308.14(g)(1) (DEA code 9709)"),
    ("pyrovalerone", "US-pyrovalerone", "Schedule V", "1308.15(d)(1) (DEA code 1485)"),
    ("lacosamide", "US-lacosamide", "Schedule V", "1308.15(e)(3) (DEA code 2746)"),
    ("methylamine", "US-methylamine", "List I", "1310.02(a)(14) (DEA code 8520)"),
    ("benzyl chloride", "US-benzyl-chloride", "List II", "1310.02(b)(3) (DEA code 8570)"),
]


PLACING_RULE_READ = {
    "US-ketobemidone",
    "US-thebacon",
    "US-nalorphine",
    "US-JWH-250",
    "US-2C-B",
    "US-BZP",
    "US-perampanel",
    "US-buprenorphine",
    "US-modafinil",
    "US-lacosamide",
    "US-testosterone",  # the 1990 Act's list and day, read (rulesus6)
}


@pytest.mark.parametrize(("query", "rule_id", "list_name", "paragraph"), EVERY_PARAGRAPH)
def test_every_paragraph_answers_with_its_paragraph_and_code(
    query: str, rule_id: str, list_name: str, paragraph: str
) -> None:
    verdict = identify(query, as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert basis.list == list_name
    assert paragraph in basis.citation
    assert verdict.status == ("precursor" if list_name.startswith("List") else "controlled")
    assert basis.note
    # Confirmed where the placing rule's effective date (or the Act's initial schedule) was read;
    # otherwise the note says why not.
    assert basis.confirmed == (rule_id in PLACING_RULE_READ)


# (query, last day before, first day in force, rule id)
DATED = [
    ("cannabicyclohexanol", date(2011, 2, 28), date(2011, 3, 1), "US-CP-47497-C8"),
    ("2C-B", date(1994, 1, 5), date(1994, 1, 6), "US-2C-B"),
    ("oliceridine", date(2020, 10, 29), date(2020, 10, 30), "US-oliceridine"),
    ("brivaracetam", date(2016, 5, 11), date(2016, 5, 12), "US-brivaracetam"),
    ("5F-ADB", date(2017, 4, 9), date(2017, 4, 10), "US-5F-ADB-temporary"),
    ("5F-ADB", date(2020, 1, 23), date(2020, 1, 24), "US-5F-ADB"),
]


@pytest.mark.parametrize(("query", "before", "first", "rule_id"), DATED)
def test_a_dated_listing_applies_from_its_first_day(
    query: str, before: date, first: date, rule_id: str
) -> None:
    earlier = identify(query, as_of=before, jurisdictions=["US"]).verdicts["US"]
    assert rule_id not in {b.rule_id for b in earlier.basis}
    later = identify(query, as_of=first, jurisdictions=["US"]).verdicts["US"]
    assert rule_id in {b.rule_id for b in later.basis}


def test_a_temporary_order_ends_the_day_before_its_permanent_rule() -> None:
    last = identify("MDMB-CHMICA", as_of=date(2020, 1, 23), jurisdictions=["US"]).verdicts["US"]
    assert [b.rule_id for b in last.basis] == ["US-MDMB-CHMICA-temporary"]
    first = identify("MDMB-CHMICA", as_of=date(2020, 1, 24), jurisdictions=["US"]).verdicts["US"]
    assert [(b.rule_id, b.confirmed) for b in first.basis] == [("US-MDMB-CHMICA", True)]


def test_a_year_only_listing_says_so() -> None:
    verdict = identify("midazolam", as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    (basis,) = verdict.basis
    assert basis.in_force_from == date(1985, 1, 1) and "only the approximate year" in basis.note
    assert basis.in_force_precision == "year"


LEVOMETHORPHAN = "CN1CC[C@]23CCCC[C@H]2[C@H]1CC4=C3C=C(C=C4)OC"
DEXTROMETHORPHAN = "CN1CC[C@@]23CCCC[C@@H]2[C@@H]1CC4=C3C=C(C=C4)OC"
LEVORPHANOL = "CN1CC[C@]23CCCC[C@H]2[C@H]1CC4=C3C=C(C=C4)O"
DEXTRORPHAN = "CN1CC[C@@]23CCCC[C@@H]2[C@@H]1CC4=C3C=C(C=C4)O"


@pytest.mark.parametrize(
    ("listed", "excepted", "rule_id"),
    [
        (LEVOMETHORPHAN, DEXTROMETHORPHAN, "US-levomethorphan"),
        (LEVORPHANOL, DEXTRORPHAN, "US-levorphanol"),
    ],
)
def test_the_levo_isomer_is_schedule_ii_and_its_excepted_mirror_image_is_not(
    listed: str, excepted: str, rule_id: str
) -> None:
    levo = identify(listed, as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    assert levo.status == "controlled" and rule_id in {b.rule_id for b in levo.basis}
    dextro = identify(excepted, as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    assert dextro.status == "no_match", dextro.explanation


def test_norephedrine_is_a_list_i_chemical_not_the_schedule_iv_stimulant_cathine() -> None:
    norephedrine = "C[C@H](N)[C@H](O)c1ccccc1"  # (1R,2S)
    verdict = identify(norephedrine, as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    ids = {b.rule_id for b in verdict.basis}
    assert verdict.status == "precursor" and "US-phenylpropanolamine" in ids
    assert "US-cathine" not in ids
    cathine = identify("cathine", as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    assert cathine.status == "controlled"
    assert {"US-cathine", "US-norpseudoephedrine"} <= {b.rule_id for b in cathine.basis}


def test_a_stereoisomer_of_a_listing_with_isomers_is_that_listing() -> None:
    # Dextromoramide (S) drawn as its mirror image is levomoramide, also listed; both cover
    # isomers, and racemoramide's entry matches either.
    verdict = identify("dextromoramide", as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    assert {"US-dextromoramide", "US-levomoramide", "US-moramide"} <= {
        b.rule_id for b in verdict.basis
    }


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [
        ("CCC(=O)C1(c2cccc(O)c2)CCN(C)CC1.Cl", "US-ketobemidone"),
        ("tapentadol hydrochloride", "US-tapentadol"),
        ("CN.Cl", "US-methylamine"),
    ],
)
def test_salts_take_the_verdict_of_their_base(query: str, rule_id: str) -> None:
    verdict = identify(query, as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    assert rule_id in {b.rule_id for b in verdict.basis}


@pytest.mark.parametrize(
    ("query", "threshold"),
    [
        ("piperidine", "500 grams by base weight"),
        ("propionic anhydride", "1 gram by base weight"),
        ("acetone", "domestic sales 50 gallons or 150 kilograms"),
        ("GBL", "none: listed in 21 CFR 1310.04(g)(1)(iv)"),
    ],
)
def test_a_list_chemical_shows_the_threshold_the_cfr_sets(query: str, threshold: str) -> None:
    verdict = identify(query, as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    assert verdict.status == "precursor"
    assert any(threshold in b.threshold for b in verdict.basis)
    assert threshold in verdict.explanation
