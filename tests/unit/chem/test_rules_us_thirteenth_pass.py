"""US listings changed in the thirteenth US pass (rules-us13): tiletamine and zolazepam, listed as
one pair in 21 CFR 1308.13(c), are dated from a printed page of the annual CFR edition of 1 Apr 2013
(item (c)(14)) instead of the year 2014 an eCFR text gave; still a day the listing is shown, not the
day control began, so both stay unconfirmed. No entry was confirmed in this pass."""

from __future__ import annotations

from datetime import date

import pytest

from support import first_day_basis

CFR_2013 = date(2013, 4, 1)


@pytest.mark.parametrize(
    ("query", "rule_id"),
    [("tiletamine", "US-tiletamine"), ("zolazepam", "US-zolazepam")],
)
def test_the_telazol_pair_applies_from_the_2013_cfr_edition_unconfirmed(
    query: str, rule_id: str
) -> None:
    basis = first_day_basis("US", query, rule_id, CFR_2013)
    assert "21 CFR 1308.13(c)" in basis.citation
    assert "revised as of 1 Apr 2013" in basis.citation
    assert not basis.confirmed
