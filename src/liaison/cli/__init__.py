"""The `liaison` command: the front door to every part of the node.

Each concern registers its commands from its own module so the contract of one
(e.g. `liaison screen`) can change without touching the others.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

# Typer 0.29 ships its own copy of Click; its usage errors are raised from there.
from typer._click import exceptions as click_errors

from liaison.cli import (
    demo,
    identity,
    incidents,
    node,
    operations,
    peer,
    rules,
    screen,
    tariffs,
    verification,
)

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
tariffs.register(app)
verification.register(app)
rules.register(app)
identity.register(app)
operations.register(app)
incidents.register(app)


def main(args: Sequence[str] | None = None) -> None:
    """Run the `liaison` command. A usage error (unknown option, missing value, unknown command)
    is one line on standard error and exit status 2, as the screen contract requires, instead of
    Click's multi-line box; every command's own exit status is kept."""
    command = typer.main.get_command(app)
    argv = list(sys.argv[1:] if args is None else args)
    try:
        # Not standalone: Click raises usage errors here and returns typer.Exit's code.
        code = command.main(args=argv, prog_name="liaison", standalone_mode=False)
    except click_errors.NoArgsIsHelpError as error:
        error.show()
        sys.exit(error.exit_code)
    except click_errors.UsageError as error:
        where = error.ctx.command_path if error.ctx is not None else _command_path(command, argv)
        message = " ".join(error.format_message().split())
        sys.stderr.write(f"{where}: error: {message} (see '{where} --help')\n")
        sys.exit(error.exit_code)
    except click_errors.ClickException as error:
        sys.stderr.write(f"liaison: error: {' '.join(error.format_message().split())}\n")
        sys.exit(error.exit_code)
    except typer.Abort:
        sys.stderr.write("liaison: aborted\n")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _command_path(group: object, argv: list[str]) -> str:
    """'liaison screen' for an error raised without a context (a missing option value)."""
    commands = getattr(group, "commands", {})
    name = next((word for word in argv if not word.startswith("-")), None)
    return f"liaison {name}" if name in commands else "liaison"
