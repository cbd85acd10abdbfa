"""Operating a node: backup and restore (see liaison.backup and docs/deployment.md), and
the rotation of its signing key (liaison.rotation)."""

from __future__ import annotations

from pathlib import Path

import typer

from liaison.cli import summary
from liaison.cli.node import read_stdin_secret
from liaison.cli.output import console, fail
from liaison.errors import LiaisonError


def backup_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    out: Path = typer.Argument(..., help="The backup file to write (must not exist)."),
    passphrase_stdin: bool = typer.Option(
        False, "--passphrase-stdin", help="Read the encryption passphrase from standard input."
    ),
) -> None:
    from liaison.backup import backup_node

    passphrase = read_stdin_secret("--passphrase-stdin", passphrase_stdin)
    try:
        summary = backup_node(directory, out, passphrase)
    except LiaisonError as error:
        raise fail(error.detail) from error
    console().print(
        f"Backed up node {summary.node} ({summary.database}) to {summary.path} "
        f"({summary.size:,} bytes, encrypted)"
    )


def restore_command(
    backup: Path = typer.Argument(..., help="The backup file."),
    directory: Path = typer.Argument(..., help="New (or empty) directory for the node."),
    passphrase_stdin: bool = typer.Option(
        False, "--passphrase-stdin", help="Read the passphrase from standard input."
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        envvar="LIAISON_DATABASE_URL",
        help="PostgreSQL backups: the database to restore into (default: the original).",
    ),
) -> None:
    from liaison.backup import restore_node
    from liaison.node import terminal_operator

    passphrase = read_stdin_secret("--passphrase-stdin", passphrase_stdin)
    try:
        manifest = restore_node(
            backup,
            directory,
            passphrase,
            database_url=database_url,
            operator=terminal_operator(),
        )
    except LiaisonError as error:
        raise fail(error.detail) from error
    console().print(
        f"Restored node {manifest['node']} from the backup of {manifest['created_at']} "
        f"into {directory}"
    )
    console().print(f"Start it with: liaison serve {directory}")


key_app = typer.Typer(help=summary("key"), no_args_is_help=True)


@key_app.command("rotate")
def key_rotate_command(
    directory: Path = typer.Argument(..., help="Directory of the node (stopped)."),
) -> None:
    """Replace the node's signing key; every active peer is told the new key, signed by the
    old one. Run it while the node is stopped, with the peers running; then start the node."""
    from liaison.rotation import rotate_key

    try:
        rotation = rotate_key(directory)
    except LiaisonError as error:
        raise fail(error.detail) from error
    for name in rotation.peers_told:
        console().print(f"peer {name}: told the new key")
    console().print(f"New public key: {rotation.new_public_key}")
    console().print(f"The old key is kept in {rotation.old_key_file}")
    if rotation.peers_not_told:
        raise fail(
            "these peers were not told and will refuse this node's envelopes until peered "
            "again: " + "; ".join(rotation.peers_not_told)
        )


def register(app: typer.Typer) -> None:
    app.command("backup", help=summary("backup"))(backup_command)
    app.command("restore", help=summary("restore"))(restore_command)
    app.add_typer(key_app, name="key")
