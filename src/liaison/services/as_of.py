"""The day whose law applies to a screening, settled in one place for every way in.

The chemistry library takes the day as a required argument; the API, the web pages, the
CLI and the demo ask here when the user gave none, and every answer states the day used.
Today is taken in UTC, like every time the node records: the same moment gives the same
answer on both nodes, whatever their time zones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def settle_as_of(as_of: date | None) -> date:
    """The day asked for, else today (UTC)."""
    return as_of if as_of is not None else datetime.now(UTC).date()
