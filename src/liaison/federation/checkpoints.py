"""The audit chain anchored at the peers: signed checkpoints of this node's audit head.

Sending: the delivery worker, on each round, shares a checkpoint (sequence, hash, time of
the head, signed with this node's key) with every active peer when at least
`audit_checkpoint_entries` entries were added since the last one, or when
`audit_checkpoint_interval_seconds` have passed and the chain has grown. It travels as an
ordinary outbox record (`CHECKPOINT`, a statement of the sender about itself), so it is
delivered exactly once, in order.
Receiving: the peer checks the signature against the sender's key and keeps it.
Neither side audits a checkpoint (each entry would call for a checkpoint, forever).

Checking: this node asks each peer, in a signed request, for the checkpoints it holds of
this node, and compares them with its own chain. Someone who rewrote the chain's tail
and its head row in this database cannot rewrite what the peers hold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import httpx
import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liaison.audit import (
    Checkpoint,
    CheckpointMismatch,
    canonical_json,
    check_checkpoints,
    current_checkpoint,
)
from liaison.errors import InvalidInput, LiaisonError
from liaison.federation import envelope as env
from liaison.federation.context import LocalNode
from liaison.federation.inbox import refusals_counted, verify_from_peer
from liaison.federation.outbox import share
from liaison.federation.questions import ask_peer
from liaison.federation.records import ProtocolViolation, RecordType
from liaison.messages import T, Text, joined
from liaison.store.audit import AuditCheckpointHeld, AuditCheckpointSent
from liaison.store.base import utcnow
from liaison.store.database import Database
from liaison.store.federation_tables import Peer, PeerStatus

CHECKPOINTS_PATH = "/federation/v1/audit-checkpoints"
REQUEST_KIND = "audit-checkpoints-request"
ANSWER_KIND = "audit-checkpoints"
HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")


def _signed_bytes(node: str, checkpoint: Checkpoint) -> bytes:
    return canonical_json({"node": node, **checkpoint.to_payload()})


# ---------------------------------------------------------------- sending


def share_checkpoint_if_due(database: Database, node: LocalNode) -> Checkpoint | None:
    """Share a signed checkpoint of the audit head with every active peer when one is due;
    returns it (None when none was due)."""
    settings = node.settings
    with database.session() as session:
        last = session.execute(
            sa.select(AuditCheckpointSent).order_by(AuditCheckpointSent.seq.desc()).limit(1)
        ).scalar_one_or_none()
        head = current_checkpoint(session)
        grown = head.seq - (last.seq if last is not None else 0)
        if grown <= 0:
            return None
        peers = session.scalars(
            sa.select(Peer).where(Peer.status == PeerStatus.ACTIVE).order_by(Peer.id)
        ).all()
        if not peers:
            return None  # nobody to anchor at; the first peer gets the next one
        # The interval runs from the last checkpoint, or from the first peering.
        since = last.at if last is not None else min(peer.created_at for peer in peers)
        interval = timedelta(seconds=settings.audit_checkpoint_interval_seconds)
        if grown < settings.audit_checkpoint_entries and head.at - since < interval:
            return None
        signature = env.b64encode(node.private_key.sign(_signed_bytes(node.name, head)))
        session.add(
            AuditCheckpointSent(seq=head.seq, hash=head.hash, at=head.at, signature=signature)
        )
        for peer in peers:
            share(session, peer, CHECKPOINT.name, CheckpointPayload(head, signature).to_payload())
        try:
            session.commit()
        except IntegrityError:
            return None  # another process of this node shared this head first
    return head


# ---------------------------------------------------------------- receiving


def _parse_checkpoint(item: Any, where: str) -> tuple[Checkpoint, str]:
    if not isinstance(item, dict):
        raise InvalidInput(f"{where} must be an object")
    seq, hash_, at, signature = (item.get(k) for k in ("seq", "hash", "at", "signature"))
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise InvalidInput(f"{where}.seq must be a positive integer")
    if not isinstance(hash_, str) or not HASH_PATTERN.match(hash_):
        raise InvalidInput(f"{where}.hash must be 64 lowercase hexadecimal digits")
    if not isinstance(signature, str) or not signature:
        raise InvalidInput(f"{where}.signature must be a non-empty string")
    try:
        moment = datetime.strptime(str(at), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError as error:
        raise InvalidInput(
            f"{where}.at must be a UTC time like 2026-01-31T12:00:00.000000Z"
        ) from error
    return Checkpoint(seq, hash_, moment), signature


def _signed_by(node: str, public_key: str, checkpoint: Checkpoint, signature: str) -> bool:
    try:
        env.public_key_from_text(public_key).verify(
            env.b64decode(signature, "signature"), _signed_bytes(node, checkpoint)
        )
    except (InvalidSignature, InvalidInput):
        return False
    return True


@dataclass(frozen=True)
class CheckpointPayload:
    checkpoint: Checkpoint
    signature: str  # the sender's, over `_signed_bytes`

    def to_payload(self) -> dict[str, Any]:
        return {**self.checkpoint.to_payload(), "signature": self.signature}

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Self:
        return cls(*_parse_checkpoint(data, "checkpoint"))


def receive_checkpoint(
    session: Session,
    node: LocalNode,
    peer: Peer,
    payload: CheckpointPayload,
    related: Sequence[Any],
) -> None:
    """Keep a checkpoint the peer signed; the same seq twice with another hash is refused."""
    checkpoint, signature = payload.checkpoint, payload.signature
    if not _signed_by(peer.name, peer.public_key, checkpoint, signature):
        raise ProtocolViolation(f"checkpoint {checkpoint.seq} is not signed by {peer.name!r}")
    held = session.execute(
        sa.select(AuditCheckpointHeld).where(
            AuditCheckpointHeld.peer_id == peer.id, AuditCheckpointHeld.seq == checkpoint.seq
        )
    ).scalar_one_or_none()
    if held is not None:
        if held.hash != checkpoint.hash:
            raise ProtocolViolation(
                f"{peer.name!r} sent checkpoint {checkpoint.seq} again with another hash"
            )
        return
    session.add(
        AuditCheckpointHeld(
            peer_id=peer.id,
            seq=checkpoint.seq,
            hash=checkpoint.hash,
            at=checkpoint.at,
            signature=signature,
            received_at=utcnow(),
        )
    )


CHECKPOINT: RecordType[CheckpointPayload] = RecordType(
    name="audit.checkpoint", payload=CheckpointPayload, handle=receive_checkpoint
)


def answer_checkpoint_request(
    session: Session, node: LocalNode, document: Any, *, address: str, now: float | None = None
) -> dict[str, Any]:
    """A peer asks, from client `address`, which of its checkpoints this node holds: answer
    them all, signed."""
    with refusals_counted(session, node, document, address):
        sealed = env.parse(document)
        peer, _body = verify_from_peer(session, node, sealed, REQUEST_KIND, now)
        rows = session.execute(
            sa.select(AuditCheckpointHeld)
            .where(AuditCheckpointHeld.peer_id == peer.id)
            .order_by(AuditCheckpointHeld.seq)
        ).scalars()
        checkpoints = [
            {**Checkpoint(row.seq, row.hash, row.at).to_payload(), "signature": row.signature}
            for row in rows
        ]
    return env.seal(
        node.private_key,
        sender=node.name,
        recipient=peer.name,
        kind=ANSWER_KIND,
        # The request's nonce, so an old answer replayed cannot pass for this one.
        body={"request_nonce": sealed.nonce, "checkpoints": checkpoints},
        now=now,
    ).to_json()


# ---------------------------------------------------------------- checking


@dataclass(frozen=True)
class PeerCheck:
    """What one peer holds of this node's chain, and what no longer matches."""

    peer: str
    held: int = 0
    mismatches: tuple[CheckpointMismatch, ...] = ()
    # Checkpoints the peer returned that this node never signed (the peer's doing).
    unsigned: int = 0
    error: str | None = None

    @property
    def matches(self) -> bool:
        return self.error is None and not self.mismatches

    def message(self) -> Text:
        if self.error is not None:
            return T("peer %(peer)s: could not ask (%(error)s)", peer=self.peer, error=self.error)
        if not self.mismatches:
            said = T(
                "peer %(peer)s: all %(held)s checkpoints it holds match",
                peer=self.peer,
                held=self.held,
            )
        else:
            said = T(
                "peer %(peer)s: %(count)s of %(held)s checkpoints no longer match; the first: "
                "%(first)s",
                peer=self.peer,
                count=len(self.mismatches),
                held=self.held,
                first=self.mismatches[0].message(),
            )
        if not self.unsigned:
            return said
        ignored = T("%(count)s not signed by this node ignored", count=self.unsigned)
        return joined([said, ignored])


def _ask(node: LocalNode, peer: Peer, client: httpx.Client) -> list[tuple[Checkpoint, str]]:
    body = ask_peer(
        node,
        client,
        peer=peer.name,
        url=peer.base_url + CHECKPOINTS_PATH,
        peer_key=peer.public_key,
        kind=REQUEST_KIND,
        answer_kind=ANSWER_KIND,
        body={},
    )
    items = body.get("checkpoints")
    if not isinstance(items, list):
        raise InvalidInput("the answer has no 'checkpoints' list")
    return [_parse_checkpoint(item, f"checkpoints[{index}]") for index, item in enumerate(items)]


def check_against_peers(
    session: Session, node: LocalNode, client: httpx.Client | None = None
) -> list[PeerCheck]:
    """Ask every active peer for the checkpoints it holds of this node; report, per peer,
    those this chain no longer matches (lowest seq first)."""
    peers = list(
        session.execute(sa.select(Peer).where(Peer.status == PeerStatus.ACTIVE).order_by(Peer.name))
        .scalars()
        .all()
    )
    session.rollback()  # no transaction (on SQLite: no write lock) held over HTTP
    timeout = node.settings.federation_request_timeout_seconds
    http = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=timeout))
    results = []
    try:
        for peer in peers:
            try:
                answered = _ask(node, peer, http)
            except (httpx.HTTPError, ValueError, LiaisonError) as error:
                detail = error.detail if isinstance(error, LiaisonError) else str(error)
                results.append(PeerCheck(peer.name, error=detail))
                continue
            own = [
                checkpoint
                for checkpoint, signature in answered
                if _signed_by(node.name, node.public_key, checkpoint, signature)
            ]
            results.append(
                PeerCheck(
                    peer.name,
                    held=len(own),
                    mismatches=tuple(check_checkpoints(session, own)),
                    unsigned=len(answered) - len(own),
                )
            )
    finally:
        if client is None:
            http.close()
    return results
