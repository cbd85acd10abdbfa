"""`liaison rules check` and `liaison rules report`: the checks on the rule data itself."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liaison.chem.rulebook import RULES_DIR
from liaison.chem.rulecheck import CheckResult, check_rules, report_csv, report_html
from liaison.cli import app
from support import small_rule_book

runner = CliRunner()

FENTANYL_SMILES = 'smiles = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"'
# The shipped rules each check below is provoked with (by an edit or an added rule), one
# rule a file at least; the shipped book as a whole is checked once, by `shipped`
# (conftest.py).
RULES_EDITED = (
    "US-fentanyl",
    "US-carfentanil",
    "US-4-AP-amides-carbamates-salts",
    "CN-fentanyl",
    "UN-fentanyl",
)


@pytest.fixture
def checked_once(shipped: CheckResult, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands get `shipped` when they check the shipped directory, any other checked
    afresh: what they do with a result is under test, not loading the book once more."""

    def check(directory: Path) -> CheckResult:
        return shipped if directory == RULES_DIR else check_rules(directory)

    monkeypatch.setattr("liaison.chem.rulecheck.check_rules", check)


def _copy(tmp_path: Path) -> Path:
    return small_rule_book(tmp_path / "rules", RULES_EDITED)


def _edit(directory: Path, file_name: str, old: str, new: str) -> None:
    path = directory / file_name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _append(directory: Path, file_name: str, text: str) -> None:
    with (directory / file_name).open("a", encoding="utf-8") as handle:
        handle.write(text)


def _checks(directory: Path) -> set[tuple[str, str, str]]:
    return {(f.severity, f.rule_id, f.check) for f in check_rules(directory).findings}


def test_the_shipped_rules_pass_every_check(shipped: CheckResult) -> None:
    result = shipped
    assert result.book is not None
    assert result.errors == [], "\n".join(f.line() for f in result.errors)


def test_a_stated_formula_that_differs_from_the_structure_is_an_error(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    _edit(directory, "us.toml", FENTANYL_SMILES, FENTANYL_SMILES + '\nstated_formula = "C22H29N2O"')
    assert ("error", "US-fentanyl", "formula") in _checks(directory)
    _edit(directory, "us.toml", '"C22H29N2O"', '"C22H28N2O"')
    assert ("error", "US-fentanyl", "formula") not in _checks(directory)


ENTRY = """
[[entry]]
id = "{id}"
name = "{name}"
smiles = "{smiles}"
status = "controlled"
list = "{list}"
citation = "test citation"
source = "https://example.org/test"
in_force_from = {start}
{extra}
"""


def test_the_same_substance_twice_on_one_list_at_once_is_an_error(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    smiles = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
    _append(
        directory,
        "us.toml",
        ENTRY.format(
            id="US-fentanyl-again",
            name="fentanyl again",
            smiles=smiles,
            list="Schedule II",
            start="2000-01-01",
            extra="",
        ),
    )
    assert ("error", "US-fentanyl-again", "overlapping ranges") in _checks(directory)


def test_a_double_listing_on_two_lists_needs_a_flag(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    entry = ENTRY.format(
        id="US-fentanyl-listed-twice",
        name="fentanyl listed twice",
        smiles="CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
        list="List I",
        start="2000-01-01",
        extra="{flag}",
    )
    unflagged = _copy(tmp_path / "a")
    _append(unflagged, "us.toml", entry.format(flag=""))
    assert ("error", "US-fentanyl-listed-twice", "duplicate InChIKey") in _checks(unflagged)
    _append(directory, "us.toml", entry.format(flag='also_listed_as = ["US-fentanyl"]'))
    found = _checks(directory)
    assert ("warning", "US-fentanyl-listed-twice", "duplicate InChIKey") in found
    assert not any(severity == "error" for severity, _, _ in found)


def test_a_later_listing_that_follows_an_earlier_one_is_history_not_a_duplicate(
    shipped: CheckResult,
) -> None:
    book = shipped.book
    assert book is not None
    pair = [e for e in book.entries if e.id in ("US-acetylfentanyl-temporary", "US-acetylfentanyl")]
    assert len(pair) == 2 and pair[0].inchikey == pair[1].inchikey
    assert not any(
        f.rule_id in ("US-acetylfentanyl-temporary", "US-acetylfentanyl")
        for f in shipped.findings
        if f.severity == "error"
    )


def test_a_name_that_resolves_to_another_substance_is_an_error(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    _append(
        directory,
        "us.toml",
        ENTRY.format(
            id="US-test-clash",
            name="carfentanil",  # already the name of US-carfentanil, another structure
            smiles="CCCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1C",
            list="Schedule I",
            start="2000-01-01",
            extra="",
        ),
    )
    assert ("error", "US-test-clash", "name") in _checks(directory)


def test_a_name_the_law_gives_two_substances_is_a_warning_only_when_both_declare_it(
    tmp_path: Path,
) -> None:
    directory = _copy(tmp_path)
    for rule_id, chain, extra in (  # HHC with a heptyl and an octyl chain: two substances
        ("US-test-declared", "C" * 7, 'names_zh = ["六氢大麻酚"]\nshared_names = ["六氢大麻酚"]\n'),
        ("US-test-undeclared", "C" * 8, 'names_zh = ["六氢大麻酚"]\n'),
    ):
        _append(
            directory,
            "us.toml",
            ENTRY.format(
                id=rule_id,
                name=rule_id,
                smiles=f"{chain}c1cc(O)c2c(c1)OC(C)(C)C1CCC(C)CC21",
                list="Schedule I",
                start="2000-01-01",
                extra=extra,
            ),
        )
    found = _checks(directory)
    assert ("warning", "US-test-declared", "shared name") in found
    assert ("error", "US-test-undeclared", "name") in found


def test_the_shipped_shared_name_is_declared_by_each_of_its_entries(shipped: CheckResult) -> None:
    shared = {(f.severity, f.rule_id) for f in shipped.findings if f.check == "shared name"}
    assert shared == {
        ("warning", rule_id) for rule_id in ("CN-HHC", "UN-HHC", "CN-parahexyl", "UN-parahexyl")
    }


def test_an_unconfirmed_entry_without_a_note_is_an_error(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    _append(
        directory,
        "cn.toml",
        ENTRY.format(
            id="CN-test-unconfirmed",
            name="test substance",
            smiles="CCCCCCCCCCCCCCCCCCN",
            list="test list",
            start="2000-01-01",
            extra="confirmed = false",
        ),
    )
    assert ("error", "CN-test-unconfirmed", "unconfirmed") in _checks(directory)


def test_overlapping_families_of_the_same_name_on_one_list_are_an_error(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    text = (directory / "us.toml").read_text(encoding="utf-8")
    start = text.index('[[family]]\nid = "US-4-AP-amides-carbamates-salts"')
    end = text.find("[[", start + 1)  # the next rule's block, or the end of the file
    copy = text[start : end if end >= 0 else None].replace(
        'id = "US-4-AP-amides-carbamates-salts"', 'id = "US-4-AP-again"'
    )
    _append(directory, "us.toml", "\n" + copy)
    assert ("error", "US-4-AP-again", "overlapping ranges") in _checks(directory)


def test_a_file_that_does_not_load_is_one_error(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    _edit(directory, "un.toml", "citation =", "citatio =")
    result = check_rules(directory)
    assert result.book is None
    assert [f.check for f in result.errors] == ["load"]
    assert "un.toml" in result.errors[0].message


def test_the_report_lists_every_rule_its_lists_and_unconfirmed_entries(
    shipped: CheckResult,
) -> None:
    result = shipped
    assert result.book is not None
    rows = list(csv.DictReader(io.StringIO(report_csv(result.book))))
    book = result.book
    rules = [*book.entries, *book.name_only, *book.families, *book.classes]
    assert len(rows) == len(rules)
    fentanyl = next(row for row in rows if row["id"] == "US-fentanyl")
    assert fentanyl["list"] == "Schedule II" and fentanyl["in_force_from"] == "1971-05-01"
    page = report_html(result)
    assert "Unconfirmed rules" in page and "Sources" in page
    unconfirmed = next(e for e in book.entries if not e.confirmed)
    assert unconfirmed.id in page


@pytest.mark.usefixtures("checked_once")
def test_cli_check_exits_1_on_an_error_and_0_on_the_shipped_rules(
    tmp_path: Path, shipped: CheckResult
) -> None:
    clean = runner.invoke(app, ["rules", "check"])
    assert clean.exit_code == 0, clean.output
    book = shipped.book
    assert book is not None
    size = len(book.entries) + len(book.name_only) + len(book.families) + len(book.classes)
    assert f"{size} rules checked: 0 error(s)" in clean.output
    directory = _copy(tmp_path)
    _edit(directory, "us.toml", FENTANYL_SMILES, FENTANYL_SMILES + '\nstated_formula = "C1"')
    broken = runner.invoke(app, ["rules", "check", "--rules-dir", str(directory)])
    assert broken.exit_code == 1
    assert "error: US-fentanyl: formula:" in broken.output


@pytest.mark.usefixtures("checked_once")
def test_cli_report_writes_html_and_csv(tmp_path: Path) -> None:
    html, table = tmp_path / "out" / "rules.html", tmp_path / "out" / "rules.csv"
    result = runner.invoke(app, ["rules", "report", "--html", str(html), "--csv", str(table)])
    assert result.exit_code == 0, result.output
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert table.read_text(encoding="utf-8").startswith("jurisdiction,list,kind,id")
