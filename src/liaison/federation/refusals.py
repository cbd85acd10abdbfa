"""Envelopes refused before their sender was verified: counted per client address and
window, audited once per window, and rate-limited.

Anyone can post to the federation endpoints, so a refusal from an unknown or unverified
sender must not cost a row of the (append-only) audit trail each. Each client address
has at most one open window (`RefusalWindow`): the first refusal opens it, later ones
add to its count and replace its last reason. When the window has ended it is closed:
one audit entry `federation.refusals` says how many envelopes were refused and turned
away, the first and the last reason, and the row is deleted. Windows are closed by the
next refusal from any address and by the delivery worker's rounds, so a count survives
a restart and is audited late rather than never.

Past `federation_refusals_per_window` refusals, the address is turned away (429, with
the time until its window ends) before its request body is read; those requests only
add to the window's `throttled` count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from liaison.config import Settings
from liaison.errors import RateLimited
from liaison.services.audit import record_audit
from liaison.store.base import utcnow
from liaison.store.federation_tables import RefusalWindow

REFUSALS_ACTION = "federation.refusals"
MAX_REASON = 300
MAX_CLAIMED_SENDER = 64


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
        "address": _cut(address, 64),
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


def refuse_if_throttled(
    session: Session, settings: Settings, address: str, now: datetime | None = None
) -> None:
    """Raise AddressThrottled (counting the request as turned away) when `address` is over
    its limit of refusals in its current window."""
    moment = now or utcnow()
    window = session.execute(
        sa.select(RefusalWindow).where(RefusalWindow.address == _cut(address, 64))
    ).scalar_one_or_none()
    limit = settings.federation_refusals_per_window
    if window is None or window.closes_at <= moment or window.refused < limit:
        session.rollback()
        return
    session.execute(
        sa.update(RefusalWindow)
        .where(RefusalWindow.id == window.id)
        .values(throttled=RefusalWindow.throttled + 1)
    )
    session.commit()
    raise AddressThrottled(
        f"{window.refused} envelopes from {address} were refused since "
        f"{window.opened_at:%H:%M:%S} UTC (the limit is {limit} per "
        f"{settings.federation_refusal_window_seconds} s); try again after "
        f"{window.closes_at:%H:%M:%S} UTC",
        window.closes_at,
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
        record_audit(
            session,
            window.last_claimed_sender or "(no sender)",
            REFUSALS_ACTION,
            address=window.address,
            record_type="address",
            record_id=window.address,
            detail={
                "opened_at": window.opened_at.isoformat(),
                "closed_at": window.closes_at.isoformat(),
                "refused": window.refused,
                "throttled": window.throttled,
                "first_reason": window.first_reason,
                "last_reason": window.last_reason,
            },
        )
        session.delete(window)
    session.flush()
    return len(ended)
