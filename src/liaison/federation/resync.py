"""After a restore from an older backup: this node's own records the backup lacks, taken
back from the peer that holds them.

Every record a node applies from a peer's stream is kept as it came (`PeerInboundRecord`,
liaison.federation.inbox). `liaison restore` marks each peer with the stream position the
backup held (`Peer.recover_from`); the restored node then asks each such peer, in a signed
request whose nonce is kept (a replayed request is refused), for the records of its stream
past that position. It writes back those of its record types that can be taken back
(`RecordType.recover`: records it wrote) and does not yet have, in one transaction that
clears the mark and audits what came back (a record shared with several peers, which each
of them sends back, is shared again with every one of them: `RecordType.held_by`). A record
its type's rules refuse for now (a step of a verification case that followed a step of the
peer's, which the peer has not sent again yet) waits: what did come back is kept, and the
peer is asked again later, until nothing waits; acts and statements (acknowledgements,
checkpoints) are not rewritten. Numbering is left to liaison.federation.delivery, which
moves records written since the restore past what the peer applied.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liaison.audit import Actor, AuditEvent, lock_head, record
from liaison.errors import InvalidInput, LiaisonError
from liaison.federation import envelope as env
from liaison.federation.backoff import Backoff
from liaison.federation.context import LocalNode
from liaison.federation.inbox import refusals_counted, verify_from_peer
from liaison.federation.questions import ask_peer
from liaison.federation.records import RecordTypes, Recovered
from liaison.store.base import utcnow
from liaison.store.database import Database
from liaison.store.federation_tables import (
    Peer,
    PeerInbound,
    PeerInboundRecord,
    PeerStatus,
    SeenNonce,
)

OWN_RECORDS_PATH = "/federation/v1/own-records"
REQUEST_KIND = "own-records-request"
ANSWER_KIND = "own-records"
PAGE = 200  # records per answer: a page of hotline messages with attachments stays small

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class OwnRecordsRecovered(AuditEvent):
    """This node's own records, lost in a restore, written back from what a peer held."""

    action = "federation.own_records_recovered"
    record_type = "peer"
    peer: str
    after_seq: int  # the position of this node's stream the backup held
    recovered: list[str]  # "type global_id" of each record written back
    # "type global_id" of each record held here (written back from another peer) that this
    # peer's answer shows was shared with it too
    shared_again: list[str]
    already_held: int  # records of the answer this node had (written since, or kept)
    not_taken_back: int  # acts and statements, which are not rewritten
    # "type global_id" of each record its rules refused for now (it follows a record of the
    # peer's not sent again yet): asked again in a later round, which audits what comes back
    waiting: list[str]


# ---------------------------------------------------------------- the peer that holds them


def answer_own_records_request(
    session: Session, node: LocalNode, document: Any, *, address: str, now: float | None = None
) -> dict[str, Any]:
    """A peer asks, signed, for the records of its stream this node applied past `after`."""
    with refusals_counted(session, node, document, address):
        sealed = env.parse(document)
        peer, body = verify_from_peer(session, node, sealed, REQUEST_KIND, now)
        after = body.get("after") if isinstance(body, dict) else None
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise InvalidInput("an own-records request needs 'after', a whole number >= 0")
        try:
            # The answer hands records over: a request replayed by someone else is refused.
            with session.begin_nested():
                session.add(SeenNonce(peer_id=peer.id, nonce=sealed.nonce, seen_at=utcnow()))
        except IntegrityError as error:
            raise env.EnvelopeRejected(
                "replay", f"envelope nonce from {peer.name!r} was already used"
            ) from error
        rows = session.execute(
            sa.select(PeerInboundRecord)
            .where(PeerInboundRecord.peer_id == peer.id, PeerInboundRecord.seq > after)
            .order_by(PeerInboundRecord.seq)
            .limit(PAGE)
        ).scalars()
        records = [
            {"seq": row.seq, "type": row.record_type, "payload": json.loads(row.payload)}
            for row in rows
        ]
        inbound = session.get(PeerInbound, peer.id)
        session.commit()
    return env.seal(
        node.private_key,
        sender=node.name,
        recipient=peer.name,
        kind=ANSWER_KIND,
        body={
            "request_nonce": sealed.nonce,  # an old answer replayed cannot pass for this one
            "records": records,
            "last_applied": inbound.last_applied_seq if inbound else 0,
        },
        now=now,
    ).to_json()


# ---------------------------------------------------------------- the restored node


@dataclass(frozen=True)
class _Target:
    id: int
    name: str
    base_url: str
    public_key: str
    after: int


def _ask(node: LocalNode, peer: _Target, client: httpx.Client, after: int) -> list[Any]:
    body = ask_peer(
        node,
        client,
        peer=peer.name,
        url=peer.base_url + OWN_RECORDS_PATH,
        peer_key=peer.public_key,
        kind=REQUEST_KIND,
        answer_kind=ANSWER_KIND,
        body={"after": after},
    )
    items = body.get("records")
    if not isinstance(items, list) or not all(
        isinstance(item, dict)
        and isinstance(item.get("seq"), int)
        and item["seq"] > after
        and isinstance(item.get("type"), str)
        and isinstance(item.get("payload"), dict)
        for item in items
    ):
        raise InvalidInput("the answer's 'records' are malformed")
    return items


def _take_back(
    database: Database,
    node: LocalNode,
    record_types: RecordTypes,
    client: httpx.Client,
    peer: _Target,
) -> bool:
    """One round for one peer; True when nothing is left to take back from it."""
    items: list[Any] = []
    after = peer.after
    while True:  # over HTTP first: no transaction (no SQLite write lock) held meanwhile
        page = _ask(node, peer, client, after)
        items += page
        if len(page) < PAGE:
            break
        after = page[-1]["seq"]
    with database.session() as session:
        # The peer's row, then the audit head, then the records' rows: the order of locks
        # every write keeps (audit.lock_head). A process that did this meanwhile cleared it.
        mark = session.execute(
            sa.update(Peer)
            .where(Peer.id == peer.id)
            .values(recover_from=Peer.recover_from)
            .returning(Peer.recover_from)
        ).scalar_one_or_none()
        row = session.get(Peer, peer.id)
        if mark is None or row is None:
            return True
        lock_head(session)
        recovered: list[str] = []
        shared_again: list[str] = []
        waiting: list[str] = []
        waits: set[str] = set()  # global ids of the records waiting, and of their parents
        held = skipped = 0
        for item in items:
            name, payload = item["type"], item["payload"]
            if not record_types.knows(name) or not record_types.can_recover(name):
                skipped += 1
                continue
            what = f"{name} {payload.get('global_id')}"
            within: str | None = None
            try:
                within = record_types.within_id(name, payload)
                # After a record of the same case (thread, incident) that waits, it waits
                # too: in order, or a hold would come back before the step it followed.
                if within is None or within not in waits:
                    with session.begin_nested():
                        outcome = record_types.recover(session, node, row, name, payload)
                    if outcome is Recovered.WRITTEN:
                        recovered.append(what)
                    elif outcome is Recovered.SHARED:
                        shared_again.append(what)
                    else:
                        held += 1
                    continue
                reason = f"it follows a record of {within} that waits"
            except LiaisonError as refusal:
                # Refused by its rules for now (a case's step that followed a step of the
                # peer's, which the peer has not sent again yet): the rest is kept, and it
                # is tried again in a later round.
                reason = refusal.detail
            waiting.append(what)
            waits.update(i for i in (str(payload.get("global_id")), within) if i)
            log.info("own record %s not taken back from %s yet: %s", what, peer.name, reason)
        if recovered or shared_again or not waiting:
            record(
                session,
                Actor.peer(peer.name),
                OwnRecordsRecovered(
                    record_id=peer.id,
                    peer=peer.name,
                    after_seq=peer.after,
                    recovered=recovered,
                    shared_again=shared_again,
                    already_held=held,
                    not_taken_back=skipped,
                    waiting=waiting,
                ),
            )
        if not waiting:
            row.recover_from = None
        session.commit()
    log.info(
        "took back %d own records from %s after a restore (%d shared with it again, %d held "
        "already, %d not taken back, %d waiting)",
        len(recovered),
        peer.name,
        len(shared_again),
        held,
        skipped,
        len(waiting),
    )
    return not waiting


def recover_own_records(
    database: Database, node: LocalNode, record_types: RecordTypes, client: httpx.Client
) -> bool:
    """Take back from each peer marked by a restore this node's own records; True when no
    peer is left to ask (False: one could not be asked now, retry later)."""
    with database.session() as session:
        peers = [
            _Target(p.id, p.name, p.base_url, p.public_key, p.recover_from)
            for p in session.execute(
                sa.select(Peer).where(
                    Peer.recover_from.is_not(None), Peer.status == PeerStatus.ACTIVE
                )
            ).scalars()
            if p.recover_from is not None
        ]
    done = True
    for peer in peers:
        try:
            done = _take_back(database, node, record_types, client, peer) and done
        except (httpx.HTTPError, ValueError, LiaisonError) as error:
            detail = error.detail if isinstance(error, LiaisonError) else str(error)
            log.warning("could not take own records back from %s yet: %s", peer.name, detail)
            done = False
    return done


class Recovery:
    """Runs recover_own_records in a thread until no peer is left to ask (after a restore),
    waiting longer after each failed round."""

    def __init__(
        self,
        database: Database,
        node: LocalNode,
        record_types: RecordTypes,
        client: httpx.Client | None = None,
    ) -> None:
        settings = node.settings
        timeout = settings.federation_request_timeout_seconds
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=timeout))
        self._round: Callable[[], bool] = lambda: recover_own_records(
            database, node, record_types, self._client
        )
        self._backoff = Backoff(
            settings.federation_backoff_base_seconds, settings.federation_backoff_cap_seconds
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liaison-recovery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                if self._round():
                    return
            except Exception:  # a database hiccup: log it and try again later
                log.exception("taking own records back after a restore failed")
            failures += 1
            self._stop.wait(self._backoff.delay(failures))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._client.close()
