"""Files as people save them: encodings detected, .xlsx read, other columns carried through."""

from __future__ import annotations

import codecs
import io
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from liaison.chem.bulk import csv_header, read_records, screen_records
from liaison.chem.inputs import detect_encoding, encoding_label
from liaison.errors import InvalidInput

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
TABLE = f"id,smiles,描述\nA1,{FENTANYL},海关查获的白色粉末\nA2,CCO,乙醇样品\n"


@pytest.mark.parametrize(
    ("codec", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),  # Python writes a BOM, as Excel's "Unicode text" does
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
    ],
)
def test_the_encoding_of_a_chinese_table_is_detected(
    tmp_path: Path, codec: str, expected: str
) -> None:
    path = tmp_path / "seized.csv"
    path.write_bytes(TABLE.encode(codec))
    assert detect_encoding(path.read_bytes()) == expected
    seen: list[str] = []
    records = list(read_records([str(path)], on_open=lambda _, found: seen.append(found)))
    assert seen == [expected]
    assert [r.id for r in records] == ["A1", "A2"]
    assert records[0].input == FENTANYL
    assert records[0].columns == (("描述", "海关查获的白色粉末"),)


def test_a_utf8_character_cut_by_the_sample_is_still_utf8() -> None:
    text = ("x" * 9 + "描").encode("utf-8")
    assert detect_encoding(text[:-1]) == "utf-8"


def test_labels_name_the_encoding_for_people() -> None:
    assert encoding_label("gb18030") == "GB18030 (GBK)"
    assert encoding_label("utf-8-sig") == "UTF-8 (with BOM)"


def _workbook(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_excel_workbook_is_read_with_its_other_columns(tmp_path: Path) -> None:
    path = tmp_path / "seized.xlsx"
    path.write_bytes(
        _workbook(
            [
                ["Name", "SMILES", "Description", "Weight (g)"],
                [101, FENTANYL, "white powder", 2.5],
                [None, None, "empty row", None],
                ["B", "CCO", None, 1],
            ]
        )
    )
    records = list(read_records([str(path)]))
    assert [r.id for r in records] == ["101", "B"]
    assert records[0].columns == (("Description", "white powder"), ("Weight (g)", "2.5"))
    assert records[1].columns == (("Description", ""), ("Weight (g)", "1"))


def test_a_file_that_is_no_workbook_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "seized.xlsx"
    path.write_bytes(b"id,smiles\n")
    with pytest.raises(InvalidInput, match=r"seized.xlsx: not an Excel .xlsx workbook"):
        list(read_records([str(path)]))


@pytest.mark.parametrize("render", ["jsonl", "csv", None])
def test_other_columns_reach_every_output(tmp_path: Path, render: str | None) -> None:
    path = tmp_path / "seized.csv"
    path.write_bytes(TABLE.encode("gbk"))
    codes = ("US", "CN")
    results = list(
        screen_records(
            read_records([str(path)]), date(2024, 1, 1), codes, jobs=1, render=render, keep="all"
        )
    )
    assert [r.record["columns"] for r in results] == [
        {"描述": "海关查获的白色粉末"},
        {"描述": "乙醇样品"},
    ]
    if render == "jsonl":
        lines = [json.loads(r.line) for r in results]
        assert lines[0]["columns"] == {"描述": "海关查获的白色粉末"}
        assert lines[0]["verdicts"]["US"]["status"] == "controlled"
    if render == "csv":
        header = csv_header(codes, ["描述"])
        cells = [r.line.rstrip("\r\n").split(",") for r in results]
        assert len(cells[0]) == len(header)
        assert cells[1][-1] == "乙醇样品"


def test_no_match_lines_carry_columns_too(tmp_path: Path) -> None:
    """The prefilter's fast path writes its line without an Identification."""
    path = tmp_path / "plain.csv"
    path.write_bytes(codecs.BOM_UTF8 + b"smiles,note\nCCO,a\n")
    (result,) = screen_records(
        read_records([str(path)]), date(2024, 1, 1), ("US",), jobs=1, render="jsonl", keep="none"
    )
    assert json.loads(result.line)["columns"] == {"note": "a"}
