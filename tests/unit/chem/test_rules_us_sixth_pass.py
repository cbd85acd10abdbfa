"""US listings confirmed in the sixth rules-us pass (rulesus6; the twelfth US pass of
SOURCES.md): the anabolic steroids the Anabolic Steroids Control Act of 1990 named, Schedule III
from its day in force (27 Feb 1991, read in 74 FR 63603), their list now read in the official
annual edition of 21 CFR 1308.02(b) of 1 Apr 1996; butorphanol, Schedule IV from 31 Oct 1997
(62 FR 51370, EFFECTIVE DATE read), not from the 2017 day a CFR text showed it. The chemicals
dated from the Chemical Diversion and Trafficking Act of 1988 stay unconfirmed: a DEA statement
gives another day than 18 Mar 1989."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem.models import Basis
from support import basis_by_rule, first_day_basis

ACT_1990_DAY = date(1991, 2, 27)
BUTORPHANOL_DAY = date(1997, 10, 31)
NANDROLONE = "CC12CCC3C(CCC4=CC(=O)CCC43)C1CCC2O"  # drawn flat, as the entry
BUTORPHANOL = "OC1=CC2=C(CC3N(CC4CCC4)CCC24CCCCC34O)C=C1"


def us_basis(query: str, day: date) -> dict[str, Basis]:
    return basis_by_rule("US", query, day)


@pytest.mark.parametrize(
    ("query", "rule_id", "item"),
    [
        ("boldenone", "US-boldenone", 1),
        ("clostebol", "US-clostebol", 3),
        ("dehydrochloromethyltestosterone", "US-dehydrochloromethyltestosterone", 4),
        ("4-dihydrotestosterone", "US-4-dihydrotestosterone", 5),
        ("drostanolone", "US-drostanolone", 6),
        ("ethylestrenol", "US-ethylestrenol", 7),
        ("fluoxymesterone", "US-fluoxymesterone", 8),
        ("formebulone", "US-formebolone", 9),  # the 1990 Act's spelling
        ("mesterolone", "US-mesterolone", 10),
        ("methandienone", "US-methandienone", 11),
        ("methandriol", "US-methandriol", 13),
        ("methenolone", "US-methenolone", 15),
        ("methyltestosterone", "US-methyltestosterone", 16),
        ("mibolerone", "US-mibolerone", 17),
        ("nandrolone", "US-nandrolone", 18),
        (NANDROLONE, "US-nandrolone", 18),
        ("norethandrolone", "US-norethandrolone", 19),
        ("oxandrolone", "US-oxandrolone", 20),
        ("oxymesterone", "US-oxymesterone", 21),
        ("oxymetholone", "US-oxymetholone", 22),
        ("stanozolol", "US-stanozolol", 24),
        ("testolactone", "US-testolactone", 25),
        ("testosterone", "US-testosterone", 26),
        ("trenbolone", "US-trenbolone", 27),
    ],
)
def test_a_steroid_the_1990_act_named_is_schedule_iii_from_27_february_1991_confirmed(
    query: str, rule_id: str, item: int
) -> None:
    basis = first_day_basis("US", query, rule_id, ACT_1990_DAY)
    assert basis.list == "Schedule III" and basis.confirmed
    assert "Pub. L. 101-647" in basis.citation and "74 FR 63603" in basis.citation
    assert f"1308.02(b) restated it (annual edition of 1 Apr 1996), item ({item});" in (
        basis.citation
    )


@pytest.mark.parametrize("query", ["butorphanol", BUTORPHANOL])
def test_butorphanol_is_schedule_iv_from_the_1997_rule(query: str) -> None:
    basis = first_day_basis("US", query, "US-butorphanol", BUTORPHANOL_DAY)
    assert basis.list == "Schedule IV" and basis.confirmed
    assert "62 FR 51370" in basis.citation


@pytest.mark.parametrize("query", ["ephedrine", "acetone", "benzyl chloride"])
def test_a_chemical_dated_from_the_1988_act_stays_unconfirmed_from_18_march_1989(
    query: str,
) -> None:
    rule_id = "US-" + query.replace(" ", "-")
    basis = first_day_basis("US", query, rule_id, date(1989, 3, 18))
    assert not basis.confirmed  # the Act's effective-date section was not read
