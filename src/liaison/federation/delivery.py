"""The delivery worker: sends each peer its outbox, in order, until the peer has it all.

One thread per node process. It sleeps until woken (a commit that queued a record) or
until the poll interval passes (records queued by another process, e.g. the CLI), then
shares a checkpoint of the audit head when one is due (`checkpoints`), and for every
active peer with pending records sends batches of up to `batch_size`, signed,
to the peer's inbox, and advances the peer's acknowledged sequence to what the peer's
signed answer says. A peer that fails is retried after an exponential, jittered delay
(`Backoff`); meanwhile the other peers are served. After an outage the worker resumes
from the last acknowledged sequence, so a crash of either side loses nothing and the
receiver's dedup makes the resend harmless. Records the peer refused come back in its
acknowledgement (`refused_records`) and are kept as `RefusedRecord`s: acknowledged, so
the stream goes on, but never reported as delivered.

HTTP happens outside any database transaction so local writers are never held up by a
slow peer.

A node on several processes (`serve --workers N`, PostgreSQL) runs a worker in each; a
peer is served by one of them at a time, the one holding its advisory lock
(`liaison.federation.peer_locks`), which reads the peer's position afresh once it takes it.
Every commit's wake-up reaches every process, so the work of a round is only for the locks
a process holds: a process holding none does nothing on a wake-up, unless the wake-up
names a peer whose lock it has not found held by another (a peer just added: its first
record goes at once, not after the poll interval). Trying for the locks nobody holds, and
the node's periodic work (refusal windows, audit checkpoints, pruning,
done by the holder of the housekeeping lock), happen once every poll interval.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from liaison.errors import LiaisonError
from liaison.federation import envelope as env
from liaison.federation.backoff import Backoff
from liaison.federation.checkpoints import share_checkpoint_if_due
from liaison.federation.context import LocalNode
from liaison.federation.inbox import ACK_KIND, BATCH_KIND
from liaison.federation.notify import DeliveryWakeup
from liaison.federation.outbox import prune_delivered
from liaison.federation.peer_locks import HOUSEKEEPING, LockLost, PeerLocks
from liaison.federation.refusals import close_ended_windows
from liaison.metrics import DELIVERY_FAILURES
from liaison.store.base import utcnow
from liaison.store.database import Database
from liaison.store.federation_tables import (
    OutboxRecord,
    Peer,
    PeerDelivery,
    PeerInbound,
    PeerStatus,
    RefusedRecord,
)

log = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 3600.0

INBOX_PATH = "/federation/v1/inbox"
# The sender names itself before its body is read: the receiver takes a full batch only
# from a name that is one of its active peers (the signature still decides).
SENDER_HEADER = "X-Liaison-Sender"
MAX_BATCH_BYTES = 8 * 1024 * 1024
# JSON objects and arrays in a batch (as envelope.json_brackets counts them): a quarter of
# what the receiver parses, so a batch never reaches that limit (a record alone never
# does either: a message body has at most 20,000 characters).
MAX_BATCH_BRACKETS = env.MAX_ENVELOPE_BRACKETS // 4


class DeliveryFailed(Exception):
    """One attempt to deliver to a peer failed; the message goes to `last_error`."""


@dataclass(frozen=True)
class PeerTarget:
    id: int
    name: str
    base_url: str
    public_key: str
    last_seq: int
    acked_seq: int
    next_attempt_at: datetime | None
    resync_from: int | None = None


def delivery_state(session: sa.orm.Session, peer_id: int) -> PeerDelivery:
    """The peer's delivery row, created on first use."""
    state = session.get(PeerDelivery, peer_id)
    if state is None:
        state = PeerDelivery(peer_id=peer_id, acked_seq=0, failures=0)
        session.add(state)
        session.flush()
    return state


class DeliveryWorker:
    def __init__(
        self,
        database: Database,
        node: LocalNode,
        client: httpx.Client | None = None,
        wakeup: DeliveryWakeup | None = None,
    ) -> None:
        settings = node.settings
        self.database = database
        self.node = node
        self.batch_size = settings.federation_batch_size
        self.poll_seconds = settings.federation_poll_seconds
        self.backoff = Backoff(
            settings.federation_backoff_base_seconds, settings.federation_backoff_cap_seconds
        )
        timeout = settings.federation_request_timeout_seconds
        self.client = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=timeout))
        # Shared with the runtime's sessions, so a commit that queued records wakes us.
        self.wakeup = wakeup or DeliveryWakeup()
        self._wake = self.wakeup.event
        # Peers whose lock another process held when this one last tried for it.
        self._served_elsewhere: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_prune = 0.0  # time.monotonic() of the next retention pass
        self._next_claim = 0.0  # time.monotonic() of the next try for the locks nobody holds
        self.locks = PeerLocks(database)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="liaison-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.client.close()
        self.locks.close()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delay = self.deliver_due()
            except Exception:  # the worker must outlive any one bad round (e.g. DB restart)
                log.exception("delivery round failed")
                delay = self.poll_seconds
            self._wake.wait(delay)
            self._wake.clear()

    def housekeeping(self) -> None:
        """The node's periodic work, by the process holding the housekeeping lock."""
        if not self.locks.take(HOUSEKEEPING):
            return
        self.close_refusal_windows()
        self.prune_if_due()
        share_checkpoint_if_due(self.database, self.node)

    def close_refusal_windows(self) -> None:
        """Audit the refusal windows that have ended, even if their address went quiet."""
        with self.database.session() as session:
            if close_ended_windows(session):
                session.commit()

    def prune_if_due(self) -> None:
        """The retention pass (liaison.federation.outbox.prune_delivered), hourly."""
        if time.monotonic() < self._next_prune:
            return
        with self.database.session() as session:
            pruned = prune_delivered(session, self.node.settings)
            session.commit()
        if pruned.outbox_rows:
            log.info("pruned %d delivered outbox rows", pruned.outbox_rows)
        self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS

    def targets(self, peer_id: int | None = None) -> list[PeerTarget]:
        """The active peers (or the one with `peer_id`) and where their delivery stands."""
        query = (
            sa.select(Peer, PeerDelivery)
            .outerjoin(PeerDelivery, PeerDelivery.peer_id == Peer.id)
            .where(Peer.status == PeerStatus.ACTIVE)
            .order_by(Peer.id)
        )
        if peer_id is not None:
            query = query.where(Peer.id == peer_id)
        with self.database.session() as session:
            rows = session.execute(query).all()
            return [
                PeerTarget(
                    id=peer.id,
                    name=peer.name,
                    base_url=peer.base_url,
                    public_key=peer.public_key,
                    last_seq=peer.last_seq,
                    acked_seq=state.acked_seq if state else 0,
                    next_attempt_at=state.next_attempt_at if state else None,
                    resync_from=peer.resync_from,
                )
                for peer, state in rows
            ]

    def deliver_due(self) -> float:
        """Serve every peer whose lock this process holds (or takes, when trying for the
        locks is due) that has pending records and is not backing off; every poll
        interval, also the housekeeping.

        Returns how long the worker may sleep before something is due.
        """
        now = time.monotonic()
        claiming = now >= self._next_claim
        # A peer a wake-up names whose lock nobody was found holding (a new peer: its first
        # record) is tried for at once, not at the next poll.
        unclaimed = {
            peer_id
            for peer_id in self.wakeup.woken_peers()
            if not self.locks.holds(peer_id) and peer_id not in self._served_elsewhere
        }
        if claiming:
            self._next_claim = now + self.poll_seconds
            try:  # finds a lock connection that died quietly: its locks are tried for again
                self.locks.confirm()
            except LockLost as lost:
                log.warning("lost the delivery locks: %s", lost)
            self.housekeeping()
        elif self.locks.shared and not self.locks.held - {HOUSEKEEPING} and not unclaimed:
            return self._next_claim - now  # a wake-up for peers other processes serve
        sleep = self.poll_seconds
        for seen in self.targets():
            if self._stop.is_set():
                break
            current: PeerTarget | None = seen
            if not self.locks.holds(seen.id):
                # Taken even with nothing pending, so the peer's next record goes at once.
                if not (claiming or seen.id in unclaimed) or not self._take(seen.id):
                    continue  # another process of this node is serving the peer
                # Read again under the lock: the last holder may have moved it on.
                fresh = self.targets(seen.id)
                current = fresh[0] if fresh else None
            if current is None or not _due(current):
                continue
            try:
                sleep = min(sleep, self._serve(current))
            except LockLost as lost:
                log.warning("lost the delivery lock of peer %s: %s", seen.name, lost)
        return max(min(sleep, self._next_claim - time.monotonic()), 0.0)

    def _take(self, peer_id: int) -> bool:
        """Try for the peer's lock; remember whether another process serves the peer."""
        taken = self.locks.take(peer_id)
        if taken:
            self._served_elsewhere.discard(peer_id)
        else:
            self._served_elsewhere.add(peer_id)
        return taken

    def _serve(self, target: PeerTarget) -> float:
        """One peer's turn (its lock held); how long until it is due again."""
        now = utcnow()
        if target.next_attempt_at is not None and target.next_attempt_at > now:
            return (target.next_attempt_at - now).total_seconds()
        if target.resync_from is not None:
            # Restored from a backup: learn where the peer is before sending anything.
            # Resynchronised: deliver what follows at once; else retry after a backoff.
            return 0.0 if self.resynchronise(target) else self.backoff.delay(1)
        if not self.deliver_to(target):
            with self.database.session() as session:
                state = session.get(PeerDelivery, target.id)
                if state is not None and state.next_attempt_at is not None:
                    return (state.next_attempt_at - utcnow()).total_seconds()
        return self.poll_seconds

    def resynchronise(self, target: PeerTarget) -> bool:
        """After a restore: ask the peer (an empty batch) how far it applied our stream.

        Records numbered since the restore may carry numbers the peer already applied
        (from before the backup was lost); they are moved past the peer's position, so a
        new record is never taken for one the peer holds. The peer's acknowledgement
        becomes ours, and delivery continues from it."""
        self.locks.confirm()
        with self.database.session() as session:
            inbound = session.get(PeerInbound, target.id)
            # How far we applied the peer's stream: what the restore lost of it is sent
            # again at once (liaison.federation.inbox), not when the peer next writes.
            ours = inbound.last_applied_seq if inbound else 0
        try:
            applied, _refused = self._send(target, [], applied=ours)
        except DeliveryFailed as failure:
            DELIVERY_FAILURES.labels(peer=target.name).inc()
            self._record_failure(target.id, f"resynchronising after a restore: {failure}")
            return False
        with self.database.session() as session:
            # Locks the peer's row: share() numbers after this commits (liaison.federation.outbox).
            last_seq, resync_from = session.execute(
                sa.update(Peer)
                .where(Peer.id == target.id)
                .values(last_seq=Peer.last_seq)
                .returning(Peer.last_seq, Peer.resync_from)
            ).one()
            if resync_from is None:  # another process did it
                return True
            shift = max(applied - resync_from, 0)
            if shift:
                newer = (OutboxRecord.peer_id == target.id, OutboxRecord.seq > resync_from)
                # Two steps, so no row takes a number another still holds (unique per peer).
                session.execute(
                    sa.update(OutboxRecord).where(*newer).values(seq=-(OutboxRecord.seq + shift))
                )
                session.execute(
                    sa.update(OutboxRecord)
                    .where(OutboxRecord.peer_id == target.id, OutboxRecord.seq < 0)
                    .values(seq=-OutboxRecord.seq)
                )
            session.execute(
                sa.update(Peer)
                .where(Peer.id == target.id)
                .values(last_seq=last_seq + shift, resync_from=None)
            )
            delivery_state(session, target.id).acked_seq = applied
            session.commit()
        log.info(
            "resynchronised with %s after a restore: it had applied %d (backup held %d); "
            "%d records written since moved past it",
            target.name,
            applied,
            resync_from,
            last_seq - resync_from if shift else 0,
        )
        return True

    def deliver_to(self, target: PeerTarget) -> bool:
        """Send batches to one peer until it has everything; False after a failed attempt."""
        acked = target.acked_seq
        while not self._stop.is_set():
            batch, drained = self._pending(target.id, acked)
            if not batch:
                return True
            self.locks.confirm()
            try:
                acknowledged, refused = self._send(target, batch)
            except DeliveryFailed as failure:
                DELIVERY_FAILURES.labels(peer=target.name).inc()
                self._record_failure(target.id, str(failure))
                return False
            if acknowledged == acked and acknowledged < batch[-1]["seq"]:
                # The peer took nothing from a batch that continues its stream: it cannot
                # apply the next record yet (e.g. a type it does not know). Back off.
                DELIVERY_FAILURES.labels(peer=target.name).inc()
                self._record_failure(
                    target.id, f"peer applied nothing beyond sequence {acknowledged}"
                )
                return False
            self._record_success(target.id, acknowledged, refused)
            if drained and acknowledged == batch[-1]["seq"]:
                # The outbox held no more when it was read; a record committed since then
                # has set the wake-up event, so no second read is needed to find it.
                return True
            acked = acknowledged
        return True

    def _pending(self, peer_id: int, acked: int) -> tuple[list[dict[str, Any]], bool]:
        """The next batch after `acked`, and whether it holds everything pending then."""
        with self.database.session() as session:
            rows = session.execute(
                sa.select(OutboxRecord.seq, OutboxRecord.record_type, OutboxRecord.payload)
                .where(OutboxRecord.peer_id == peer_id, OutboxRecord.seq > acked)
                .order_by(OutboxRecord.seq)
                .limit(self.batch_size)
            ).all()
        batch: list[dict[str, Any]] = []
        size = brackets = 0
        for seq, record_type, payload in rows:
            # Records with attachments are large: a batch stops at about MAX_BATCH_BYTES
            # and MAX_BATCH_BRACKETS (always carrying at least one record) so a request
            # stays within what the receiver accepts.
            size += len(payload)
            brackets += env.json_brackets(payload.encode("utf-8")) + 1
            if batch and (size > MAX_BATCH_BYTES or brackets > MAX_BATCH_BRACKETS):
                return batch, False
            batch.append({"seq": seq, "type": record_type, "payload": json.loads(payload)})
        return batch, len(rows) < self.batch_size

    def _send(
        self, target: PeerTarget, batch: list[dict[str, Any]], *, applied: int | None = None
    ) -> tuple[int, dict[int, str]]:
        """Send one batch (with `applied`: how far this node applied the peer's stream);
        the peer's acknowledged sequence, and the records it refused."""
        body: dict[str, Any] = {"records": batch}
        if applied is not None:
            body["applied"] = applied
        sealed = env.seal(
            self.node.private_key,
            sender=self.node.name,
            recipient=target.name,
            kind=BATCH_KIND,
            body=body,
        )
        try:
            response = self.client.post(
                target.base_url + INBOX_PATH,
                json=sealed.to_json(),
                headers={SENDER_HEADER: self.node.name},
            )
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
        if response.status_code != 200:
            raise DeliveryFailed(f"HTTP {response.status_code}: {_problem_detail(response)}")
        try:
            answer = env.parse(response.json())
            body = env.verify(
                answer,
                env.public_key_from_text(target.public_key),
                recipient=self.node.name,
                kind=ACK_KIND,
                window_seconds=self.node.settings.federation_clock_window_seconds,
            )
        except (ValueError, LiaisonError) as error:
            raise DeliveryFailed(f"unusable acknowledgement: {error}") from error
        if not isinstance(body, dict) or body.get("batch_nonce") != sealed.nonce:
            raise DeliveryFailed("the acknowledgement is not for this batch (nonce differs)")
        acknowledged = body.get("acknowledged")
        # An empty batch (resynchronise) asks where the peer is: any position is an answer.
        if (
            not isinstance(acknowledged, int)
            or acknowledged < 0
            or (batch and acknowledged > batch[-1]["seq"])
        ):
            raise DeliveryFailed(f"acknowledgement out of range: {acknowledged!r}")
        return acknowledged, _refused_records(body, acknowledged)

    def _record_success(self, peer_id: int, acknowledged: int, refused: dict[int, str]) -> None:
        with self.database.session() as session:
            _keep_refused(session, peer_id, refused)
            state = delivery_state(session, peer_id)
            # The peer's word is final, even below what it acknowledged before: a peer
            # restored from a backup asks for the records it lost, and they are resent.
            state.acked_seq = acknowledged
            state.failures = 0
            state.next_attempt_at = None
            state.last_success_at = utcnow()
            session.commit()

    def _record_failure(self, peer_id: int, error: str) -> None:
        with self.database.session() as session:
            state = delivery_state(session, peer_id)
            state.failures += 1
            now = utcnow()
            state.next_attempt_at = now + timedelta(seconds=self.backoff.delay(state.failures))
            state.last_error = error[:2000]
            state.last_error_at = now
            session.commit()
        log.warning("delivery to peer %s failed: %s", peer_id, error)


def _due(target: PeerTarget) -> bool:
    """Whether the peer has records pending, or a resynchronisation to do."""
    return target.last_seq > target.acked_seq or target.resync_from is not None


def _refused_records(body: dict[str, Any], acknowledged: int) -> dict[int, str]:
    """The acknowledgement's `refused_records` as {seq: reason} (only acknowledged ones)."""
    items = body.get("refused_records", [])
    if not isinstance(items, list) or not all(
        isinstance(item, dict)
        and isinstance(item.get("seq"), int)
        and isinstance(item.get("reason"), str)
        for item in items
    ):
        raise DeliveryFailed("unusable acknowledgement: refused_records is malformed")
    return {item["seq"]: item["reason"] for item in items if 0 < item["seq"] <= acknowledged}


def _keep_refused(session: sa.orm.Session, peer_id: int, refused: dict[int, str]) -> None:
    """Record what the peer refused (once per record), with the record's type and id."""
    if not refused:
        return
    known = set(
        session.scalars(
            sa.select(RefusedRecord.seq).where(
                RefusedRecord.peer_id == peer_id, RefusedRecord.seq.in_(refused)
            )
        )
    )
    rows = session.execute(
        sa.select(OutboxRecord.seq, OutboxRecord.record_type, OutboxRecord.payload).where(
            OutboxRecord.peer_id == peer_id, OutboxRecord.seq.in_(set(refused) - known)
        )
    ).all()
    for seq, record_type, payload in rows:
        record_id = json.loads(payload).get("global_id")
        session.add(
            RefusedRecord(
                peer_id=peer_id,
                seq=seq,
                record_type=record_type,
                record_id=record_id if isinstance(record_id, str) else None,
                reason=refused[seq][:2000],
            )
        )
        log.warning("peer %s refused record %s (%s): %s", peer_id, seq, record_type, refused[seq])


def _problem_detail(response: httpx.Response) -> str:
    try:
        document = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(document, dict):
        return str(document.get("detail") or document.get("title") or document)[:300]
    return str(document)[:300]
