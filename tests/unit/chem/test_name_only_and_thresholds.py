"""Name-only listings (plants, extracts, preparations: no structure) and the reporting
thresholds of US List I chemicals, as the verdict shows them (issue 13)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from liaison.chem import identify, load_rulebook
from liaison.chem.depict import depict_combined
from liaison.chem.models import NO_STRUCTURE
from liaison.chem.rulebook import RuleFileError, load_rulebook_from
from liaison.chem.rulecheck import CheckResult, check_rules, report_csv
from support import small_rule_book

TODAY = date(2026, 1, 1)

# (query, jurisdiction, rule id, list): a name, synonym or Chinese name of every name-only
# listing loaded.
NAME_ONLY = [
    ("marihuana", "US", "US-marihuana", "Schedule I"),
    ("peyote", "US", "US-peyote", "Schedule I"),
    ("Papaver somniferum", "US", "US-opium-poppy", "Schedule II"),
    ("coca leaves", "US", "US-coca-leaves", "Schedule II"),
    ("opium", "US", "US-opium", "Schedule II"),
    ("cannabis resin", "UN", "UN-cannabis", "Single Convention 1961, Schedule I"),
    ("coca leaf", "UN", "UN-coca-leaf", "Single Convention 1961, Schedule I"),
    ("鸦片", "UN", "UN-opium", "Single Convention 1961, Schedule I"),
    (
        "concentrate of poppy straw",
        "UN",
        "UN-poppy-straw-concentrate",
        "Single Convention 1961, Schedule I",
    ),
    ("大麻", "CN", "CN-cannabis", "麻醉药品品种目录 (catalogue of narcotic drugs)"),
    ("古柯叶", "CN", "CN-coca-leaf", "麻醉药品品种目录 (catalogue of narcotic drugs)"),
    ("阿片", "CN", "CN-opium", "麻醉药品品种目录 (catalogue of narcotic drugs)"),
    ("罂粟浓缩物", "CN", "CN-poppy-concentrate", "麻醉药品品种目录 (catalogue of narcotic drugs)"),
    (
        "恰特草",
        "CN",
        "CN-khat",
        "精神药品品种目录 (catalogue of psychotropic substances), category I",
    ),
]


@pytest.mark.parametrize(("query", "code", "rule_id", "list_name"), NAME_ONLY)
def test_a_name_only_listing_is_found_by_name_and_says_no_structure_applies(
    query: str, code: str, rule_id: str, list_name: str
) -> None:
    result = identify(query, as_of=TODAY, jurisdictions=[code])
    assert result.query_kind == "name"
    assert result.error is None and result.standardized_smiles is None
    verdict = result.verdicts[code]
    assert verdict.status == "controlled", verdict.explanation
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert basis.list == list_name and basis.citation and basis.atoms == ()
    assert NO_STRUCTURE in verdict.explanation


def test_every_name_only_listing_of_the_files_is_in_the_table_above() -> None:
    # Listings whose status is not `controlled` are tested beside their lists: the Chinese
    # precursor extracts in test_rules_cn_catalogues.py, red phosphorus in test_inorganic.py.
    elsewhere = {
        "UN-cannabis-schedule-IV",
        "US-red-phosphorus",
        "CN-sassafras-oil",
        "CN-ephedra-extract",
    }
    tested = {rule_id for _, _, rule_id, _ in NAME_ONLY} | elsewhere
    assert {listing.id for listing in load_rulebook().name_only} == tested


def test_one_name_answers_every_jurisdiction_that_lists_it() -> None:
    result = identify("cannabis", as_of=TODAY)
    assert {code: verdict.status for code, verdict in result.verdicts.items()} == {
        "US": "controlled",
        "CN": "controlled",
        "UN": "controlled",
    }


def test_a_jurisdiction_that_does_not_list_the_plant_says_so_plainly() -> None:
    verdict = identify("khat", as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    assert verdict.status == "no_match" and verdict.basis == []
    assert "has no structure to compare" in verdict.explanation
    assert "not a clearance" in verdict.explanation


def test_cannabis_left_schedule_iv_of_the_1961_convention_in_december_2020() -> None:
    def lists(day: date) -> set[str]:
        verdict = identify("cannabis", as_of=day, jurisdictions=["UN"]).verdicts["UN"]
        return {basis.list for basis in verdict.basis}

    both = {"Single Convention 1961, Schedule I", "Single Convention 1961, Schedule IV"}
    assert lists(date(2020, 12, 2)) == both
    assert lists(date(2020, 12, 3)) == {"Single Convention 1961, Schedule I"}


def test_a_name_only_listing_before_its_first_day_is_no_match() -> None:
    verdict = identify("peyote", as_of=date(1971, 4, 30), jurisdictions=["US"]).verdicts["US"]
    assert verdict.status == "no_match"


def test_a_chinese_name_only_verdict_before_2014_carries_the_history_warning() -> None:
    verdict = identify("大麻", as_of=date(2010, 1, 1), jurisdictions=["CN"]).verdicts["CN"]
    assert verdict.status == "no_match"
    assert "do not reach back" in verdict.explanation


def test_a_misspelled_plant_name_is_suggested() -> None:
    result = identify("peyotee", as_of=TODAY, jurisdictions=["US"])
    assert result.error is not None and "peyote" in result.error


def test_a_name_only_listing_with_a_structure_is_refused(tmp_path: Path) -> None:
    directory = small_rule_book(tmp_path / "rules", {"US-peyote"})
    path = directory / "us.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('id = "US-peyote"\n', 'id = "US-peyote"\nsmiles = "C"\n'), encoding="utf-8"
    )
    with pytest.raises(RuleFileError, match=r"US-peyote.*smiles"):
        load_rulebook_from(directory)


def test_a_name_only_name_that_names_a_structure_is_a_check_error(tmp_path: Path) -> None:
    directory = small_rule_book(tmp_path / "rules", {"US-peyote", "US-mescaline"})
    path = directory / "us.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('synonyms = ["Lophophora williamsii"]', 'synonyms = ["mescaline"]'),
        encoding="utf-8",
    )
    findings = {(f.severity, f.rule_id, f.check) for f in check_rules(directory).findings}
    assert ("error", "US-peyote", "name") in findings


def test_the_report_lists_name_only_listings_and_thresholds() -> None:
    book = load_rulebook()
    rows = report_csv(book).splitlines()
    assert any(",name-only,US-peyote," in row for row in rows)
    assert any("US-4-piperidone," in row and "regardless of size" in row for row in rows)


# (query, rule id, words the threshold shown must contain)
THRESHOLDS = [
    ("4-piperidone", "US-4-piperidone", "regardless of size"),
    ("4-AP", "US-4-AP", "any quantity"),
    ("pseudoephedrine", "US-pseudoephedrine", "75 FR 38915"),
    ("ephedrine", "US-ephedrine", "single-entity"),
]


@pytest.mark.parametrize(("query", "rule_id", "words"), THRESHOLDS)
def test_a_list_i_verdict_shows_its_threshold(query: str, rule_id: str, words: str) -> None:
    verdict = identify(query, as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    basis = next(b for b in verdict.basis if b.rule_id == rule_id)
    assert basis.list == "List I" and words in basis.threshold
    assert f"threshold: {basis.threshold}" in verdict.explanation
    assert basis.to_dict()["threshold"] == basis.threshold


def test_a_4_ap_amide_found_by_the_family_shows_the_threshold_too() -> None:
    # 1-acetyl-4-anilinopiperidine: an amide of 4-AP, no named entry of its own.
    verdict = identify("CC(=O)N1CCC(Nc2ccccc2)CC1", as_of=TODAY, jurisdictions=["US"])
    us = verdict.verdicts["US"]
    family = next(b for b in us.basis if b.rule_id == "US-4-AP-amides-carbamates-salts")
    assert "any quantity" in family.threshold


def test_a_list_ii_chemical_without_a_recorded_threshold_is_a_check_warning(
    tmp_path: Path, shipped: CheckResult
) -> None:
    notes = {entry.id: entry.note for entry in load_rulebook().entries}
    # Every one recorded, but for the inorganic chemicals whose 1310.04 line was not read,
    # and each of those says so in its note.
    unrecorded = {f.rule_id for f in shipped.findings if f.check == "threshold"}
    assert all("Threshold (21 CFR 1310.04) not read" in notes[i] for i in unrecorded)
    copy = small_rule_book(tmp_path / "rules", {"US-acetone", "US-4-piperidone"})
    us = copy / "us.toml"
    start = us.read_text(encoding="utf-8").index('id = "US-acetone"')
    text = us.read_text(encoding="utf-8")
    line = text.index("\nthreshold = ", start)
    us.write_text(text[:line] + text[text.index("\n", line + 1) :], encoding="utf-8")
    findings = {(f.severity, f.rule_id, f.check) for f in check_rules(copy).findings}
    assert ("warning", "US-acetone", "threshold") in findings
    assert ("warning", "US-4-piperidone", "threshold") not in findings
    verdict = identify("acetone", as_of=TODAY, jurisdictions=["US"]).verdicts["US"]
    assert "threshold: imports and exports 500 gallons" in verdict.explanation


def test_the_picture_of_a_name_only_listing_says_no_structure_applies() -> None:
    result = identify("opium", as_of=TODAY)
    assert any(NO_STRUCTURE in note for note in result.notes)
    assert f"{NO_STRUCTURE}: listed by name" in depict_combined(result, ("US", "CN", "UN"))
    unmatched = identify("CCO", as_of=TODAY)
    assert NO_STRUCTURE not in depict_combined(unmatched, ("US",))
