"""The `liaison identity` contract: synth writes labelled files; match writes exactly one row
per request (or K ranked), reports bad fields with their row and drops no row; check
validates a resident identity number or an MRZ."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liaison.cli import app

HEADER = (
    "family_name,given_name,family_name_native,given_name_native,sex,date_of_birth,"
    "place_of_birth,id_number,address"
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("population")
    code, stdout, _ = run(
        "identity", "synth", "--people", "1500", "--requests", "60", "--seed", "5",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0
    assert stdout.split() == [str(out / n) for n in ("registry.csv", "requests.csv", "truth.csv")]
    # Bad rows an officer may send, beside the synthetic ones.
    with (out / "requests.csv").open("a", encoding="utf-8") as handle:
        handle.write("BAD1,Wang,Wei,,,M,1985-13-45,,,\n")
        handle.write("BAD2,Li,Na,,,F,1990-01-01,,110105199001010011,\n")
    return out


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_synth_is_labelled_and_repeatable(population: Path, tmp_path: Path) -> None:
    truth = read(population / "truth.csv")
    assert len(truth) == 60 and len(read(population / "registry.csv")) == 1500
    registry_ids = {row["person_id"] for row in read(population / "registry.csv")}
    assert {row["person_id"] for row in truth} - {""} <= registry_ids
    run("identity", "synth", "--people", "1500", "--requests", "60", "--seed", "5",
        "--out", str(tmp_path))  # fmt: skip
    assert (
        (tmp_path / "requests.csv")
        .read_text()
        .startswith((population / "requests.csv").read_text()[:2000])
    )


def test_match_writes_one_row_per_request_and_reports_bad_fields(
    population: Path, tmp_path: Path
) -> None:
    output = tmp_path / "matches.csv"
    code, stdout, stderr = run(
        "identity", "match", "--registry", str(population / "registry.csv"),
        "--requests", str(population / "requests.csv"), "--output", str(output),
    )  # fmt: skip
    assert code == 0, stderr
    rows = read(output)
    requests = read(population / "requests.csv")
    assert [r["request_id"] for r in rows] == [r["request_id"] for r in requests]
    assert list(rows[0]) == ["request_id", "person_id", "match_probability"]
    assert "row 61: date_of_birth: '1985-13-45'" in stderr
    assert "row 62: id_number: '110105199001010011' is not a valid" in stderr
    assert "62 requests" in stdout
    # Most synthetic requests are matched to the right person at the default threshold.
    truth = {row["request_id"]: row["person_id"] for row in read(population / "truth.csv")}
    named = [r for r in rows if r["person_id"]]
    right = [r for r in named if truth.get(r["request_id"]) == r["person_id"]]
    assert len(right) >= 0.95 * len(named) and len(named) >= 0.7 * len(truth)
    assert all(float(r["match_probability"]) >= 0.9 for r in named)


def test_candidates_gives_k_ranked_rows_per_request(population: Path, tmp_path: Path) -> None:
    output = tmp_path / "matches.csv"
    code, _, stderr = run(
        "identity", "match", "--registry", str(population / "registry.csv"),
        "--requests", str(population / "requests.csv"), "--output", str(output),
        "--candidates", "3", "--threshold", "0",
    )  # fmt: skip
    assert code == 0, stderr
    rows = read(output)
    assert len(rows) == 3 * 62
    for start in range(0, len(rows), 3):
        group = rows[start : start + 3]
        assert len({r["request_id"] for r in group}) == 1
        assert [r["rank"] for r in group] == ["1", "2", "3"]
        probabilities = [float(r["match_probability"]) for r in group if r["match_probability"]]
        assert probabilities == sorted(probabilities, reverse=True)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    code, _, stderr = run(
        "identity", "match", "--registry", str(tmp_path / "nowhere.csv"),
        "--requests", str(tmp_path / "nowhere.csv"), "--output", str(tmp_path / "m.csv"),
    )  # fmt: skip
    assert code == 2
    assert "nowhere.csv: cannot be read" in stderr


def test_check_a_resident_identity_number() -> None:
    code, stdout, _ = run("identity", "check", "11010519491231002X")
    assert code == 0 and "valid (resident_id)" in stdout and "date_of_birth: 1949-12-31" in stdout
    code, stdout, _ = run("identity", "check", "110105194912310021")
    assert code == 1 and "problem: check_character: is 1, the first 17 characters give X" in stdout


def test_check_an_mrz_names_the_failing_check_digit() -> None:
    mrz = (
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<11"
    )
    code, stdout, _ = run("identity", "check", mrz)
    assert code == 1
    assert "check digit composite: 1 FAILS (computed 0)" in stdout
    assert "check digit document_number: 6 ok" in stdout
