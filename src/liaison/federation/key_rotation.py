"""Rotating the node's signing key: the new public key announced to every peer, signed by
the old one, so that the peers accept envelopes signed by the new key from then on.

The announcement is an envelope of kind `key-rotation`, signed by the old key (the peer
checks it against the key it holds), whose body carries the new public key and `proof`,
the new key's signature over (node, old key, new key): only the holder of both keys can
announce it. Its nonce is kept (a replay is refused). The peer replaces the key, audits
`peer.key_rotated` and answers, signed, with the announcement's nonce.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liaison.audit import Actor, AuditEvent, canonical_json, record
from liaison.errors import InvalidInput
from liaison.federation import envelope as env
from liaison.federation.context import LocalNode
from liaison.federation.inbox import refusals_counted, verify_from_peer
from liaison.federation.questions import ask_peer
from liaison.store.base import utcnow
from liaison.store.federation_tables import SeenNonce

KEY_ROTATION_PATH = "/federation/v1/key-rotation"
ANNOUNCE_KIND = "key-rotation"
ANSWER_KIND = "key-rotation-ack"


@dataclass(frozen=True, kw_only=True)
class PeerKeyRotated(AuditEvent):
    action = "peer.key_rotated"
    record_type = "peer"
    peer: str
    old_public_key: str
    new_public_key: str


@dataclass(frozen=True, kw_only=True)
class NodeKeyRotated(AuditEvent):
    action = "node.key_rotated"
    record_type = "node"
    old_public_key: str
    new_public_key: str
    peers_told: list[str]
    peers_not_told: list[str]  # with why: they refuse this node's envelopes until re-peered


def _proof_bytes(node: str, old: str, new: str) -> bytes:
    return canonical_json({"node": node, "old_public_key": old, "new_public_key": new})


def answer_key_rotation(
    session: Session, node: LocalNode, document: Any, *, address: str, now: float | None = None
) -> dict[str, Any]:
    """A peer announces its new key, signed by its old one: hold the new key from now on."""
    with refusals_counted(session, node, document, address):
        sealed = env.parse(document)
        peer, body = verify_from_peer(session, node, sealed, ANNOUNCE_KIND, now)
        new = body.get("new_public_key") if isinstance(body, dict) else None
        proof = body.get("proof") if isinstance(body, dict) else None
        if not isinstance(new, str) or not isinstance(proof, str):
            raise InvalidInput("a key rotation needs 'new_public_key' and 'proof'")
        try:
            env.public_key_from_text(new).verify(
                env.b64decode(proof, "proof"), _proof_bytes(peer.name, peer.public_key, new)
            )
        except InvalidSignature as error:
            raise InvalidInput("the proof is not signed by the new key") from error
        try:
            with session.begin_nested():
                session.add(SeenNonce(peer_id=peer.id, nonce=sealed.nonce, seen_at=utcnow()))
        except IntegrityError as error:
            raise env.EnvelopeRejected(
                "replay", f"envelope nonce from {peer.name!r} was already used"
            ) from error
        old, peer.public_key = peer.public_key, new
        record(
            session,
            Actor.peer(peer.name),
            PeerKeyRotated(
                record_id=peer.id, peer=peer.name, old_public_key=old, new_public_key=new
            ),
        )
        session.commit()
    return env.seal(
        node.private_key,
        sender=node.name,
        recipient=peer.name,
        kind=ANSWER_KIND,
        body={"request_nonce": sealed.nonce, "public_key": new},
        now=now,
    ).to_json()


def announce(
    node: LocalNode,
    new_key: Ed25519PrivateKey,
    peer: str,
    peer_url: str,
    peer_key: str,
    client: httpx.Client,
) -> None:
    """Tell one peer the new key (signed by the node's current key); raise unless it said
    yes, signed."""
    new = env.public_key_text(new_key.public_key())
    proof = env.b64encode(new_key.sign(_proof_bytes(node.name, node.public_key, new)))
    ask_peer(
        node,
        client,
        peer=peer,
        url=peer_url + KEY_ROTATION_PATH,
        peer_key=peer_key,
        kind=ANNOUNCE_KIND,
        answer_kind=ANSWER_KIND,
        body={"new_public_key": new, "proof": proof},
    )
