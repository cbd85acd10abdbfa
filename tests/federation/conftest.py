"""Fixtures of the federation tests (the node harness itself is in nodes.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa


@pytest.fixture
def second_database_url(database_url: str) -> Iterator[str]:
    """Another fresh database on the same backend as `database_url` (for the second node)."""
    if database_url.startswith("sqlite"):
        yield database_url.replace("liaison.db", "second.db")
        return
    url = sa.engine.make_url(database_url)
    name = f"liaison_test_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
