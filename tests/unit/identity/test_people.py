"""Reading REGISTRY and REQUESTS tables: every row kept, bad fields blanked and reported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from liaison.identity.people import COLUMNS, RowProblem, parse_date, place_keys, read_people

HEADER = "request_id," + ",".join(COLUMNS)


def write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "requests.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("written", "read", "problem"),
    [
        ("1985-05-03", "1985-05-03", ""),
        ("1985-5-3", "1985-05-03", ""),
        ("1985-05", "1985-05", ""),
        ("1985", "1985", ""),
        ("", "", ""),
        ("1985-13-05", "1985-05-13", "no month 13: day and month swapped, read as 1985-05-13"),
        ("1985-31-02", "1985", "no month 31: read as the year 1985"),
        ("1985-13", "1985", "no month 13: read as the year 1985"),
        ("1985-02-30", "1985-02", "no such day"),
        ("1700", "", "not a plausible year"),
        ("03/05/1985", "", "is not YYYY-MM-DD, YYYY-MM or YYYY"),
    ],
)
def test_dates_full_partial_and_impossible(written: str, read: str, problem: str) -> None:
    value, message = parse_date(written)
    assert value == read
    assert (problem in message) if problem else message == ""


def test_bad_fields_are_blanked_and_reported_and_no_row_is_dropped(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r1,Wang,Wei,,,M,1985-13-05,Fuzhou,110105194912310021,",
        "r2,Li,Na,,,X,1990-01-01,,E1234567,",
        "r3,,,王,伟,F,,,11010519491231002X,",
    )
    table, problems = read_people(path, "request_id")
    assert table["request_id"].tolist() == ["r1", "r2", "r3"]
    assert problems == [
        RowProblem(
            1,
            "date_of_birth",
            "'1985-13-05': no month 13: day and month swapped, read as 1985-05-13",
        ),
        RowProblem(
            1,
            "id_number",
            "'110105194912310021' is not a valid resident identity number (check_character: "
            "is 1, the first 17 characters give X): read as empty (compared only for a near "
            "match)",
        ),
        RowProblem(2, "sex", "'X' is not M or F: read as empty"),
    ]
    first, second, third = table.to_dict("records")
    assert first["date_of_birth"] == "1985-05-13" and first["id_number"] is None
    assert first["id_number_misread"] == "110105194912310021"
    assert second["id_number_misread"] is None and third["id_number_misread"] is None
    assert first["family_name"] == "Wang"  # the rest of the row is used
    assert second["sex"] is None and second["id_number"] == "E1234567"
    assert third["name_key"] == "wang wei" and third["sex"] == "F"


def test_duplicate_and_empty_ids_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "r1,Wang,Wei,,,,,,,", "r1,Li,Na,,,,,,,", ",Zhang,San,,,,,,,")
    table, problems = read_people(path, "request_id")
    assert len(table) == 3
    assert [(p.row, p.field) for p in problems] == [(2, "request_id"), (3, "request_id")]


def test_a_missing_column_is_read_as_empty_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "requests.csv"
    path.write_text("request_id,family_name,given_name\nr1,Wang,Wei\n", encoding="utf-8")
    table, problems = read_people(path, "request_id")
    assert table.loc[0, "name_key"] == "wang wei"
    assert RowProblem(0, "address", "no such column: read as empty") in problems


def test_a_file_without_the_id_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "requests.csv"
    path.write_text("id,family_name\n1,Wang\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no column 'request_id'"):
        read_people(path, "request_id")


def test_parquet_is_read_like_csv(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        [
            {
                "person_id": "p1",
                "family_name_native": "王",
                "given_name_native": "伟",
                "date_of_birth": "1985-05-03",
                "place_of_birth": "福建省福州市",
            }
        ]
    )
    path = tmp_path / "registry.parquet"
    frame.to_parquet(path)
    table, problems = read_people(path, "person_id")
    assert table.loc[0, "name_key"] == "wang wei"
    assert table.loc[0, "place_keys"] == ["fujian", "fuzhou"]
    assert int(table.loc[0, "dob_day"]) == 3
    assert {p.field for p in problems} == {
        "family_name",
        "given_name",
        "sex",
        "id_number",
        "address",
    }


@pytest.mark.parametrize(
    ("written", "registered"),
    [
        ("Xiamen, Fujian", "福建省厦门市"),  # 厦 read in its place name, not as sha
        ("Changsha, Hunan", "湖南省长沙市"),
        ("Chengdu, Sichuan", "四川省成都市"),
        ("Harbin, Heilongjiang", "黑龙江省哈尔滨市"),  # the usual English spelling
        ("Xi'an, Shaanxi", "陕西省西安市"),  # Xi'an is not the word for a county
    ],
)
def test_a_place_in_english_has_the_keys_of_its_characters(written: str, registered: str) -> None:
    assert place_keys(written) == place_keys(registered)
    assert len(place_keys(written)) == 2


def test_administrative_words_are_dropped_from_places() -> None:
    assert place_keys("Qingtian Xian, Zhejiang") == place_keys("浙江省青田县")
