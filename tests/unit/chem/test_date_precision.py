"""Dates the sources give only to the year or month stay so (issue 9): the rule files write
them as "1980" or "2019-05"; the rule applies from the first day, the precision is kept."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from liaison.chem import RuleFileError, identify, load_rulebook
from liaison.chem.rulebook import load_rulebook_from
from support import small_rule_book

BOOK = load_rulebook()
RULES = [*BOOK.entries, *BOOK.families, *BOOK.classes]
SUFENTANIL = "CCC(=O)N(c1ccccc1)C1(COC)CCN(CCc2cccs2)CC1"


def _rules_with_sufentanil_from(tmp_path: Path, written: str) -> Path:
    """The shipped UN sufentanil, alone in a rule book, in force from `written`."""
    directory = small_rule_book(tmp_path / "rules", ["UN-sufentanil"])
    path = directory / "un.toml"
    text = path.read_text(encoding="utf-8")
    assert 'in_force_from = "1980"' in text
    path.write_text(text.replace('in_force_from = "1980"', f'in_force_from = "{written}"', 1))
    return directory


def test_every_rule_whose_note_says_only_the_year_keeps_only_the_year() -> None:
    year_only = [r for r in RULES if re.search(r"approximate year|the year only", r.note)]
    assert year_only
    for rule in year_only:
        assert rule.in_force_precision == "year", rule.id
        assert (rule.in_force_from.month, rule.in_force_from.day) == (1, 1), rule.id


def test_the_basis_carries_the_precision() -> None:
    verdict = identify(SUFENTANIL, as_of=date(2020, 1, 1), jurisdictions=["UN"]).verdicts["UN"]
    basis = next(b for b in verdict.basis if b.rule_id == "UN-sufentanil")
    assert (basis.in_force_from, basis.in_force_precision) == (date(1980, 1, 1), "year")
    assert basis.to_dict()["in_force_precision"] == "year"
    # In force from its first day, as any date.
    assert identify(SUFENTANIL, as_of=date(1980, 1, 1), jurisdictions=["UN"]).verdicts["UN"].basis
    assert (
        not identify(SUFENTANIL, as_of=date(1979, 12, 31), jurisdictions=["UN"])
        .verdicts["UN"]
        .basis
    )


@pytest.mark.parametrize(
    ("written", "start", "precision"), [("2019-05", date(2019, 5, 1), "month")]
)
def test_a_month_is_read(tmp_path: Path, written: str, start: date, precision: str) -> None:
    directory = _rules_with_sufentanil_from(tmp_path, written)
    entry = next(e for e in load_rulebook_from(directory).entries if e.id == "UN-sufentanil")
    assert (entry.in_force_from, entry.in_force_precision) == (start, precision)


@pytest.mark.parametrize("written", ["1980-13", "80", "spring 1980", "1980-5"])
def test_a_malformed_partial_date_names_file_entry_and_field(tmp_path: Path, written: str) -> None:
    directory = _rules_with_sufentanil_from(tmp_path, written)
    with pytest.raises(
        RuleFileError, match=r"un\.toml: entry 'UN-sufentanil', field 'in_force_from'"
    ):
        load_rulebook_from(directory)
