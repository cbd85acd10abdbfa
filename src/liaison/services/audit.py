"""The one audit function and the verification of the audit chain.

Every state change and every read of personal data calls `record_audit` inside the
transaction that does it, so an entry exists exactly when the change is committed.
Each entry carries the hash of the previous one; the hash covers the canonical JSON of
all the entry's fields. Writers serialise on the single `audit_head` row (row lock on
PostgreSQL; on SQLite every transaction already holds the database write lock), and the
head row pins the last seq and hash, so a deleted tail shows up as a mismatch.

What verification cannot see: someone with write access to the database who rewrites
the chain from some entry onwards, recomputes every later hash and updates the head row
to match. Detecting that needs the head hash kept outside this database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.federation.canonical import canonical_json
from liaison.store.audit import GENESIS_HASH, AuditEntry, AuditHead
from liaison.store.base import utcnow

if TYPE_CHECKING:  # accounts records its changes through this module
    from liaison.services.accounts import Actor

SYSTEM_ACTOR = "system"


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(entry: AuditEntry) -> str:
    fields = {
        "seq": entry.seq,
        "at": _timestamp(entry.at),
        "actor": entry.actor,
        "agency": entry.agency,
        "action": entry.action,
        "record_type": entry.record_type,
        "record_id": entry.record_id,
        "address": entry.address,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(canonical_json(fields)).hexdigest()


# Built once: record_audit runs in every audited transaction. Core statements on the
# session's connection cost a fraction of the ORM unit of work for the same two writes.
_LOCK_HEAD = sa.select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
_ADVANCE_HEAD = (
    sa.update(AuditHead)
    .where(AuditHead.id == 1)
    .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash"))
)
_INSERT_ENTRY = sa.insert(AuditEntry)


def record_audit(
    session: Session,
    actor: str,
    action: str,
    *,
    agency: str | None = None,
    record_type: str | None = None,
    record_id: str | int | None = None,
    address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain in the caller's transaction (the caller commits).

    `actor` is a username, a node code or "system"; `detail` holds no floats (canonical
    JSON refuses them so the hash is reproducible). Returns the entry as written (not
    attached to the session).
    """
    session.flush()  # what the caller added gets its ids first, as any query would do
    connection = session.connection()
    head_seq, head_hash = connection.execute(_LOCK_HEAD).one()
    entry = AuditEntry(
        seq=head_seq + 1,
        # Microsecond precision is what both backends store, so the hash survives a round trip.
        at=utcnow(),
        actor=actor,
        agency=agency,
        action=action,
        record_type=record_type,
        record_id=None if record_id is None else str(record_id),
        address=address,
        detail=canonical_json(detail or {}).decode("utf-8"),
        prev_hash=head_hash,
    )
    entry.hash = entry_hash(entry)
    connection.execute(
        _INSERT_ENTRY,
        {
            "seq": entry.seq,
            "at": entry.at,
            "actor": entry.actor,
            "agency": entry.agency,
            "action": entry.action,
            "record_type": entry.record_type,
            "record_id": entry.record_id,
            "address": entry.address,
            "detail": entry.detail,
            "prev_hash": entry.prev_hash,
            "hash": entry.hash,
        },
    )
    connection.execute(_ADVANCE_HEAD, {"new_seq": entry.seq, "new_hash": entry.hash})
    return entry


@dataclass(frozen=True)
class ChainVerification:
    intact: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str | None = None

    def message(self) -> str:
        if self.intact:
            return f"audit chain intact: {self.entries} entries"
        return f"audit chain broken at entry {self.first_bad_seq}: {self.reason}"


def _entries(session: Session, batch: int = 1000) -> Iterator[AuditEntry]:
    after = -1
    while True:
        rows = (
            session.execute(
                sa.select(AuditEntry)
                .where(AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        # Keep memory flat on long chains without detaching the caller's other objects.
        for row in rows:
            session.expunge(row)


def verify_audit_chain(session: Session) -> ChainVerification:
    """Walk the chain in seq order; report the first entry whose seq, link or hash is wrong."""
    expected_seq, previous_hash, count = 1, GENESIS_HASH, 0
    for entry in _entries(session):
        if entry.seq != expected_seq:
            return ChainVerification(
                False, count, expected_seq, f"entry missing (next entry found is {entry.seq})"
            )
        if entry.prev_hash != previous_hash:
            return ChainVerification(
                False,
                count,
                entry.seq,
                "does not link to the previous entry (reordered or an earlier entry was replaced)",
            )
        if entry_hash(entry) != entry.hash:
            return ChainVerification(False, count, entry.seq, "content does not match its hash")
        previous_hash, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    # Fresh from the database: record_audit advances the head without the ORM.
    head = session.get(AuditHead, 1, populate_existing=True)
    if head is None:
        return ChainVerification(False, count, expected_seq, "the audit head row is missing")
    if head.seq != count or head.hash != previous_hash:
        if head.seq > count:
            return ChainVerification(
                False,
                count,
                expected_seq,
                f"entry missing: the chain ends at {count} but the head records {head.seq}",
            )
        return ChainVerification(
            False, count, count, f"the head records entry {head.seq} with another hash"
        )
    return ChainVerification(True, count)


def read_audit_entries(
    session: Session, after: int, limit: int, reader: Actor
) -> list[dict[str, Any]]:
    """Entries with seq greater than `after`, oldest first; the read is itself audited."""
    rows = session.execute(
        sa.select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(limit)
    ).scalars()
    entries = [entry_as_dict(entry) for entry in rows]
    record_audit(
        session,
        reader.name,
        "audit.read",
        agency=reader.agency,
        record_type="audit",
        address=reader.address,
        detail={"after": after, "limit": limit},
    )
    return entries


def entry_as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": _timestamp(entry.at),
        "actor": entry.actor,
        "agency": entry.agency,
        "action": entry.action,
        "record_type": entry.record_type,
        "record_id": entry.record_id,
        "address": entry.address,
        "detail": json.loads(entry.detail),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }
