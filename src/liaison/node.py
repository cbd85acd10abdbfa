"""Create and open a node: its directory, key pair, secret, node.toml, database and migrations.

The one place this is done: the CLI commands, the demo, the tests and the benchmarks call
these functions. The web stack is imported only by `node_server`, so a command that only
opens the database stays quick to start.
"""

from __future__ import annotations

import getpass
import os
import re
import secrets
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from liaison.audit import Actor, DatabaseUpgraded, NodeCreated, record
from liaison.config import (
    NODE_FILE,
    NODE_KEY_FILE,
    SECRET_FILE,
    SQLITE_FILE,
    NodeConfig,
    Settings,
    default_database_url,
    load_node,
    write_node_file,
)
from liaison.errors import Conflict, InvalidInput
from liaison.federation.keys import generate_private_key, public_key_base64, save_private_key
from liaison.lifetime import die_with_parent
from liaison.metrics import MULTIPROCESS_DIR
from liaison.services.accounts import add_user, check_new_account, check_time_zone
from liaison.store import Database

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
METRICS_DIR = "run/metrics"  # in the node's directory, with `serve --workers N`
WORKER_HEALTHCHECK_SECONDS = 30
NODE_CODE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


def terminal_operator() -> Actor:
    """The person at the terminal, as the audit trail names command-line actions."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return Actor.system(f"cli:{login}"[:100])


@contextmanager
def node_database(node: NodeConfig) -> Iterator[Database]:
    """The node's database, disposed of on leaving; no migration check (see `open_node`)."""
    database = Database(node.database_url)
    try:
        yield database
    finally:
        database.dispose()


@contextmanager
def open_node(directory: Path | str) -> Iterator[tuple[NodeConfig, Database]]:
    """The node in DIR and its database, refused unless at the current migration."""
    node = load_node(directory)
    with node_database(node) as database:
        database.require_head()
        yield node, database


def create_node(
    directory: Path | str,
    name: str,
    admin_user: str,
    admin_password: str,
    database_url: str | None = None,
    *,
    agency: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    time_zone: str = "UTC",
) -> NodeConfig:
    """Create a node: key pair, secret, migrated database, admin account, node.toml.

    Refuses (Conflict) when DIR already holds a node or the database already holds one.
    node.toml is written last: it is what marks the directory as a node.
    """
    directory = Path(directory).resolve()
    if not NODE_CODE_PATTERN.match(name):
        raise InvalidInput(
            f"node name {name!r} must be a short code of letters, digits, '_' or '-' (e.g. US)"
        )
    existing = [f for f in (NODE_FILE, NODE_KEY_FILE, SECRET_FILE) if (directory / f).exists()]
    if existing or (database_url is None and (directory / SQLITE_FILE).exists()):
        raise Conflict(
            f"{directory} already holds a Liaison node (found "
            f"{', '.join(existing) or SQLITE_FILE}); refusing to overwrite it"
        )
    check_new_account(admin_user, admin_password, "admin")
    check_time_zone(time_zone)
    admin_agency = agency or f"{name} administration"
    if not directory.exists():
        directory.mkdir(parents=True)
        # Owner-only whatever the umask (a directory given ready-made keeps its own): the
        # key, the secret and the database live here.
        directory.chmod(0o700)
    url = database_url or default_database_url(directory)
    sqlite_files = [directory / f"{SQLITE_FILE}{suffix}" for suffix in ("", "-wal", "-shm")]
    if database_url is None:
        # Password hashes and the audit trail live here: owner-only, like the key.
        sqlite_files[0].touch(mode=0o600)
    database = Database(url)
    try:
        if database.current_revision() is not None:
            raise Conflict(
                "the database already holds a Liaison node (it has migrations applied); "
                "give an empty database"
            )
        database.upgrade()
        actor = Actor.system()
        with database.session() as session:
            record(session, actor, NodeCreated(record_id=name))
            add_user(session, admin_user, admin_password, "admin", admin_agency, actor, Settings())
            session.commit()
    except BaseException:
        database.dispose()
        if database_url is None:
            # Leave nothing half-made behind, so the same command can simply be run again.
            for path in sqlite_files:
                path.unlink(missing_ok=True)
        raise
    database.dispose()
    key = generate_private_key()
    save_private_key(key, directory / NODE_KEY_FILE)
    secret_path = directory / SECRET_FILE
    secret_path.touch(mode=0o600, exist_ok=False)
    secret_path.write_text(secrets.token_urlsafe(48), encoding="ascii")
    write_node_file(
        directory,
        name=name,
        database_url=url,
        base_url=base_url,
        default_agency=admin_agency,
        public_key=public_key_base64(key),
        time_zone=time_zone,
    )
    return load_node(directory)


def add_node_user(
    directory: Path | str,
    username: str,
    password: str,
    role: str,
    agency: str | None = None,
    actor: Actor | None = None,
) -> None:
    """Add an account to the node in DIR (its agency defaults to the node's default agency)."""
    with open_node(directory) as (node, database), database.session() as session:
        add_user(
            session,
            username,
            password,
            role,
            agency or node.default_agency,
            actor or terminal_operator(),
            node.settings,
        )
        session.commit()


def upgrade_node_database(directory: Path | str) -> tuple[str | None, str | None]:
    """Migrate the node's database to the current head; audited when anything changed.

    Returns the revisions before and after.
    """
    with node_database(load_node(directory)) as database:
        before = database.reachable_revision()
        database.upgrade()
        after = database.current_revision()
        if before != after:
            operator = terminal_operator()
            with database.session() as session:
                record(session, operator, DatabaseUpgraded(from_revision=before, to_revision=after))
                session.commit()
    return before, after


def node_server(directory: Path | str, host: str, port: int) -> uvicorn.Server:
    """A configured server for the node in DIR; refuses a database not at the current migration."""
    import uvicorn

    from liaison.web.app import create_app

    with open_node(directory) as (node, _database):
        pass
    return uvicorn.Server(_server_config(node, create_app(node), host, port))


def worker_app(directory: str, workers: int) -> FastAPI:
    """The app of one of `workers` server processes, built in that process."""
    from liaison.web.app import create_app

    # A supervisor killed outright runs no clean-up: its workers (and, dying with them,
    # their identification pools) must not outlive it and keep serving the port.
    die_with_parent(signal.SIGTERM)
    return create_app(load_node(directory), shared=True, processes=workers)


def serve_node(directory: Path | str, host: str, port: int, workers: int = 1) -> None:
    """Serve the node in DIR with `workers` processes on one port (until stopped).

    Several processes need PostgreSQL: a SQLite database takes one writer at a time and
    its live events and delivery locks do not cross processes (InvalidInput otherwise)."""
    if workers < 1:
        raise InvalidInput(f"--workers must be at least 1 (got {workers})")
    if workers == 1:
        node_server(directory, host, port).run()
    else:
        serve_workers(directory, host, port, workers)


def serve_workers(directory: Path | str, host: str, port: int, workers: int) -> None:
    """`workers` processes under a supervisor, sharing events and delivery through
    PostgreSQL (also with one worker: the benchmark measures what sharing costs)."""
    from uvicorn.supervisors import Multiprocess

    with open_node(directory) as (node, database):
        if database.engine.dialect.name != "postgresql":
            raise InvalidInput(
                f"--workers {workers}: a node on SQLite runs as one process; several server "
                "processes need PostgreSQL (give the node a postgresql:// database URL)"
            )
    # Each worker keeps its metrics in files here; a scrape of any adds them all up
    # (liaison.web.metrics). Cleared first: counters start at zero with the node.
    metrics_files = node.directory / METRICS_DIR
    shutil.rmtree(metrics_files, ignore_errors=True)
    metrics_files.mkdir(parents=True, mode=0o700)
    os.environ[MULTIPROCESS_DIR] = str(metrics_files)  # inherited by the workers it spawns
    config = _server_config(node, partial(worker_app, str(node.directory), workers), host, port)
    config.factory = True
    config.workers = workers
    # How long a worker may leave the supervisor's ping unanswered before it is replaced.
    # A new worker answers only once its interpreter is up: on a loaded machine that takes
    # well over uvicorn's 5 s, and a worker killed for it would only start over.
    config.timeout_worker_healthcheck = WORKER_HEALTHCHECK_SECONDS
    # uvicorn's supervisor: binds the port once, starts each worker in a process of its
    # own, and replaces one that dies (the others go on serving meanwhile).
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def _server_config(node: NodeConfig, app: object, host: str, port: int) -> uvicorn.Config:
    import uvicorn

    from liaison.web.logs import LOG_CONFIG

    # Open event streams (hotline live updates) never finish by themselves; shutdown
    # cuts them after a few seconds instead of waiting for the browsers to leave.
    # uvloop and the httptools parser (C) instead of asyncio's loop and h11 (pure Python):
    # less CPU per request on the node's one process (BENCHMARKS.md, Federation).
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="info",
        log_config=LOG_CONFIG,  # one JSON object a line, with the request id
        # X-Forwarded-For only from the proxies named in LIAISON_FORWARDED_ALLOW_IPS.
        proxy_headers=bool(node.settings.forwarded_allow_ips),
        forwarded_allow_ips=node.settings.forwarded_allow_ips or None,
        timeout_graceful_shutdown=3,
    )
