"""Every row of the shared reference corpus passes (../shared/reference/substances.csv, or the
copy shipped beside this test when the shared directory is absent)."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from liaison.chem import identify
from support import REFERENCE_SUBSTANCES

ROWS = list(csv.DictReader(REFERENCE_SUBSTANCES.open(encoding="utf-8")))
# The corpus describes the law as it stands; a fixed day keeps the test reproducible.
AS_OF = date(2026, 1, 1)


def test_the_corpus_is_not_empty() -> None:
    assert len(ROWS) >= 38


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_reference_row(row: dict[str, str]) -> None:
    identification = identify(row["smiles"], as_of=AS_OF)
    for code in ("US", "CN", "UN"):
        allowed = row[code].split("|")
        verdict = identification.verdicts[code]
        assert verdict.status in allowed, f"{row['name']} {code}: {verdict.explanation}"
        if verdict.status in ("controlled", "precursor"):
            assert verdict.basis and all(b.citation for b in verdict.basis)
