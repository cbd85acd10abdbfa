"""US entries dated from the placing rule's own effective date (issue 13, fifth pass): each applies
from that day and not the day before, with the rule in its citation and `confirmed` set; where
only the publication or a trade report gave the day, the entry stays unconfirmed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from liaison.chem import identify

DAY = timedelta(days=1)


def us_basis(query: str, day: date) -> dict[str, tuple[str, bool]]:
    """Rule id -> (citation, confirmed) of every US basis on `day`."""
    verdict = identify(query, as_of=day, jurisdictions=["US"]).verdicts["US"]
    return {b.rule_id: (b.citation, b.confirmed) for b in verdict.basis}


# (query, first day in force, rule id, document the citation names)
PLACED = [
    ("zolpidem", date(1993, 2, 5), "US-zolpidem", "58 FR 7186"),
    ("2C-B", date(1994, 1, 6), "US-2C-B", "59 FR 671"),
    ("modafinil", date(1999, 1, 27), "US-modafinil", "64 FR 4050"),
    ("BZP", date(2002, 9, 20), "US-BZP", "67 FR 59161"),
    ("buprenorphine", date(2002, 10, 7), "US-buprenorphine", "67 FR 62354"),
    ("AMT", date(2003, 4, 4), "US-AMT", "68 FR 16427"),
    ("4-androstenedione", date(2005, 1, 20), "US-4-androstenedione", "Pub. L. 108-358"),
    ("embutramide", date(2006, 9, 28), "US-embutramide", "71 FR 51115"),
    ("oripavine", date(2007, 9, 24), "US-oripavine", "72 FR 54208"),
    ("lacosamide", date(2009, 6, 22), "US-lacosamide", "74 FR 23789"),
    ("5-MeO-DMT", date(2011, 1, 19), "US-5-MeO-DMT", "75 FR 79296"),
    ("perampanel", date(2014, 1, 2), "US-perampanel", "78 FR 72013"),
    ("lemborexant", date(2020, 4, 7), "US-lemborexant", "85 FR 19387"),
]


@pytest.mark.parametrize(("query", "first", "rule_id", "document"), PLACED)
def test_a_placement_applies_from_the_effective_date_the_rule_states(
    query: str, first: date, rule_id: str, document: str
) -> None:
    assert rule_id not in us_basis(query, first - DAY)
    citation, confirmed = us_basis(query, first)[rule_id]
    assert document in citation
    assert confirmed


def test_a_date_taken_from_a_trade_report_stays_unconfirmed() -> None:
    # Suvorexant's rule was read, its DATES line was not: 29 Sep 2014 is a trade report's date.
    assert "US-suvorexant" not in us_basis("suvorexant", date(2014, 9, 28))
    citation, confirmed = us_basis("suvorexant", date(2014, 9, 29))["US-suvorexant"]
    assert "79 FR 51243" in citation and not confirmed


def test_a_name_the_act_listed_is_controlled_from_1_may_1971() -> None:
    verdict = identify("coca leaves", as_of=date(1971, 5, 1), jurisdictions=["US"]).verdicts["US"]
    (basis,) = verdict.basis
    assert basis.rule_id == "US-coca-leaves" and basis.confirmed
    assert "Schedule II(a)(4), 84 Stat. 1250" in basis.citation
    before = identify("coca leaves", as_of=date(1971, 4, 30), jurisdictions=["US"]).verdicts["US"]
    assert "US-coca-leaves" not in {b.rule_id for b in before.basis}


def test_a_substance_removed_from_the_schedules_is_not_controlled_after_its_last_day() -> None:
    # Fenfluramine: Schedule IV from 1973 (1308.14(d)) until the removal rule of 23 Dec 2022.
    last = us_basis("fenfluramine", date(2022, 12, 22))
    assert "87 FR 78857" in last["US-fenfluramine"][0]
    assert "US-fenfluramine" not in us_basis("fenfluramine", date(2022, 12, 23))


def test_a_temporary_order_never_made_permanent_lapses() -> None:
    # TFMPP: ordered with BZP on 20 Sep 2002, extended to 19 Mar 2004, left out of the final rule.
    assert "US-TFMPP-temporary" not in us_basis("TFMPP", date(2002, 9, 19))
    assert "67 FR 59161" in us_basis("TFMPP", date(2004, 3, 19))["US-TFMPP-temporary"][0]
    assert "US-TFMPP-temporary" not in us_basis("TFMPP", date(2004, 3, 20))
