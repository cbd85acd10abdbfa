"""Run code after a transaction commits: wake the delivery worker, push live updates.

Work is attached to the session (`after_commit(session, callback)`) and runs only if the
transaction commits; a rollback drops it. That keeps "a message reached the outbox" and
"somebody was told about it" in the same order as the database.

A node's runtime attaches its `Feeds` (its live feed and its delivery worker's wake-up)
to the sessions of its database (`attach_feeds`); code that publishes finds them on the
session it already has, so nothing is looked up in module globals. A session without
feeds (a CLI process, which has no event streams and no worker) publishes nothing.

Live updates (`LiveFeed`) fan out in-process to the Server-Sent Event streams of this
server. With several server processes on one PostgreSQL database (`serve --workers N`)
the runtime uses `liaison.federation.crossing` instead: events and wake-ups go through
LISTEN/NOTIFY to every process.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

_CALLBACKS = "liaison_after_commit"
_FEEDS = "liaison_feeds"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    session.info.setdefault(_CALLBACKS, []).append(callback)


@sa.event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_CALLBACKS, []):
        callback()


@sa.event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    # Fires for a rollback of the database transaction only, not of a savepoint.
    session.info.pop(_CALLBACKS, None)


@dataclass(frozen=True)
class LiveEvent:
    """A change local users may see: `audience` is the agencies allowed to see it."""

    name: str
    data: dict[str, Any]
    audience: frozenset[str]


@dataclass
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[LiveEvent]
    agency: str


@dataclass
class LiveFeed:
    """In-process fan-out from committed changes to open event streams."""

    _subscribers: list[_Subscriber] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, agency: str) -> _Subscriber:
        subscriber = _Subscriber(asyncio.get_running_loop(), asyncio.Queue(maxsize=1000), agency)
        with self._lock:
            self._subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: _Subscriber) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def publish(self, event: LiveEvent) -> None:
        """Callable from any thread (request handlers run in a thread pool)."""
        with self._lock:
            targets = [s for s in self._subscribers if s.agency in event.audience]
        for subscriber in targets:
            subscriber.loop.call_soon_threadsafe(_offer, subscriber.queue, event)

    def publish_after_commit(self, session: Session, event: LiveEvent) -> None:
        after_commit(session, lambda: self.publish(event))


def _offer(queue: asyncio.Queue[LiveEvent], event: LiveEvent) -> None:
    # A stream that stopped reading loses events rather than growing without bound;
    # the page reloads its lists on every event, so the next one brings it up to date.
    if not queue.full():
        queue.put_nowait(event)


class DeliveryWakeup:
    """Wakes the delivery worker when a commit queued records for a peer, and tells it
    which peers (so a process serving none of them can tell a peer nobody serves yet, a
    new one, from the peers another process serves, without asking the database)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._lock = threading.Lock()
        self._peers: set[int] = set()

    def wake(self, peer_id: int | None = None) -> None:
        if peer_id is not None:
            with self._lock:
                self._peers.add(peer_id)
        self.event.set()

    def woken_peers(self) -> set[int]:
        """The peers named by the wake-ups since the last call."""
        with self._lock:
            peers, self._peers = self._peers, set()
        return peers

    def wake_after_commit(self, session: Session, peer_id: int) -> None:
        after_commit(session, lambda: self.wake(peer_id))


@dataclass(frozen=True)
class Feeds:
    live: LiveFeed
    delivery: DeliveryWakeup


def attach_feeds(sessions: sessionmaker[Session], feeds: Feeds) -> None:
    sessions.configure(info={_FEEDS: feeds})


def feeds_of(session: Session) -> Feeds | None:
    feeds: Feeds | None = session.info.get(_FEEDS)
    return feeds


def publish_after_commit(session: Session, event: LiveEvent) -> None:
    """Push `event` to this node's open streams once the session's transaction commits."""
    feeds = feeds_of(session)
    if feeds is not None:
        feeds.live.publish_after_commit(session, event)
