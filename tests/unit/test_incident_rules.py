"""Incident rules: mass units, entity normalisation and validation, dose arithmetic."""

from __future__ import annotations

import pytest

from liaison.errors import InvalidInput
from liaison.services.entities import normalize_entity
from liaison.services.incidents.rules import dose_equivalents, parse_route, statuses_of, to_grams


@pytest.mark.parametrize(
    ("quantity", "unit", "grams"),
    [
        (2, "g", 2.0),
        (1.5, "kg", 1500.0),
        (1, "lb", 453.59237),
        (1, "oz", 28.349523125),
        (250, "mg", 0.25),
        (3, "L", None),
        (500, "mL", None),
        (1000, "tablets", None),
        (7, "units", None),
    ],
)
def test_every_unit_normalises_to_grams_or_says_it_is_not_a_mass(
    quantity: float, unit: str, grams: float | None
) -> None:
    expected = None if grams is None else pytest.approx(grams)
    assert to_grams(quantity, unit) == expected


def test_21000_lb_of_pure_fentanyl_at_2_mg_is_about_4_76_billion_doses() -> None:
    answer = dose_equivalents("fentanyl", 21_000, "lb")
    assert answer.doses == pytest.approx(4.7627e9, rel=1e-4)
    assert answer.dose_mg == 2.0 and answer.purity_percent == 100.0
    assert any("purity 100% assumed" in a for a in answer.assumptions)
    assert any("DEA" in a and "2 mg" in a for a in answer.assumptions)


@pytest.mark.parametrize(
    ("quantity", "unit", "grams"),
    [(1, "kg", 1000.0), (1, "g", 1.0), (10, "mg", 0.01), (2, "lb", 907.18474), (4, "oz", 113.3981)],
)
def test_the_dose_arithmetic_for_every_mass_unit(quantity: float, unit: str, grams: float) -> None:
    answer = dose_equivalents("Fentanyl", quantity, unit, purity_percent=10, dose_mg=2)
    assert answer.grams == pytest.approx(grams, rel=1e-6)
    assert answer.pure_grams == pytest.approx(grams / 10, rel=1e-6)
    assert answer.doses == pytest.approx(grams / 10 * 1000 / 2, rel=1e-6)


@pytest.mark.parametrize("unit", ["L", "mL", "tablets", "units"])
def test_doses_of_a_volume_or_a_count_are_refused_with_the_reason(unit: str) -> None:
    with pytest.raises(InvalidInput, match="not a mass"):
        dose_equivalents("fentanyl", 1, unit)


def test_a_substance_without_a_cited_default_needs_dose_mg() -> None:
    with pytest.raises(InvalidInput, match="no default dose for 'carfentanil'"):
        dose_equivalents("carfentanil", 1, "g")
    assert dose_equivalents("carfentanil", 1, "g", dose_mg=0.02).doses == pytest.approx(50_000)


@pytest.mark.parametrize(
    ("kind", "written", "normalized"),
    [
        ("company", "Acme Trading Co., Ltd.", "acme trading"),
        ("company", "ACME  TRADING CO LTD", "acme trading"),
        ("company", "武汉某某化工有限公司", "武汉某某化工"),
        ("phone", "+1 (202) 456-1111", "+12024561111"),
        ("phone", "+86 10 6552 9988", "+861065529988"),
        ("email", "Sales@Example.COM", "Sales@example.com"),
        ("bank_account", "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
        ("bank_account", "Bank of Example: 0012-3456-78", "bank of example:0012345678"),
        ("tracking_number", "ee 123 456 789 cn", "EE123456789CN"),
        ("address", "12, Harbour Rd.,  Shenzhen", "12 harbour rd shenzhen"),
    ],
)
def test_one_entity_written_two_ways_is_one(kind: str, written: str, normalized: str) -> None:
    assert normalize_entity(kind, written) == (normalized, None)


@pytest.mark.parametrize(
    ("chain", "address", "normalized"),
    [
        ("bitcoin", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
        (
            "bitcoin",
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        ),
        (
            "bitcoin",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        ),
        (
            "ethereum",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        ),
        (
            "ethereum",
            "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        ),
        ("tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
    ],
)
def test_wallets_of_each_chain_are_checked_and_normalised(
    chain: str, address: str, normalized: str
) -> None:
    assert normalize_entity("crypto_wallet", address, chain.upper()) == (normalized, chain)


@pytest.mark.parametrize(
    ("kind", "value", "chain", "reason"),
    [
        ("bank_account", "GB82 WEST 1234 5698 7654 31", None, "not a valid IBAN"),
        ("bank_account", "12345678", None, "give an IBAN, or the bank and the number"),
        ("crypto_wallet", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "bitcoin", "Base58Check"),
        (
            "crypto_wallet",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
            "bitcoin",
            "bad segwit address|bad bech32 checksum",
        ),
        (
            "crypto_wallet",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
            "ethereum",
            "bad EIP-55 checksum",
        ),
        ("crypto_wallet", "0x5aAeb605", "ethereum", "40 hex digits"),
        ("crypto_wallet", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "tron", "version byte"),
        ("crypto_wallet", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", None, "name its chain"),
        ("phone", "2024561111", None, "international form"),
        ("phone", "+1 000 000 0000", None, "not a valid number"),
        ("email", "not an address", None, "name@domain"),
        ("vessel", "   ", None, "empty"),
    ],
)
def test_bad_entities_are_refused_with_the_reason(
    kind: str, value: str, chain: str | None, reason: str
) -> None:
    with pytest.raises(InvalidInput, match=reason):
        normalize_entity(kind, value, chain)


def test_routes_and_statuses() -> None:
    assert parse_route("cn > mx>US") == ["CN", "MX", "US"]
    with pytest.raises(InvalidInput, match=r"route\[1\]: 'Mexico'"):
        parse_route(["CN", "Mexico"])
    verdicts = {"US": {"status": "controlled"}, "CN": {"status": "no_match"}}
    assert statuses_of(verdicts) == ",controlled,no_match,"
