"""`liaison verification purge|rotate-key|agreement` and `liaison registry import`.

The plain functions are what the demo and the tests call; the Typer commands read
arguments and print. Services are imported when a command runs, so `liaison --help`
stays quick.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from liaison.cli import summary
from liaison.cli.output import console, fail
from liaison.errors import LiaisonError

if TYPE_CHECKING:
    from liaison.services.verification import Deadline
    from liaison.services.verification.registry import ImportResult
    from liaison.services.verification.rules import Agreement

verification_app = typer.Typer(help=summary("verification"), no_args_is_help=True)
registry_app = typer.Typer(help=summary("registry"), no_args_is_help=True)


def purge(node_dir: Path | str, retention_days: int) -> list[str]:
    from liaison.node import open_node, terminal_operator
    from liaison.services import verification

    with open_node(node_dir) as (_config, database), database.session() as session:
        purged = verification.purge(session, terminal_operator(), retention_days=retention_days)
        session.commit()
    return purged


def rotate_key(node_dir: Path | str) -> int:
    from liaison.node import open_node, terminal_operator
    from liaison.services import verification

    with open_node(node_dir) as (config, database), database.session() as session:
        return verification.rotate_key(session, config, terminal_operator())


def set_agreement(
    node_dir: Path | str,
    peer: str,
    deadlines: list[str],
    refused: list[str],
) -> Agreement:
    from liaison.node import open_node, terminal_operator
    from liaison.services import verification

    terms = dict(_deadline(text) for text in deadlines)
    fields = dict(_refusal(text) for text in refused)
    with open_node(node_dir) as (_config, database), database.session() as session:
        agreement = verification.set_agreement(
            session, terminal_operator(), peer, deadlines=terms, refused_fields=fields
        )
        session.commit()
    return agreement


def _deadline(text: str) -> tuple[str, Deadline]:
    """STEP=DAYS[:EXTENDABLE_TO][:silence], e.g. decision=30:60:silence."""
    from liaison.services.verification import Deadline as Terms

    step, _, terms = text.partition("=")
    parts = terms.split(":")
    try:
        days = int(parts[0])
        extendable = int(parts[1]) if len(parts) > 1 and parts[1] else None
    except ValueError as error:
        raise typer.BadParameter(
            f"--deadline {text!r}: expected STEP=DAYS[:MAX][:silence]"
        ) from error
    silence = len(parts) > 2 and parts[2] == "silence"
    return step.strip(), Terms(days, extendable, silence)


def _refusal(text: str) -> tuple[str, str]:
    field, _, why = text.partition("=")
    return field.strip(), why.strip()


def import_registry(node_dir: Path | str, file: Path) -> ImportResult:
    from liaison.node import open_node, terminal_operator
    from liaison.services.verification import registry

    with open_node(node_dir) as (config, database), database.session() as session:
        return registry.import_registry(session, config, terminal_operator(), file)


@verification_app.command("purge")
def purge_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    retention_days: int = typer.Option(
        365, "--retention-days", help="Days after closure that personal fields are kept."
    ),
) -> None:
    """Drop the personal fields of cases closed longer ago than the retention period;
    statuses, times and counts stay for the statistics."""
    try:
        purged = purge(directory, retention_days)
    except LiaisonError as error:
        raise fail(error.detail) from error
    console().print(f"Purged the personal data of {len(purged)} case(s).", markup=False)


@verification_app.command("rotate-key")
def rotate_key_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
) -> None:
    """Make a new personal-data key and seal every case's personal data again with it."""
    try:
        resealed = rotate_key(directory)
    except LiaisonError as error:
        raise fail(error.detail) from error
    console().print(f"New key in use; {resealed} sealed value(s) sealed again.", markup=False)


@verification_app.command("agreement")
def agreement_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    peer: str = typer.Argument(..., help="Name of the peer node."),
    deadline: list[str] = typer.Option(
        [],
        "--deadline",
        help="STEP=DAYS[:EXTENDABLE_TO][:silence] (steps: decision, travel_document_issued, "
        "travel_scheduled, returned, closed), e.g. decision=30:60:silence.",
    ),
    refuse: list[str] = typer.Option(
        [], "--refuse", help="FIELD=REASON: a subject field the law forbids sharing with PEER."
    ),
) -> None:
    """Set the terms of the readmission agreement with PEER and print them."""
    from liaison.services.verification import agreement_json

    try:
        agreement = set_agreement(directory, peer, deadline, refuse)
    except LiaisonError as error:
        raise fail(error.detail) from error
    terms = agreement_json(agreement)
    for step, values in terms["deadlines"].items():
        typer.echo(
            f"{step}: {values['days']} days"
            + (
                ""
                if values["extendable_to"] is None
                else f", extendable to {values['extendable_to']}"
            )
            + (", silence counts as agreement" if values["silence_agrees"] else "")
        )
    for field, why in terms["refused_fields"].items():
        typer.echo(f"never shared: {field} ({why})")


@registry_app.command("import")
def import_command(
    directory: Path = typer.Argument(..., help="Directory of the node."),
    file: Path = typer.Argument(..., help="The registry extract, CSV or Parquet."),
) -> None:
    """Replace the registry extract (atomically); rows read without a bad field are
    reported. Exit status 0 when imported, 1 when nothing usable was in FILE."""
    try:
        with console().status(f"Reading {file} and training the matching model on it ..."):
            result = import_registry(directory, file)
    except LiaisonError as error:
        raise fail(error.detail) from error
    for problem in result.problems:
        typer.echo(
            f"row {problem.row}: {problem.field}: {problem.message} (read without it)", err=True
        )
    console().print(
        f"Imported {result.people} people from {file} on {result.imported_at:%Y-%m-%d %H:%M} UTC"
        f" ({len(result.problems)} field(s) read as empty).",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(verification_app, name="verification")
    app.add_typer(registry_app, name="registry")
