"""Invite codes: one line that carries everything the other node needs to peer.

The code holds the inviting node's name, base URL and public key, a one-time secret and
its expiry. The inviting node keeps only the SHA-256 of the secret, so a leaked database
does not leak usable invites; the accepting node proves it holds the code by sending
the secret back inside an envelope signed with its own key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from liaison.audit import canonical_json
from liaison.errors import InvalidInput
from liaison.federation.envelope import b64decode, b64encode, public_key_from_text
from liaison.messages import T

PREFIX = "liaison-invite:"
DEFAULT_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Invite:
    node: str
    base_url: str
    public_key: str
    secret: str
    expires_at: int

    def encode(self) -> str:
        document = {
            "node": self.node,
            "url": self.base_url,
            "key": self.public_key,
            "secret": self.secret,
            "expires": self.expires_at,
        }
        return PREFIX + b64encode(canonical_json(document))

    def is_expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at


def new_invite(
    node: str, base_url: str, public_key: str, ttl_seconds: int = DEFAULT_TTL_SECONDS
) -> Invite:
    return Invite(
        node=node,
        base_url=base_url.rstrip("/"),
        public_key=public_key,
        secret=b64encode(secrets.token_bytes(24)),
        expires_at=int(time.time()) + ttl_seconds,
    )


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)


def decode_invite(code: str) -> Invite:
    """Parse an invite code, saying what is wrong with it when it cannot be used."""
    code = code.strip()
    if not code.startswith(PREFIX):
        raise InvalidInput(T("invite code must start with %(prefix)s", prefix=repr(PREFIX)))
    raw = b64decode(code[len(PREFIX) :], "invite code")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(
            T("invite code does not contain JSON: %(error)s", error=str(error))
        ) from error
    if not isinstance(document, dict):
        raise InvalidInput(T("invite code must contain a JSON object"))
    for name, kind in (("node", str), ("url", str), ("key", str), ("secret", str)):
        if not isinstance(document.get(name), kind) or not document[name]:
            raise InvalidInput(T("invite code field %(name)s is missing or empty", name=repr(name)))
    if not isinstance(document.get("expires"), int):
        raise InvalidInput(T("invite code field 'expires' must be an integer"))
    if not document["url"].startswith(("http://", "https://")):
        raise InvalidInput(T("invite code URL %(url)s is not http(s)", url=repr(document["url"])))
    public_key_from_text(document["key"])  # fails early on a mangled key
    return Invite(
        node=document["node"],
        base_url=document["url"],
        public_key=document["key"],
        secret=document["secret"],
        expires_at=document["expires"],
    )
