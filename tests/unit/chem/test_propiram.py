"""Propiram is one structure in the three files: N-(1-methyl-2-piperidinoethyl)-N-2-
pyridylpropionamide, as the 1961 Convention's Schedule II prints it (C16H25N3O); the US and
Chinese entries once drew a methyl on the piperidine ring."""

from __future__ import annotations

from datetime import date

import pytest

from liaison.chem import identify

PROPIRAM = "CCC(=O)N(c1ccccn1)C(C)CN1CCCCC1"
METHYL_ON_THE_RING = "CCC(=O)N(C(C)CN1CCCCC1C)c1ccccn1"
TODAY = date(2026, 1, 1)
ENTRIES = {"US": "US-propiram", "CN": "CN-propiram", "UN": "UN-propiram"}


@pytest.mark.parametrize("query", [PROPIRAM, "propiram", "丙吡兰", "15686-91-6"])
def test_propiram_by_structure_name_and_cas_is_listed_in_every_jurisdiction(query: str) -> None:
    result = identify(query, as_of=TODAY)
    for code, rule_id in ENTRIES.items():
        assert rule_id in {basis.rule_id for basis in result.verdicts[code].basis}, code


def test_the_ring_methylated_compound_is_not_propiram() -> None:
    result = identify(METHYL_ON_THE_RING, as_of=TODAY)
    for code, rule_id in ENTRIES.items():
        assert rule_id not in {basis.rule_id for basis in result.verdicts[code].basis}, code
