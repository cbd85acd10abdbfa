"""Node life cycle commands: init, serve, user add/list/disable, audit verify, db upgrade.

The commands only read arguments and print; creating and opening a node is liaison.node's.
The database layer and the web stack are imported inside the commands, so `liaison --help`
and the other commands do not pay for them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from liaison.cli import summary
from liaison.cli.output import console, fail
from liaison.errors import InvalidInput, LiaisonError


def read_stdin_secret(option: str, given: bool) -> str:
    """The secret on the first line of standard input. Usage error (exit 2) when `option`
    was not given; exit 1 when the line is empty."""
    if not given:
        what = option.removeprefix("--").removesuffix("-stdin").replace("-", " ")
        raise fail(f"give the {what} on standard input ({option})", 2)
    secret = sys.stdin.readline().rstrip("\r\n")
    if not secret:
        raise fail(f"no password on standard input ({option})")
    return secret


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
    base_url: str | None = typer.Option(
        None, "--base-url", help="URL peers reach (default: http://127.0.0.1:8000)."
    ),
    time_zone: str = typer.Option(
        "UTC",
        "--time-zone",
        help="IANA time zone the pages show times in for users who chose none "
        "(e.g. Asia/Shanghai); LIAISON_TIME_ZONE overrides it.",
    ),
) -> None:
    from sqlalchemy.engine import make_url

    from liaison.node import DEFAULT_BASE_URL, create_node

    password = read_stdin_secret("--admin-password-stdin", admin_password_stdin)
    try:
        node = create_node(
            directory,
            name,
            admin_user,
            password,
            database_url,
            agency=agency,
            base_url=base_url or DEFAULT_BASE_URL,
            time_zone=time_zone,
        )
    except LiaisonError as error:
        raise fail(error.detail) from error
    console().print(f"Created node {node.name} in {node.directory}")
    console().print(f"  database: {make_url(node.database_url).render_as_string()}")
    console().print(f"  public key: {node.public_key}")
    console().print(f"  admin: {admin_user} ({node.default_agency})")
    console().print(f"Start it with: liaison serve {directory}")


def serve_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(
        1,
        "--workers",
        help="Server processes on the port (more than 1 needs a PostgreSQL database).",
    ),
) -> None:
    from liaison.node import serve_node

    try:
        serve_node(directory, host, port, workers)
    except InvalidInput as error:  # e.g. several processes asked of a SQLite node
        raise fail(error.detail, 2) from error
    except LiaisonError as error:
        raise fail(error.detail) from error


user_app = typer.Typer(help=summary("user"), no_args_is_help=True)
audit_app = typer.Typer(help=summary("audit"), no_args_is_help=True)
db_app = typer.Typer(help=summary("db"), no_args_is_help=True)


@user_app.command("add")
def user_add_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    username: str = typer.Argument(...),
    role: str = typer.Option(
        ...,
        "--role",
        help=(
            "admin, officer, analyst, auditor, regulator, immigration_officer, verifier "
            "or supervisor."
        ),
    ),
    agency: str | None = typer.Option(None, "--agency", help="Default: the node's agency."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
) -> None:
    """Add a user account."""
    from liaison.node import add_node_user

    password = read_stdin_secret("--password-stdin", password_stdin)
    try:
        add_node_user(directory, username, password, role, agency)
    except LiaisonError as error:
        raise fail(error.detail) from error
    console().print(f"Added {username} ({role})")


@user_app.command("list")
def user_list_command(directory: Path = typer.Argument(..., help="Directory of the node.")) -> None:
    """List user accounts."""
    from rich.table import Table

    from liaison.node import open_node, terminal_operator
    from liaison.services.accounts import list_users

    try:
        with open_node(directory) as (_node, database), database.session() as session:
            users = list_users(session, terminal_operator())
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
    console().print(table)


@user_app.command("disable")
def user_disable_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    username: str = typer.Argument(...),
) -> None:
    """Disable a user account (ends its sessions and revokes its API tokens)."""
    from liaison.node import open_node, terminal_operator
    from liaison.services.accounts import disable_user

    try:
        with open_node(directory) as (_node, database), database.session() as session:
            disable_user(session, username, terminal_operator())
            session.commit()
    except LiaisonError as error:
        raise fail(error.detail) from error
    console().print(f"Disabled {username}")


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
    from rich.markup import escape

    from liaison.audit import verify_chain
    from liaison.federation.checkpoints import check_against_peers
    from liaison.federation.context import LocalNode
    from liaison.node import open_node

    try:
        with open_node(directory) as (node, database), database.session() as session:
            result = verify_chain(session)
            session.commit()  # the verified checkpoint
            checks = (
                check_against_peers(session, LocalNode.from_config(node)) if against_peers else []
            )
    except LiaisonError as error:
        raise fail(error.detail) from error
    if not result.intact:
        raise fail(result.message())
    console().print(result.message())
    for check in checks:
        console().print(escape(check.message()))
    failed = [check for check in checks if not check.matches]
    if failed:
        raise fail(f"{len(failed)} of {len(checks)} peers do not confirm this chain")


@db_app.command("upgrade")
def db_upgrade_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
) -> None:
    """Apply database migrations up to the current head."""
    from liaison.node import upgrade_node_database

    try:
        before, after = upgrade_node_database(directory)
    except LiaisonError as error:
        raise fail(error.detail) from error
    if before == after:
        console().print(f"Database already at {after}")
    else:
        console().print(f"Database upgraded from {before or 'empty'} to {after}")


def register(app: typer.Typer) -> None:
    app.command("init", help=summary("init"))(init_command)
    app.command("serve", help=summary("serve"))(serve_command)
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")
    app.add_typer(db_app, name="db")
