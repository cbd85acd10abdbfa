"""The one place a `liaison` command prints an error, and the console the commands print to.

Messages carry user input (usernames, file names, peer answers), so they are printed as
text, never as Rich markup: a username like 'x[/]' would otherwise crash the print. They
are never wrapped either, so a message stays on one line whatever the terminal width
(scripts and tests match on them).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console


@cache
def console() -> Console:
    """Standard output as the commands print to it. Rich is imported on first use: a command
    that prints only data (`liaison screen --format jsonl`) starts without it."""
    from rich.console import Console

    return Console()


def print_error(message: str, *, prefix: str = "error:") -> None:
    from rich.console import Console
    from rich.markup import escape

    stderr = Console(stderr=True, soft_wrap=True, highlight=False)
    stderr.print(f"[bold red]{escape(prefix)}[/] {escape(message)}")


def fail(message: str, code: int = 1, *, prefix: str = "error:") -> typer.Exit:
    """Print the error and return the Exit to raise (`raise fail(...) from error`)."""
    print_error(message, prefix=prefix)
    return typer.Exit(code)
