"""The receiving side: verify a peer's batch and apply it exactly once, in order.

Checks, in order: the sender is a known peer that is not revoked; the signature; that
the envelope is a batch addressed to this node; the clock window; the nonce has not
been seen. Then, in ONE transaction: the records that continue the peer's stream are
applied through the handler registered for their type, the last applied sequence
advances, and the answer (a signed "ack" envelope) names it. A rejected envelope
changes nothing but the audit trail.

Record handlers enforce ownership. A record the protocol does not allow (a peer editing
a record it does not own, a reply in a thread it is not part of) is skipped and
audited, and still counts as applied: retrying it could never succeed and would block
every later record. A record type this node does not know stops the batch before it
(nothing is lost; the sender retries, e.g. after this node is upgraded).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from liaison import audit
from liaison.errors import InvalidInput, LiaisonError
from liaison.federation import envelope as env
from liaison.federation.context import LocalNode
from liaison.federation.sequencing import plan_batch
from liaison.store.base import utcnow
from liaison.store.federation_tables import Peer, PeerInbound, SeenNonce

BATCH_KIND = "batch"
ACK_KIND = "ack"
MAX_AUDITED_SENDER = 64
MAX_AUDITED_DETAIL = 2000

# A handler applies one record from `peer` to this node (`LocalNode`) in the caller's transaction.
RecordHandler = Callable[[Session, LocalNode, Peer, dict[str, Any]], None]
_handlers: dict[str, RecordHandler] = {}


class ProtocolViolation(InvalidInput):
    """A peer sent a record the protocol does not let it send."""


def register_record_type(record_type: str, handler: RecordHandler) -> None:
    """Services call this at import for each record type they share."""
    _handlers[record_type] = handler


@dataclass(frozen=True)
class IncomingRecord:
    seq: int
    record_type: str
    payload: dict[str, Any]


def parse_records(body: Any) -> list[IncomingRecord]:
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise InvalidInput("batch body must be an object with a 'records' list")
    records = []
    for index, item in enumerate(body["records"]):
        where = f"records[{index}]"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where} must be an object")
        seq, record_type, payload = item.get("seq"), item.get("type"), item.get("payload")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise InvalidInput(f"{where}.seq must be a positive integer")
        if not isinstance(record_type, str) or not record_type:
            raise InvalidInput(f"{where}.type must be a non-empty string")
        if not isinstance(payload, dict):
            raise InvalidInput(f"{where}.payload must be an object")
        records.append(IncomingRecord(seq, record_type, payload))
    return records


def _audit_rejection(session: Session, document: Any, reason: str, detail: str) -> None:
    """Audit a refused envelope under the sender it claims, cut short: anyone can claim any
    name, and the rejection must not let an unknown sender write unbounded data."""
    claimed = document.get("sender") if isinstance(document, dict) else None
    sender = claimed if isinstance(claimed, str) and claimed else "(no sender)"
    sender = sender.encode("utf-8", "backslashreplace").decode("utf-8")[:MAX_AUDITED_SENDER]
    audit.record(
        session,
        audit.Actor.peer(sender),
        audit.EnvelopeRefused(record_id=sender, reason=reason, detail=detail[:MAX_AUDITED_DETAIL]),
    )
    session.commit()


@contextmanager
def refusals_audited(session: Session, document: Any) -> Iterator[None]:
    """Refusing an envelope (bad or malformed) rolls back what it did and audits the refusal."""
    try:
        yield
    except env.EnvelopeRejected as rejection:
        session.rollback()
        _audit_rejection(session, document, rejection.reason, rejection.detail)
        raise
    except InvalidInput as malformed:
        session.rollback()
        _audit_rejection(session, document, "malformed", malformed.detail)
        raise


def receive_batch(
    session: Session, node: LocalNode, document: Any, now: float | None = None
) -> dict[str, Any]:
    """Verify and apply one batch; return the signed acknowledgement as JSON."""
    with refusals_audited(session, document):
        sealed = env.parse(document)
        peer, records = _verify(session, node, sealed, now)
        acknowledgement = _apply(session, node, peer, sealed, records)
    return env.seal(
        node.private_key,
        sender=node.name,
        recipient=peer.name,
        kind=ACK_KIND,
        body=acknowledgement,
        now=now,
    ).to_json()


def _verify(
    session: Session, node: LocalNode, sealed: env.Envelope, now: float | None
) -> tuple[Peer, list[IncomingRecord]]:
    peer, body = verify_from_peer(session, node, sealed, BATCH_KIND, now)
    return peer, parse_records(body)


def verify_from_peer(
    session: Session, node: LocalNode, sealed: env.Envelope, kind: str, now: float | None = None
) -> tuple[Peer, Any]:
    """The sending peer (known, not revoked) and the body of its `kind` envelope to this node."""
    peer = session.execute(sa.select(Peer).where(Peer.name == sealed.sender)).scalar_one_or_none()
    if peer is None:
        raise env.EnvelopeRejected("unknown_peer", f"{sealed.sender!r} is not a peer of this node")
    if peer.status != "active":
        raise env.EnvelopeRejected("revoked_peer", f"peer {peer.name!r} is {peer.status}")
    body = env.verify(
        sealed,
        env.public_key_from_text(peer.public_key),
        recipient=node.name,
        kind=kind,
        window_seconds=node.settings.federation_clock_window_seconds,
        now=now,
    )
    return peer, body


def _apply(
    session: Session,
    node: LocalNode,
    peer: Peer,
    sealed: env.Envelope,
    records: list[IncomingRecord],
) -> dict[str, Any]:
    window_seconds = node.settings.federation_clock_window_seconds
    moment = utcnow()
    # A nonce older than the window cannot come back: its envelope would fail the clock check.
    horizon = moment - timedelta(seconds=2 * window_seconds)
    session.execute(sa.delete(SeenNonce).where(SeenNonce.seen_at < horizon))
    try:
        with session.begin_nested():
            session.add(SeenNonce(peer_id=peer.id, nonce=sealed.nonce, seen_at=moment))
    except IntegrityError as error:
        raise env.EnvelopeRejected(
            "replay", f"envelope nonce from {peer.name!r} was already used (replayed batch)"
        ) from error
    inbound = session.execute(
        sa.select(PeerInbound).where(PeerInbound.peer_id == peer.id).with_for_update()
    ).scalar_one_or_none()
    if inbound is None:
        inbound = PeerInbound(peer_id=peer.id, last_applied_seq=0)
        session.add(inbound)
    plan = plan_batch(inbound.last_applied_seq, records)
    applied, skipped, stopped_at = 0, 0, None
    for record in plan.to_apply:
        handler = _handlers.get(record.record_type)
        if handler is None:
            stopped_at = record.seq
            break
        try:
            with session.begin_nested():
                handler(session, node, peer, record.payload)
            applied += 1
        except (LiaisonError, IntegrityError, DataError) as error:
            # Deterministic refusals only: a record that breaks the rules or the schema
            # would fail the same way on every retry. Anything else (a lost connection)
            # fails the whole batch, which the sender retries.
            skipped += 1
            audit.record(
                session,
                audit.Actor.peer(peer.name),
                audit.RecordRefused(
                    shared_type=record.record_type,
                    record_id=record.seq,
                    reason=error.detail if isinstance(error, LiaisonError) else str(error.orig),
                    payload=json.dumps(record.payload)[:2000],
                ),
            )
        inbound.last_applied_seq = record.seq
    inbound.last_received_at = moment
    session.commit()
    return {
        # The batch's nonce, so an old ack replayed cannot pass for the answer to this one.
        "batch_nonce": sealed.nonce,
        "acknowledged": inbound.last_applied_seq,
        "applied": applied,
        "refused": skipped,
        "duplicates": plan.duplicates,
        "gap_at": plan.gap_at,
        "unknown_type_at": stopped_at,
    }
