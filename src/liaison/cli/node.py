"""Node life cycle commands: init, serve, user add/list/disable, audit verify, db upgrade.

The plain functions (`create_node`, `serve_node`, `add_node_user`) are what `liaison demo`
and the tests call; the Typer commands only read arguments and print.
"""

from __future__ import annotations

import getpass
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import make_url

from liaison.audit import Actor, DatabaseUpgraded, NodeCreated, record, verify_chain
from liaison.cli.output import fail
from liaison.config import (
    NODE_FILE,
    NODE_KEY_FILE,
    SECRET_FILE,
    SQLITE_FILE,
    NodeConfig,
    default_database_url,
    load_node,
    write_node_file,
)
from liaison.errors import Conflict, InvalidInput, LiaisonError
from liaison.federation.keys import generate_private_key, public_key_base64, save_private_key
from liaison.services.accounts import (
    add_user,
    check_new_account,
    disable_user,
    list_users,
)
from liaison.store import Database
from liaison.store.accounts import ROLES

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
NODE_CODE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")

console = Console()


def _operator() -> Actor:
    """The person at the terminal, as the audit trail names CLI actions."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return Actor.system(f"cli:{login}"[:100])


@contextmanager
def _node_database(node: NodeConfig) -> Iterator[Database]:
    database = Database(node.database_url)
    try:
        yield database
    finally:
        database.dispose()


def create_node(
    directory: Path | str,
    name: str,
    admin_user: str,
    admin_password: str,
    database_url: str | None = None,
    *,
    agency: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
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
            add_user(session, admin_user, admin_password, "admin", admin_agency, actor)
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
    node = load_node(directory)
    with _node_database(node) as database, database.session() as session:
        database.require_head()
        add_user(
            session, username, password, role, agency or node.default_agency, actor or _operator()
        )
        session.commit()


def node_server(directory: Path | str, host: str, port: int) -> uvicorn.Server:
    """A configured server for the node in DIR; refuses a database not at the current migration."""
    from liaison.web.app import create_app

    node = load_node(directory)
    with _node_database(node) as database:
        database.require_head()
    # Open event streams (hotline live updates) never finish by themselves; shutdown
    # cuts them after a few seconds instead of waiting for the browsers to leave.
    # uvloop and the httptools parser (C) instead of asyncio's loop and h11 (pure Python):
    # less CPU per request on the node's one process (BENCHMARKS.md, Federation).
    config = uvicorn.Config(
        create_app(node),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="info",
        # X-Forwarded-For only from the proxies named in LIAISON_FORWARDED_ALLOW_IPS.
        proxy_headers=bool(node.settings.forwarded_allow_ips),
        forwarded_allow_ips=node.settings.forwarded_allow_ips or None,
        timeout_graceful_shutdown=3,
    )
    return uvicorn.Server(config)


def serve_node(directory: Path | str, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the node in the foreground until interrupted."""
    node_server(directory, host, port).run()


def _read_password(prompt_source: str) -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InvalidInput(f"no password on standard input ({prompt_source})")
    return password


def init_command(
    directory: Path = typer.Argument(..., help="Directory of the new node."),
    name: str = typer.Option(..., "--name", help="Short code of the node, e.g. US or CN."),
    admin_user: str = typer.Option(..., "--admin-user", help="Username of the first admin."),
    admin_password_stdin: bool = typer.Option(
        False, "--admin-password-stdin", help="Read the admin password from standard input."
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        envvar="LIAISON_DATABASE_URL",
        help="SQLAlchemy URL (default: SQLite in DIR).",
    ),
    agency: str | None = typer.Option(
        None, "--agency", help="The admin's agency (default: '<CODE> administration')."
    ),
    base_url: str = typer.Option(DEFAULT_BASE_URL, "--base-url", help="URL peers reach."),
) -> None:
    """Create a node: configuration, Ed25519 key pair, migrated database, admin account."""
    if not admin_password_stdin:
        raise fail("give the admin password on standard input (--admin-password-stdin)", 2)
    try:
        password = _read_password("--admin-password-stdin")
        node = create_node(
            directory, name, admin_user, password, database_url, agency=agency, base_url=base_url
        )
    except LiaisonError as error:
        raise fail(error.detail) from error
    console.print(f"Created node {node.name} in {node.directory}")
    console.print(f"  database: {make_url(node.database_url).render_as_string()}")
    console.print(f"  public key: {node.public_key}")
    console.print(f"  admin: {admin_user} ({node.default_agency})")
    console.print(f"Start it with: liaison serve {directory}")


def serve_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Run the node (web UI and API)."""
    try:
        server = node_server(directory, host, port)
    except LiaisonError as error:
        raise fail(error.detail) from error
    server.run()


user_app = typer.Typer(help="Manage the node's user accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="Check the audit trail.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@user_app.command("add")
def user_add_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    username: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    agency: str | None = typer.Option(None, "--agency", help="Default: the node's agency."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
) -> None:
    """Add a user account."""
    if not password_stdin:
        raise fail("give the password on standard input (--password-stdin)", 2)
    try:
        add_node_user(directory, username, _read_password("--password-stdin"), role, agency)
    except LiaisonError as error:
        raise fail(error.detail) from error
    console.print(f"Added {username} ({role})")


@user_app.command("list")
def user_list_command(directory: Path = typer.Argument(..., help="Directory of the node.")) -> None:
    """List user accounts."""
    try:
        node = load_node(directory)
        with _node_database(node) as database, database.session() as session:
            database.require_head()
            users = list_users(session, _operator())
            session.commit()
            table = Table("username", "role", "agency", "status", "created (UTC)")
            for user in users:
                table.add_row(
                    user.username,
                    user.role,
                    user.agency.name,
                    "disabled" if user.disabled else "active",
                    f"{user.created_at:%Y-%m-%d %H:%M}",
                )
    except LiaisonError as error:
        raise fail(error.detail) from error
    console.print(table)


@user_app.command("disable")
def user_disable_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    username: str = typer.Argument(...),
) -> None:
    """Disable a user account (ends its sessions and revokes its API tokens)."""
    try:
        node = load_node(directory)
        with _node_database(node) as database, database.session() as session:
            database.require_head()
            disable_user(session, username, _operator())
            session.commit()
    except LiaisonError as error:
        raise fail(error.detail) from error
    console.print(f"Disabled {username}")


@audit_app.command("verify")
def audit_verify_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    against_peers: bool = typer.Option(
        False,
        "--against-peers",
        help="Also ask each peer for the checkpoints of this chain it holds, and report "
        "any this chain no longer matches.",
    ),
) -> None:
    """Verify the whole audit chain: exit 0 when intact (and, with --against-peers, every
    peer answered and all it holds matches), 1 naming the first entry that fails."""
    from liaison.federation.checkpoints import check_against_peers
    from liaison.federation.context import LocalNode

    try:
        node = load_node(directory)
        with _node_database(node) as database, database.session() as session:
            database.require_head()
            result = verify_chain(session)
            session.commit()  # the verified checkpoint
            checks = (
                check_against_peers(session, LocalNode.from_config(node)) if against_peers else []
            )
    except LiaisonError as error:
        raise fail(error.detail) from error
    if not result.intact:
        raise fail(result.message())
    console.print(result.message())
    for check in checks:
        console.print(escape(check.message()))
    failed = [check for check in checks if not check.matches]
    if failed:
        raise fail(f"{len(failed)} of {len(checks)} peers do not confirm this chain")


def upgrade_node_database(directory: Path | str) -> tuple[str | None, str | None]:
    """Migrate the node's database to the current head; audited when anything changed.

    Returns the revisions before and after.
    """
    node = load_node(directory)
    with _node_database(node) as database:
        before = database.reachable_revision()
        database.upgrade()
        after = database.current_revision()
        if before != after:
            operator = _operator()
            with database.session() as session:
                record(session, operator, DatabaseUpgraded(from_revision=before, to_revision=after))
                session.commit()
    return before, after


@db_app.command("upgrade")
def db_upgrade_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
) -> None:
    """Apply database migrations up to the current head."""
    try:
        before, after = upgrade_node_database(directory)
    except LiaisonError as error:
        raise fail(error.detail) from error
    if before == after:
        console.print(f"Database already at {after}")
    else:
        console.print(f"Database upgraded from {before or 'empty'} to {after}")


def register(app: typer.Typer) -> None:
    app.command("init")(init_command)
    app.command("serve")(serve_command)
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")
    app.add_typer(db_app, name="db")
