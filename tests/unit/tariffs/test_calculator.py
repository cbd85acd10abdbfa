"""The calculator: rates and amounts on an entry's date, stacking, exemptions, the IEEPA part,
rounding, and errors that name the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from liaison.tariffs import DutyResult, EntryError, calculate, entry_from_fields


def duty(origin: str, day: str, value: str = "10000", **extra: str) -> DutyResult:
    return calculate(
        entry_from_fields({"origin": origin, "entry_date": day, "customs_value": value, **extra})
    )


def charged(result: DutyResult) -> list[tuple[str, str]]:
    return [(m.measure.id, str(m.amount)) for m in result.measures]


def exempt(result: DutyResult) -> list[tuple[str, str]]:
    return [(e.measure.id, e.exemption.kind) for e in result.exempted]


def test_china_rates_follow_the_orders() -> None:
    assert charged(duty("CN", "2025-02-03")) == []
    assert charged(duty("CN", "2025-02-04")) == [("CN-IEEPA-FENTANYL-10", "1000.00")]
    assert charged(duty("CN", "2025-03-10")) == [("CN-IEEPA-FENTANYL-20", "2000.00")]
    assert charged(duty("CN", "2025-11-10")) == [("CN-IEEPA-FENTANYL-10-NOV2025", "1000.00")]
    assert charged(duty("HK", "2025-03-10")) == [("CN-IEEPA-FENTANYL-20", "2000.00")]


def test_the_ieepa_part_is_what_the_ruling_made_refundable() -> None:
    before = duty("CN", "2026-02-23")
    assert before.ieepa_total == before.total_additional == Decimal("1000.00")
    after = duty("CN", "2026-02-24")
    assert charged(after) == [("US-S122-10", "1000.00")]
    assert after.ieepa_total == Decimal("0.00") and after.total_additional == Decimal("1000.00")
    assert after.to_dict()["measures"][0]["ieepa"] is False
    assert before.to_dict()["measures"][0]["ieepa"] is True


def test_ordinary_duty_stacks_beside_the_additional_duty() -> None:
    result = duty("CN", "2025-03-10", ordinary_rate="6.5")
    assert result.ordinary_duty == Decimal("650.00")
    assert result.total_additional == Decimal("2000.00")  # computed on the customs value
    assert result.to_dict()["ordinary_duty"] == "650.00"


def test_usmca_exemption_starts_on_7_march_2025_and_is_not_retroactive() -> None:
    assert charged(duty("CA", "2025-03-06", usmca="yes")) == [("CA-IEEPA-25", "2500.00")]
    on_time = duty("CA", "2025-03-07", usmca="yes")
    assert charged(on_time) == [] and exempt(on_time) == [("CA-IEEPA-25", "usmca")]
    assert charged(duty("MX", "2025-03-06", usmca="true")) == [("MX-IEEPA-25", "2500.00")]
    assert charged(duty("MX", "2025-03-07", usmca="true")) == []
    assert charged(duty("MX", "2025-03-07")) == [("MX-IEEPA-25", "2500.00")]
    assert charged(duty("MX", "2026-03-02", usmca="true")) == []  # section 122 exempts it too
    note = duty("CA", "2025-03-06", usmca="yes").notes[0]
    assert note == "CA-IEEPA-25: USMCA qualification did not exempt this entry on 2025-03-06"


def test_canada_rates_and_the_energy_and_potash_rates() -> None:
    assert charged(duty("CA", "2025-07-31")) == [("CA-IEEPA-25", "2500.00")]
    assert charged(duty("CA", "2025-08-01")) == [("CA-IEEPA-35", "3500.00")]
    assert charged(duty("CA", "2025-03-10", category="energy")) == [
        ("CA-IEEPA-ENERGY-10", "1000.00")
    ]
    assert charged(duty("CA", "2025-08-01", category="energy")) == [
        ("CA-IEEPA-ENERGY-10", "1000.00")
    ]
    # potash paid the general rate until its own rate began on 7 March 2025
    assert charged(duty("CA", "2025-03-06", category="potash")) == [("CA-IEEPA-25", "2500.00")]
    assert charged(duty("CA", "2025-03-07", category="potash")) == [
        ("CA-IEEPA-POTASH-10", "1000.00")
    ]
    assert charged(duty("MX", "2025-03-07", category="potash")) == [
        ("MX-IEEPA-POTASH-10", "1000.00")
    ]
    assert charged(duty("MX", "2025-03-10", category="energy")) == [("MX-IEEPA-25", "2500.00")]
    # after the ruling energy is outside the section 122 surcharge
    assert charged(duty("CA", "2026-03-02", category="energy")) == []


def test_donations_and_informational_materials_are_outside_ieepa() -> None:
    for category in ("donation", "informational_materials"):
        result = duty("CN", "2025-03-10", category=category)
        assert charged(result) == [] and exempt(result) == [("CN-IEEPA-FENTANYL-20", "category")]


def test_de_minimis_windows() -> None:
    # denied 4-6 Feb 2025, restored from 7 Feb, ended for China on 2 May 2025
    assert charged(duty("CN", "2025-02-06", "500", de_minimis="yes")) == [
        ("CN-IEEPA-FENTANYL-10", "50.00")
    ]
    assert charged(duty("CN", "2025-02-07", "500", de_minimis="yes")) == []
    assert charged(duty("CN", "2025-05-01", "500", de_minimis="yes")) == []
    assert charged(duty("CN", "2025-05-02", "500", de_minimis="yes")) == [
        ("CN-IEEPA-FENTANYL-20", "100.00")
    ]
    # Canada and Mexico kept it until the suspension for all countries on 29 Aug 2025
    assert charged(duty("CA", "2025-08-28", "500", de_minimis="yes")) == []
    assert charged(duty("CA", "2025-08-29", "500", de_minimis="yes")) == [("CA-IEEPA-35", "175.00")]
    assert charged(duty("MX", "2025-08-29", "500", de_minimis="yes")) == [("MX-IEEPA-25", "125.00")]
    # without the claim, a low value is charged like any other
    assert charged(duty("CN", "2025-02-07", "500")) == [("CN-IEEPA-FENTANYL-10", "50.00")]


def test_goods_in_transit_on_the_start_date() -> None:
    in_transit = duty("CN", "2025-03-06", loaded_on="2025-01-31")
    assert charged(in_transit) == [] and exempt(in_transit) == [
        ("CN-IEEPA-FENTANYL-20", "in_transit")
    ]
    assert charged(duty("CN", "2025-02-10", loaded_on="2025-02-01")) == [
        ("CN-IEEPA-FENTANYL-10", "1000.00")
    ]
    assert charged(duty("CN", "2025-03-07", loaded_on="2025-01-31")) == [
        ("CN-IEEPA-FENTANYL-20", "2000.00")
    ]
    assert charged(duty("MX", "2026-02-27", loaded_on="2026-02-23")) == []
    assert charged(duty("MX", "2026-02-28", loaded_on="2026-02-23")) == [("US-S122-10", "1000.00")]


def test_amounts_are_rounded_to_the_cent_half_up_and_totals_sum_the_rounded_lines() -> None:
    assert charged(duty("CN", "2025-03-10", "333.33")) == [("CN-IEEPA-FENTANYL-20", "66.67")]
    assert charged(duty("CA", "2025-03-10", "0.10")) == [("CA-IEEPA-25", "0.03")]  # 0.025
    assert charged(duty("CA", "2025-03-10", "0.05")) == [("CA-IEEPA-25", "0.01")]  # 0.0125
    assert duty("CN", "2025-03-10", "1,234.50").total_additional == Decimal("246.90")


def test_unconfirmed_measures_and_limits_are_said_with_the_result() -> None:
    notes = duty("CN", "2025-12-01").notes
    assert any(n.startswith("CN-IEEPA-FENTANYL-10-NOV2025 is not fully confirmed:") for n in notes)
    assert "section 232" in notes[-1]
    assert not any("not fully confirmed" in n for n in duty("CN", "2025-03-10").notes)


def test_hts_codes_are_checked_and_normalised() -> None:
    entry = entry_from_fields(
        {"origin": "cn", "entry_date": "2025-03-10", "customs_value": "1", "hts": "2933394100"}
    )
    assert entry.origin == "CN" and entry.hts == "2933.39.41.00"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"origin": ""}, "origin", "missing"),
        ({"origin": "China"}, "origin", "'CHINA' is not a two-letter country code"),
        ({"entry_date": "10/03/2025"}, "entry_date", "'10/03/2025' is not a date"),
        ({"customs_value": "-5"}, "customs_value", "'-5' is not a non-negative number"),
        ({"customs_value": "ten"}, "customs_value", "'ten' is not a number"),
        ({"usmca": "yes"}, "usmca", "only goods of Canada or Mexico can qualify, not CN"),
        ({"usmca": "maybe"}, "usmca", "'maybe' is not true or false"),
        ({"category": "steel"}, "category", "'steel' is not one of energy, potash"),
        ({"loaded_on": "2025-04-01"}, "loaded_on", "2025-04-01 is after the entry date"),
        ({"hts": "29.33"}, "hts", "'29.33' is not an HTS code"),
        ({"de_minimis": "yes"}, "de_minimis", "valued at 10000 is above the $800 limit"),
    ],
)
def test_bad_fields_name_the_field(fields: dict[str, str], field: str, message: str) -> None:
    base = {"origin": "CN", "entry_date": "2025-03-10", "customs_value": "10000"}
    with pytest.raises(EntryError) as caught:
        entry_from_fields({**base, **fields})
    assert caught.value.field == field
    assert message in caught.value.message


@pytest.mark.parametrize(("given", "expected"), [(True, True), (False, False), ("yes", True)])
def test_flags_are_taken_as_bools_or_parsed_from_text(given: bool | str, expected: bool) -> None:
    entry = entry_from_fields(
        {
            "origin": "MX",
            "entry_date": "2025-03-10",
            "customs_value": "500",
            "usmca": given,
            "de_minimis": given,
        }
    )
    assert (entry.usmca, entry.de_minimis) == (expected, expected)


def test_a_flag_where_text_is_expected_is_refused_naming_the_field() -> None:
    with pytest.raises(EntryError) as caught:
        entry_from_fields({"origin": "MX", "entry_date": True, "customs_value": "500"})
    assert caught.value.field == "entry_date"
