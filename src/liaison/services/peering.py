"""Peering as a workflow: invite another node, accept its invite, revoke a peer, and the
admin view of each peer's streams; every change is audited.

The handshake itself (signed request and answer) is the protocol's, in
liaison.federation.peers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.audit import Actor, PeerInviteIssued, PeerJoined, PeerRevoked, record
from liaison.errors import NotFound
from liaison.federation.capabilities import note_handshake, said_record_types
from liaison.federation.context import LocalNode
from liaison.federation.invites import decode_invite, new_invite, secret_hash
from liaison.federation.peers import check_peer_url, request_peering, store_peer
from liaison.federation.records import RecordTypes, stamp
from liaison.messages import T
from liaison.store.base import utcnow
from liaison.store.federation_tables import (
    OutboxRecord,
    Peer,
    PeerDelivery,
    PeerInbound,
    PeerInvite,
    PeerStatus,
    RefusedRecord,
    SeenNonce,
)


def issue_invite(session: Session, node: LocalNode, actor: Actor, ttl_seconds: int) -> str:
    """Create a one-time invite and return its code; the caller commits."""
    check_peer_url(node.base_url, node.settings, "this node's base URL")
    invite = new_invite(node.name, node.base_url, node.public_key, ttl_seconds)
    session.add(
        PeerInvite(
            secret_hash=secret_hash(invite.secret),
            expires_at=datetime.fromtimestamp(invite.expires_at, UTC),
        )
    )
    record(session, actor, PeerInviteIssued(expires_at=invite.expires_at))
    return invite.encode()


def accept_invite(
    session: Session,
    node: LocalNode,
    record_types: RecordTypes,
    code: str,
    actor: Actor,
    client: httpx.Client | None = None,
) -> Peer:
    """The invited node's side: complete the handshake over HTTP, store the peer and let
    the record types send it their standing state."""
    invite = decode_invite(code)
    body = request_peering(node, record_types, invite, client)
    peer = store_peer(
        session,
        invite.node,
        invite.base_url,
        invite.public_key,
        str(body.get("default_agency") or invite.node),
    )
    note_handshake(
        peer, said_record_types(body.get("record_types"), "the answer's record_types"), record_types
    )
    record(
        session,
        actor,
        PeerJoined(record_id=peer.name, base_url=peer.base_url, public_key=peer.public_key),
    )
    record_types.peer_activated(session, node, peer)
    session.commit()
    return peer


def revoke_peer(session: Session, name: str, actor: Actor) -> Peer:
    """Stop trusting a peer: its envelopes are refused and nothing more is sent to it."""
    peer = session.execute(sa.select(Peer).where(Peer.name == name)).scalar_one_or_none()
    if peer is None:
        raise NotFound(T("no peer named %(name)s", name=repr(name)))
    if peer.status != PeerStatus.REVOKED:
        peer.status = PeerStatus.REVOKED
        peer.revoked_at = utcnow()
        record(session, actor, PeerRevoked(record_id=name))
    session.commit()
    return peer


@dataclass(frozen=True)
class PeerState:
    """One row of the admin view: a peer and the state of the stream to and from it."""

    name: str
    base_url: str
    status: str
    default_agency: str
    public_key: str
    last_seq: int
    acked_seq: int
    pending: int
    oldest_pending_at: datetime | None
    failures: int
    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None
    next_attempt_at: datetime | None
    last_applied_seq: int
    last_received_at: datetime | None
    # Records the peer refused (acknowledged, never delivered), and the latest of them.
    refused: int = 0
    last_refused: RefusedRecord | None = None
    # Retention: delivered rows still kept (a peer restored from a backup is sent again
    # what follows its acknowledgement, down to the first kept sequence), and the nonces
    # of the peer's envelopes still remembered against replay.
    kept_delivered: int = 0
    kept_from_seq: int | None = None
    seen_nonces: int = 0

    def oldest_pending_age_seconds(self, now: datetime | None = None) -> int | None:
        if self.oldest_pending_at is None:
            return None
        return int(((now or utcnow()) - self.oldest_pending_at).total_seconds())

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "base_url": self.base_url,
            "status": self.status,
            "default_agency": self.default_agency,
            "public_key": self.public_key,
            "outbox": {
                "last_seq": self.last_seq,
                "acked_seq": self.acked_seq,
                "pending": self.pending,
                "oldest_pending_at": stamp(self.oldest_pending_at),
                "oldest_pending_age_seconds": self.oldest_pending_age_seconds(),
                "failures": self.failures,
                "last_error": self.last_error,
                "last_error_at": stamp(self.last_error_at),
                "last_success_at": stamp(self.last_success_at),
                "next_attempt_at": stamp(self.next_attempt_at),
                "refused": self.refused,
                "last_refused": None
                if self.last_refused is None
                else {
                    "seq": self.last_refused.seq,
                    "record_type": self.last_refused.record_type,
                    "record_id": self.last_refused.record_id,
                    "reason": self.last_refused.reason,
                    "refused_at": stamp(self.last_refused.refused_at),
                },
            },
            "inbound": {
                "last_applied_seq": self.last_applied_seq,
                "last_received_at": stamp(self.last_received_at),
                "seen_nonces": self.seen_nonces,
            },
            "retention": {
                "kept_delivered": self.kept_delivered,
                "kept_from_seq": self.kept_from_seq,
            },
        }


def peer_states(session: Session) -> list[PeerState]:
    rows = session.execute(
        sa.select(Peer, PeerDelivery, PeerInbound)
        .outerjoin(PeerDelivery, PeerDelivery.peer_id == Peer.id)
        .outerjoin(PeerInbound, PeerInbound.peer_id == Peer.id)
        .order_by(Peer.name)
    ).all()
    states = []
    for peer, delivery, inbound in rows:
        acked = delivery.acked_seq if delivery else 0
        oldest = session.execute(
            sa.select(OutboxRecord.created_at).where(
                OutboxRecord.peer_id == peer.id, OutboxRecord.seq == acked + 1
            )
        ).scalar_one_or_none()
        refused = session.scalar(sa.select(sa.func.count()).where(RefusedRecord.peer_id == peer.id))
        last_refused = session.scalars(
            sa.select(RefusedRecord)
            .where(RefusedRecord.peer_id == peer.id)
            .order_by(RefusedRecord.seq.desc())
            .limit(1)
        ).one_or_none()
        kept_delivered, kept_from_seq = session.execute(
            sa.select(
                sa.func.count().filter(OutboxRecord.seq <= acked), sa.func.min(OutboxRecord.seq)
            ).where(OutboxRecord.peer_id == peer.id)
        ).one()
        seen_nonces = session.scalar(sa.select(sa.func.count()).where(SeenNonce.peer_id == peer.id))
        states.append(
            PeerState(
                name=peer.name,
                base_url=peer.base_url,
                status=peer.status,
                default_agency=peer.default_agency,
                public_key=peer.public_key,
                last_seq=peer.last_seq,
                acked_seq=acked,
                pending=max(peer.last_seq - acked, 0),
                oldest_pending_at=oldest,
                failures=delivery.failures if delivery else 0,
                last_error=delivery.last_error if delivery else None,
                last_error_at=delivery.last_error_at if delivery else None,
                last_success_at=delivery.last_success_at if delivery else None,
                next_attempt_at=delivery.next_attempt_at if delivery else None,
                last_applied_seq=inbound.last_applied_seq if inbound else 0,
                last_received_at=inbound.last_received_at if inbound else None,
                refused=refused or 0,
                last_refused=last_refused,
                kept_delivered=kept_delivered,
                kept_from_seq=kept_from_seq,
                seen_nonces=seen_nonces or 0,
            )
        )
    return states
