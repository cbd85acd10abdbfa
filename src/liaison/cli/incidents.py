"""`liaison incidents summary`: check the seizure summary the dashboard reads against a full
recomputation of the incidents' items, and rebuild it when asked.

The database layer is imported inside the command, so `liaison --help` stays quick.
"""

from __future__ import annotations

from pathlib import Path

import typer

from liaison.cli import summary
from liaison.cli.output import console, fail
from liaison.errors import LiaisonError

incidents_app = typer.Typer(help=summary("incidents"), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(incidents_app, name="incidents")


@incidents_app.command("summary")
def summary_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    rebuild: bool = typer.Option(
        False,
        "--rebuild",
        help="Replace the summary with the full recomputation first (audited).",
    ),
) -> None:
    """Compare the seizure summary with a full recomputation of the items: exit 0 when
    they agree, 1 listing the groups that differ."""
    from rich.markup import escape

    from liaison.audit import Actor, SeizureSummaryRebuilt, record
    from liaison.node import open_node
    from liaison.services.incidents.summary import summary_differences
    from liaison.store.incident_summary import rebuild_summary

    try:
        with open_node(directory) as (_node, database), database.session() as session:
            if rebuild:
                rows = rebuild_summary(session.connection())
                record(session, Actor.system("cli"), SeizureSummaryRebuilt(rows=rows))
                session.commit()
                console().print(f"Rebuilt the seizure summary: {rows} rows")
            problems = summary_differences(session)
            session.commit()
    except LiaisonError as error:
        raise fail(error.detail) from error
    for problem in problems[:50]:
        console().print(escape(problem))
    if problems:
        raise fail(
            f"the seizure summary differs from the items in {len(problems)} groups; "
            "`liaison incidents summary --rebuild` replaces it"
        )
    console().print("The seizure summary equals a full recomputation of the items.")
