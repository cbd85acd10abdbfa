"""The incident rules: units, entity normalisation and validation, dose equivalents.

Pure functions of their arguments; no database, no transport.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

import base58
import bech32
import phonenumbers
from Crypto.Hash import keccak
from stdnum import iban
from stdnum.exceptions import ValidationError

from liaison.errors import InvalidInput
from liaison.store.incident_tables import EntityKind, Unit
from liaison.text import check_storable_text

MAX_NARRATIVE = 20_000
MAX_ITEMS = 50
MAX_ENTITIES = 50
MAX_ROUTE = 12
# Exact by definition (international yard and pound agreement, 1959).
GRAMS_PER_UNIT: dict[str, float] = {
    Unit.MG: 0.001,
    Unit.G: 1.0,
    Unit.KG: 1000.0,
    Unit.LB: 453.59237,
    Unit.OZ: 28.349523125,
}
COUNTRY = re.compile(r"^[A-Z]{2}$")


def to_grams(quantity: float, unit: str) -> float | None:
    """The mass in grams; None for a volume or a count (no density or weight assumed)."""
    factor = GRAMS_PER_UNIT.get(unit)
    return None if factor is None else quantity * factor


def check_country(value: str, where: str) -> str:
    code = value.strip().upper()
    if not COUNTRY.match(code):
        raise InvalidInput(f"{where}: {value!r} is not a two-letter country code (ISO 3166)")
    return code


def parse_route(value: str | list[str], where: str = "route") -> list[str]:
    """Country codes in travel order: a list, or a string of codes separated by `>`."""
    parts = value.split(">") if isinstance(value, str) else value
    codes = [check_country(part, f"{where}[{i}]") for i, part in enumerate(parts) if part.strip()]
    if len(codes) > MAX_ROUTE:
        raise InvalidInput(f"{where}: at most {MAX_ROUTE} countries")
    return codes


def check_plain(value: str, where: str, limit: int) -> str:
    check_storable_text(value, where)
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{where} has {len(value)} characters; the limit is {limit}")
    return value


def statuses_of(verdicts: dict[str, Any]) -> str:
    """The distinct verdict statuses as the `statuses` column holds them: ",a,b,"."""
    found = sorted({str(v.get("status", "")) for v in verdicts.values()})
    return "," + ",".join(found) + ","


# ---------------------------------------------------------------- entities

# Legal-form words dropped from company names so "Acme Trading Co., Ltd." is "acme trading".
LEGAL_SUFFIXES = frozenset(
    [
        "ltd",
        "limited",
        "co",
        "company",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "llc",
        "llp",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sarl",
        "srl",
        "bv",
        "nv",
        "pte",
        "pty",
        "kk",
        "oy",
        "ab",
        "as",
        "spa",
        "sas",
    ]
)
CHINESE_LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "公司")
BECH32M_CONSTANT = 0x2BC830A3  # BIP 350
CHAINS = ("bitcoin", "ethereum", "tron")


@dataclass(frozen=True)
class Entity:
    kind: str
    value: str  # as written
    normalized: str
    role: str = ""
    chain: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "normalized": self.normalized,
            "role": self.role,
            "chain": self.chain,
        }


def _words(value: str) -> str:
    """NFKC, case-folded, punctuation as spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKC", value).casefold()
    text = "".join(" " if unicodedata.category(c)[0] in "PSZ" else c for c in text)
    return " ".join(text.split())


def _company(value: str) -> str:
    words = _words(value).split()
    while words and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    name = " ".join(words)
    for suffix in CHINESE_LEGAL_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)].strip()
    return name


def _phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as error:
        raise InvalidInput(
            f"phone {value!r}: give it in international form, +country code and number ({error})"
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"phone {value!r} is not a valid number for its country code")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _email(value: str) -> str:
    address = value.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or " " in address:
        raise InvalidInput(f"email {value!r} is not an address of the form name@domain")
    return f"{local}@{domain.lower()}"


def _bank_account(value: str) -> str:
    compact = re.sub(r"[\s-]", "", value).upper()
    if re.match(r"^[A-Z]{2}\d{2}", compact):
        try:
            return str(iban.validate(compact))
        except ValidationError as error:
            raise InvalidInput(f"bank_account {value!r} is not a valid IBAN: {error}") from error
    bank, colon, number = value.rpartition(":")
    digits = re.sub(r"[\s-]", "", number).upper()
    if not colon or not bank.strip() or not digits.isalnum():
        raise InvalidInput(
            f"bank_account {value!r}: give an IBAN, or the bank and the number as 'bank: number'"
        )
    return f"{_words(bank)}:{digits}"


def _base58check(value: str, versions: tuple[int, ...], what: str) -> str:
    try:
        decoded = base58.b58decode_check(value)
    except ValueError as error:
        raise InvalidInput(f"{what} {value!r}: bad Base58Check checksum ({error})") from error
    if len(decoded) != 21 or decoded[0] not in versions:
        raise InvalidInput(f"{what} {value!r}: not an address of this chain (version byte)")
    return value


def _bitcoin(value: str) -> str:
    if value.lower().startswith("bc1"):
        lowered = value.lower()
        if value not in (lowered, value.upper()):
            raise InvalidInput(f"bitcoin address {value!r} mixes upper and lower case")
        hrp, _ = bech32.bech32_decode(lowered)
        if hrp is None:
            # bech32 1.2 knows BIP 173 only: a taproot address (BIP 350) uses bech32m.
            hrp, _, payload = lowered.rpartition("1")
            values = [bech32.CHARSET.find(c) for c in payload]
            if hrp != "bc" or -1 in values or len(values) < 7:
                raise InvalidInput(f"bitcoin address {value!r}: not bech32")
            polymod = bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + values)
            if polymod != BECH32M_CONSTANT or values[0] == 0:
                raise InvalidInput(f"bitcoin address {value!r}: bad bech32 checksum")
        elif hrp != "bc" or bech32.decode("bc", lowered) == (None, None):
            raise InvalidInput(f"bitcoin address {value!r}: bad segwit address")
        return lowered
    return _base58check(value, (0x00, 0x05), "bitcoin address")


def _ethereum(value: str) -> str:
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        raise InvalidInput(f"ethereum address {value!r}: expected 0x and 40 hex digits")
    digits = value[2:]
    if digits not in (digits.lower(), digits.upper()):
        # Mixed case is an EIP-55 checksum: the case of each letter is set by keccak-256.
        digest = keccak.new(digest_bits=256, data=digits.lower().encode()).hexdigest()
        expected = "".join(
            c.upper() if c.isalpha() and int(h, 16) >= 8 else c.lower()
            for c, h in zip(digits.lower(), digest[:40], strict=True)
        )
        if digits != expected:
            raise InvalidInput(f"ethereum address {value!r}: bad EIP-55 checksum")
    return "0x" + digits.lower()


def _tron(value: str) -> str:
    return _base58check(value, (0x41,), "tron address")


WALLET_CHECKS = {"bitcoin": _bitcoin, "ethereum": _ethereum, "tron": _tron}


def normalize_entity(kind: str, value: str, chain: str | None = None) -> tuple[str, str | None]:
    """The entity's normalised value (and chain), or InvalidInput saying what is wrong."""
    check_storable_text(value, f"{kind} value")
    value = value.strip()
    if not value:
        raise InvalidInput(f"{kind}: the value is empty")
    if kind == EntityKind.CRYPTO_WALLET:
        name = (chain or "").strip().lower()
        if not name:
            raise InvalidInput(f"crypto_wallet {value!r}: name its chain ({', '.join(CHAINS)})")
        check = WALLET_CHECKS.get(name)
        # Other chains are kept as written: their formats are not checked here.
        return (check(value) if check else value), name
    if kind == EntityKind.COMPANY:
        normalized = _company(value)
    elif kind == EntityKind.PHONE:
        normalized = _phone(value)
    elif kind == EntityKind.EMAIL:
        normalized = _email(value)
    elif kind == EntityKind.BANK_ACCOUNT:
        normalized = _bank_account(value)
    elif kind == EntityKind.ADDRESS:
        normalized = _words(value)
    elif kind in (EntityKind.VESSEL, EntityKind.FLIGHT, EntityKind.TRACKING_NUMBER):
        normalized = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value)).upper()
    else:
        raise InvalidInput(f"entity kind {kind!r} is not one of {', '.join(EntityKind)}")
    if not normalized:
        raise InvalidInput(f"{kind} {value!r} has nothing left once normalised")
    return normalized, None


def entity(kind: str, value: str, role: str = "", chain: str | None = None) -> Entity:
    normalized, chain = normalize_entity(kind, value, chain)
    return Entity(kind, value.strip(), normalized[:500], check_plain(role, "role", 64), chain)


# ---------------------------------------------------------------- dose equivalents


@dataclass(frozen=True)
class DoseDefault:
    dose_mg: float
    source: str
    url: str
    retrieved: date
    confirmed: bool
    note: str


# Only figures an authority states; a substance without one needs dose_mg from the user.
DOSE_DEFAULTS: dict[str, DoseDefault] = {
    "fentanyl": DoseDefault(
        2.0,
        "US DEA: 2 mg of fentanyl is a potentially deadly dose (One Pill Can Kill)",
        "https://www.dea.gov/onepill",
        date(2026, 11, 29),
        False,
        "the DEA page itself was not reachable from here; the 2 mg figure is the one the DEA "
        "states in its public campaign and press releases, as reported in the press "
        "(e.g. KELO, 2022-08). Check the page before relying on the wording.",
    ),
}


@dataclass(frozen=True)
class DoseEquivalent:
    doses: float
    grams: float
    pure_grams: float
    purity_percent: float
    dose_mg: float
    assumptions: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "doses": self.doses,
            "grams": self.grams,
            "pure_grams": self.pure_grams,
            "purity_percent": self.purity_percent,
            "dose_mg": self.dose_mg,
            "assumptions": self.assumptions,
        }


def dose_equivalents(
    substance: str,
    quantity: float,
    unit: str,
    purity_percent: float | None = None,
    dose_mg: float | None = None,
) -> DoseEquivalent:
    """How many doses of `dose_mg` the pure substance in the quantity makes, with every
    assumption stated. Counts and volumes have no mass here: they are refused."""
    if quantity < 0:
        raise InvalidInput(f"quantity must not be negative (got {quantity})")
    grams = to_grams(quantity, unit)
    if grams is None:
        raise InvalidInput(
            f"unit {unit!r} is not a mass; give the quantity in {', '.join(GRAMS_PER_UNIT)}"
        )
    assumptions = [f"{quantity:g} {unit} = {grams:g} g"]
    if purity_percent is None:
        purity_percent = 100.0
        assumptions.append("purity 100% assumed (none given): an upper bound")
    elif not 0 < purity_percent <= 100:
        raise InvalidInput(f"purity_percent must be above 0 and at most 100 (got {purity_percent})")
    else:
        assumptions.append(f"purity {purity_percent:g}% as given")
    if dose_mg is None:
        default = DOSE_DEFAULTS.get(substance.strip().casefold())
        if default is None:
            raise InvalidInput(
                f"no default dose for {substance!r}; give dose_mg "
                f"(defaults exist for: {', '.join(DOSE_DEFAULTS)})"
            )
        dose_mg = default.dose_mg
        assumptions.append(
            f"dose {dose_mg:g} mg: {default.source} ({default.url}, "
            f"{default.retrieved.isoformat()}"
            f"{'' if default.confirmed else '; not confirmed: ' + default.note})"
        )
    elif dose_mg <= 0:
        raise InvalidInput(f"dose_mg must be above 0 (got {dose_mg})")
    else:
        assumptions.append(f"dose {dose_mg:g} mg as given")
    pure_grams = grams * purity_percent / 100
    doses = pure_grams * 1000 / dose_mg
    return DoseEquivalent(doses, grams, pure_grams, purity_percent, dose_mg, assumptions)
