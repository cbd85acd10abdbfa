"""Live events and delivery wake-ups across the server processes of one PostgreSQL node.

With `liaison serve --workers N` every process holds its own event streams and its own
delivery worker. A change committed by one process must reach the streams of all, and a
record queued by one must wake whichever process is delivering to that peer. PostgreSQL's
LISTEN/NOTIFY carries both: a NOTIFY issued inside the writer's transaction is delivered
only if, and when, it commits (so "somebody was told" never precedes the commit, as with
`notify.after_commit`), to every connection listening on the channel, this process's
own included. Each process runs one `Listener` thread on a dedicated connection, which
hands what arrives to its local `LiveFeed` and `DeliveryWakeup`.

A NOTIFY payload is at most 8000 bytes; live events carry ids only. One that would not
fit is published to this process's streams alone, with a warning, rather than making the
writer's transaction fail.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

from liaison.federation.notify import DeliveryWakeup, Feeds, LiveEvent, LiveFeed

log = logging.getLogger(__name__)

LIVE_CHANNEL = "liaison_live"
DELIVERY_CHANNEL = "liaison_delivery"
MAX_PAYLOAD_BYTES = 7900  # PostgreSQL refuses payloads of 8000 bytes or more
_PENDING = "liaison_notify"
_NOTIFY = sa.text("SELECT pg_notify(:channel, :payload)")
RECONNECT_SECONDS = 1.0


def notify_on_commit(session: Session, channel: str, payload: str) -> None:
    """NOTIFY `channel` in the session's transaction, once, just before it commits.

    Gathered and sent at commit, so a transaction that queues a hundred records sends one
    wake-up (PostgreSQL also folds identical notifications of one transaction)."""
    pending: dict[tuple[str, str], None] = session.info.setdefault(_PENDING, {})
    pending[(channel, payload)] = None


@sa.event.listens_for(Session, "before_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        connection = session.connection()
        for channel, payload in pending:
            connection.execute(_NOTIFY, {"channel": channel, "payload": payload})


@sa.event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _encode(event: LiveEvent) -> str:
    return json.dumps(
        {"name": event.name, "data": event.data, "audience": sorted(event.audience)},
        separators=(",", ":"),
    )


def _decode(payload: str) -> LiveEvent:
    document = json.loads(payload)
    return LiveEvent(document["name"], document["data"], frozenset(document["audience"]))


@dataclass
class SharedLiveFeed(LiveFeed):
    """A live feed whose committed events reach every process's streams (through NOTIFY)."""

    def publish_after_commit(self, session: Session, event: LiveEvent) -> None:
        payload = _encode(event)
        if len(payload.encode("utf-8")) > MAX_PAYLOAD_BYTES:
            log.warning("live event %r too large for NOTIFY; this process only", event.name)
            super().publish_after_commit(session, event)
            return
        notify_on_commit(session, LIVE_CHANNEL, payload)


class SharedDeliveryWakeup(DeliveryWakeup):
    """Wakes the delivery worker of every process when a commit queued records; the
    notification's payload is the peer's id."""

    def wake_after_commit(self, session: Session, peer_id: int) -> None:
        notify_on_commit(session, DELIVERY_CHANNEL, str(peer_id))


def shared_feeds() -> Feeds:
    return Feeds(SharedLiveFeed(), SharedDeliveryWakeup())


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL as psycopg's own connection string (no driver suffix)."""
    url = sa.engine.make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Listener:
    """One thread on a dedicated autocommit connection, LISTENing on both channels."""

    def __init__(self, database_url: str, feeds: Feeds, poll_seconds: float = 1.0) -> None:
        self.conninfo = libpq_url(database_url)
        self.feeds = feeds
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set once LISTEN is in place (tests wait on it)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="liaison-listener", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.Error as error:
                log.warning("live-event listener lost its connection: %s", error)
            self.listening.clear()
            self._stop.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            connection.execute(f"LISTEN {LIVE_CHANNEL}")
            connection.execute(f"LISTEN {DELIVERY_CHANNEL}")
            self.listening.set()
            # Whatever was committed while nobody listened (at start, or after a lost
            # connection) is found by the delivery worker's next round; wake it now.
            self.feeds.delivery.wake()
            while not self._stop.is_set():
                for notice in connection.notifies(timeout=self.poll_seconds):
                    self._dispatch(notice.channel, notice.payload)
                    if self._stop.is_set():
                        return

    def _dispatch(self, channel: str, payload: str) -> None:
        if channel == DELIVERY_CHANNEL:
            self.feeds.delivery.wake(int(payload) if payload.isdigit() else None)
            return
        try:
            event = _decode(payload)
        except (ValueError, KeyError, TypeError) as error:
            log.warning("unreadable live event on %s: %s", channel, error)
            return
        self.feeds.live.publish(event)
