"""Rule files load, validate, and fail loudly (file, entry id, field) when broken."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from rdkit import Chem

from liaison.chem import RuleFileError, identify, load_rulebook
from liaison.chem.rulebook import (
    RULES_DIR,
    cas_check_digit_ok,
    heavy_atoms,
    load_rulebook_from,
)
from liaison.chem.standardize import standardize


def test_shipped_rules_load_with_all_three_jurisdictions() -> None:
    book = load_rulebook()
    assert book.jurisdictions == ("US", "CN", "UN")
    assert len(book.entries) > 50 and book.families and book.classes
    assert load_rulebook() is book  # loaded once per process


def test_heavy_atoms_leave_out_hydrogens_and_charge_only() -> None:
    assert heavy_atoms("C22H28N2O") == "C22N2O"
    assert heavy_atoms("C6H13N+") == "C6N"
    assert heavy_atoms("C2O4-2") == "C2O4"
    assert heavy_atoms("CH3Hg+") == "CHg"  # mercury is no hydrogen
    assert heavy_atoms("HfHoHeHs") == "HfHoHeHs"


def test_entries_are_indexed_by_jurisdiction_and_heavy_atoms() -> None:
    book = load_rulebook()
    assert sorted(
        entry.id for entries in book.by_heavy_atoms.values() for entry in entries
    ) == sorted(entry.id for entry in book.entries)
    for (jurisdiction, heavy), entries in book.by_heavy_atoms.items():
        assert all(entry.jurisdiction == jurisdiction for entry in entries)
        assert all(heavy_atoms(entry.formula) == heavy for entry in entries)
    # A book with other entries (tests make many) indexes those, not the old ones.
    kept = book.entries[0]
    alone = replace(book, entries=[kept])
    assert alone.by_heavy_atoms == {(kept.jurisdiction, heavy_atoms(kept.formula)): [kept]}


def test_every_rule_has_a_citation_and_a_start_date() -> None:
    book = load_rulebook()
    for rule in [*book.entries, *book.families, *book.classes]:
        assert rule.citation.strip(), rule.id
        assert rule.in_force_to is None or rule.in_force_to >= rule.in_force_from, rule.id


def test_every_family_example_is_a_member_on_the_first_day() -> None:
    book = load_rulebook()
    for family in book.families:
        for example in family.examples:
            verdict = identify(
                example, as_of=family.in_force_from, jurisdictions=[family.jurisdiction]
            )
            # A review family's members are sent to review, unless a named listing settles it.
            wanted = (
                ("review", "controlled")
                if family.status == "review"
                else ("controlled", "precursor")
            )
            assert verdict.verdicts[family.jurisdiction].status in wanted, example


def test_every_named_entry_is_found_by_its_name_on_its_first_day() -> None:
    book = load_rulebook()
    for entry in book.entries:
        identification = identify(
            entry.smiles, as_of=entry.in_force_from, jurisdictions=[entry.jurisdiction]
        )
        verdict = identification.verdicts[entry.jurisdiction]
        assert entry.id in {b.rule_id for b in verdict.basis}, entry.id
        if entry.in_force_to is not None:
            later = identify(entry.smiles, date.fromordinal(entry.in_force_to.toordinal() + 1))
            assert entry.id not in {b.rule_id for b in later.verdicts[entry.jurisdiction].basis}


def test_dictionary_names_resolve_and_are_unlisted() -> None:
    for name in ("ethanol", "乙醇", "Paracetamol", "ethyl acetate", "64-17-5"):
        identification = identify(name, date(2026, 1, 1))
        assert identification.error is None, name
        assert all(v.status == "no_match" for v in identification.verdicts.values()), name


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("437-38-7", True),
        ("58-08-2", True),
        ("7732-18-5", True),
        ("437-38-8", False),
        ("4-38-7", False),
    ],
)
def test_cas_check_digit(number: str, valid: bool) -> None:
    assert cas_check_digit_ok(number) is valid


def _broken_copy(tmp_path: Path, file_name: str, old: str, new: str) -> Path:
    directory = tmp_path / "rules"
    shutil.copytree(RULES_DIR, directory)
    path = directory / file_name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return directory


def test_a_bad_smiles_names_file_entry_and_field(tmp_path: Path) -> None:
    directory = _broken_copy(
        tmp_path, "us.toml", 'smiles = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"', 'smiles = "C1CC("'
    )
    with pytest.raises(RuleFileError, match=r"us\.toml: entry 'US-fentanyl', field 'smiles'"):
        load_rulebook_from(directory)


def test_a_missing_citation_names_file_entry_and_field(tmp_path: Path) -> None:
    directory = _broken_copy(tmp_path, "cn.toml", "citation =", "citatio =")
    with pytest.raises(RuleFileError, match=r"cn\.toml: .*field 'citation': missing"):
        load_rulebook_from(directory)


def test_a_bad_date_is_refused(tmp_path: Path) -> None:
    directory = _broken_copy(tmp_path, "un.toml", "in_force_from = ", 'in_force_from = "soon" #')
    with pytest.raises(RuleFileError, match=r"un\.toml: .*field 'in_force_from'"):
        load_rulebook_from(directory)


def test_a_class_clause_table_must_match_the_semantics(tmp_path: Path) -> None:
    directory = _broken_copy(
        tmp_path,
        "fentanyl_class_clauses.toml",
        "[definitions.US-fentanyl.clauses.E]",
        "[definitions.US-fentanyl.clauses.F]",
    )
    with pytest.raises(RuleFileError, match=r"field 'clauses'"):
        load_rulebook_from(directory)


def test_a_bad_dictionary_cas_is_refused(tmp_path: Path) -> None:
    directory = _broken_copy(tmp_path, "dictionary.csv", "71-43-2", "71-43-3")
    with pytest.raises(RuleFileError, match=r"dictionary\.csv: line 2 .*'cas'"):
        load_rulebook_from(directory)


def test_standardization_strips_salts_charges_and_isotopes() -> None:
    forms = [
        "CCC(=O)N(c1ccccc1)C1CC[NH+](CCc2ccccc2)CC1.[Cl-]",
        "CCC(=O)N(c1ccccc1)C1CCN(CCc2c([2H])cccc2)CC1.OC(=O)CC(O)(CC(=O)O)C(=O)O",
        "[Na+].CCC(=O)N(c1ccccc1)C1CCN(CC[13c]2ccccc2)CC1",
    ]
    smiles = {Chem.MolToSmiles(standardize(Chem.MolFromSmiles(form))) for form in forms}
    assert smiles == {Chem.CanonSmiles("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1")}


def test_rules_are_data_a_changed_date_changes_the_verdict(tmp_path: Path) -> None:
    directory = _broken_copy(
        tmp_path, "cn.toml", "in_force_from = 2019-05-01", "in_force_from = 2030-01-01"
    )
    book = load_rulebook_from(directory)
    hexanoyl = "CCCCCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
    day = date(2026, 1, 1)
    assert identify(hexanoyl, as_of=day, rulebook=book).verdicts["CN"].status == "no_match"
    assert identify(hexanoyl, as_of=day).verdicts["CN"].status == "controlled"


def test_a_changed_copy_of_the_book_indexes_its_own_entries_and_leaves_the_original_alone() -> None:
    """dataclasses.replace builds the copy's indexes afresh: indexing into the original's
    (as it did while they could be passed on) doubled every entry in both books."""
    book = load_rulebook()
    fentanyl = next(entry for entry in book.entries if entry.id == "US-fentanyl")
    before = {name: len(getattr(book, name)[fentanyl.inchikey]) for name in ("by_inchikey",)}
    heavy = {key: len(found) for key, found in book.by_heavy_atoms.items()}
    smaller = replace(book, entries=[fentanyl])
    assert smaller.by_inchikey == {fentanyl.inchikey: [fentanyl]}
    assert [len(found) for found in smaller.by_heavy_atoms.values()] == [1]
    assert {name: len(getattr(book, name)[fentanyl.inchikey]) for name in before} == before
    assert {key: len(found) for key, found in book.by_heavy_atoms.items()} == heavy
