"""Resident identity numbers and MRZs: valid ones, and each kind of invalid one named."""

from __future__ import annotations

import pytest

from liaison.identity.documents import check_resident_id, mrz_check_digit, parse_mrz

# ICAO Doc 9303 part 4 and part 5 specimens (Anna Maria Eriksson of Utopia).
TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
)


def test_a_valid_number_is_split_into_its_parts() -> None:
    check = check_resident_id("11010519491231002X")
    assert check.valid and check.kind == "resident_id" and check.problems == []
    assert check.parts == {
        "region_code": "110105",
        "date_of_birth": "1949-12-31",
        "sequence": "002",
        "sex": "F",
        "check_character": "X",
    }


def test_separators_and_a_lower_case_x_are_normalised() -> None:
    check = check_resident_id(" 110105 19491231 002x ")
    assert check.valid and check.normalised == "11010519491231002X"


def test_a_wrong_check_character_is_named_with_the_right_one() -> None:
    check = check_resident_id("110105194912310021")
    assert not check.valid
    assert check.problems == [("check_character", "is 1, the first 17 characters give X")]


def test_an_impossible_date_of_birth_is_named() -> None:
    body = "11010519490231002"  # 31 February
    check = check_resident_id(body + "0")
    assert not check.valid
    assert check.problems[0][0] == "date_of_birth"
    assert "19490231" in check.problems[0][1]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1101051949123100", "16 characters"),
        ("11010519X91231002X", "character 9 is 'X'"),
    ],
)
def test_a_malformed_number_says_what_is_wrong(value: str, message: str) -> None:
    check = check_resident_id(value)
    assert not check.valid
    assert check.problems[0][0] == "format" and message in check.problems[0][1]


def test_an_unknown_region_code_is_a_note_not_a_reason_to_reject() -> None:
    body = "99990119900101001"
    from stdnum.cn import ric

    number = body + ric.calc_check_digit(body + "0")
    check = check_resident_id(number)
    assert check.valid
    assert [part for part, _ in check.notes] == ["region_code"]


def test_the_legacy_15_digit_number_is_upgraded_to_18_characters() -> None:
    check = check_resident_id("110105491231002")
    assert check.valid and check.kind == "resident_id_15"
    assert check.normalised == "11010519491231002X"
    assert check.parts["date_of_birth"] == "1949-12-31" and check.parts["sex"] == "F"


def test_another_countrys_number_is_compared_as_written() -> None:
    check = check_resident_id("e 1234-5678")
    assert check.kind == "other" and check.valid and check.normalised == "E12345678"


def test_the_icao_check_digit() -> None:
    assert mrz_check_digit("L898902C3") == "6"
    assert mrz_check_digit("740812") == "2"


def test_a_td3_passport_mrz_is_parsed_with_every_check_digit() -> None:
    check = parse_mrz(TD3)
    assert check.valid and check.format == "TD3"
    assert check.fields["surname"] == "ERIKSSON" and check.fields["given_names"] == "ANNA MARIA"
    assert check.fields["document_number"] == "L898902C3"
    assert check.fields["date_of_birth"] == "740812" and check.fields["sex"] == "F"
    assert [d.name for d in check.check_digits] == [
        "document_number",
        "date_of_birth",
        "date_of_expiry",
        "optional_data",
        "composite",
    ]
    assert all(d.ok for d in check.check_digits)


def test_a_td1_card_mrz_is_parsed() -> None:
    check = parse_mrz(TD1)
    assert check.valid and check.format == "TD1"
    assert check.fields["document_number"] == "D23145890"
    assert check.fields["nationality"] == "UTO"


def test_the_failing_check_digit_is_named() -> None:
    broken = TD3.replace("7408122F", "7408132F")  # date of birth changed, digit kept
    check = parse_mrz(broken)
    assert not check.valid
    failing = [d.name for d in check.check_digits if not d.ok]
    assert failing == ["date_of_birth", "composite"]
    assert ("date_of_birth", "check digit is '2', the data give 3") in check.problems


def test_a_text_that_is_no_mrz_says_its_shape() -> None:
    check = parse_mrz("P<UTOERIKSSON<<ANNA\nL898902C3")
    assert not check.valid and check.format == ""
    assert check.problems[0][0] == "layout"


def test_an_mrz_pasted_on_one_line_is_read() -> None:
    assert parse_mrz(TD3.replace("\n", "")).valid
