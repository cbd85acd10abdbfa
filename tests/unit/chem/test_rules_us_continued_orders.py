"""US temporary orders confirmed for every day up to their permanent rule (issue 13, rulesus3).

The six synthetic cannabinoids of 82 FR 17119 (effective 10 Apr 2017) were extended by 84 FR
13796 (8 Apr 2019) for a length the copies read do not reach; the permanent rule 85 FR 4211
(effective 24 Jan 2020) says it "continues the imposition" of the Schedule I controls, so the
temporary entries are confirmed up to the day before it, and the permanent ones take over then.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from liaison.chem import identify

DAY = timedelta(days=1)
ORDER_FROM = date(2017, 4, 10)
PERMANENT_FROM = date(2020, 1, 24)


def us_basis(query: str, day: date) -> dict[str, tuple[str, bool]]:
    """Rule id -> (citation, confirmed) of every US basis on `day`."""
    verdict = identify(query, as_of=day, jurisdictions=["US"]).verdicts["US"]
    return {basis.rule_id: (basis.citation, basis.confirmed) for basis in verdict.basis}


@pytest.mark.parametrize(
    "query", ["5F-ADB", "5F-AMB", "5F-APINACA", "ADB-FUBINACA", "MDMB-CHMICA", "MDMB-FUBINACA"]
)
def test_the_six_cannabinoids_are_confirmed_from_the_order_to_the_permanent_rule(
    query: str,
) -> None:
    temporary_id, permanent_id = f"US-{query}-temporary", f"US-{query}"
    before = us_basis(query, ORDER_FROM - DAY)
    assert temporary_id not in before and permanent_id not in before
    for day in (ORDER_FROM, date(2019, 4, 11), PERMANENT_FROM - DAY):
        during = us_basis(query, day)
        citation, confirmed = during[temporary_id]
        assert confirmed, day
        assert "84 FR 13796" in citation and "85 FR 4211" in citation
        assert permanent_id not in during
    after = us_basis(query, PERMANENT_FROM)
    assert temporary_id not in after and after[permanent_id][1]
