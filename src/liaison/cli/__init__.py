"""The `liaison` command: the front door to every part of the node.

Each concern registers its commands from its own module so the contract of one
(e.g. `liaison screen`) can change without touching the others.
"""

from __future__ import annotations

import typer

from liaison.cli import demo, node, peer, screen

app = typer.Typer(
    name="liaison",
    help="Liaison: substance identification, hotline and case exchange between peered nodes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

screen.register(app)
demo.register(app)
node.register(app)
peer.register(app)


def main() -> None:
    app()
