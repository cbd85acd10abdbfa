"""A passport MRZ as matching evidence: its fields read, compared with a registry person, a
failing check digit reported and not trusted to fill the request."""

from __future__ import annotations

from datetime import date

from liaison.identity.documents import mrz_check_digit
from liaison.identity.passport import MRZ_EVIDENCE, read_passport_mrz

TODAY = date(2026, 11, 30)


def td3(surname: str, given: str, number: str, birth: str, sex: str, expiry: str) -> str:
    """A TD3 MRZ with every check digit computed (ICAO 9303 part 4)."""
    line1 = f"P<CHN{surname}<<{given.replace(' ', '<')}".ljust(44, "<")
    optional = "<" * 14
    body = (
        f"{number.ljust(9, '<')}{mrz_check_digit(number.ljust(9, '<'))}CHN"
        f"{birth}{mrz_check_digit(birth)}{sex}{expiry}{mrz_check_digit(expiry)}"
        f"{optional}{mrz_check_digit(optional)}"
    )
    composite = mrz_check_digit(body[0:10] + body[13:20] + body[21:43])
    return f"{line1}\n{body}{composite}"


LIN = td3("LIN", "AGOU", "E99887766", "850714", "M", "300101")
PERSON = {
    "person_id": "P-1",
    "family_name": "Lin",
    "given_name": "",
    "family_name_native": "林",
    "given_name_native": "阿狗",
    "sex": "M",
    "date_of_birth": "1985-07-14",
    "id_number": "",
}


def test_every_field_is_read_with_dates_in_the_right_century() -> None:
    mrz = read_passport_mrz(LIN, TODAY)
    assert not mrz.failing
    fields = mrz.fields
    assert (fields["surname"], fields["given_names"], fields["document_number"]) == (
        "LIN",
        "AGOU",
        "E99887766",
    )
    assert (fields["nationality"], fields["sex"]) == ("CHN", "M")
    assert (fields["date_of_birth"], fields["date_of_expiry"]) == ("1985-07-14", "2030-01-01")
    # A child born in 2010: 20YY is not after today.
    assert (
        read_passport_mrz(td3("LI", "MING", "E1", "100301", "F", "300101"), TODAY).fields[
            "date_of_birth"
        ]
        == "2010-03-01"
    )


def test_the_mrz_fills_what_the_request_left_empty() -> None:
    mrz = read_passport_mrz(LIN, TODAY)
    filled = mrz.fill({"family_name_native": "林", "date_of_birth": "", "sex": "F"})
    assert filled["family_name"] == "LIN" and filled["given_name"] == "AGOU"
    assert filled["date_of_birth"] == "1985-07-14"
    assert filled["sex"] == "F"  # what the officer wrote is kept


def test_the_comparison_with_a_candidate_names_each_field() -> None:
    mrz = read_passport_mrz(LIN, TODAY)
    evidence = mrz.compare(PERSON, [{"kind": "passport", "number": "E99887766"}])
    assert list(evidence) == list(MRZ_EVIDENCE)
    levels = {key: value["level"] for key, value in evidence.items()}
    assert levels == {
        "mrz_check_digits": "every check digit holds",
        "mrz_name": "same name",  # the pinyin of 林阿狗
        "mrz_date_of_birth": "same date of birth",
        "mrz_sex": "same sex",
        "mrz_document_number": "document E99887766, as the passport declared",
        "mrz_nationality": "nationality CHN",
        "mrz_expiry": "valid until 2030-01-01",
    }
    assert all(value["weight"] == 0.0 for value in evidence.values())
    other = mrz.compare({**PERSON, "given_name": "Wei", "given_name_native": "伟", "sex": "F"})
    assert other["mrz_name"]["level"] == "same family name, different given name"
    assert other["mrz_sex"]["level"] == "different sex"
    assert other["mrz_document_number"]["level"] == "document E99887766"


def test_a_failing_check_digit_is_evidence_and_its_field_is_not_trusted() -> None:
    # The date of birth changed after the check digit was computed.
    broken = LIN.replace("8507147", "8507157")
    mrz = read_passport_mrz(broken, TODAY)
    assert {part for part, _message in mrz.failing} == {"date_of_birth", "composite"}
    assert mrz.fill({"family_name": "Lin"}).get("date_of_birth", "") == ""
    evidence = mrz.compare(PERSON)
    assert evidence["mrz_check_digits"]["level"] == "check digit fails: date_of_birth, composite"
    assert (
        evidence["mrz_date_of_birth"]["level"] == "different dates of birth (its check digit fails)"
    )


def test_an_expired_passport_and_a_different_declared_number_are_said() -> None:
    mrz = read_passport_mrz(td3("LIN", "AGOU", "G1234567", "850714", "M", "200101"), TODAY)
    evidence = mrz.compare(PERSON, [{"kind": "passport", "number": "E99887766"}])
    assert evidence["mrz_expiry"]["level"] == "expired on 2020-01-01"
    assert evidence["mrz_document_number"]["level"] == (
        "document G1234567 differs from the passport declared"
    )


def test_a_partial_date_is_completed_only_by_an_mrz_date_that_agrees_and_checks() -> None:
    mrz = read_passport_mrz(LIN, TODAY)
    assert mrz.fill({"date_of_birth": "1985-07"})["date_of_birth"] == "1985-07-14"
    assert mrz.fill({"date_of_birth": "1985"})["date_of_birth"] == "1985-07-14"
    assert mrz.fill({"date_of_birth": "1986"})["date_of_birth"] == "1986"  # disagrees: kept
    assert mrz.fill({"date_of_birth": "1985-07-15"})["date_of_birth"] == "1985-07-15"


def test_requests_with_a_passport_mrz_column_are_matched_on_its_fields() -> None:
    import pandas as pd

    from liaison.identity.passport import write_td3
    from liaison.identity.people import prepare_people

    good = write_td3("Lin", "Agou", "E1", "CHN", date(1985, 7, 14), "M", date(2030, 1, 1))
    first, second = good.split("\n")
    misread = f"{first} {second[:13]}9{second[14:]}"  # a digit of the birth year misread
    frame = pd.DataFrame(
        {
            "request_id": ["R1", "R2", "R3"],
            "family_name": ["", "Lin", "Lin"],
            "date_of_birth": ["", "1985", "1985"],
            "passport_mrz": [good, misread, ""],
        }
    )
    table, problems = prepare_people(frame, "request_id")
    assert table["date_of_birth"].tolist() == ["1985-07-14", "1985", "1985"]
    assert table["given_name"].tolist()[:2] == ["AGOU", "AGOU"]
    assert table["sex"].tolist()[:2] == ["M", "M"]
    assert [(p.row, p.field) for p in problems if p.field == "passport_mrz"] == [
        (2, "passport_mrz")
    ]
    assert "date_of_birth" in next(p.message for p in problems if p.field == "passport_mrz")


def test_a_name_mistyped_from_the_passport_still_meets_through_the_mrz() -> None:
    import pandas as pd

    from liaison.identity.names import name_keys
    from liaison.identity.passport import write_td3
    from liaison.identity.people import prepare_people

    zone = write_td3("Yang", "Zheng", "E1", "CHN", date(1980, 1, 16), "M", date(2030, 1, 1))
    frame = pd.DataFrame(
        {
            "request_id": ["R1", "R2"],
            "family_name": ["Yhng", "Yhng"],
            "given_name": ["Zheng", "Zheng"],
            "passport_mrz": [zone, ""],
        }
    )
    table, _ = prepare_people(frame, "request_id")
    registry = set(name_keys("", "", "杨", "正").full)
    with_mrz, without = table["name_keys"].tolist()
    assert registry & set(with_mrz) and not registry & set(without)
    # The name as written stays the primary reading (what the officer wrote is shown).
    assert table["name_key"].tolist() == ["yhng zheng", "yhng zheng"]
