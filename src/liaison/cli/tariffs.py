"""`liaison tariffs`: the duty calculator and the measure list (liaison.tariffs).

The contract: `duty` for one entry (table or json) or a CSV batch, `measures` for what was in
force. Usage errors are one line on standard error and exit status 2; a batch with bad rows
writes every row (errors included) and exits 1.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import typer

from liaison.cli import summary
from liaison.cli.output import fail

if TYPE_CHECKING:
    from liaison.tariffs import DutyResult, Measure

FORMATS = ("table", "json")

tariffs_app = typer.Typer(help=summary("tariffs"), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tariffs_app, name="tariffs")


def usage_error(command: str, message: str) -> typer.Exit:
    return fail(message, 2, prefix=f"liaison tariffs {command}: error:")


def check_format(command: str, output_format: str) -> None:
    if output_format not in FORMATS:
        raise usage_error(command, f"--format {output_format!r} is not one of {', '.join(FORMATS)}")


@tariffs_app.command("duty")
def duty(
    origin: str | None = typer.Option(None, "--origin", help="Country of origin (CN, CA, MX...)."),
    entry_date: str | None = typer.Option(
        None, "--entry-date", help="Date of entry for consumption (YYYY-MM-DD)."
    ),
    customs_value: str | None = typer.Option(
        None, "--customs-value", help="Customs value in US dollars."
    ),
    hts: str | None = typer.Option(None, "--hts", help="HTS code (recorded, e.g. 2933.39.41)."),
    usmca: bool = typer.Option(False, "--usmca", help="The goods qualify under USMCA."),
    ordinary_rate: str | None = typer.Option(
        None, "--ordinary-rate", help="Ordinary (column 1) duty rate in percent."
    ),
    category: str | None = typer.Option(
        None, "--category", help="energy | potash | donation | informational_materials"
    ),
    loaded_on: str | None = typer.Option(
        None, "--loaded-on", help="Day the goods were loaded for the US (in-transit exemptions)."
    ),
    de_minimis: bool = typer.Option(
        False, "--de-minimis", help="Entered under de minimis (19 U.S.C. 1321, $800 or less)."
    ),
    output_format: str = typer.Option("table", "--format", help="table | json"),
    batch: Path | None = typer.Option(
        None, "--batch", help="CSV of entries (origin, entry_date, customs_value, ...)."
    ),
    output: Path | None = typer.Option(
        None, "--output", help="With --batch: write the results CSV here (default stdout)."
    ),
) -> None:
    """The additional duties that applied to an entry, the total and the IEEPA part."""
    from liaison.errors import InvalidInput
    from liaison.tariffs import EntryError, calculate, entry_from_fields

    check_format("duty", output_format)
    if batch is not None:
        single = (
            ("--origin", origin),
            ("--entry-date", entry_date),
            ("--customs-value", customs_value),
            ("--hts", hts),
            ("--usmca", usmca or None),
            ("--ordinary-rate", ordinary_rate),
            ("--category", category),
            ("--loaded-on", loaded_on),
            ("--de-minimis", de_minimis or None),
            ("--format json", None if output_format == "table" else output_format),
        )
        given = [name for name, value in single if value is not None]
        if given:
            # Batch rows carry their own fields and the output is always CSV.
            raise usage_error("duty", f"{', '.join(given)} cannot be combined with --batch")
        run_batch(batch, output)
        return
    if output is not None:
        raise usage_error("duty", "--output is for --batch; the result goes to standard output")
    fields = {
        "origin": origin,
        "entry_date": entry_date,
        "customs_value": customs_value,
        "hts": hts,
        "usmca": usmca,
        "ordinary_rate": ordinary_rate,
        "category": category,
        "loaded_on": loaded_on,
        "de_minimis": de_minimis,
    }
    try:
        result = calculate(entry_from_fields(fields))
    except EntryError as error:
        option = "--" + error.field.replace("_", "-")
        raise usage_error("duty", f"{option}: {error.message}") from None
    except InvalidInput as error:
        raise usage_error("duty", error.detail) from None
    if output_format == "json":
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        print_result(result)


def run_batch(source: Path, output: Path | None) -> None:
    from liaison.errors import InvalidInput
    from liaison.tariffs import calculate_rows, read_rows, write_batch

    if not source.is_file():
        raise usage_error("duty", f"--batch {source}: no such file")
    if output is not None and output.exists() and output.resolve() == source.resolve():
        raise usage_error("duty", f"--output {output} is the --batch file; it would be overwritten")
    try:
        # Read before opening the output: a bad header is a usage error, and writes nothing.
        with source.open(encoding="utf-8-sig", newline="") as stream:
            rows = list(read_rows(stream, source.name))
    except (OSError, UnicodeDecodeError) as error:
        raise usage_error("duty", f"--batch {source}: cannot be read ({error})") from None
    except InvalidInput as error:
        raise usage_error("duty", error.detail) from None
    try:
        out: TextIO = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    except OSError as error:
        raise usage_error(
            "duty", f"--output {output}: cannot be written ({error.strerror})"
        ) from None
    try:
        totals = write_batch(out, calculate_rows(rows))
    finally:
        if output is not None:
            out.close()
    sys.stderr.write(
        f"{totals.entries} entries, {totals.errors} rows with errors; "
        f"total additional duty {totals.total_additional}, IEEPA part {totals.ieepa_total}\n"
    )
    if totals.errors:
        raise typer.Exit(1)


def print_result(result: DutyResult) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    summary = result.to_dict()
    entry = summary["entry"]
    title = f"{entry['origin']} entry of {entry['entry_date']}, value {entry['customs_value']}"
    table = Table(title=escape(title))
    table.add_column("measure", no_wrap=True)
    for column in ("rate %", "amount", "IEEPA", "citation"):
        table.add_column(column, overflow="fold")
    for applied in summary["measures"]:
        table.add_row(
            escape(applied["id"]),
            applied["rate_percent"],
            applied["amount"],
            "yes" if applied["ieepa"] else "no",
            escape(applied["citation"]),
        )
    console = Console(soft_wrap=False)
    console.print(table)
    for exempted in result.exempted:
        console.print(
            escape(
                f"exempt from {exempted.measure.id}: {exempted.exemption.kind} "
                f"({exempted.exemption.citation})"
            )
        )
    console.print(f"total additional duty: {summary['total_additional']}")
    console.print(f"collected under IEEPA (potentially refundable): {summary['ieepa_total']}")
    if summary["ordinary_duty"] is not None:
        console.print(f"ordinary duty: {summary['ordinary_duty']}")
    for note in summary["notes"]:
        console.print(f"[dim]note: {escape(note)}[/]")


@tariffs_app.command("measures")
def measures(
    origin: str | None = typer.Option(None, "--origin", help="Country of origin; default all."),
    as_of: str | None = typer.Option(None, "--as-of", help="Day (YYYY-MM-DD); default today."),
    output_format: str = typer.Option("table", "--format", help="table | json"),
) -> None:
    """The measures in force on a day, for one origin or all."""
    from liaison.tariffs import measures_in_force

    check_format("measures", output_format)
    try:
        day = date.fromisoformat(as_of) if as_of is not None else date.today()
    except ValueError:
        raise usage_error("measures", f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    code = origin.strip().upper() if origin is not None else None
    if code is not None and not (len(code) == 2 and code.isalpha()):
        raise usage_error("measures", f"--origin {origin!r} is not a two-letter country code")
    found = measures_in_force(code, day)
    if output_format == "json":
        payload = {
            "as_of": day.isoformat(),
            "origin": code,
            "measures": [m.to_dict() for m in found],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    print_measures(found, day, code)


def print_measures(found: list[Measure], day: date, origin: str | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Measures in force on {day.isoformat()} for {origin or 'every origin'}")
    # Ids and dates are never broken across lines: scripts and people search for them.
    table.add_column("id", no_wrap=True)
    table.add_column("origins", overflow="fold")
    table.add_column("rate %")
    table.add_column("scope", overflow="fold")
    table.add_column("in force", no_wrap=True)
    table.add_column("IEEPA")
    table.add_column("confirmed")
    for measure in found:
        table.add_row(
            escape(measure.id),
            escape(", ".join(measure.origins)),
            str(measure.rate_percent),
            measure.scope,
            f"{measure.in_force_from}..{measure.in_force_to or ''}",
            "yes" if measure.ieepa else "no",
            "yes" if measure.confirmed else "no",
        )
    console = Console(soft_wrap=False)
    console.print(table)
    if not found:
        console.print(
            "no loaded measure was in force (that is not a statement that no duty applied)"
        )
