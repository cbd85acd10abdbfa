"""Which server process delivers to a peer: a PostgreSQL advisory lock per peer.

Every process of a node runs a delivery worker; two sending the same peer's outbox at
once would send records twice in parallel and race on its acknowledged sequence. A
worker serves a peer only while it holds the peer's session-level advisory lock, taken
with `pg_try_advisory_lock` on a connection it keeps for that purpose. It keeps the lock
once it has it (`take`), so a wake-up costs the holder no lock traffic and costs the
other processes nothing at all: they only try, every `federation_poll_seconds`, for the
locks nobody holds. A holder that dies (even by kill -9) loses its connection and with
it every lock it held, which the next such try of another process takes, resuming from
the acknowledged sequence: the peer's dedup makes a batch the dead holder had sent
harmless.

One more lock, `HOUSEKEEPING`, picks the process that does the node's periodic work
(refusal windows, audit checkpoints, pruning), which every process doing would only
repeat. Work that every process does once on start, and that must be done once
(`tell_changes`), runs under `one_process_at_a_time`: the next process waits for the
first one's commit and then finds it done.

Before each batch the holder checks its lock connection is still alive (`confirm`): if it
was cut, the locks may be another's already, they are all forgotten and the round stops.

SQLite nodes run one process, so every lock is granted there without asking.
"""

from __future__ import annotations

import logging
import os

import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.store.database import Database

log = logging.getLogger(__name__)

# The advisory locks' first key ("LIA1": delivery to the peer with that id), so they never
# meet another application's; "LIA2" for the node's housekeeping.
DELIVERY_LOCK_CLASS = 0x4C494131
HOUSEKEEPING_LOCK_CLASS = 0x4C494132
HOUSEKEEPING = -1  # the key `take` and `holds` know the housekeeping lock by
STARTUP_LOCK_CLASS = 0x4C494133
_TRY_LOCK = sa.text("SELECT pg_try_advisory_lock(:class_id, :key)")
_WAIT_FOR_LOCK_IN_TRANSACTION = sa.text("SELECT pg_advisory_xact_lock(:class_id, :key)")
_NAME = sa.text("SELECT set_config('application_name', :name, false)")
LOCK_APPLICATION = "liaison-delivery"


class LockLost(Exception):
    """The connection holding the locks broke; another process may hold them now."""


def one_process_at_a_time(session: Session, task: int) -> None:
    """Wait until no other process's transaction is doing `task` (a number naming the
    work), and keep others waiting until this session's transaction ends. SQLite: one
    process, nothing to wait for."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            _WAIT_FOR_LOCK_IN_TRANSACTION, {"class_id": STARTUP_LOCK_CLASS, "key": task}
        )


def _keys(key: int) -> dict[str, int]:
    if key == HOUSEKEEPING:
        return {"class_id": HOUSEKEEPING_LOCK_CLASS, "key": 0}
    return {"class_id": DELIVERY_LOCK_CLASS, "key": key}


class PeerLocks:
    def __init__(self, database: Database) -> None:
        self.engine = database.engine
        self.shared = self.engine.dialect.name == "postgresql"
        self._connection: sa.Connection | None = None
        self.held: set[int] = set()  # peer ids (and HOUSEKEEPING) whose locks this holds

    def _locking_connection(self) -> sa.Connection:
        if self._connection is None:
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            # Names the process in pg_locks/pg_stat_activity: which one serves which peer.
            connection.execute(_NAME, {"name": f"{LOCK_APPLICATION}:{os.getpid()}"})
            self._connection = connection
        return self._connection

    def _drop(self) -> None:
        """Forget a broken connection (its locks went with it on the server)."""
        try:
            self.close()
        except sa.exc.SQLAlchemyError:
            log.debug("closing a broken lock connection failed", exc_info=True)
        self._connection = None
        self.held.clear()

    def holds(self, key: int) -> bool:
        """Whether this process holds the lock of peer `key` (or HOUSEKEEPING)."""
        return not self.shared or key in self.held

    def take(self, key: int) -> bool:
        """Take the lock of peer `key` (or HOUSEKEEPING) if nobody holds it, and keep it
        until `close` or a lost connection; whether this process holds it now."""
        if self.holds(key):
            return True
        try:
            held = bool(self._locking_connection().execute(_TRY_LOCK, _keys(key)).scalar_one())
        except sa.exc.DBAPIError:
            self._drop()
            raise
        if held:
            self.held.add(key)
        return held

    def confirm(self) -> None:
        """Raise LockLost if locks are held and the connection holding them has died. (A
        caller delivering without the locks, e.g. the demo's loopback, has none to lose.)"""
        if not self.shared or not self.held:
            return
        if self._connection is None:
            raise LockLost("the lock connection was closed")
        try:
            self._connection.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError as error:
            self._drop()
            raise LockLost(str(error)) from error

    def close(self) -> None:
        self.held.clear()
        if self._connection is not None:
            # Closed for real, not returned to the pool: ending the session releases
            # every lock it held.
            self._connection.invalidate()
            self._connection.close()
            self._connection = None
