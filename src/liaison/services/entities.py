"""Entities mentioned by incidents, their follow-ups and hotline messages (issue 10):
companies, addresses, phones, e-mail addresses, bank accounts, crypto wallets, vessels,
flights, tracking numbers. Each value is normalised so that one entity written two ways
is one, and validated where a format has a checksum (IBAN, wallet addresses, phone
numbers). Shared by the hotline and the incidents, so it belongs to neither.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import base58
import bech32
import phonenumbers
from Crypto.Hash import keccak
from stdnum import iban
from stdnum.exceptions import ValidationError

from liaison.errors import InvalidInput
from liaison.federation.records import ProtocolViolation
from liaison.messages import T
from liaison.store.incident_tables import EntityKind, IncidentEntity
from liaison.text import check_storable_text

MAX_ENTITIES = 50
MAX_ROLE = 64

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
            T(
                "phone %(value)s: give it in international form, +country code and "
                "number (%(error)s)",
                value=repr(value),
                error=str(error),
            )
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            T("phone %(value)s is not a valid number for its country code", value=repr(value))
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _email(value: str) -> str:
    address = value.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or " " in address:
        raise InvalidInput(
            T("email %(value)s is not an address of the form name@domain", value=repr(value))
        )
    return f"{local}@{domain.lower()}"


def _bank_account(value: str) -> str:
    compact = re.sub(r"[\s-]", "", value).upper()
    if re.match(r"^[A-Z]{2}\d{2}", compact):
        try:
            return str(iban.validate(compact))
        except ValidationError as error:
            raise InvalidInput(
                T(
                    "bank_account %(value)s is not a valid IBAN: %(error)s",
                    value=repr(value),
                    error=str(error),
                )
            ) from error
    bank, colon, number = value.rpartition(":")
    digits = re.sub(r"[\s-]", "", number).upper()
    if not colon or not bank.strip() or not digits.isalnum():
        raise InvalidInput(
            T(
                "bank_account %(value)s: give an IBAN, or the bank and the number as "
                "'bank: number'",
                value=repr(value),
            )
        )
    return f"{_words(bank)}:{digits}"


def _base58check(value: str, versions: tuple[int, ...], what: str) -> str:
    try:
        decoded = base58.b58decode_check(value)
    except ValueError as error:
        raise InvalidInput(
            T(
                "%(what)s %(value)s: bad Base58Check checksum (%(error)s)",
                what=what,
                value=repr(value),
                error=str(error),
            )
        ) from error
    if len(decoded) != 21 or decoded[0] not in versions:
        raise InvalidInput(
            T(
                "%(what)s %(value)s: not an address of this chain (version byte)",
                what=what,
                value=repr(value),
            )
        )
    return value


def _bitcoin(value: str) -> str:
    if value.lower().startswith("bc1"):
        lowered = value.lower()
        if value not in (lowered, value.upper()):
            raise InvalidInput(
                T("bitcoin address %(value)s mixes upper and lower case", value=repr(value))
            )
        hrp, _ = bech32.bech32_decode(lowered)
        if hrp is None:
            # bech32 1.2 knows BIP 173 only: a taproot address (BIP 350) uses bech32m.
            hrp, _, payload = lowered.rpartition("1")
            values = [bech32.CHARSET.find(c) for c in payload]
            if hrp != "bc" or -1 in values or len(values) < 7:
                raise InvalidInput(T("bitcoin address %(value)s: not bech32", value=repr(value)))
            polymod = bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + values)
            if polymod != BECH32M_CONSTANT or values[0] == 0:
                raise InvalidInput(
                    T("bitcoin address %(value)s: bad bech32 checksum", value=repr(value))
                )
        elif hrp != "bc" or bech32.decode("bc", lowered) == (None, None):
            raise InvalidInput(
                T("bitcoin address %(value)s: bad segwit address", value=repr(value))
            )
        return lowered
    return _base58check(value, (0x00, 0x05), "bitcoin address")


def _ethereum(value: str) -> str:
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        raise InvalidInput(
            T("ethereum address %(value)s: expected 0x and 40 hex digits", value=repr(value))
        )
    digits = value[2:]
    if digits not in (digits.lower(), digits.upper()):
        # Mixed case is an EIP-55 checksum: the case of each letter is set by keccak-256.
        digest = keccak.new(digest_bits=256, data=digits.lower().encode()).hexdigest()
        expected = "".join(
            c.upper() if c.isalpha() and int(h, 16) >= 8 else c.lower()
            for c, h in zip(digits.lower(), digest[:40], strict=True)
        )
        if digits != expected:
            raise InvalidInput(
                T("ethereum address %(value)s: bad EIP-55 checksum", value=repr(value))
            )
    return "0x" + digits.lower()


def _tron(value: str) -> str:
    return _base58check(value, (0x41,), "tron address")


WALLET_CHECKS = {"bitcoin": _bitcoin, "ethereum": _ethereum, "tron": _tron}


def normalize_entity(kind: str, value: str, chain: str | None = None) -> tuple[str, str | None]:
    """The entity's normalised value (and chain), or InvalidInput saying what is wrong."""
    check_storable_text(value, f"{kind} value")
    value = value.strip()
    if not value:
        raise InvalidInput(T("%(kind)s: the value is empty", kind=kind))
    if kind == EntityKind.CRYPTO_WALLET:
        name = (chain or "").strip().lower()
        if not name:
            raise InvalidInput(
                T(
                    "crypto_wallet %(value)s: name its chain (%(chains)s)",
                    value=repr(value),
                    chains=", ".join(CHAINS),
                )
            )
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
        raise InvalidInput(
            T(
                "entity kind %(kind)s is not one of %(kinds)s",
                kind=repr(kind),
                kinds=", ".join(EntityKind),
            )
        )
    if not normalized:
        raise InvalidInput(
            T("%(kind)s %(value)s has nothing left once normalised", kind=kind, value=repr(value))
        )
    return normalized, None


def entity(kind: str, value: str, role: str = "", chain: str | None = None) -> Entity:
    normalized, chain = normalize_entity(kind, value, chain)
    check_storable_text(role, "role")
    role = role.strip()
    if len(role) > MAX_ROLE:
        raise InvalidInput(
            T(
                "role has %(count)s characters; the limit is %(max_role)s",
                count=len(role),
                max_role=MAX_ROLE,
            )
        )
    return Entity(kind, value.strip(), normalized[:500], role, chain)


@dataclass(frozen=True)
class EntityInput:
    kind: str
    value: str
    role: str = ""
    chain: str | None = None


def checked_entities(entities: Sequence[EntityInput], where: str = "entities") -> list[Entity]:
    if len(entities) > MAX_ENTITIES:
        raise InvalidInput(
            T("%(where)s: at most %(max_entities)s", where=where, max_entities=MAX_ENTITIES)
        )
    found = []
    for index, given in enumerate(entities):
        try:
            found.append(entity(given.kind, given.value, given.role, given.chain))
        except InvalidInput as error:
            raise InvalidInput(
                T("%(where)s[%(index)s]: %(error)s", where=where, index=index, error=error.detail)
            ) from error
    return found


def entity_wire(entities: Sequence[Entity]) -> list[dict[str, Any]]:
    """Entities as a payload carries them: as written; each node normalises on arrival."""
    return [{"kind": e.kind, "value": e.value, "role": e.role, "chain": e.chain} for e in entities]


def entities_from_wire(items: Any) -> tuple[Entity, ...]:
    if not isinstance(items, list) or len(items) > MAX_ENTITIES:
        raise InvalidInput(
            T("entities must be a list of at most %(max_entities)s", max_entities=MAX_ENTITIES)
        )
    found = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            raise InvalidInput(T("entities[%(index)s] must be an object with a value", index=index))
        try:
            found.append(
                entity(
                    str(item.get("kind")),
                    item["value"],
                    str(item.get("role") or ""),
                    item.get("chain"),
                )
            )
        except InvalidInput as error:
            raise InvalidInput(
                T("entities[%(index)s]: %(error)s", index=index, error=error.detail)
            ) from error
    return tuple(found)


def entity_of(row: IncidentEntity) -> Entity:
    return Entity(row.kind, row.value, row.normalized, row.role, row.chain)


def mention(entity: Entity, **owner: int) -> IncidentEntity:
    """A row saying that `entity` is mentioned by the record named in `owner` (an
    incident_id, follow_up_id or hotline_message_id)."""
    return IncidentEntity(**mention_row(entity), **owner)


def mention_row(entity: Entity) -> dict[str, Any]:
    """The `entity_mentions` columns of a mention of `entity` (without its owner)."""
    return {
        "kind": entity.kind,
        "chain": entity.chain,
        "value": entity.value[:500],
        "normalized": entity.normalized,
        "role": entity.role,
    }


def entities_of_payload(data: dict[str, Any]) -> tuple[Entity, ...]:
    """The entities of a peer's payload (none from peers that predate them)."""
    try:
        # Normalised again here: the same value is one entity on both nodes.
        return entities_from_wire(data.get("entities", []))
    except InvalidInput as error:
        raise ProtocolViolation(str(error)) from error
