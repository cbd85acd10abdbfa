"""`liaison demo`: the example import manifest screened, then two peered nodes to log into.

The demo itself is the liaison.demo package, imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import typer

from liaison.cli.output import console, fail
from liaison.cli.rules import write_reports
from liaison.errors import LiaisonError


def demo(
    directory: Path = typer.Option(
        Path("demo-nodes"), "--directory", help="Where the demo nodes live (reused if present)."
    ),
    screen_only: bool = typer.Option(
        False, "--screen-only", help="Only screen the example manifest; start no nodes."
    ),
    no_wait: bool = typer.Option(
        False, "--no-wait", help="Set up, start, peer and seed the nodes, then stop them and exit."
    ),
    us_port: int = typer.Option(8001, "--us-port", help="Port of the US node when created."),
    cn_port: int = typer.Option(8002, "--cn-port", help="Port of the CN node when created."),
) -> None:
    """Screen the example import manifest, then run two peered nodes (US, CN) to log into."""
    from liaison.demo.manifest import screen_example_manifest

    screen_example_manifest(console())
    reports = Path.cwd() / "reports"
    write_reports(reports / "rules.html", reports / "rules.csv")
    if screen_only:
        return
    from liaison.demo.nodes import run_node_demo

    try:
        run_node_demo(directory.resolve(), console(), ports=(us_port, cn_port), stay=not no_wait)
    except LiaisonError as error:
        raise fail(error.detail) from None


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
