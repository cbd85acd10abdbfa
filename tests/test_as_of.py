"""The as-of day: required by the chemistry library, defaulted by the services, stated by
every answer of `liaison screen` (jsonl, csv, table, HTML report) and of the demo."""

from __future__ import annotations

import csv
import inspect
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from liaison.chem import identify
from liaison.cli import app
from liaison.demo.manifest import screen_example_manifest
from liaison.services.as_of import settle_as_of

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
runner = CliRunner()


def utc_today() -> set[str]:
    """Today in UTC, and tomorrow: a test running across midnight sees either."""
    today = datetime.now(UTC).date()
    return {today.isoformat(), date.fromordinal(today.toordinal() + 1).isoformat()}


def screen(*args: str, stdin: str) -> str:
    result = runner.invoke(app, ["screen", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_library_has_no_default_day_and_states_the_one_given() -> None:
    assert inspect.signature(identify).parameters["as_of"].default is inspect.Parameter.empty
    identification = identify(FENTANYL, date(2017, 2, 1))
    assert identification.to_dict()["as_of"] == "2017-02-01"


def test_the_services_default_is_today_in_utc() -> None:
    assert settle_as_of(date(2017, 2, 1)) == date(2017, 2, 1)
    assert settle_as_of(None).isoformat() in utc_today()


def test_jsonl_states_the_day_on_every_line() -> None:
    stdin = f"{FENTANYL}\nCCO\nC1CC( broken\n"
    dated = [
        json.loads(line)
        for line in screen("--format", "jsonl", "--as-of", "2017-02-01", stdin=stdin).splitlines()
    ]
    assert [record["as_of"] for record in dated] == ["2017-02-01"] * 3
    today = [json.loads(line) for line in screen("--format", "jsonl", stdin=stdin).splitlines()]
    assert {record["as_of"] for record in today} <= utc_today()


def test_csv_states_the_day_on_every_row() -> None:
    out = screen("--format", "csv", "--as-of", "2017-02-01", stdin=f"{FENTANYL}\nCCO\n")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["as_of"] for row in rows] == ["2017-02-01", "2017-02-01"]


def test_the_table_and_the_report_state_the_day(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    out = screen("--as-of", "2017-02-01", "--report", str(report), stdin=f"{FENTANYL}\n")
    assert "Screening as of 2017-02-01" in out
    assert "as of 2017-02-01" in report.read_text(encoding="utf-8")
    assert any(day in screen(stdin="CCO\n") for day in utc_today())


def test_the_demo_states_the_day(tmp_path: Path) -> None:
    out = io.StringIO()
    path = screen_example_manifest(Console(file=out, width=200), reports_dir=tmp_path)
    assert any(f"verdicts as of {day}" in out.getvalue() for day in utc_today())
    assert any(f"as of {day}" in path.read_text(encoding="utf-8") for day in utc_today())
