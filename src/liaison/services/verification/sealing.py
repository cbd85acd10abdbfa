"""Personal data sealed at rest: AES-256-GCM with the node's own key, kept with the
node's secrets (the key file beside the signing key and the secret, owner-only); and
sealed between two peered nodes with a key they share (`pair_key`), so that what waits
in the outbox for the peer is not in clear either.

A sealed value is `LS1` + the key's 8-character id + a 96-bit random nonce + the
ciphertext with its tag; the record's global id is the associated data, so a sealed
value copied onto another record does not open. The key file holds every key still in
use: `rotate` adds a new current key, re-seals every value with it (see
`commands.rotate_key`) and only then drops the old ones.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from liaison.errors import ConfigurationError
from liaison.federation.records import ProtocolViolation

KEY_FILE = "personal_data.keys"
MAGIC = b"LS1"
KEY_ID_LENGTH = 8
NONCE_LENGTH = 12


@dataclass(frozen=True)
class Keyring:
    path: Path
    current: str
    keys: dict[str, bytes]

    @classmethod
    def of(cls, directory: Path) -> Keyring:
        """The node's keyring, created (owner-only) on first use."""
        path = directory / KEY_FILE
        if not path.exists():
            key_id = secrets.token_hex(KEY_ID_LENGTH // 2)
            # Another process may create it first: then read theirs.
            with contextlib.suppress(FileExistsError):
                _write(path, key_id, {key_id: AESGCM.generate_key(bit_length=256)}, create=True)
        try:
            data = json.loads(path.read_text(encoding="ascii"))
            keys = {k: base64.b64decode(v) for k, v in data["keys"].items()}
            current = str(data["current"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ConfigurationError(
                f"cannot read the personal-data key file {path}: {error}"
            ) from error
        if current not in keys or any(len(k) != 32 for k in keys.values()):
            raise ConfigurationError(f"{path} does not hold a usable current 256-bit key")
        return cls(path, current, keys)

    def seal(self, value: Any, context: str) -> bytes:
        """`value` (JSON) sealed with the current key, bound to `context` (a global id)."""
        plain = json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return self.seal_bytes(plain, context)

    def open(self, sealed: bytes, context: str) -> Any:
        return json.loads(self.open_bytes(sealed, context))

    def reseal(self, sealed: bytes, context: str) -> bytes:
        """The same value sealed with the current key."""
        return self.seal_bytes(self.open_bytes(sealed, context), context)

    def seal_bytes(self, plain: bytes, context: str) -> bytes:
        nonce = os.urandom(NONCE_LENGTH)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, plain, context.encode())
        return MAGIC + self.current.encode("ascii") + nonce + sealed

    def open_bytes(self, sealed: bytes, context: str) -> bytes:
        if not sealed.startswith(MAGIC):
            raise ConfigurationError("a sealed value has an unknown format")
        start = len(MAGIC)
        key_id = sealed[start : start + KEY_ID_LENGTH].decode("ascii", "replace")
        nonce = sealed[start + KEY_ID_LENGTH : start + KEY_ID_LENGTH + NONCE_LENGTH]
        key = self.keys.get(key_id)
        if key is None:
            raise ConfigurationError(
                f"a value is sealed with key {key_id}, which {self.path} no longer holds"
            )
        try:
            return AESGCM(key).decrypt(
                nonce, sealed[start + KEY_ID_LENGTH + NONCE_LENGTH :], context.encode()
            )
        except InvalidTag as error:
            raise ConfigurationError(f"a sealed value of {context} fails its check") from error

    def with_new_key(self) -> Keyring:
        """A new current key beside the old ones, written to the key file."""
        key_id = secrets.token_hex(KEY_ID_LENGTH // 2)
        keys = {**self.keys, key_id: AESGCM.generate_key(bit_length=256)}
        _write(self.path, key_id, keys)
        return Keyring(self.path, key_id, keys)

    def without_old_keys(self) -> Keyring:
        keys = {self.current: self.keys[self.current]}
        _write(self.path, self.current, keys)
        return Keyring(self.path, self.current, keys)


def _write(path: Path, current: str, keys: dict[str, bytes], *, create: bool = False) -> None:
    """Write the key file whole: a new file, fsynced, renamed over the old one."""
    text = json.dumps(
        {"current": current, "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()}}
    )
    target = path if create else path.with_name(path.name + ".new")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if create else os.O_TRUNC)
    descriptor = os.open(target, flags, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    if not create:
        os.replace(target, path)


# ---------------------------------------------------------------- between two nodes

# The field prime of Curve25519 (RFC 7748).
_P = 2**255 - 19


def _montgomery_u(edwards_public: bytes) -> bytes:
    """The X25519 public key of an Ed25519 public key: u = (1 + y) / (1 - y) mod p, the
    birational map between the two forms of the curve (RFC 7748, section 4.1)."""
    y = int.from_bytes(edwards_public, "little") & ((1 << 255) - 1)
    u = (1 + y) * pow((1 - y) % _P, _P - 2, _P) % _P
    return u.to_bytes(32, "little")


def pair_key(own: Ed25519PrivateKey, peer: Ed25519PublicKey, names: tuple[str, str]) -> bytes:
    """The AES-256 key two peered nodes share, from their signing keys (X25519 on the same
    scalars, HKDF-SHA256): personal data travels, and waits in the outbox, sealed with it,
    so it is never stored in clear on either node."""
    seed = own.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    # The X25519 scalar of an Ed25519 key is the first half of SHA-512 of its seed
    # (clamped by X25519 itself), as in RFC 8032, section 5.1.5.
    scalar = X25519PrivateKey.from_private_bytes(hashlib.sha512(seed).digest()[:32])
    point = X25519PublicKey.from_public_bytes(
        _montgomery_u(peer.public_bytes(Encoding.Raw, PublicFormat.Raw))
    )
    info = ("liaison verification transport|" + "|".join(sorted(names))).encode()
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=info).derive(scalar.exchange(point))


@dataclass(frozen=True)
class PairSeal:
    """Seals a JSON value for the peer: base64 of nonce and ciphertext, bound to a global id."""

    key: bytes

    def seal(self, value: Any, context: str) -> str:
        nonce = os.urandom(NONCE_LENGTH)
        plain = json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")
        sealed = AESGCM(self.key).encrypt(nonce, plain, context.encode())
        return base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, text: str, context: str) -> Any:
        try:
            raw = base64.b64decode(text, validate=True)
            plain = AESGCM(self.key).decrypt(
                raw[:NONCE_LENGTH], raw[NONCE_LENGTH:], context.encode()
            )
            return json.loads(plain)
        except (ValueError, InvalidTag) as error:
            raise ProtocolViolation(
                f"the sealed content of {context} does not open with the key of this pair"
            ) from error
