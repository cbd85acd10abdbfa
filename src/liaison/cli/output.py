"""The one place a `liaison` command prints an error, and the console the commands print to.

Messages carry user input (usernames, file names, peer answers), so they are printed as
text, never as Rich markup: a username like 'x[/]' would otherwise crash the print. They
are never wrapped either, so a message stays on one line whatever the terminal width
(scripts and tests match on them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
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


@contextlib.contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A transient progress bar on standard error (label, bar, done of total, time left);
    yields the function that advances it by n. Rich is imported only here."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)
