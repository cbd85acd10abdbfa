"""`liaison demo`: the example import manifest screened, then two peered nodes to log into.

The demo itself is the liaison.demo package, imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import typer

from liaison.cli import summary
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
    from liaison.demo.manifest import screen_example_manifest

    screen_example_manifest(console())
    reports = Path.cwd() / "reports"
    html, csv_path = reports / "rules.html", reports / "rules.csv"
    if _reports_current(html, csv_path):
        console().print(f"Rule data report: {html} and {csv_path} (up to date)", markup=False)
    else:
        write_reports(html, csv_path)
    if screen_only:
        return
    from liaison.demo.nodes import run_node_demo

    try:
        run_node_demo(directory.resolve(), console(), ports=(us_port, cn_port), stay=not no_wait)
    except LiaisonError as error:
        raise fail(error.detail) from None


def _reports_current(*reports: Path) -> bool:
    """The reports of an earlier run are newer than every rule file: checking the whole rule
    book again (seconds of CPU) would write the same files."""
    from liaison.chem.rulebook import RULES_DIR

    if not all(report.is_file() for report in reports):
        return False
    newest_rule = max(path.stat().st_mtime for path in RULES_DIR.iterdir())
    return min(report.stat().st_mtime for report in reports) > newest_rule


def register(app: typer.Typer) -> None:
    app.command("demo", help=summary("demo"))(demo)
