"""The `liaison` command: the front door to every part of the node.

Each concern registers its commands from its own module so the contract of one
(e.g. `liaison screen`) can change without touching the others. A module is imported when
one of its commands runs: `liaison --help` lists the commands from COMMANDS alone.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any

import typer

# Typer 0.29 ships its own copy of Click; its usage errors are raised from there.
from typer._click import Command, Context, HelpFormatter
from typer._click import exceptions as click_errors
from typer.core import TyperCommand, TyperGroup

from liaison.cli.coercion import pass_plain_values

# Every top-level command, in the order `liaison --help` lists them: the module of
# liaison.cli that registers it, and its help. The help is written here only: the module
# registers the command with summary(name), and the listing reads it without the module.
COMMANDS: dict[str, tuple[str, str]] = {
    "screen": (
        "screen",
        "Screen structures, names or CAS numbers against the US, CN and UN rules.",
    ),
    "demo": (
        "demo",
        "Screen the example import manifest, then run two peered nodes (US, CN) to log into.",
    ),
    "init": (
        "node",
        "Create a node: configuration, Ed25519 key pair, migrated database, admin account.",
    ),
    "serve": ("node", "Run the node (web UI and API)."),
    "backup": (
        "operations",
        "Back up the node (database, keys, configuration) into one encrypted file; safe while\n"
        "the node runs.",
    ),
    "restore": (
        "operations",
        "Restore a node from a backup; start it and its peers send back what it lacks.",
    ),
    "user": ("node", "Manage the node's user accounts."),
    "audit": ("node", "Check the audit trail."),
    "db": ("node", "Database maintenance."),
    "peer": ("peer", "Peer this node with another node."),
    "tariffs": (
        "tariffs",
        "Tariff measures tied to fentanyl: duties on an entry, measures in force.",
    ),
    "verification": (
        "verification",
        "Nationality verification cases: retention, keys, agreements with peers.",
    ),
    "registry": ("verification", "The population registry extract."),
    "rules": ("rules", "The substance rule data: check it, report on it."),
    "identity": (
        "identity",
        "People: match requests against a registry, check identity numbers and MRZs.",
    ),
    "key": ("operations", "The node's signing key."),
    "incidents": ("incidents", "Incident maintenance."),
}


def summary(name: str) -> str:
    """The help of the top-level command `name`."""
    return COMMANDS[name][1]


@cache
def _commands_of(module: str) -> dict[str, Command]:
    """The top-level commands `module` registers, built."""
    registered = typer.Typer()
    importlib.import_module(f"liaison.cli.{module}").register(registered)
    group = typer.main.get_group(registered)
    for command in group.commands.values():
        pass_plain_values(command)
    return dict(group.commands)


class _Registered(Mapping[str, Command]):
    """The top-level commands by name; a command's module is imported when it is looked up."""

    def __getitem__(self, name: str) -> Command:
        return _commands_of(COMMANDS[name][0])[name]

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class _Liaison(TyperGroup):
    """The `liaison` group: its commands built when looked up, listed from COMMANDS."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        pass_plain_values(self)  # its own options, before its commands are there to look up
        self.commands = _Registered()  # type: ignore[assignment]  # read only, never added to
        self._listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if self._listing and cmd_name in COMMANDS:
            return TyperCommand(cmd_name, help=summary(cmd_name))  # what the listing shows of it
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="liaison",
    cls=_Liaison,
    help="Liaison: substance identification, hotline and case exchange between peered nodes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# Typer makes a group only of an app with a callback or registered commands; the commands are
# _Liaison's, so the group is asked for with this callback (`liaison` has no options of its own).
@app.callback()
def _group() -> None:
    pass


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
        where = error.ctx.command_path if error.ctx is not None else _command_path(argv)
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


def _command_path(argv: list[str]) -> str:
    """'liaison screen' for an error raised without a context (a missing option value)."""
    name = next((word for word in argv if not word.startswith("-")), None)
    return f"liaison {name}" if name in COMMANDS else "liaison"
