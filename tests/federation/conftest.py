"""Fixtures of the federation tests (the node harness itself is in nodes.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from support import postgres_database


@pytest.fixture
def second_database_url(database_url: str) -> Iterator[str]:
    """Another fresh database on the same backend as `database_url` (for the second node)."""
    if database_url.startswith("sqlite"):
        yield database_url.replace("liaison.db", "second.db")
        return
    server = sa.engine.make_url(database_url).set(database="postgres")
    with postgres_database(server.render_as_string(hide_password=False)) as url:
        yield url
