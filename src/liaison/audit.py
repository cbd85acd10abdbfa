"""The audit trail: who did what (`Actor`, typed events), `record`, `verify`, canonical JSON.

Services, federation and the CLI import this module; it imports only the store. Every
state change and every read of personal data calls `record` inside the transaction that
does it, so an entry exists exactly when the change is committed. Each entry carries the
hash of the previous one; the hash covers the canonical JSON of all the entry's fields.
Writers serialise on the single `audit_head` row (row lock on PostgreSQL; on SQLite every
transaction already holds the database write lock), and the head row pins the last seq
and hash, so a deleted tail shows up as a mismatch.

Two checks: `verify_chain` walks the whole chain (`liaison audit verify`, schedulable);
`verify_recent` checks only what was added since the last verified checkpoint (the audit
page and the verify API). Someone with write access to the database can still rewrite
the tail together with the head row; the checkpoints kept by peers (`check_checkpoints`)
catch that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.errors import InvalidInput
from liaison.messages import T, Text
from liaison.store.audit import GENESIS_HASH, AuditEntry, AuditHead, AuditVerified
from liaison.store.base import utcnow

# ---------------------------------------------------------------- canonical JSON


def _check_json(value: Any, where: str) -> None:
    if value is None or isinstance(value, (bool, str, int)):
        return
    if isinstance(value, float):
        raise InvalidInput(f"{where}: floats are not allowed in signed JSON (got {value!r})")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"{where}: object keys must be strings (got {key!r})")
            _check_json(item, f"{where}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]")
        return
    raise InvalidInput(f"{where}: {type(value).__name__} cannot be signed as JSON")


def canonical_json(value: Any) -> bytes:
    """The one byte form that is hashed and signed: keys sorted, UTF-8 unescaped, no
    insignificant whitespace, no floats (their text is not stable across implementations).
    Raises InvalidInput naming the offending path."""
    _check_json(value, "$")
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


# ---------------------------------------------------------------- who


class ActorKind(StrEnum):
    USER = "user"
    SYSTEM = "system"
    PEER = "peer"


@dataclass(frozen=True)
class Actor:
    """Who does something: a user (name, role, agency, address), the system (a command or
    the node itself), or a peer node (its node code, and the agency it speaks for)."""

    name: str
    agency: str | None = None
    address: str | None = None
    role: str | None = None
    kind: ActorKind = ActorKind.USER

    @classmethod
    def system(cls, name: str = "system", address: str | None = "local") -> Actor:
        return cls(name=name, address=address, kind=ActorKind.SYSTEM)

    @classmethod
    def peer(cls, node: str, agency: str | None = None) -> Actor:
        return cls(name=node, agency=agency, kind=ActorKind.PEER)


# ---------------------------------------------------------------- what


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """One kind of audited action; its fields (but `record_id`) are the entry's detail."""

    action: ClassVar[str]
    record_type: ClassVar[str | None] = None
    record_id: str | int | None = None

    def subject(self) -> tuple[str | None, str | None]:
        """The record the entry is about: (type, id)."""
        return self.record_type, None if self.record_id is None else str(self.record_id)

    def as_detail(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "record_id"}


@dataclass(frozen=True, kw_only=True)
class NodeCreated(AuditEvent):
    action = "node.init"
    record_type = "node"


@dataclass(frozen=True, kw_only=True)
class DatabaseUpgraded(AuditEvent):
    action = "db.upgrade"
    record_type = "database"
    from_revision: str | None
    to_revision: str | None

    def as_detail(self) -> dict[str, Any]:
        return {"from": self.from_revision, "to": self.to_revision}


@dataclass(frozen=True, kw_only=True)
class AuditSearched(AuditEvent):
    """The audit page or its CSV export: which filters, how many entries were shown."""

    action = "audit.search"
    record_type = "audit"
    filters: dict[str, str]
    results: int
    export: bool


@dataclass(frozen=True, kw_only=True)
class AuditRead(AuditEvent):
    action = "audit.read"
    record_type = "audit"
    after: int
    limit: int


@dataclass(frozen=True, kw_only=True)
class AgencyCreated(AuditEvent):
    action = "agency.create"
    record_type = "agency"
    name: str


@dataclass(frozen=True, kw_only=True)
class UserCreated(AuditEvent):
    action = "user.create"
    record_type = "user"
    role: str
    agency: str


@dataclass(frozen=True, kw_only=True)
class UsersListed(AuditEvent):
    action = "user.list"
    record_type = "user"
    count: int


@dataclass(frozen=True, kw_only=True)
class UserRead(AuditEvent):
    action = "user.read"
    record_type = "user"


@dataclass(frozen=True, kw_only=True)
class UserDisabled(AuditEvent):
    action = "user.disable"
    record_type = "user"


@dataclass(frozen=True, kw_only=True)
class PreferencesChanged(AuditEvent):
    action = "user.preferences"
    record_type = "user"
    language: str | None
    time_zone: str | None


@dataclass(frozen=True, kw_only=True)
class LoginBlocked(AuditEvent):
    action = "auth.login_blocked"
    blocked: str  # what the rate limit holds: "user" or "address"
    until: str

    def subject(self) -> tuple[str | None, str | None]:
        return self.blocked, None if self.record_id is None else str(self.record_id)

    def as_detail(self) -> dict[str, Any]:
        return {"until": self.until}


@dataclass(frozen=True, kw_only=True)
class LoginFailed(AuditEvent):
    action = "auth.login_failed"
    record_type = "user"
    reason: str


@dataclass(frozen=True, kw_only=True)
class LoggedIn(AuditEvent):
    action = "auth.login"
    record_type = "user"


@dataclass(frozen=True, kw_only=True)
class LoggedOut(AuditEvent):
    action = "auth.logout"
    record_type = "user"


@dataclass(frozen=True, kw_only=True)
class TokenIssued(AuditEvent):
    action = "auth.token_issue"
    record_type = "api_token"
    expires_at: str


@dataclass(frozen=True, kw_only=True)
class TokenRevoked(AuditEvent):
    action = "auth.token_revoke"
    record_type = "api_token"


@dataclass(frozen=True, kw_only=True)
class ScreeningCreated(AuditEvent):
    action = "screening.create"
    record_type = "screening_run"
    filename: str
    records: int
    flagged: int
    as_of: str
    jurisdictions: list[str]


@dataclass(frozen=True, kw_only=True)
class ThreadOpened(AuditEvent):
    action = "hotline.thread_opened"
    record_type = "hotline_thread"
    peer: str
    priority: str
    kind: str
    to_agency: str


@dataclass(frozen=True, kw_only=True)
class MessagePosted(AuditEvent):
    action = "hotline.message_posted"
    record_type = "hotline_message"
    thread: str
    priority: str
    attachments: list[str]


@dataclass(frozen=True, kw_only=True)
class MessageAcknowledged(AuditEvent):
    action = "hotline.message_acknowledged"
    record_type = "hotline_message"
    overdue: bool


@dataclass(frozen=True, kw_only=True)
class ThreadRead(AuditEvent):
    action = "hotline.thread_read"
    record_type = "hotline_thread"
    messages: int
    newly_read: int


@dataclass(frozen=True, kw_only=True)
class MessagesShown(AuditEvent):
    """Messages the thread page showed the user in a visible tab: the read receipt."""

    action = "hotline.messages_shown"
    record_type = "hotline_thread"
    newly_read: int


@dataclass(frozen=True, kw_only=True)
class ThreadsListed(AuditEvent):
    action = "hotline.threads_listed"
    record_type = "hotline_thread"
    query: str
    results: int


@dataclass(frozen=True, kw_only=True)
class AttachmentRead(AuditEvent):
    action = "hotline.attachment_read"
    record_type = "hotline_attachment"
    message: str
    filename: str


@dataclass(frozen=True, kw_only=True)
class ThreadMisaddressed(AuditEvent):
    action = "hotline.thread_misaddressed"
    record_type = "hotline_thread"
    addressed_to: str
    filed_under: str


@dataclass(frozen=True, kw_only=True)
class ThreadReceived(AuditEvent):
    action = "hotline.thread_received"
    record_type = "hotline_thread"
    to_agency: str
    addressed_to: str
    priority: str
    kind: str


@dataclass(frozen=True, kw_only=True)
class MessageReceived(AuditEvent):
    action = "hotline.message_received"
    record_type = "hotline_message"
    thread: str
    attachments: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class AckReceived(AuditEvent):
    action = "hotline.ack_received"
    record_type = "hotline_message"
    acked_by: str


@dataclass(frozen=True, kw_only=True)
class ReadReceiptReceived(AuditEvent):
    action = "hotline.read_receipt_received"
    record_type = "hotline_message"
    messages: list[str]
    read_by: str


@dataclass(frozen=True, kw_only=True)
class IncidentReported(AuditEvent):
    action = "incident.reported"
    record_type = "incident"
    kind: str
    items: int
    entities: int
    shared_with: list[str]
    handling_code: str


@dataclass(frozen=True, kw_only=True)
class IncidentReceived(AuditEvent):
    action = "incident.received"
    record_type = "incident"
    kind: str
    items: int
    urgent: bool
    alerted: list[str]  # the focal points alerted


@dataclass(frozen=True, kw_only=True)
class IncidentRevised(AuditEvent):
    action = "incident.revised"
    record_type = "incident"
    version: int
    fields: list[str]


@dataclass(frozen=True, kw_only=True)
class IncidentRead(AuditEvent):
    action = "incident.read"
    record_type = "incident"
    follow_ups: int


@dataclass(frozen=True, kw_only=True)
class IncidentsListed(AuditEvent):
    action = "incident.listed"
    record_type = "incident"
    filters: dict[str, Any]
    results: int


@dataclass(frozen=True, kw_only=True)
class IncidentAttachmentRead(AuditEvent):
    action = "incident.attachment_read"
    record_type = "incident"
    follow_up: str | None
    sha256: str
    filename: str


@dataclass(frozen=True, kw_only=True)
class SeizureSummaryRebuilt(AuditEvent):
    action = "incident.summary_rebuilt"
    record_type = "dashboard"
    rows: int


@dataclass(frozen=True, kw_only=True)
class DashboardViewed(AuditEvent):
    """A read of the seizure dashboard: which aggregates (no personal data in them)."""

    action = "incident.dashboard_viewed"
    record_type = "dashboard"
    group_by: str
    date_from: str | None
    date_to: str | None
    groups: int


@dataclass(frozen=True, kw_only=True)
class CaseOpened(AuditEvent):
    action = "verification.case_opened"
    record_type = "verification_case"
    peer: str
    reference: str
    evidence: str
    protection_claim: bool


@dataclass(frozen=True, kw_only=True)
class CaseReceived(AuditEvent):
    action = "verification.case_received"
    record_type = "verification_case"
    reference: str
    evidence: str
    protection_claim: bool


@dataclass(frozen=True, kw_only=True)
class CaseEventWritten(AuditEvent):
    """A decision, a step, a hold or a lift written on this node."""

    action = "verification.event_written"
    record_type = "verification_case"
    event: str
    kind: str
    name: str
    status: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class EventReceived(AuditEvent):
    action = "verification.event_received"
    record_type = "verification_event"
    case: str
    kind: str
    name: str
    status: str


@dataclass(frozen=True, kw_only=True)
class PersonalDataRead(AuditEvent):
    """A read of a case's personal data: who (the actor) and why."""

    action = "verification.personal_data_read"
    record_type = "verification_case"
    what: str
    why: str


@dataclass(frozen=True, kw_only=True)
class CasesListed(AuditEvent):
    action = "verification.cases_listed"
    record_type = "verification_case"
    filters: dict[str, str]
    results: int


@dataclass(frozen=True, kw_only=True)
class FollowUpPosted(AuditEvent):
    action = "incident.follow_up_posted"
    record_type = "incident_follow_up"
    incident: str
    status: str | None
    entities: int


@dataclass(frozen=True, kw_only=True)
class FollowUpReceived(AuditEvent):
    action = "incident.follow_up_received"
    record_type = "incident_follow_up"
    incident: str
    status: str | None


@dataclass(frozen=True, kw_only=True)
class IncidentsImported(AuditEvent):
    action = "incident.imported"
    record_type = "incident"
    filename: str
    part: int  # large imports are audited in parts of at most 1000 incidents
    imported: int  # in the whole import
    errors: int
    incidents: list[str]  # the global ids written, in this part


@dataclass(frozen=True, kw_only=True)
class IncidentsExported(AuditEvent):
    action = "incident.exported"
    record_type = "incident"
    rows: int
    withheld: int  # received with "do not pass on": not exported


@dataclass(frozen=True, kw_only=True)
class EntitySearched(AuditEvent):
    action = "incident.entity_searched"
    record_type = "entity"
    kind: str | None
    value: str
    results: int


@dataclass(frozen=True, kw_only=True)
class FocalPointsSet(AuditEvent):
    action = "incident.focal_points_set"
    record_type = "agency"
    usernames: list[str]


@dataclass(frozen=True, kw_only=True)
class RegistryImported(AuditEvent):
    action = "verification.registry_imported"
    record_type = "registry"
    source: str
    people: int
    problems: int


@dataclass(frozen=True, kw_only=True)
class AgreementChanged(AuditEvent):
    action = "verification.agreement_changed"
    record_type = "peer"
    deadlines: dict[str, dict[str, int | bool | None]]
    refused_fields: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class PersonalDataPurged(AuditEvent):
    action = "verification.purged"
    record_type = "verification_case"
    cases: list[str]
    closed_before: str


@dataclass(frozen=True, kw_only=True)
class PersonalDataKeyRotated(AuditEvent):
    action = "verification.key_rotated"
    record_type = "node"
    key: str
    resealed: int


@dataclass(frozen=True, kw_only=True)
class EnvelopesRefused(AuditEvent):
    """The envelopes refused from one client address over one window (record_id: it)."""

    action = "federation.refusals"
    record_type = "address"
    opened_at: str
    closed_at: str
    refused: int
    throttled: int
    first_reason: str
    last_reason: str


@dataclass(frozen=True, kw_only=True)
class RecordRefused(AuditEvent):
    action = "federation.record_refused"
    shared_type: str  # the refused record's type, the entry's record_type
    reason: str
    payload: str

    def subject(self) -> tuple[str | None, str | None]:
        return self.shared_type, None if self.record_id is None else str(self.record_id)

    def as_detail(self) -> dict[str, Any]:
        return {"reason": self.reason, "payload": self.payload}


@dataclass(frozen=True, kw_only=True)
class PeerInviteIssued(AuditEvent):
    action = "peer.invite_issued"
    record_type = "peer_invite"
    expires_at: int


@dataclass(frozen=True, kw_only=True)
class PeerAccepted(AuditEvent):
    action = "peer.accepted"
    record_type = "peer"
    base_url: str
    public_key: str


@dataclass(frozen=True, kw_only=True)
class PeerJoined(AuditEvent):
    action = "peer.joined"
    record_type = "peer"
    base_url: str
    public_key: str


@dataclass(frozen=True, kw_only=True)
class PeerRevoked(AuditEvent):
    action = "peer.revoked"
    record_type = "peer"


@dataclass(frozen=True, kw_only=True)
class NotificationLodged(AuditEvent):
    action = "pen.lodged"
    record_type = "pen.notification"
    peer: str
    substance: str
    respond_by: str
    alerts: list[str]


@dataclass(frozen=True, kw_only=True)
class NotificationReceived(AuditEvent):
    action = "pen.received"
    record_type = "pen.notification"
    substance: str
    respond_by: str
    alerts: list[str]


@dataclass(frozen=True, kw_only=True)
class NotificationStep(AuditEvent):
    """A step on a notification taken here (`kind`: acknowledge, a decision, withdraw...)."""

    action = "pen.step"
    record_type = "pen.notification"
    step: str
    kind: str
    overdue: bool


@dataclass(frozen=True, kw_only=True)
class NotificationStepReceived(AuditEvent):
    action = "pen.step_received"
    record_type = "pen.notification"
    step: str
    kind: str


@dataclass(frozen=True, kw_only=True)
class NotificationRead(AuditEvent):
    action = "pen.read"
    record_type = "pen.notification"


@dataclass(frozen=True, kw_only=True)
class NotificationAttachmentRead(AuditEvent):
    action = "pen.attachment_read"
    record_type = "pen.notification"
    sha256: str
    filename: str


@dataclass(frozen=True, kw_only=True)
class NotificationsListed(AuditEvent):
    action = "pen.listed"
    filters: dict[str, str]
    results: int


@dataclass(frozen=True, kw_only=True)
class RequirementsUpdated(AuditEvent):
    action = "pen.register_updated"
    record_type = "pen.register"
    year: int
    substances: list[str]


@dataclass(frozen=True, kw_only=True)
class RequirementsReceived(AuditEvent):
    action = "pen.register_received"
    record_type = "pen.register"
    year: int
    substances: list[str]


# ---------------------------------------------------------------- record


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(entry: AuditEntry) -> str:
    fields_ = {
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
    # Entries written before the actor's kind and role were recorded (migration 0005) keep
    # the hash they were written with.
    if entry.actor_kind is not None:
        fields_["actor_kind"] = entry.actor_kind
        fields_["role"] = entry.role
    return hashlib.sha256(canonical_json(fields_)).hexdigest()


# Built once: `record` runs in every audited transaction. Core statements on the
# session's connection cost a fraction of the ORM unit of work for the same two writes.
_LOCK_HEAD = sa.select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
_ADVANCE_HEAD = (
    sa.update(AuditHead)
    .where(AuditHead.id == 1)
    .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash"))
)
_INSERT_ENTRY = sa.insert(AuditEntry)


def lock_head(session: Session) -> None:
    """Take the audit head's lock now, until the transaction ends (record() takes it too).

    The order of locks every write keeps on PostgreSQL: the peer's row (an outbox number),
    then the audit head, then the rows of shared records it changes. The inbox takes the
    head before it applies a batch; a write that changes a shared record's row (a case's
    status, a thread's last message) changes it after record(), or takes the head first
    when it shares nothing (a purge). Another order deadlocks with the inbox."""
    session.connection().execute(_LOCK_HEAD)


def record(session: Session, actor: Actor, event: AuditEvent) -> AuditEntry:
    """Append one entry to the chain in the caller's transaction (the caller commits).

    The event's detail holds no floats (canonical JSON refuses them so the hash is
    reproducible). Returns the entry as written (not attached to the session).
    """
    session.flush()  # what the caller added gets its ids first, as any query would do
    connection = session.connection()
    head_seq, head_hash = connection.execute(_LOCK_HEAD).one()
    record_type, record_id = event.subject()
    entry = AuditEntry(
        seq=head_seq + 1,
        # Microsecond precision is what both backends store, so the hash survives a round trip.
        at=utcnow(),
        actor=actor.name,
        actor_kind=actor.kind.value,
        role=actor.role,
        agency=actor.agency,
        action=event.action,
        record_type=record_type,
        record_id=record_id,
        address=actor.address,
        detail=canonical_json(event.as_detail()).decode("utf-8"),
        prev_hash=head_hash,
    )
    entry.hash = entry_hash(entry)
    connection.execute(_INSERT_ENTRY, {column: getattr(entry, column) for column in _ENTRY_COLUMNS})
    connection.execute(_ADVANCE_HEAD, {"new_seq": entry.seq, "new_hash": entry.hash})
    return entry


_ENTRY_COLUMNS = tuple(column.key for column in AuditEntry.__table__.columns)


# ---------------------------------------------------------------- verify


@dataclass(frozen=True)
class ChainVerification:
    intact: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str | None = None
    # For a check of only the recent entries: the verified checkpoint it started from.
    checked_from: int = 0
    checkpoint_at: datetime | None = None

    def message(self) -> Text:
        if not self.intact:
            return T(
                "audit chain broken at entry %(seq)s: %(reason)s",
                seq=self.first_bad_seq,
                reason=self.reason,
            )
        if self.checked_from == 0:
            return T("audit chain intact: %(count)s entries", count=self.entries)
        if self.checkpoint_at is None:
            return T(
                "audit chain intact: %(count)s entries (entries after %(seq)s checked now; up "
                "to %(seq)s verified; `liaison audit verify` checks them all)",
                count=self.entries,
                seq=self.checked_from,
            )
        return T(
            "audit chain intact: %(count)s entries (entries after %(seq)s checked now; up to "
            "%(seq)s verified at %(at)s; `liaison audit verify` checks them all)",
            count=self.entries,
            seq=self.checked_from,
            at=_timestamp(self.checkpoint_at),
        )


def _entries(session: Session, after: int, until: int, batch: int = 1000) -> Iterator[AuditEntry]:
    """The entries with `after` < seq <= `until`, in seq order, read `batch` seqs at a time.

    Each read names a range of seqs, not "the next `batch` rows": with LIMIT, PostgreSQL
    (on a table grown faster than its statistics) scanned and sorted every entry up to
    `until` for each batch, a walk quadratic in the chain's length. Seqs are dense in an
    intact chain; after a gap the next entry is looked up, so a tampered head far ahead
    costs one read, not one per empty range."""
    while after < until:
        upper = min(after + batch, until)
        rows = (
            session.execute(
                sa.select(AuditEntry)
                .where(AuditEntry.seq > after, AuditEntry.seq <= upper)
                .order_by(AuditEntry.seq)
            )
            .scalars()
            .all()
        )
        if rows:
            yield from rows
            # Keep memory flat on long chains without detaching the caller's other objects.
            for row in rows:
                session.expunge(row)
            after = upper
        else:
            following = session.execute(
                sa.select(sa.func.min(AuditEntry.seq)).where(
                    AuditEntry.seq > upper, AuditEntry.seq <= until
                )
            ).scalar_one_or_none()
            if following is None:
                return
            after = int(following) - 1
        # End the read between batches: on SQLite every transaction holds the write lock,
        # and a long check must not stop the node's writers.
        session.rollback()


def _walk(
    session: Session, start_seq: int, start_hash: str, head: tuple[int, str] | None, top: int
) -> ChainVerification:
    """Check the entries after `start_seq` (whose hash is `start_hash`) up to the head
    read before the walk, so entries appended meanwhile are neither missed nor blamed."""
    if head is None:
        return ChainVerification(
            False, start_seq, start_seq + 1, T("the audit head row is missing")
        )
    head_seq, head_hash = head
    if top > head_seq:
        return ChainVerification(
            False,
            head_seq,
            head_seq + 1,
            T(
                "entries after the head row exist (up to %(top)s; the head records %(head)s)",
                top=top,
                head=head_seq,
            ),
        )
    expected_seq, previous_hash = start_seq + 1, start_hash
    for entry in _entries(session, start_seq, head_seq):
        if entry.seq != expected_seq:
            return ChainVerification(
                False,
                expected_seq - 1,
                expected_seq,
                T("entry missing (next entry found is %(seq)s)", seq=entry.seq),
            )
        if entry.prev_hash != previous_hash:
            return ChainVerification(
                False,
                expected_seq - 1,
                entry.seq,
                T(
                    "does not link to the previous entry (reordered or an earlier entry was "
                    "replaced)"
                ),
            )
        if entry_hash(entry) != entry.hash:
            return ChainVerification(
                False, expected_seq - 1, entry.seq, T("content does not match its hash")
            )
        previous_hash, expected_seq = entry.hash, expected_seq + 1
    count = expected_seq - 1
    if head_seq != count:
        return ChainVerification(
            False,
            count,
            expected_seq,
            T(
                "entry missing: the chain ends at %(count)s but the head records %(head)s",
                count=count,
                head=head_seq,
            ),
        )
    if head_hash != previous_hash:
        return ChainVerification(
            False,
            count,
            count,
            T("the head records entry %(head)s with another hash", head=head_seq),
        )
    return ChainVerification(True, count, checked_from=start_seq)


def _read_head(session: Session) -> tuple[int, str] | None:
    # Read with a statement (not the identity map): `record` advances the head without the ORM.
    row = session.execute(sa.select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    return None if row is None else (int(row.seq), str(row.hash))


def _read_head_and_top(session: Session) -> tuple[tuple[int, str] | None, int]:
    """The head row and the highest entry seq, the latter read first: an entry and the head
    move in one transaction, so an honest head is never below an entry seen before it."""
    top = session.execute(sa.select(sa.func.max(AuditEntry.seq))).scalar_one_or_none() or 0
    return _read_head(session), int(top)


def _remember_verified(session: Session, seq: int, hash_: str) -> None:
    """Move the verified checkpoint forward (never back: a slower check may finish last)."""
    session.execute(
        sa.update(AuditVerified)
        .where(AuditVerified.id == 1, AuditVerified.seq < seq)
        .values(seq=seq, hash=hash_, verified_at=utcnow())
    )


def verify_chain(session: Session) -> ChainVerification:
    """Walk the whole chain in seq order; report the first entry whose seq, link or hash is
    wrong. When intact, the verified checkpoint moves to the head (the caller commits).
    The walk ends its read transaction between batches: call it before writing anything
    in `session`."""
    head, top = _read_head_and_top(session)
    result = _walk(session, 0, GENESIS_HASH, head, top)
    if result.intact and head is not None:
        _remember_verified(session, *head)
    return result


def verify_recent(session: Session) -> ChainVerification:
    """Check only the entries added since the verified checkpoint (and that the
    checkpoint's own entry still has its hash); move the checkpoint forward when intact.
    The caller commits; as `verify_chain`, call it before writing anything in `session`."""
    checkpoint = session.execute(
        sa.select(AuditVerified.seq, AuditVerified.hash, AuditVerified.verified_at).where(
            AuditVerified.id == 1
        )
    ).first()
    if checkpoint is None or checkpoint.seq == 0:
        return verify_chain(session)
    head, top = _read_head_and_top(session)
    stored = session.execute(
        sa.select(AuditEntry.hash).where(AuditEntry.seq == checkpoint.seq)
    ).scalar_one_or_none()
    if stored != checkpoint.hash:
        at = _timestamp(checkpoint.verified_at)
        reason = (
            T("entry is missing when the chain was last verified (%(at)s)", at=at)
            if stored is None
            else T(
                "entry no longer has the hash it had when the chain was last verified (%(at)s)",
                at=at,
            )
        )
        return ChainVerification(False, checkpoint.seq - 1, checkpoint.seq, reason)
    result = _walk(session, checkpoint.seq, checkpoint.hash, head, top)
    if result.intact and head is not None:
        _remember_verified(session, *head)
    return ChainVerification(**{**result.__dict__, "checkpoint_at": checkpoint.verified_at})


# ---------------------------------------------------------------- anchors kept elsewhere


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at a moment: what a peer keeps of this node's trail."""

    seq: int
    hash: str
    at: datetime

    def to_payload(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "at": _timestamp(self.at)}


def current_checkpoint(session: Session) -> Checkpoint:
    head = _read_head(session)
    if head is None:
        raise InvalidInput("the audit head row is missing")
    return Checkpoint(head[0], head[1], utcnow())


@dataclass(frozen=True)
class CheckpointMismatch:
    seq: int
    expected_hash: str
    found_hash: str | None  # None: this chain has no entry with that seq

    def message(self) -> Text:
        if self.found_hash is None:
            return T("entry %(seq)s is missing (the chain no longer reaches it)", seq=self.seq)
        return T(
            "entry %(seq)s has another hash than the one sent (%(hash)s…)",
            seq=self.seq,
            hash=self.expected_hash[:12],
        )


def check_checkpoints(session: Session, held: Iterable[Checkpoint]) -> list[CheckpointMismatch]:
    """The checkpoints (held elsewhere) this chain no longer matches, lowest seq first."""
    wanted = sorted(held, key=lambda checkpoint: checkpoint.seq)
    found: dict[int, str] = {}
    seqs = [checkpoint.seq for checkpoint in wanted]
    for start in range(0, len(seqs), 500):
        chunk = seqs[start : start + 500]
        rows = session.execute(
            sa.select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.in_(chunk))
        )
        found.update((seq, hash_) for seq, hash_ in rows)
    return [
        CheckpointMismatch(checkpoint.seq, checkpoint.hash, found.get(checkpoint.seq))
        for checkpoint in wanted
        if found.get(checkpoint.seq) != checkpoint.hash
    ]


# ---------------------------------------------------------------- read


def read_entries(session: Session, after: int, limit: int, reader: Actor) -> list[dict[str, Any]]:
    """Entries with seq greater than `after`, oldest first; the read is itself audited."""
    rows = session.execute(
        sa.select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(limit)
    ).scalars()
    entries = [entry_as_dict(entry) for entry in rows]
    record(session, reader, AuditRead(after=after, limit=limit))
    return entries


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page narrows the trail to; None: any."""

    actor: str | None = None
    action: str | None = None  # ending in ".": a prefix ("hotline." is every hotline action)
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None  # seq: the next page of a newest-first listing

    def as_detail(self) -> dict[str, str]:
        return {
            name: value.isoformat() if isinstance(value, datetime) else str(value)
            for name, value in self.__dict__.items()
            if value is not None
        }


def search_entries(
    session: Session, reader: Actor, where: AuditFilter, limit: int, *, export: bool = False
) -> list[AuditEntry]:
    """Entries matching `where`, newest first, at most `limit`; the search is audited."""
    statement = sa.select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if where.actor:
        statement = statement.where(AuditEntry.actor == where.actor)
    if where.action:
        statement = statement.where(
            AuditEntry.action.startswith(where.action, autoescape=True)
            if where.action.endswith(".")
            else AuditEntry.action == where.action
        )
    if where.since:
        statement = statement.where(AuditEntry.at >= where.since)
    if where.until:
        statement = statement.where(AuditEntry.at < where.until)
    if where.before:
        statement = statement.where(AuditEntry.seq < where.before)
    entries = list(session.execute(statement).scalars())
    record(
        session,
        reader,
        AuditSearched(filters=where.as_detail(), results=len(entries), export=export),
    )
    return entries


def audit_actions() -> list[str]:
    """Every action the trail can hold, for the page's filter."""
    pending: list[type[AuditEvent]] = [AuditEvent]
    actions: set[str] = set()
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        if kind is not AuditEvent:
            actions.add(kind.action)
    return sorted(actions)


def entry_as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": _timestamp(entry.at),
        "actor": entry.actor,
        "actor_kind": entry.actor_kind,
        "role": entry.role,
        "agency": entry.agency,
        "action": entry.action,
        "record_type": entry.record_type,
        "record_id": entry.record_id,
        "address": entry.address,
        "detail": json.loads(entry.detail),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }
