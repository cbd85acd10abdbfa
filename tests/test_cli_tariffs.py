"""`liaison tariffs`: the command-line contract (duty, duty --batch, measures)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from liaison.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["tariffs", *args])
    return result.exit_code, result.stdout, result.stderr


def test_duty_json_has_the_contract_shape() -> None:
    code, out, _ = run(
        "duty", "--origin", "CN", "--entry-date", "2025-03-10", "--customs-value", "10000",
        "--hts", "2933.39.41", "--format", "json",
    )  # fmt: skip
    assert code == 0
    result = json.loads(out)
    assert {"entry", "measures", "total_additional", "ieepa_total"} <= set(result)
    assert result["entry"]["origin"] == "CN" and result["entry"]["hts"] == "2933.39.41"
    assert result["entry"]["entry_date"] == "2025-03-10"
    assert result["entry"]["customs_value"] == "10000.00"
    assert result["measures"] == [
        {
            "id": "CN-IEEPA-FENTANYL-20",
            "name": "China fentanyl duty, 20% (EO 14228)",
            "citation": result["measures"][0]["citation"],
            "rate_percent": "20",
            "amount": "2000.00",
            "ieepa": True,
        }
    ]
    assert "90 FR 11463" in result["measures"][0]["citation"]
    assert result["total_additional"] == "2000.00" and result["ieepa_total"] == "2000.00"


def test_duty_usmca_flag_exempts_a_canadian_entry() -> None:
    args = ["duty", "--origin", "CA", "--entry-date", "2025-08-10", "--customs-value", "10000"]
    _, plain, _ = run(*args, "--format", "json")
    _, usmca, _ = run(*args, "--usmca", "--format", "json")
    assert json.loads(plain)["total_additional"] == "3500.00"
    assert json.loads(usmca)["total_additional"] == "0.00"
    assert json.loads(usmca)["exempted"][0]["exemption"] == "usmca"


def test_duty_table_shows_each_measure_rate_amount_and_the_totals() -> None:
    code, out, _ = run(
        "duty", "--origin", "MX", "--entry-date", "2025-03-10", "--customs-value", "1000",
        "--ordinary-rate", "5",
    )  # fmt: skip
    assert code == 0
    assert "MX-IEEPA-25" in out and "25" in out and "250.00" in out
    assert "total additional duty: 250.00" in out
    assert "collected under IEEPA (potentially refundable): 250.00" in out
    assert "ordinary duty: 50.00" in out


def test_usage_errors_are_one_line_and_exit_2() -> None:
    cases = [
        (["duty", "--origin", "CN", "--entry-date", "2025-03-10"], "--customs-value: missing"),
        (
            ["duty", "--origin", "CN", "--entry-date", "2025-3-x", "--customs-value", "1"],
            "--entry-date: '2025-3-x' is not a date",
        ),
        (
            ["duty", "--origin", "CN", "--entry-date", "2025-03-10", "--customs-value", "1",
             "--usmca"],
            "--usmca: only goods of Canada or Mexico can qualify, not CN",
        ),
        (
            ["duty", "--origin", "CN", "--entry-date", "2025-03-10", "--customs-value", "1",
             "--format", "xml"],
            "--format 'xml' is not one of table, json",
        ),
        (["measures", "--as-of", "yesterday"], "--as-of 'yesterday' is not a date"),
    ]  # fmt: skip
    for args, message in cases:
        code, out, err = run(*args)
        assert code == 2, args
        assert out == ""
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith(f"liaison tariffs {args[0]}: error:") and message in err, err


def test_batch_writes_every_row_and_exits_1_when_some_rows_failed(tmp_path: Path) -> None:
    entries = tmp_path / "entries.csv"
    entries.write_text(
        "origin,entry_date,customs_value,usmca\n"
        "CN,2025-03-10,10000,\n"
        "CA,2025-03-10,oops,\n"
        "MX,2025-03-10,1000,yes\n"
    )
    output = tmp_path / "duties.csv"
    code, out, err = run("duty", "--batch", str(entries), "--output", str(output))
    assert code == 1 and out == ""
    assert err.strip() == (
        "2 entries, 1 rows with errors; total additional duty 2000.00, IEEPA part 2000.00"
    )
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    assert [r["row"] for r in rows] == ["2", "3", "4"]
    assert rows[0]["total_additional"] == "2000.00"
    assert rows[1]["error"] == "row 3, column customs_value: 'oops' is not a number"
    assert rows[2]["total_additional"] == "0.00"


def test_batch_without_errors_exits_0_and_can_write_to_stdout(tmp_path: Path) -> None:
    entries = tmp_path / "entries.csv"
    entries.write_text("origin,entry_date,customs_value\nCA,2025-08-01,100\n")
    code, out, _ = run("duty", "--batch", str(entries))
    assert code == 0
    assert next(csv.DictReader(io.StringIO(out)))["measures"] == "CA-IEEPA-35 35% 35.00"


def test_batch_usage_errors(tmp_path: Path) -> None:
    entries = tmp_path / "entries.csv"
    entries.write_text("origin,value\nCN,1\n")
    for args, message in [
        (["--batch", str(entries), "--origin", "CN"], "--origin cannot be combined with --batch"),
        (
            ["--batch", str(entries), "--usmca", "--format", "json"],
            "--usmca, --format json cannot be combined with --batch",
        ),
        (["--batch", str(tmp_path / "none.csv")], "no such file"),
        (["--batch", str(entries)], "entries.csv, row 1: missing column(s) entry_date"),
        (["--batch", str(entries), "--output", str(entries)], "it would be overwritten"),
    ]:
        code, _, err = run("duty", *args)
        assert code == 2 and message in err, (args, err)


def test_measures_lists_what_was_in_force_by_origin_and_day() -> None:
    code, out, _ = run("measures", "--origin", "CN", "--as-of", "2025-03-10", "--format", "json")
    assert code == 0
    listed = json.loads(out)
    assert listed["as_of"] == "2025-03-10" and listed["origin"] == "CN"
    assert [m["id"] for m in listed["measures"]] == ["CN-IEEPA-FENTANYL-20"]
    assert listed["measures"][0]["in_force_from"] == "2025-03-04"
    _, table, _ = run("measures", "--as-of", "2025-09-01")
    for measure_id in ("CA-IEEPA-35", "MX-IEEPA-25", "CN-IEEPA-FENTANYL-20"):
        assert measure_id in table
    _, none, _ = run("measures", "--origin", "CN", "--as-of", "2024-12-31")
    assert "no loaded measure was in force" in none


def test_the_installed_entry_point_keeps_the_contract() -> None:
    """Through `python -m liaison` (liaison.cli.main), not Typer's test runner."""

    def liaison(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "liaison", "tariffs", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    bogus = liaison("duty", "--bogus")
    assert bogus.returncode == 2 and bogus.stdout == ""
    assert bogus.stderr.count("\n") == 1
    assert bogus.stderr.startswith("liaison tariffs duty: error: No such option: --bogus")
    done = liaison(
        "duty", "--origin", "CA", "--entry-date", "2025-03-04", "--customs-value", "200",
        "--category", "energy", "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0
    assert json.loads(done.stdout)["measures"][0]["amount"] == "20.00"
