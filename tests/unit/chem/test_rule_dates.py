"""Every rule entry, family and class applies from its first day in force, not the day before,
and not after its last day."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest

from liaison.chem import identify, load_rulebook
from liaison.chem.rulebook import ClassDefinition, Family, NamedEntry

BOOK = load_rulebook()
CORPUS = Path(__file__).with_name("corpus.csv")
# A class member no named entry lists (hexanoyl in place of propionyl: US E, CN 1).
CLASS_MEMBER = "CCCCCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
DAY = timedelta(days=1)


def example(rule: NamedEntry | Family | ClassDefinition) -> str:
    if isinstance(rule, NamedEntry):
        return rule.smiles
    if isinstance(rule, Family):
        return rule.examples[0]
    return CLASS_MEMBER


def applies(rule: NamedEntry | Family | ClassDefinition, day: date) -> bool:
    verdict = identify(example(rule), as_of=day, jurisdictions=[rule.jurisdiction])
    # A class near-miss says "review" without applying; a review family says it when it does.
    return any(
        basis.rule_id == rule.id and (basis.status != "review" or rule.status == "review")
        for basis in verdict.verdicts[rule.jurisdiction].basis
    )


RULES = [*BOOK.entries, *BOOK.families, *BOOK.classes]


def test_every_family_has_an_example() -> None:
    assert all(family.examples for family in BOOK.families)


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_rule_applies_from_its_first_day_to_its_last(
    rule: NamedEntry | Family | ClassDefinition,
) -> None:
    assert not applies(rule, rule.in_force_from - DAY), "applies the day before"
    assert applies(rule, rule.in_force_from), "does not apply on the first day"
    if rule.in_force_to is not None:
        assert applies(rule, rule.in_force_to), "does not apply on the last day"
        assert not applies(rule, rule.in_force_to + DAY), "applies the day after"


def test_corpus_probes_every_precursor_family_just_outside() -> None:
    probes = [row["probe"] for row in csv.DictReader(CORPUS.open(encoding="utf-8"))]
    for family in ("4-AP family just outside", "4-piperidone family just outside"):
        assert any(probe.startswith(family) for probe in probes), family
    assert any("4-AP halides just outside" in probe for probe in probes)
