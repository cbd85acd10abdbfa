"""Which server process delivers to a peer: a PostgreSQL advisory lock per peer.

Every process of a node runs a delivery worker; two sending the same peer's outbox at
once would send records twice in parallel and race on its acknowledged sequence. Before
serving a peer, a worker takes the peer's session-level advisory lock with
`pg_try_advisory_lock` on a connection it keeps for that purpose, and releases it when
the round ends; a worker that does not get it leaves the peer to its holder. A holder that
dies (even by kill -9) loses its connection and with it the lock, which the next round of
another process takes (within `federation_poll_seconds`), resuming from the acknowledged
sequence: the peer's dedup makes a batch the dead holder had sent harmless.

Before each batch the holder checks its lock connection is still alive (`confirm`): if it
was cut, the lock may be another's already, and the round stops.

SQLite nodes run one process, so every lock is granted there without asking.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from liaison.store.database import Database

log = logging.getLogger(__name__)

# The advisory locks' first key ("LIA1"), so they never meet another application's.
DELIVERY_LOCK_CLASS = 0x4C494131
_TRY_LOCK = sa.text("SELECT pg_try_advisory_lock(:class_id, :peer_id)")
_UNLOCK = sa.text("SELECT pg_advisory_unlock(:class_id, :peer_id)")
_NAME = sa.text("SELECT set_config('application_name', :name, false)")
LOCK_APPLICATION = "liaison-delivery"


class LockLost(Exception):
    """The connection holding a peer's lock broke; another process may hold it now."""


class PeerLocks:
    def __init__(self, database: Database) -> None:
        self.engine = database.engine
        self.shared = self.engine.dialect.name == "postgresql"
        self._connection: sa.Connection | None = None
        self._holding = 0  # locks held now (hold blocks entered and not left)

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

    @contextmanager
    def hold(self, peer_id: int) -> Iterator[bool]:
        """Yield whether this process holds the peer's delivery lock for the block."""
        if not self.shared:
            yield True
            return
        keys = {"class_id": DELIVERY_LOCK_CLASS, "peer_id": peer_id}
        try:
            held = bool(self._locking_connection().execute(_TRY_LOCK, keys).scalar_one())
        except sa.exc.DBAPIError:
            self._drop()
            raise
        if not held:
            yield False
            return
        self._holding += 1
        try:
            yield True
        finally:
            self._holding -= 1
            try:
                self._locking_connection().execute(_UNLOCK, keys)
            except sa.exc.DBAPIError:
                self._drop()

    def confirm(self) -> None:
        """Raise LockLost if a lock is held and the connection holding it has died. (A
        caller delivering without the locks, e.g. the demo's loopback, has none to lose.)"""
        if not self.shared or not self._holding:
            return
        if self._connection is None:
            raise LockLost("the lock connection was closed")
        try:
            self._connection.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError as error:
            self._drop()
            raise LockLost(str(error)) from error

    def close(self) -> None:
        if self._connection is not None:
            # Closed for real, not returned to the pool: ending the session releases any
            # lock a round cut short still held.
            self._connection.invalidate()
            self._connection.close()
            self._connection = None
