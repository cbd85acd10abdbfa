"""`liaison peer invite|accept|list|revoke`: peering from the command line.

The plain functions (`invite`, `accept`, `peer_list`, `revoke`) are what the demo and the
tests call; the Typer commands only read arguments and print. `invite` prints nothing
but the code, so it can be captured (`CODE=$(liaison peer invite us)`). The database
and federation modules are imported when a function runs, not when the CLI starts.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from liaison.cli import summary
from liaison.cli.output import console, fail
from liaison.errors import LiaisonError

if TYPE_CHECKING:
    from liaison.services.peering import PeerState

peer_app = typer.Typer(help=summary("peer"), no_args_is_help=True)


def invite(node_dir: Path | str, ttl_seconds: int | None = None) -> str:
    """Issue a one-time invite code for another node to accept (valid 24 hours by default)."""
    from liaison.federation.context import LocalNode
    from liaison.federation.invites import DEFAULT_TTL_SECONDS
    from liaison.node import open_node, terminal_operator
    from liaison.services.peering import issue_invite

    with open_node(node_dir) as (config, database), database.session() as session:
        code = issue_invite(
            session,
            LocalNode.from_config(config),
            terminal_operator(),
            DEFAULT_TTL_SECONDS if ttl_seconds is None else ttl_seconds,
        )
        session.commit()
    return code


def accept(node_dir: Path | str, code: str) -> str:
    """Complete the handshake with the inviting node (which must be running); returns its name."""
    from liaison.federation.context import LocalNode
    from liaison.node import open_node, terminal_operator
    from liaison.runtime import node_record_types
    from liaison.services.peering import accept_invite

    with open_node(node_dir) as (config, database), database.session() as session:
        node = LocalNode.from_config(config)
        return accept_invite(session, node, node_record_types(), code, terminal_operator()).name


def peer_list(node_dir: Path | str) -> list[PeerState]:
    from liaison.node import open_node
    from liaison.services.peering import peer_states

    with open_node(node_dir) as (_config, database), database.session() as session:
        return peer_states(session)


def revoke(node_dir: Path | str, name: str) -> None:
    from liaison.node import open_node, terminal_operator
    from liaison.services.peering import revoke_peer

    with open_node(node_dir) as (_config, database), database.session() as session:
        revoke_peer(session, name, terminal_operator())


def _moment(moment: datetime | None) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


@peer_app.command("invite")
def invite_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    ttl_hours: float = typer.Option(24.0, "--ttl-hours", help="Hours the code stays valid."),
) -> None:
    """Print a one-line invite code (node name, URL, public key, one-time secret, expiry)."""
    try:
        code = invite(directory, int(ttl_hours * 3600))
    except LiaisonError as error:
        raise fail(error.detail) from error
    print(code)


@peer_app.command("accept")
def accept_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    code: str = typer.Argument(..., help="The invite code printed by the other node."),
) -> None:
    """Peer with the node that issued CODE; that node must be running."""
    try:
        name = accept(directory, code)
    except LiaisonError as error:
        raise fail(error.detail) from error
    console().print(f"Peered with {name}", markup=False)


@peer_app.command("list")
def list_command(directory: Path = typer.Argument(..., help="Directory of the node.")) -> None:
    """List peers with the state of the outbox to each."""
    try:
        states = peer_list(directory)
    except LiaisonError as error:
        raise fail(error.detail) from error
    if not states:
        typer.echo("No peers yet.")
    for state in states:
        age = state.oldest_pending_age_seconds()
        typer.echo(f"{state.name}  {state.status}  {state.base_url}  ({state.default_agency})")
        typer.echo(
            f"  to it:   {state.last_seq} queued, {state.acked_seq} acknowledged, "
            f"{state.pending} pending"
            + ("" if age is None else f" (oldest {age} s)")
            + f"; last success {_moment(state.last_success_at)}"
        )
        if state.last_refused is not None:
            typer.echo(
                f"  refused by it: {state.refused} record(s); the last, "
                f"{state.last_refused.record_type} #{state.last_refused.seq}: "
                f"{state.last_refused.reason}"
            )
        if state.last_error:
            typer.echo(
                f"  last error ({_moment(state.last_error_at)}, {state.failures} in a row): "
                f"{state.last_error}"
            )
        typer.echo(
            f"  from it: {state.last_applied_seq} applied; "
            f"last received {_moment(state.last_received_at)}"
        )


@peer_app.command("revoke")
def revoke_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    name: str = typer.Argument(..., help="Name of the peer node."),
) -> None:
    """Stop trusting a peer: its requests are refused and nothing more is sent to it."""
    try:
        revoke(directory, name)
    except LiaisonError as error:
        raise fail(error.detail) from error
    console().print(f"Revoked {name}", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(peer_app, name="peer")
