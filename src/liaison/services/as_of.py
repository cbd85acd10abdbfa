"""Days: the one whose law applies to a screening, settled in one place for every way in,
and a day given by a user or a form (`parse_date`, for every service's checks).

The chemistry library takes the day as a required argument; the API, the web pages, the
CLI and the demo ask here when the user gave none, and every answer states the day used.
Today is taken in UTC, like every time the node records: the same moment gives the same
answer on both nodes, whatever their time zones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from liaison.errors import InvalidInput
from liaison.messages import T


def settle_as_of(as_of: date | None) -> date:
    """The day asked for, else today (UTC)."""
    return as_of if as_of is not None else datetime.now(UTC).date()


def parse_date(value: Any, what: str) -> date:
    """A day as YYYY-MM-DD (surrounding blanks ignored), or a `date` already parsed."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as error:
        raise InvalidInput(
            T("%(what)s must be a date as YYYY-MM-DD (got %(value)s)", what=what, value=repr(value))
        ) from error
