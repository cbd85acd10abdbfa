"""`liaison screen`: the contract other tools depend on."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from rdkit import Chem
from typer.testing import CliRunner

from liaison.cli import app, main

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
HEXANOYL = "CCCCCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["screen", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_smi_file_to_jsonl_in_input_order(tmp_path: Path) -> None:
    path = tmp_path / "in.smi"
    path.write_text(f"{FENTANYL} fent\n\nCCO ethanol\nC1CC( broken\nO=C1CCNCC1\n")
    code, out, _ = run(str(path), "--format", "jsonl", "--as-of", "2026-01-01")
    assert code == 0
    records = jsonl(out)
    assert [r["id"] for r in records] == ["fent", "ethanol", "broken", "in.smi:5"]
    assert set(records[0]) >= {"id", "input", "verdicts", "error"}
    assert set(records[0]["verdicts"]) == {"US", "CN", "UN"}
    assert records[0]["verdicts"]["US"]["status"] == "controlled"
    assert records[0]["verdicts"]["US"]["basis"][0]["rule_id"] == "US-fentanyl"
    assert records[1]["verdicts"]["CN"] == {
        "status": "no_match",
        "basis": [],
        "explanation": records[1]["verdicts"]["CN"]["explanation"],
    }
    assert records[2]["error"] and records[2]["verdicts"]["UN"]["status"] == "invalid"
    assert records[3]["verdicts"]["UN"]["status"] == "precursor"


def test_csv_input_with_structure_column_and_csv_output(tmp_path: Path) -> None:
    path = tmp_path / "order.csv"
    path.write_text("\ufeffname,structure\nfirst,fentanyl\nsecond,58-08-2\n")  # Excel's BOM
    code, out, _ = run(str(path), "--format", "csv", "--jurisdiction", "US", "--jurisdiction", "CN")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == ["first", "second"]
    assert rows[0]["US_status"] == "controlled" and rows[0]["CN_status"] == "controlled"
    assert "UN_status" not in rows[0]
    assert rows[1]["US_status"] == "no_match"


def test_sdf_input_with_a_broken_record(tmp_path: Path) -> None:
    good = Chem.MolFromSmiles(HEXANOYL)
    good.SetProp("_Name", "hexanoyl")
    block = Chem.MolToMolBlock(good)
    path = tmp_path / "seized.sdf"
    path.write_text(f"{block}$$$$\nbroken\n  nonsense\n\nM  END\n$$$$\n{block}$$$$\n")
    code, out, _ = run(str(path), "--format", "jsonl", "--as-of", "2026-01-01")
    assert code == 0
    records = jsonl(out)
    assert len(records) == 3
    assert records[0]["id"] == "hexanoyl" and records[0]["verdicts"]["CN"]["status"] == "controlled"
    assert records[1]["verdicts"]["US"]["status"] == "invalid" and records[1]["error"]
    assert records[2]["verdicts"]["US"]["status"] == "controlled"


def test_txt_file_any_query_kind(tmp_path: Path) -> None:
    path = tmp_path / "tips.txt"
    path.write_text("芬太尼\n437-38-7\nInChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3\nnot a substance\n")
    code, out, _ = run(str(path), "--format", "jsonl")
    assert code == 0
    statuses = [r["verdicts"]["CN"]["status"] for r in jsonl(out)]
    assert statuses == ["controlled", "controlled", "no_match", "invalid"]


def test_standard_input_when_no_input_and_dash() -> None:
    for args in ((), ("-",)):
        code, out, _ = run(*args, "--format", "jsonl", stdin=f"{FENTANYL}\n\nCCO\n")
        assert code == 0
        assert [r["input"] for r in jsonl(out)] == [FENTANYL, "CCO"]


def test_as_of_changes_the_verdict() -> None:
    _, before, _ = run("--format", "jsonl", "--as-of", "2019-04-30", stdin=HEXANOYL)
    _, after, _ = run("--format", "jsonl", "--as-of", "2019-05-01", stdin=HEXANOYL)
    assert jsonl(before)[0]["verdicts"]["CN"]["status"] == "no_match"
    assert jsonl(after)[0]["verdicts"]["CN"]["status"] == "controlled"


def test_a_structure_drawn_without_its_listed_stereo_is_review_not_no_match() -> None:
    # Phenylpropanolamine without stereo: cathine and both norephedrines are listed in China.
    _, out, _ = run("--jurisdiction", "CN", "--format", "jsonl", stdin="CC(N)C(O)c1ccccc1\n")
    verdict = jsonl(out)[0]["verdicts"]["CN"]
    assert verdict["status"] == "review"
    assert {basis["rule_id"] for basis in verdict["basis"]} == {
        "CN-cathine",
        "CN-norephedrine",
        "CN-norephedrine-1S2R",
    }


def test_jobs_gives_the_same_output_in_the_same_order(tmp_path: Path) -> None:
    lines = [FENTANYL, "CCO", HEXANOYL, "O=C1CCNCC1", "C1CC("] * 120
    path = tmp_path / "many.smi"
    path.write_text("\n".join(lines) + "\n")
    _, one, _ = run(str(path), "--format", "jsonl", "--jobs", "1", "--as-of", "2026-01-01")
    _, two, _ = run(str(path), "--format", "jsonl", "--jobs", "2", "--as-of", "2026-01-01")
    assert one == two and len(jsonl(two)) == len(lines)


def test_table_output_and_report(tmp_path: Path) -> None:
    path = tmp_path / "in.smi"
    path.write_text(f"{FENTANYL} fent\nCCO ethanol\nCCC(=O)N(c1ncccn1)C1CCN(CCc2ccccc2)CC1 pyr\n")
    report = tmp_path / "out" / "report.html"
    code, out, err = run(str(path), "--report", str(report))
    assert code == 0
    assert "fent" in out and "controlled" in out
    html = report.read_text()
    # One picture per flagged record, every jurisdiction's regions in it; rows link to it.
    assert html.count('<figure class="depiction">') == 2
    assert '<a href="#record-1">fent</a>' in html and '<h2 id="record-1">' in html
    assert "Records per verdict" in html and "Rules version " in html
    assert "<script" not in html and "<link" not in html and "ethanol" not in html
    assert str(report) in err.replace("\n", "")
    assert '<html lang="en">' in html and "N-aryl (aniline) ring replaced by pyrimidin-2-yl" in html


def test_report_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "in.smi"
    path.write_text("CCC(=O)N(c1ncccn1)C1CCN(CCc2ccccc2)CC1 pyr\n")
    report = tmp_path / "report.html"
    code, _, _ = run(str(path), "--report", str(report), "--language", "zh-CN")
    assert code == 0
    html = report.read_text()
    assert '<html lang="zh-CN">' in html
    assert "<h1>Liaison 筛查报告</h1>" in html
    assert "按结论统计的记录数" in html and "规则版本 " in html
    assert "D：N-芳基（苯胺）环被嘧啶-2-基替换" in html
    # The picture's legend too: drawn in the worker, in the report's language.
    figure = html.split('<figure class="depiction">', 1)[1].split("</figure>", 1)[0]
    assert 'font-weight="bold">US：管制（' in figure
    assert "controlled" not in figure and "N-aryl" not in figure
    code, _, err = run(str(path), "--report", str(report), "--language", "fr")
    assert code != 0 and "--language 'fr'" in err


def test_language_without_a_report_is_refused(tmp_path: Path) -> None:
    # jsonl, csv and the table are data and stay English: the flag would promise otherwise.
    path = tmp_path / "in.smi"
    path.write_text(f"{FENTANYL} fent\n")
    code, out, err = run(str(path), "--format", "jsonl", "--language", "zh-CN")
    assert code == 2 and out == ""
    assert "--language sets the language of the --report; give --report too" in err


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "result.jsonl"
    code, out, _ = run("--format", "jsonl", "--output", str(target), stdin="CCO\n")
    assert code == 0 and out == ""
    assert jsonl(target.read_text())[0]["input"] == "CCO"


def test_usage_errors_are_one_line_and_non_zero(tmp_path: Path) -> None:
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("foo,bar\n1,2\n")
    cases = [
        (str(tmp_path / "missing.smi"),),
        (str(tmp_path / "x.xlsx"),),
        (str(bad_csv),),
        ("--format", "xml"),
        ("--as-of", "yesterday"),
        ("--jurisdiction", "XX"),
        ("--jobs", "0"),
    ]
    (tmp_path / "x.xlsx").write_text("")
    for args in cases:
        code, _, err = run(*args, stdin="CCO\n")
        assert code != 0, args
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("liaison screen: error:"), (args, err)
        assert "Traceback" not in err


def test_output_equal_to_an_input_is_refused_and_the_input_kept(tmp_path: Path) -> None:
    path = tmp_path / "order.smi"
    path.write_text(f"{FENTANYL} fent\n")
    for output in (str(path), str(tmp_path / "." / "order.smi")):
        code, out, err = run(str(path), "--output", output, "--format", "jsonl")
        assert code == 2 and out == ""
        assert err.startswith("liaison screen: error: --output ") and err.count("\n") == 1
        assert "also an input file" in err
        assert path.read_text() == f"{FENTANYL} fent\n"


def test_directory_as_input_says_so(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path))
    assert code == 2
    assert err == f"liaison screen: error: {tmp_path}: is a directory\n"


def test_invalid_records_do_not_change_the_exit_status() -> None:
    code, out, _ = run("--format", "jsonl", stdin="C1CC(\nnonsense words\n\n")
    assert code == 0
    assert all(r["verdicts"]["US"]["status"] == "invalid" for r in jsonl(out))


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The installed `liaison` entry point (liaison.cli.main), not Typer's test runner."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def test_unknown_option_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "screen", "q.txt", "--bogus")
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith("liaison screen: error: No such option: --bogus")
    assert "Traceback" not in err and "╭" not in err


def test_missing_option_value_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "screen", "--format")
    assert code == 2
    assert err == (
        "liaison screen: error: Option '--format' requires an argument. "
        "(see 'liaison screen --help')\n"
    )


def test_unknown_command_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "bogus")
    assert code == 2 and err.startswith("liaison: error: No such command 'bogus'.")
    assert err.count("\n") == 1


def test_entry_point_keeps_each_command_exit_status(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "in.smi"
    path.write_text(f"{FENTANYL} fent\nC1CC( broken\n")
    code, out, _ = run_main(capsys, "screen", str(path), "--format", "jsonl")
    assert code == 0 and len(jsonl(out)) == 2
    assert run_main(capsys, "screen", str(tmp_path / "none.smi"))[0] == 2  # typer.Exit(2)
    assert run_main(capsys, "screen", "--help")[0] == 0
    code, _, err = run_main(capsys, "user", "list", str(tmp_path))  # not a node: its own code 1
    assert code == 1 and "node.toml" in err


def _screen_with_stderr_on_a_terminal(smi: Path, output: Path) -> str:
    """Run `liaison screen` as a person would, stderr on a terminal; return what it showed."""
    controller, terminal = pty.openpty()
    argv = [sys.executable, "-m", "liaison", "screen", str(smi), "--format", "jsonl"]
    process = subprocess.Popen(
        [*argv, "--jobs", "1", "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=terminal,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "100"},
    )
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    assert process.wait(timeout=120) == 0
    return seen.decode(errors="replace")


def test_progress_is_shown_on_a_terminal_and_never_mixed_into_the_output(tmp_path: Path) -> None:
    smi, output = tmp_path / "batch.smi", tmp_path / "verdicts.jsonl"
    smi.write_text("".join(f"{'C' * (i % 7 + 1)}N id{i}\n" for i in range(400)), encoding="utf-8")
    terminal = _screen_with_stderr_on_a_terminal(smi, output)
    assert "screening" in terminal and "/400" in terminal
    written = output.read_text(encoding="utf-8")
    assert len(jsonl(written)) == 400 and "screening" not in written


def test_csv_output_neutralises_formula_cells_as_the_web_export_does(tmp_path: Path) -> None:
    path = tmp_path / "order.csv"
    ids = ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "plain"]  # (ids are stripped)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "smiles"])
        writer.writerows([ident, "CCO"] for ident in ids)
        writer.writerow(["last", "=1+2"])
    code, out, _ = run(str(path), "--format", "csv", "--jurisdiction", "US")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["id"] for row in rows] == ["'" + i for i in ids[:-1]] + ["plain", "last"]
    assert rows[-1]["input"] == "'=1+2"


def test_a_record_past_the_time_limit_costs_only_itself_with_one_job(tmp_path: Path) -> None:
    slow = "C" * 1500 + "C(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"  # drawing it takes far over 1 s
    path = tmp_path / "in.smi"
    path.write_text(f"{FENTANYL} first\n{slow} slow\nO=C1CCNCC1 last\n")
    report = tmp_path / "report.html"
    args = ("--format", "jsonl", "--jobs", "1", "--seconds", "1", "--max-atoms", "5000")
    code, out, _ = run(str(path), *args, "--report", str(report))
    assert code == 0
    records = jsonl(out)
    assert [r["id"] for r in records] == ["first", "slow", "last"]
    assert records[1]["error"] == (
        "identification timed out after 1 s (limit seconds=1); nothing was judged"
    )
    assert [r["verdicts"]["US"]["status"] for r in records] == [
        "controlled",
        "invalid",
        "precursor",
    ]


def test_limits_are_options_and_a_refusal_names_the_limit() -> None:
    code, out, _ = run("--format", "jsonl", "--max-atoms", "10", stdin="C" * 11 + "\nCCO\n")
    assert code == 0
    first, second = jsonl(out)
    assert first["error"] == "SMILES has 11 atoms; the limit is 10 (limit atoms=10)"
    assert second["error"] is None
    for bad in (("--seconds", "0"), ("--max-atoms", "0")):
        code, _, err = run(*bad, stdin="CCO\n")
        assert code == 2 and err.startswith("liaison screen: error: --")


def test_a_gbk_csv_is_read_as_such_and_its_columns_carried_through(tmp_path: Path) -> None:
    path = tmp_path / "查获.csv"
    path.write_bytes(f"编号,smiles,描述\nS-1,{FENTANYL},白色粉末\nS-2,CCO,乙醇\n".encode("gbk"))
    code, out, err = run(str(path), "--format", "jsonl", "--as-of", "2024-01-01")
    assert code == 0
    assert "查获.csv: read as GB18030 (GBK)" in err
    records = jsonl(out)
    assert [(r["id"], r["columns"]) for r in records] == [
        ("S-1", {"描述": "白色粉末"}),
        ("S-2", {"描述": "乙醇"}),
    ]
    code, out, _ = run(str(path), "--format", "csv", "--as-of", "2024-01-01")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["描述"] for row in rows] == ["白色粉末", "乙醇"]
    assert rows[0]["US_status"] == "controlled"


def test_an_excel_workbook_is_screened(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["id", "smiles", "description"])
    sheet.append(["X1", FENTANYL, "seized at port"])
    path = tmp_path / "seized.xlsx"
    workbook.save(path)
    code, out, _ = run(str(path), "--format", "jsonl", "--as-of", "2024-01-01")
    assert code == 0
    (record,) = jsonl(out)
    assert record["id"] == "X1" and record["columns"] == {"description": "seized at port"}
    assert record["verdicts"]["US"]["status"] == "controlled"
