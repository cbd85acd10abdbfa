"""`liaison demo`: the example import manifest is screened and reported."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from liaison.cli import app
from liaison.demo.manifest import MANIFEST, screen_example_manifest


def test_manifest_mixes_the_kinds_of_line_the_issue_asks_for() -> None:
    rows = list(csv.DictReader(MANIFEST.open(encoding="utf-8")))
    assert 25 <= len(rows) <= 40
    queries = [row["query"] for row in rows]
    assert any(re.fullmatch(r"\d+-\d\d-\d", q) for q in queries)  # CAS numbers
    assert any(q.isalpha() for q in queries)  # names
    assert any("(" in q and "=" in q for q in queries)  # SMILES


def test_demo_screens_the_manifest_and_writes_a_depiction_per_flagged_row(tmp_path: Path) -> None:
    out = io.StringIO()
    path = screen_example_manifest(Console(file=out, width=200), reports_dir=tmp_path)
    assert path == tmp_path / "import_manifest.html"
    text = out.getvalue()
    assert "IM-001" in text and "IM-030" in text and str(path) in text.replace("\n", "")
    html = path.read_text(encoding="utf-8")
    flagged = re.findall(r'<h2 id="record-\d+">(IM-\d+):', html)
    assert "IM-021" in flagged and "IM-022" in flagged  # class-only analogues
    assert "IM-003" not in flagged and "IM-004" not in flagged  # benign lines are not flagged
    assert "IM-001" in flagged  # acetone: a listed precursor solvent (List II, Table II, cat. 3)
    for record_id in flagged:
        section = html.split(f">{record_id}: ", 1)[1].split("<h2", 1)[0]
        # One picture per record, with every jurisdiction's verdict under the structure.
        assert section.count('<figure class="depiction">') == 1, record_id
        assert all(f">{code}: " in section for code in ("US", "CN", "UN")), record_id
    # The manifest's description column is carried into the report.
    assert "description: " in html
    # Links only within the report: the table's rows to their pictures.
    assert "<script" not in html
    assert set(re.findall(r'href="([^#][^"]*)"', html)) == set()


def test_demo_command_runs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["demo", "--screen-only"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reports" / "import_manifest.html").is_file()
    assert (tmp_path / "reports" / "rules.csv").read_text(encoding="utf-8").count("\n") > 300


def test_a_later_demo_run_keeps_rule_reports_newer_than_the_rule_files(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["demo", "--screen-only"]).exit_code == 0
    report = tmp_path / "reports" / "rules.csv"
    report.write_text("written by the first run\n", encoding="utf-8")
    again = CliRunner().invoke(app, ["demo", "--screen-only"])
    assert again.exit_code == 0, again.output
    assert "(up to date)" in " ".join(again.output.split())  # the console wraps long paths
    assert report.read_text(encoding="utf-8") == "written by the first run\n"
    # A report older than the rule files is written again.
    os.utime(report, (0, 0))
    third = CliRunner().invoke(app, ["demo", "--screen-only"])
    assert third.exit_code == 0, third.output
    assert report.read_text(encoding="utf-8").count("\n") > 300
