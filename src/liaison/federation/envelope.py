"""Signed envelopes: every request between nodes, and every answer, is one of these.

An envelope names its sender and recipient node, what it is (`kind`, so a signed answer
cannot be replayed as a request), a timestamp (Unix seconds) and a random nonce, and
carries a JSON body. The detached Ed25519 signature covers the canonical JSON of all of
that. The receiver checks, in order: who sent it, the signature, that it is addressed
to it, the clock window, and (outside this module, against its database) the nonce.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from liaison.audit import canonical_json
from liaison.errors import Forbidden, InvalidInput

DEFAULT_WINDOW_SECONDS = 300
# JSON objects and arrays an envelope may hold, counted before parsing as its '{' and '['
# bytes (those inside strings too, so an upper bound): parsing `[{},{},...]` costs about
# 50 bytes of memory per byte of body. The sender cuts its batches well below this.
MAX_ENVELOPE_BRACKETS = 65_536
# How deep the JSON may nest (a batch needs fewer than 10 levels).
MAX_ENVELOPE_DEPTH = 32
ENVELOPE_FIELDS = ("sender", "recipient", "kind", "timestamp", "nonce", "body")


class EnvelopeRejected(Forbidden):
    """A peer's envelope failed a check; `reason` is a short machine-readable word."""

    title = "Envelope rejected"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class EnvelopeTooLarge(InvalidInput):
    status = 413
    title = "Envelope too large"


def json_brackets(data: bytes) -> int:
    """An upper bound on the JSON objects and arrays in `data`, found without parsing it."""
    return data.count(b"{") + data.count(b"[")


def decode(data: bytes) -> Any:
    """The JSON of an envelope, refused before parsing when it holds too many objects and
    arrays, and after when it nests too deeply."""
    brackets = json_brackets(data)
    if brackets > MAX_ENVELOPE_BRACKETS:
        raise EnvelopeTooLarge(
            f"the envelope holds up to {brackets} JSON objects and arrays; "
            f"the limit is {MAX_ENVELOPE_BRACKETS}"
        )
    try:
        document = json.loads(data)
    except RecursionError as error:
        raise InvalidInput(f"the envelope nests deeper than {MAX_ENVELOPE_DEPTH} levels") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"the request body is not JSON: {error}") from error
    _check_depth(document)
    return document


def _check_depth(document: Any) -> None:
    level: list[Any] = [document]
    for _ in range(MAX_ENVELOPE_DEPTH + 1):
        level = [
            child
            for value in level
            if isinstance(value, dict | list)
            for child in (value.values() if isinstance(value, dict) else value)
        ]
        if not level:
            return
    raise InvalidInput(f"the envelope nests deeper than {MAX_ENVELOPE_DEPTH} levels")


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidInput(f"{what} is not valid base64url: {error}") from error


def public_key_text(key: Ed25519PublicKey) -> str:
    """A public key as it appears in invite codes, peer lists and the database."""
    return b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_from_text(text: str) -> Ed25519PublicKey:
    raw = b64decode(text, "public key")
    if len(raw) != 32:
        raise InvalidInput(f"public key must be 32 bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipient: str
    kind: str
    timestamp: int
    nonce: str
    body: Any
    signature: str

    def to_json(self) -> dict[str, Any]:
        return {
            "sender": self.sender,
            "recipient": self.recipient,
            "kind": self.kind,
            "timestamp": self.timestamp,
            "nonce": self.nonce,
            "body": self.body,
            "signature": self.signature,
        }

    def signed_bytes(self) -> bytes:
        return canonical_json({name: getattr(self, name) for name in ENVELOPE_FIELDS})


def seal(
    key: Ed25519PrivateKey,
    *,
    sender: str,
    recipient: str,
    kind: str,
    body: Any,
    now: float | None = None,
) -> Envelope:
    """Sign `body` from `sender` to `recipient`."""
    unsigned = Envelope(
        sender=sender,
        recipient=recipient,
        kind=kind,
        timestamp=int(time.time() if now is None else now),
        nonce=b64encode(secrets.token_bytes(16)),
        body=body,
        signature="",
    )
    signature = b64encode(key.sign(unsigned.signed_bytes()))
    return Envelope(**{**unsigned.__dict__, "signature": signature})


def is_unicode_text(text: str) -> bool:
    """False for a str that JSON's \\ud800 escapes can make but UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse(document: Any) -> Envelope:
    """Read an envelope from decoded JSON, saying which field is missing or malformed."""
    if not isinstance(document, dict):
        raise InvalidInput("envelope must be a JSON object")
    missing = [name for name in (*ENVELOPE_FIELDS, "signature") if name not in document]
    if missing:
        raise InvalidInput(f"envelope is missing {', '.join(missing)}")
    for name in ("sender", "recipient", "kind", "nonce", "signature"):
        if not isinstance(document[name], str) or not document[name]:
            raise InvalidInput(f"envelope field {name!r} must be a non-empty string")
        if not is_unicode_text(document[name]):
            raise InvalidInput(f"envelope field {name!r} is not valid Unicode (lone surrogate)")
    if not isinstance(document["timestamp"], int) or isinstance(document["timestamp"], bool):
        raise InvalidInput("envelope field 'timestamp' must be an integer (Unix seconds)")
    return Envelope(**{name: document[name] for name in (*ENVELOPE_FIELDS, "signature")})


def verify(
    envelope: Envelope,
    public_key: Ed25519PublicKey,
    *,
    recipient: str,
    kind: str,
    window_seconds: int = DEFAULT_WINDOW_SECONDS,
    now: float | None = None,
) -> Any:
    """Check signature, addressee, kind and clock window; return the body or raise."""
    try:
        signed = envelope.signed_bytes()
    except (InvalidInput, UnicodeEncodeError) as error:
        # A float or a lone surrogate (valid JSON escapes, not signable text) in the body.
        raise EnvelopeRejected("malformed", f"envelope cannot be signed JSON: {error}") from error
    try:
        signature = b64decode(envelope.signature, "signature")
        public_key.verify(signature, signed)
    except (InvalidSignature, InvalidInput) as error:
        raise EnvelopeRejected(
            "bad_signature", f"signature from {envelope.sender!r} does not verify"
        ) from error
    if envelope.recipient != recipient:
        raise EnvelopeRejected(
            "wrong_recipient", f"envelope is addressed to {envelope.recipient!r}, not {recipient!r}"
        )
    if envelope.kind != kind:
        raise EnvelopeRejected("wrong_kind", f"expected a {kind!r} envelope, got {envelope.kind!r}")
    current = time.time() if now is None else now
    skew = envelope.timestamp - current
    if abs(skew) > window_seconds:
        raise EnvelopeRejected(
            "outside_window",
            f"timestamp is {skew:+.0f} s from this node's clock (window ±{window_seconds} s)",
        )
    return envelope.body
