"""US rule data read in the extensions of temporary orders and in 21 U.S.C. 802(34)-(35) (issue
13): a temporary order whose start and extension were read is confirmed for every day up to its
permanent rule, and List I/II chemicals the Code names beside the 1988 Act's others are listed from
that Act's day in force, not from the day a 2020 CFR text showed them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from liaison.chem import identify


def us_basis(query: str, day: date) -> dict[str, tuple[str, bool]]:
    """Rule id -> (citation, confirmed) of every US basis on `day`."""
    verdict = identify(query, as_of=day, jurisdictions=["US"]).verdicts["US"]
    return {basis.rule_id: (basis.citation, basis.confirmed) for basis in verdict.basis}


@pytest.mark.parametrize("query", ["alpha-PVP", "4-MEC", "naphyrone"])
def test_the_ten_cathinones_order_is_confirmed_through_its_2016_extension(query: str) -> None:
    rule_id = f"US-{query}-temporary"
    assert rule_id not in us_basis(query, date(2014, 3, 6))
    for day in (date(2014, 3, 7), date(2016, 3, 7), date(2017, 2, 28)):
        citation, confirmed = us_basis(query, day)[rule_id]
        assert "79 FR 12938" in citation and "81 FR 11429" in citation
        assert confirmed, day


def test_the_fub_amb_order_cites_its_2019_extension() -> None:
    citation, confirmed = us_basis("FUB-AMB", date(2020, 1, 1))["US-FUB-AMB-temporary"]
    assert "84 FR 58045" in citation and confirmed


def test_the_six_cannabinoids_order_cites_its_2019_extension() -> None:
    assert "US-MDMB-CHMICA-temporary" not in us_basis("MDMB-CHMICA", date(2017, 4, 9))
    citation, confirmed = us_basis("MDMB-CHMICA", date(2019, 6, 1))["US-MDMB-CHMICA-temporary"]
    assert "82 FR 17119" in citation and "84 FR 13796" in citation
    assert confirmed  # the permanent rule of 2020 says it continued the controls (rulesus3)


@pytest.mark.parametrize(
    ("query", "rule_id", "listing", "code_paragraph"),
    [
        ("phenylpropanolamine", "US-phenylpropanolamine", "List I", "802(34)(I)"),
        ("norpseudoephedrine", "US-norpseudoephedrine", "List I", "802(34)(G)"),
        ("ergonovine", "US-ergonovine", "List I", "802(34)(D)"),
        ("benzyl chloride", "US-benzyl-chloride", "List II", "802(35)(C)"),
    ],
)
def test_a_chemical_the_code_names_with_the_1988_acts_others_is_listed_from_1989(
    query: str, rule_id: str, listing: str, code_paragraph: str
) -> None:
    assert rule_id not in us_basis(query, date(1989, 3, 17))
    verdict = identify(query, as_of=date(2010, 1, 1), jurisdictions=["US"]).verdicts["US"]
    basis = {b.rule_id: b for b in verdict.basis}
    assert verdict.status in {"precursor", "controlled"} and rule_id in basis
    assert code_paragraph in basis[rule_id].citation and not basis[rule_id].confirmed


def test_mdma_is_confirmed_schedule_i_from_the_1988_order_and_unconfirmed_before() -> None:
    citation, confirmed = us_basis("MDMA", date(1988, 3, 23))["US-MDMA"]
    assert "53 FR 5156" in citation and confirmed
    earlier = us_basis("MDMA", date(1988, 3, 22))
    assert "US-MDMA" not in earlier and earlier["US-MDMA-1985"][1] is False
    assert not us_basis("MDMA", date(1985, 6, 30))


@pytest.mark.parametrize(
    ("query", "rule_id", "first_day"),
    [
        # item (3) of 21 CFR 1308.14(c), code 2748, in the edition revised as of 1 Apr 2013
        ("bromazepam", "US-bromazepam", date(2013, 4, 1)),
        ("clobazam", "US-clobazam", date(2013, 4, 1)),
        # in the eCFR text that holds the temporary order of 10 Apr 2017
        ("temazepam", "US-temazepam", date(2017, 4, 10)),
        ("secobarbital", "US-secobarbital", date(2017, 4, 10)),
        ("methaqualone", "US-methaqualone", date(2017, 4, 10)),
    ],
)
def test_a_listing_shown_by_an_earlier_cfr_text_applies_from_that_texts_day(
    query: str, rule_id: str, first_day: date
) -> None:
    assert rule_id not in us_basis(query, first_day - timedelta(days=1))
    citation, confirmed = us_basis(query, first_day)[rule_id]
    assert "21 CFR 1308.1" in citation and not confirmed
