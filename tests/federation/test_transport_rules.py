"""Pure transport rules: canonical JSON, envelopes, invite codes, backoff, batch planning."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from liaison.audit import canonical_json
from liaison.errors import InvalidInput
from liaison.federation import envelope as env
from liaison.federation.backoff import Backoff
from liaison.federation.invites import decode_invite, new_invite, secret_hash, secret_matches
from liaison.federation.refusals import refusal_key
from liaison.federation.sequencing import plan_batch


def test_canonical_json_sorts_keys_and_keeps_unicode_without_whitespace() -> None:
    assert canonical_json({"b": 1, "a": ["x", {"d": None, "c": True}], "z": "禁毒"}) == (
        '{"a":["x",{"c":true,"d":null}],"b":1,"z":"禁毒"}'.encode()
    )


def test_canonical_json_refuses_floats_and_names_where() -> None:
    with pytest.raises(InvalidInput, match=r"\$\.body\.items\[1\]"):
        canonical_json({"body": {"items": [1, 2.5]}})


def test_canonical_json_refuses_non_string_keys() -> None:
    with pytest.raises(InvalidInput, match="keys must be strings"):
        canonical_json({1: "x"})


@pytest.fixture
def keys() -> tuple[Ed25519PrivateKey, Ed25519PrivateKey]:
    return Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()


def _sealed(key: Ed25519PrivateKey, now: float = 1_000_000) -> env.Envelope:
    return env.seal(key, sender="us", recipient="cn", kind="batch", body={"n": 1}, now=now)


def test_envelope_round_trip_verifies(keys: tuple[Ed25519PrivateKey, Ed25519PrivateKey]) -> None:
    sealed = _sealed(keys[0])
    parsed = env.parse(sealed.to_json())
    body = env.verify(parsed, keys[0].public_key(), recipient="cn", kind="batch", now=1_000_100)
    assert body == {"n": 1}


def test_envelope_nonces_differ(keys: tuple[Ed25519PrivateKey, Ed25519PrivateKey]) -> None:
    assert _sealed(keys[0]).nonce != _sealed(keys[0]).nonce


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"body": {"n": 2}}, "bad_signature"),
        ({"sender": "mallory"}, "bad_signature"),
        ({"timestamp": 1_000_001}, "bad_signature"),
    ],
)
def test_envelope_tampering_is_rejected(
    keys: tuple[Ed25519PrivateKey, Ed25519PrivateKey], change: dict[str, object], reason: str
) -> None:
    document = {**_sealed(keys[0]).to_json(), **change}
    with pytest.raises(env.EnvelopeRejected) as caught:
        env.verify(
            env.parse(document), keys[0].public_key(), recipient="cn", kind="batch", now=1_000_000
        )
    assert caught.value.reason == reason


def test_envelope_signed_by_another_key_is_rejected(
    keys: tuple[Ed25519PrivateKey, Ed25519PrivateKey],
) -> None:
    with pytest.raises(env.EnvelopeRejected, match="does not verify"):
        env.verify(
            _sealed(keys[1]), keys[0].public_key(), recipient="cn", kind="batch", now=1_000_000
        )


def test_envelope_for_another_node_or_kind_is_rejected(
    keys: tuple[Ed25519PrivateKey, Ed25519PrivateKey],
) -> None:
    sealed = _sealed(keys[0])
    with pytest.raises(env.EnvelopeRejected) as caught:
        env.verify(sealed, keys[0].public_key(), recipient="eu", kind="batch", now=1_000_000)
    assert caught.value.reason == "wrong_recipient"
    with pytest.raises(env.EnvelopeRejected) as caught:
        env.verify(sealed, keys[0].public_key(), recipient="cn", kind="ack", now=1_000_000)
    assert caught.value.reason == "wrong_kind"


@pytest.mark.parametrize("offset", [-301, 301, 10_000])
def test_envelope_outside_clock_window_is_rejected(
    keys: tuple[Ed25519PrivateKey, Ed25519PrivateKey], offset: int
) -> None:
    with pytest.raises(env.EnvelopeRejected) as caught:
        env.verify(
            _sealed(keys[0]),
            keys[0].public_key(),
            recipient="cn",
            kind="batch",
            now=1_000_000 - offset,
        )
    assert caught.value.reason == "outside_window"


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_envelope_inside_clock_window_is_accepted(
    keys: tuple[Ed25519PrivateKey, Ed25519PrivateKey], offset: int
) -> None:
    assert env.verify(
        _sealed(keys[0]), keys[0].public_key(), recipient="cn", kind="batch", now=1_000_000 + offset
    ) == {"n": 1}


def test_envelope_parse_names_missing_and_malformed_fields() -> None:
    with pytest.raises(InvalidInput, match=r"missing .*nonce"):
        env.parse(
            {
                "sender": "a",
                "recipient": "b",
                "kind": "k",
                "timestamp": 1,
                "body": {},
                "signature": "x",
            }
        )
    with pytest.raises(InvalidInput, match="timestamp"):
        env.parse(
            {
                "sender": "a",
                "recipient": "b",
                "kind": "k",
                "timestamp": "now",
                "nonce": "n",
                "body": {},
                "signature": "x",
            }
        )


def test_public_key_text_round_trip(keys: tuple[Ed25519PrivateKey, Ed25519PrivateKey]) -> None:
    text = env.public_key_text(keys[0].public_key())
    assert env.public_key_text(env.public_key_from_text(text)) == text
    with pytest.raises(InvalidInput, match="32 bytes"):
        env.public_key_from_text(text[:20])


def test_invite_code_round_trip_is_one_line() -> None:
    key = env.public_key_text(Ed25519PrivateKey.generate().public_key())
    invite = new_invite("us-dea", "http://127.0.0.1:8001/", key, ttl_seconds=60)
    code = invite.encode()
    assert "\n" not in code and " " not in code
    decoded = decode_invite(code + "\n")
    assert decoded == invite.__class__(**{**invite.__dict__, "base_url": "http://127.0.0.1:8001"})
    assert not decoded.is_expired()
    assert decoded.is_expired(now=invite.expires_at)


def test_invite_secret_is_stored_as_a_hash_that_matches_only_itself() -> None:
    invite = new_invite(
        "us", "http://x", env.public_key_text(Ed25519PrivateKey.generate().public_key())
    )
    stored = secret_hash(invite.secret)
    assert invite.secret not in stored
    assert secret_matches(invite.secret, stored)
    assert not secret_matches(invite.secret + "x", stored)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("hello", "must start with"),
        ("liaison-invite:!!!", r"base64url|JSON"),
        ("liaison-invite:" + env.b64encode(b"[1]"), "JSON object"),
        ("liaison-invite:" + env.b64encode(b'{"node":"a"}'), "'url'"),
    ],
)
def test_bad_invite_codes_say_what_is_wrong(code: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        decode_invite(code)


def test_backoff_grows_exponentially_to_a_cap_with_jitter_inside_the_ceiling() -> None:
    backoff = Backoff(base_seconds=1.0, cap_seconds=30.0)
    assert [backoff.ceiling(n) for n in (1, 2, 3, 4, 5, 6, 100)] == [1, 2, 4, 8, 16, 30, 30]
    rng = random.Random(7)
    delays = [backoff.delay(4, rng) for _ in range(200)]
    assert all(0.8 <= delay <= 8.0 for delay in delays)
    assert len({round(delay, 3) for delay in delays}) > 100  # jittered, not constant
    assert backoff.delay(0) == 0.0


@dataclass(frozen=True)
class Item:
    seq: int


def _seqs(items: list[Item]) -> list[int]:
    return [item.seq for item in items]


def test_batch_plan_applies_the_next_run_in_order() -> None:
    plan = plan_batch(3, [Item(5), Item(4), Item(6)])
    assert _seqs(plan.to_apply) == [4, 5, 6]
    assert plan.acknowledged == 6 and plan.duplicate_seqs == [] and plan.gap_at is None


def test_batch_plan_skips_what_was_already_applied() -> None:
    plan = plan_batch(5, [Item(4), Item(5), Item(6)])
    assert _seqs(plan.to_apply) == [6]
    assert plan.duplicate_seqs == [4, 5] and plan.acknowledged == 6


def test_batch_plan_stops_at_a_gap() -> None:
    plan = plan_batch(1, [Item(2), Item(4), Item(5)])
    assert _seqs(plan.to_apply) == [2]
    assert plan.gap_at == 3 and plan.acknowledged == 2


def test_batch_plan_applies_nothing_when_the_batch_starts_beyond_the_gap() -> None:
    plan = plan_batch(0, [Item(3)])
    assert plan.to_apply == [] and plan.gap_at == 1 and plan.acknowledged == 0


def test_batch_plan_of_a_full_replay_applies_nothing() -> None:
    plan = plan_batch(9, [Item(7), Item(8), Item(9)])
    assert plan.to_apply == [] and plan.duplicate_seqs == [7, 8, 9] and plan.acknowledged == 9


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:1:2:3", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
        ("testclient", "testclient"),
    ],
)
def test_refusals_are_counted_per_ipv4_address_and_per_ipv6_64(address: str, key: str) -> None:
    assert refusal_key(address) == key
