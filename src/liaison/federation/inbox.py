"""The receiving side: verify a peer's batch and apply it exactly once, in order.

Checks, in order: the sender is a known peer that is not revoked; the signature; that
the envelope is a batch addressed to this node; the clock window; the nonce has not
been seen. Then, in ONE transaction: the records that continue the peer's stream are
applied through the handler registered for their type, the last applied sequence
advances, and the answer (a signed "ack" envelope) names it. A rejected envelope
changes nothing but the refusal count of the address it came from (.refusals).

Records are applied through the node's `RecordTypes` (liaison.federation.records),
which checks ownership for every type before its handler runs. A record the protocol
does not allow (a peer editing a record it does not own, a reply in a thread it is not
part of, text no database here could store alike) is refused: audited, named with its
reason in the acknowledgement's `refused_records` (so the sender shows it as refused,
never as delivered), and counted as applied: the sequence moves past it, because
retrying it could never succeed and would block every later record. A record type this
node does not know stops the batch before it (nothing is lost; the sender retries, e.g.
after this node is upgraded). So does a record refused while this node, restored from a
backup, is still taking its own records back from the peer (`Peer.recover_from`,
liaison.federation.resync): it may be a reply in one of those records, not back yet. It
is not acknowledged; the sender retries it with its backoff, and once the mark is cleared
it is applied, or refused for good.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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
from liaison.federation.notify import feeds_of
from liaison.federation.records import RecordTypes
from liaison.federation.refusals import count_refusal
from liaison.federation.sequencing import plan_batch
from liaison.store.audit import AuditEntry
from liaison.store.base import utcnow
from liaison.store.federation_tables import (
    Peer,
    PeerDelivery,
    PeerInbound,
    PeerInboundRecord,
    PeerStatus,
    SeenNonce,
)
from liaison.text import check_storable_document

BATCH_KIND = "batch"
ACK_KIND = "ack"
REFUSED_ACTION = "federation.record_refused"
MAX_REFUSAL_REASON = 500


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


def _claimed_sender(document: Any) -> str:
    claimed = document.get("sender") if isinstance(document, dict) else None
    return claimed if isinstance(claimed, str) and claimed else "(no sender)"


@contextmanager
def refusals_counted(
    session: Session, node: LocalNode, document: Any, address: str
) -> Iterator[None]:
    """Refusing an envelope (bad or malformed) rolls back what it did and counts the refusal
    against the client's address (see liaison.federation.refusals): anyone can claim any
    sender, so no refusal of an envelope writes an audit entry of its own."""
    try:
        yield
    except env.EnvelopeRejected as rejection:
        session.rollback()
        count_refusal(
            session,
            node.settings,
            address,
            f"{rejection.reason}: {rejection.detail}",
            _claimed_sender(document),
        )
        raise
    except InvalidInput as malformed:
        session.rollback()
        count_refusal(
            session,
            node.settings,
            address,
            f"malformed: {malformed.detail}",
            _claimed_sender(document),
        )
        raise


def receive_batch(
    session: Session,
    node: LocalNode,
    record_types: RecordTypes,
    document: Any,
    *,
    address: str,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify and apply one batch sent from client `address`; return the signed
    acknowledgement as JSON."""
    with refusals_counted(session, node, document, address):
        sealed = env.parse(document)
        peer, body = verify_from_peer(session, node, sealed, BATCH_KIND, now)
        records = parse_records(body)
        if not records:
            _resend_to_restored(session, peer, body)
        acknowledgement = _apply(session, node, record_types, peer, sealed, records)
    return env.seal(
        node.private_key,
        sender=node.name,
        recipient=peer.name,
        kind=ACK_KIND,
        body=acknowledgement,
        now=now,
    ).to_json()


def _resend_to_restored(session: Session, peer: Peer, body: dict[str, Any]) -> None:
    """A peer restored from a backup asks, with an empty batch, where it stands in our
    stream, and names how far it applied ours (`applied`, liaison.federation.delivery):
    below what it acknowledged before, what it lost is sent again now, not only when we
    next write to it (the commit wakes our delivery, with no backoff left to wait)."""
    applied = body.get("applied")
    if not isinstance(applied, int) or isinstance(applied, bool) or applied < 0:
        return  # a plain question (an older node), or none: nothing to send again
    lowered = session.execute(
        sa.update(PeerDelivery)
        .where(PeerDelivery.peer_id == peer.id, PeerDelivery.acked_seq > applied)
        .values(acked_seq=applied, failures=0, next_attempt_at=None)
        .returning(PeerDelivery.peer_id)
    ).first()
    feeds = feeds_of(session)
    if lowered is not None and feeds is not None:
        feeds.delivery.wake_after_commit(session, peer.id)


def verify_from_peer(
    session: Session, node: LocalNode, sealed: env.Envelope, kind: str, now: float | None = None
) -> tuple[Peer, Any]:
    """The sending peer (known, not revoked) and the body of its `kind` envelope to this node."""
    peer = session.execute(sa.select(Peer).where(Peer.name == sealed.sender)).scalar_one_or_none()
    if peer is None:
        raise env.EnvelopeRejected("unknown_peer", f"{sealed.sender!r} is not a peer of this node")
    if peer.status != PeerStatus.ACTIVE:
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
    record_types: RecordTypes,
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
    if plan.to_apply:
        # Before any handler changes a record's row (audit.lock_head: the order of locks).
        audit.lock_head(session)
    applied, stopped_at, held_at = 0, None, None
    refused: list[dict[str, Any]] = []
    for record in plan.to_apply:
        if not record_types.knows(record.record_type):
            stopped_at = record.seq
            break
        try:
            with session.begin_nested():
                # The same text rules as for local writes, whatever this node's database.
                check_storable_document(record.payload, "payload")
                record_types.apply(session, node, peer, record.record_type, record.payload)
                # Kept as it came: the peer, restored from an older backup, asks it back.
                session.add(
                    PeerInboundRecord(
                        peer_id=peer.id,
                        seq=record.seq,
                        record_type=record.record_type,
                        payload=json.dumps(record.payload, ensure_ascii=False),
                    )
                )
            applied += 1
        except (LiaisonError, IntegrityError, DataError) as error:
            if peer.recover_from is not None:
                # Our own record it refers to may still be to come back from this peer.
                held_at = record.seq
                break
            # Deterministic refusals only: a record that breaks the rules or the schema
            # would fail the same way on every retry. Anything else (a lost connection)
            # fails the whole batch, which the sender retries.
            reason = error.detail if isinstance(error, LiaisonError) else str(error.orig)
            refused.append({"seq": record.seq, "reason": reason[:MAX_REFUSAL_REASON]})
            audit.record(
                session,
                audit.Actor.peer(peer.name),
                audit.RecordRefused(
                    shared_type=record.record_type,
                    record_id=record.seq,
                    reason=reason,
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
        "refused": len(refused),
        # Refused records count as acknowledged (the stream goes on); the sender keeps
        # them as refused. Those of a batch resent after a lost answer are named again.
        "refused_records": _refused_before(session, peer, plan.duplicate_seqs) + refused,
        "duplicates": len(plan.duplicate_seqs),
        "gap_at": plan.gap_at,
        "unknown_type_at": stopped_at,
        "held_at": held_at,
    }


def _refused_before(session: Session, peer: Peer, seqs: list[int]) -> list[dict[str, Any]]:
    """The refusals this node audited for records `seqs` of `peer` (already handled)."""
    if not seqs:
        return []
    rows = session.execute(
        sa.select(AuditEntry.record_id, AuditEntry.detail).where(
            AuditEntry.actor == peer.name,
            AuditEntry.action == REFUSED_ACTION,
            AuditEntry.record_id.in_([str(seq) for seq in seqs]),
        )
    ).all()
    return [
        {"seq": int(str(seq)), "reason": str(json.loads(detail)["reason"])[:MAX_REFUSAL_REASON]}
        for seq, detail in rows
    ]
