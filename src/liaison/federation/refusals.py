"""Refused envelopes: counted per client address and window, audited once per window,
and rate-limited.

Anyone can post to the federation endpoints, and any refusal can be provoked by someone
other than the sender it names (an unknown sender, a bad signature, a replayed or late
envelope), so a refusal must not cost a row of the (append-only) audit trail each.
Each client address has at most one open window (`RefusalWindow`): the first refusal
opens it, later ones add to its count and replace its last reason. When the window has
ended it is closed: one audit entry `federation.refusals` says how many envelopes were
refused and turned away, the first and the last reason, and the row is deleted. Windows
are closed by the next refusal from any address and by the delivery worker's rounds, so
a count survives a restart and is audited late rather than never.

Past `federation_refusals_per_window` refusals, the address is turned away (429, with
the time until its window ends) before its request body is read; those requests only
add to the window's `throttled` count (see Throttle; exact to within FLUSH_EVERY per
server process, as a process keeps the last ones in memory). Refusals are counted per
IPv4 address and per IPv6 /64 (refusal_key).
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from liaison.audit import Actor, ActorKind, EnvelopesRefused, record
from liaison.config import Settings
from liaison.errors import RateLimited
from liaison.store.base import utcnow
from liaison.store.federation_tables import RefusalWindow

MAX_REASON = 300
MAX_CLAIMED_SENDER = 64


def refusal_key(address: str) -> str:
    """What refusals are counted under: the client's IPv4 address, or its IPv6 /64 (one
    host usually has a whole /64 to pick addresses from)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return _cut(address, 64)  # not an IP address (a test client, a Unix socket)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _cut(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with what UTF-8 cannot encode escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:limit]


def count_refusal(
    session: Session,
    settings: Settings,
    address: str,
    reason: str,
    claimed_sender: str,
    now: datetime | None = None,
) -> None:
    """Count one refused envelope from `address` in its window (opening one if needed)."""
    moment = now or utcnow()
    close_ended_windows(session, moment)
    reason, claimed_sender = _cut(reason, MAX_REASON), _cut(claimed_sender, MAX_CLAIMED_SENDER)
    values = {
        "address": refusal_key(address),
        "opened_at": moment,
        "closes_at": moment + timedelta(seconds=settings.federation_refusal_window_seconds),
        "refused": 1,
        "throttled": 0,
        "first_reason": reason,
        "last_reason": reason,
        "last_claimed_sender": claimed_sender,
    }
    # One statement, so two processes counting the first refusal of an address both count.
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(RefusalWindow)
    table = RefusalWindow.__table__
    session.execute(
        insert.values(**values).on_conflict_do_update(
            index_elements=[table.c.address],
            set_={
                "refused": table.c.refused + 1,
                "last_reason": reason,
                "last_claimed_sender": claimed_sender,
            },
        )
    )
    session.commit()


class AddressThrottled(RateLimited):
    """The client address passed its limit of refused envelopes in its current window."""

    def __init__(self, detail: str, retry_after: datetime) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass
class _Blocked:
    refusal: AddressThrottled
    unrecorded: int = 0


class Throttle:
    """Turns away the addresses over their limit. Once the database has said so, this
    process answers them from memory until their window ends, and adds the turned-away
    requests to the window's count every FLUSH_EVERY of them: a flood costs no database
    write per request (on SQLite, every write takes the one write lock)."""

    FLUSH_EVERY = 100

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._blocked: dict[str, _Blocked] = {}
        self._lock = threading.Lock()

    def check_memory(self, address: str) -> tuple[AddressThrottled, int] | None:
        """The refusal for an address known to be over its limit, and how many turned-away
        requests to record now (0 most of the time); None when not known to be."""
        key = refusal_key(address)
        moment = utcnow()
        with self._lock:
            blocked = self._blocked.get(key)
            if blocked is None:
                return None
            if blocked.refusal.retry_after <= moment:
                del self._blocked[key]
                return None
            blocked.unrecorded += 1
            flush = blocked.unrecorded if blocked.unrecorded >= self.FLUSH_EVERY else 0
            blocked.unrecorded -= flush
            return blocked.refusal, flush

    def check_database(self, session: Session, address: str) -> None:
        """Raise AddressThrottled (the request counted as turned away) when the address's
        window in the database is over the limit, and remember it."""
        key = refusal_key(address)
        moment = utcnow()
        window = session.execute(
            sa.select(RefusalWindow).where(RefusalWindow.address == key)
        ).scalar_one_or_none()
        limit = self.settings.federation_refusals_per_window
        if window is None or window.closes_at <= moment or window.refused < limit:
            session.rollback()
            return
        record_turned_away(session, address, 1)
        refusal = AddressThrottled(
            f"{window.refused} envelopes from {key} were refused since "
            f"{window.opened_at:%H:%M:%S} UTC (the limit is {limit} per "
            f"{self.settings.federation_refusal_window_seconds} s); try again after "
            f"{window.closes_at:%H:%M:%S} UTC",
            window.closes_at,
        )
        with self._lock:
            # Bounded: one entry per address over its limit, dropped when its window ends.
            self._blocked[key] = _Blocked(refusal)
        raise refusal


def record_turned_away(session: Session, address: str, count: int) -> None:
    """Add `count` turned-away requests to the address's window (lost if it just closed)."""
    session.execute(
        sa.update(RefusalWindow)
        .where(RefusalWindow.address == refusal_key(address))
        .values(throttled=RefusalWindow.throttled + count)
    )
    session.commit()


def open_windows(session: Session) -> list[RefusalWindow]:
    """The windows still counting (not yet audited), most refusals first: for admins."""
    return list(
        session.scalars(
            sa.select(RefusalWindow).order_by(
                (RefusalWindow.refused + RefusalWindow.throttled).desc(), RefusalWindow.id
            )
        )
    )


def close_ended_windows(session: Session, now: datetime | None = None) -> int:
    """Audit and remove every window that has ended; returns how many (the caller commits)."""
    moment = now or utcnow()
    ended = (
        session.execute(
            sa.select(RefusalWindow)
            .where(RefusalWindow.closes_at <= moment)
            .order_by(RefusalWindow.id)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    for window in ended:
        # Under the sender the envelopes claimed (unverified: anyone can claim any name).
        claimed = Actor(
            window.last_claimed_sender or "(no sender)", address=window.address, kind=ActorKind.PEER
        )
        record(
            session,
            claimed,
            EnvelopesRefused(
                record_id=window.address,
                opened_at=window.opened_at.isoformat(),
                closed_at=window.closes_at.isoformat(),
                refused=window.refused,
                throttled=window.throttled,
                first_reason=window.first_reason,
                last_reason=window.last_reason,
            ),
        )
        session.delete(window)
    session.flush()
    return len(ended)
