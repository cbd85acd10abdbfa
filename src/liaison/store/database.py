"""Engines, the one session factory, and the migration state of a database.

SQLite runs in WAL mode with synchronous=FULL (a committed record survives a power cut),
foreign keys on and a busy timeout, set on every connection. Every SQLite transaction
starts with BEGIN IMMEDIATE: it takes the single write lock up front, so two requests
can never both read and then fail to upgrade to a write (SQLITE_BUSY_SNAPSHOT); that is
also what serialises writers of the audit chain on SQLite.

Within one process, threads queue for that lock on a Python lock first: SQLite's busy
handler waits by sleeping in growing steps (up to 100 ms), so under load threads would
otherwise sleep past the moment the lock frees, which shows as long latency tails.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.orm import Session, sessionmaker

from liaison.errors import ConfigurationError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_database_url(url: str) -> str:
    """Accept plain `postgresql://` URLs; the node ships psycopg 3, not psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_database_engine(url: str) -> sa.Engine:
    url = normalize_database_url(url)
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    # isolation_level=None hands transaction control to SQLAlchemy's begin event below.
    engine = sa.create_engine(url, connect_args={"isolation_level": None, "timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    writer = threading.Lock()

    @sa.event.listens_for(engine, "begin")
    def _begin_immediate(connection: sa.Connection) -> None:
        if not writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise TimeoutError("database is locked: another transaction of this process holds it")
        connection.info["holds_writer_lock"] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release_writer(connection)
            raise

    @sa.event.listens_for(engine, "commit")
    @sa.event.listens_for(engine, "rollback")
    def _release_writer(connection: sa.Connection) -> None:
        if connection.info.pop("holds_writer_lock", False):
            writer.release()

    return engine


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise ConfigurationError("no migrations found in the installed package")
    return head


class Database:
    """One engine and the one session factory of a node."""

    def __init__(self, url: str) -> None:
        self.url = normalize_database_url(url)
        self.engine = create_database_engine(self.url)
        # Objects stay usable after commit: request handlers commit early to release locks.
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that rolls back on error and is always closed; callers commit."""
        with self.sessions() as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise

    @property
    def sqlite_file(self) -> Path | None:
        """The database file, when the database is SQLite on disk."""
        url = sa.engine.make_url(self.url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database)

    def current_revision(self) -> str | None:
        """The applied migration; None for an empty database or a missing SQLite file,
        which is not created by asking (connecting would create it)."""
        sqlite_file = self.sqlite_file
        if sqlite_file is not None and not sqlite_file.exists():
            return None
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def is_at_head(self) -> bool:
        return self.current_revision() == head_revision()

    def upgrade(self, revision: str = "head") -> None:
        sqlite_file = self.sqlite_file
        if sqlite_file is not None and not sqlite_file.exists():
            # Password hashes and the audit trail live here: owner-only, like the node key.
            sqlite_file.touch(mode=0o600)
        config = alembic_config()
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def reachable_revision(self) -> str | None:
        """current_revision, or a ConfigurationError in one line (password hidden) when
        the database cannot be reached."""
        try:
            return self.current_revision()
        except sa.exc.OperationalError as error:
            raise ConfigurationError(
                f"cannot reach the database {self.engine.url.render_as_string()}: "
                + " ".join(str(error.orig).split())
            ) from error

    def require_head(self) -> None:
        """Refuse to run on a database that is not at the current migration."""
        current = self.reachable_revision()
        head = head_revision()
        if current != head:
            raise ConfigurationError(
                f"the database is at migration {current or 'none (empty)'} but this version of "
                f"Liaison needs {head}; run `liaison db upgrade DIR` first"
            )

    def dispose(self) -> None:
        self.engine.dispose()
