"""`liaison screen`: screen structures, names or CAS numbers against every loaded rule set.

A contract other tools depend on: formats, the jsonl shape, exit status 0 whatever the
verdicts, non-zero with a one-line message for usage errors only.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import typer

from liaison.chem.limits import Limits
from liaison.cli import summary
from liaison.cli.engines import ENGINES, engine_option, partition_option, scheduler_option
from liaison.cli.output import fail, progress_bar
from liaison.errors import LiaisonError
from liaison.services.as_of import settle_as_of

FORMATS = ("table", "jsonl", "csv", "parquet")
DEFAULTS = Limits()
PARTITION = 10_000  # bulk_dask.PARTITION, not imported: `liaison --help` skips Dask


def register(app: typer.Typer) -> None:
    app.command("screen", help=summary("screen"))(screen)


def usage_error(message: str) -> typer.Exit:
    """One line on standard error, no traceback, exit status 2."""
    return fail(message, 2, prefix="liaison screen: error:")


def check_input(source: str, output: Path | None) -> None:
    """A usage error for an input that cannot be read, or that --output would overwrite (opening
    the output truncates it before the input is read)."""
    if source == "-":
        return
    path = Path(source)
    if path.is_dir():
        raise usage_error(f"{source}: is a directory")
    if not path.is_file():
        raise usage_error(f"{source}: no such file")
    if output is not None and output.exists() and output.resolve() == path.resolve():
        raise usage_error(f"--output {output} is also an input file; it would be overwritten")


def parse_day(text: str | None) -> date:
    if text is None:
        return settle_as_of(None)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise usage_error(f"--as-of {text!r} is not a date (YYYY-MM-DD)") from None


def parse_jobs(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise usage_error(f"--jobs {text!r} is not a whole number of at least 1")
    return int(text)


def check_engine(
    engine: str,
    scheduler: str | None,
    partition_size: int,
    sources: list[str],
    output_format: str,
    output: Path | None,
    report: Path | None,
) -> None:
    """Usage errors for an engine and what it cannot do: the Dask engine reads files and
    writes --output (its manifest of finished partitions lives beside it)."""
    if engine not in ENGINES:
        raise usage_error(f"--engine {engine!r} is not one of {', '.join(ENGINES)}")
    if engine == "local":
        if scheduler is not None:
            raise usage_error("--scheduler needs --engine dask")
        if output_format == "parquet":
            raise usage_error("--format parquet needs --engine dask")
        return
    if partition_size < 1:
        raise usage_error(f"--partition-size {partition_size} must be at least 1")
    if not sources or "-" in sources:
        raise usage_error("--engine dask reads files, not standard input")
    if output is None:
        raise usage_error("--engine dask needs --output (a rerun resumes it)")
    if output_format == "table":
        raise usage_error("--engine dask writes --format jsonl, csv or parquet")
    if report is not None:
        raise usage_error("--report is not available with --engine dask")


def run_on_dask(
    sources: list[str],
    output: Path,
    output_format: str,
    start: tuple[Any, Iterator[Any]],
    day: date,
    codes: tuple[str, ...],
    limits: Limits,
    *,
    scheduler: str | None,
    workers: int | None,
    partition_size: int,
) -> None:
    """The screening on Dask, written as the partitions finish, with a progress bar."""
    from liaison.bulk_dask import Job, Runner, run
    from liaison.chem.bulk import count_records
    from liaison.chem.evidence import rules_version

    first, rest = start
    records = itertools.chain([first] if first is not None else [], rest)
    columns = [name for name, _ in first.columns] if first is not None else []
    rules = rules_version().hash
    job = Job(tuple(sources), output, output_format, day, codes, limits, partition_size, rules)
    show_progress = sys.stderr.isatty()
    total = count_records(sources) if show_progress else None
    with contextlib.ExitStack() as stack:
        advance = stack.enter_context(progress_bar("screening", total)) if show_progress else None
        try:
            on_partition = (lambda _index, count: advance(count)) if advance else None
            runner = Runner(scheduler, workers, None, advance, on_partition)
            outcome = run(job, records, columns, runner)
        except LiaisonError as error:
            raise usage_error(error.detail) from None
        except OSError as error:  # the scheduler cannot be reached, the output not written
            raise usage_error(f"{error}") from None
    if outcome.skipped:
        print(
            f"liaison screen: resumed: {outcome.skipped} record(s) already written were skipped",
            file=sys.stderr,
        )
    if os.environ.get("LIAISON_SCREEN_SUMMARY"):
        print(f"{outcome.screened} record(s) screened", file=sys.stderr)


def _say_encoding(label: Callable[[str], str]) -> Callable[[str, str], None]:
    """Tells the user, on standard error, the encoding a file that is not plain UTF-8 was
    detected in (a GBK file read as UTF-8 would garble every Chinese cell)."""

    def say(name: str, codec: str) -> None:
        if name != "stdin" and codec not in ("utf-8", "ascii"):
            print(f"liaison screen: {name}: read as {label(codec)}", file=sys.stderr)

    return say


def screen(
    inputs: list[str] | None = typer.Argument(
        None,
        metavar="[INPUT]...",
        help="Files (.smi/.smiles, .csv, .xlsx, .parquet, .sdf, .txt) or - for standard input "
        "(the default). CSV and text in UTF-8, UTF-16 or GBK/GB18030: the encoding is detected.",
        show_default=False,
    ),
    output_format: str = typer.Option(
        "table", "--format", help="table | jsonl | csv | parquet (parquet: --engine dask)"
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Apply the law of this day (YYYY-MM-DD); default today (UTC)."
    ),
    jurisdiction: list[str] | None = typer.Option(
        None,
        "--jurisdiction",
        help="Jurisdiction code (US, CN, UN); repeat for several; default all.",
    ),
    output: Path | None = typer.Option(
        None, "--output", help="Write the results here instead of standard output."
    ),
    jobs: str | None = typer.Option(None, "--jobs", help="Worker processes; default: all cores."),
    report: Path | None = typer.Option(
        None, "--report", help="Also write an HTML report of flagged records."
    ),
    language: str | None = typer.Option(
        None,
        "--language",
        help="The --report's language, its pictures' legends included: en (the default) | "
        "zh-CN (Simplified Chinese). Only with --report: jsonl, csv and the table are data "
        "and stay English.",
    ),
    seconds: float = typer.Option(
        DEFAULTS.seconds, "--seconds", help="Time limit per record; past it the record is invalid."
    ),
    max_characters: int = typer.Option(DEFAULTS.characters, "--max-characters"),
    max_atoms: int = typer.Option(DEFAULTS.atoms, "--max-atoms"),
    max_fragments: int = typer.Option(DEFAULTS.fragments, "--max-fragments"),
    max_ring_closures: int = typer.Option(DEFAULTS.ring_closures, "--max-ring-closures"),
    max_branch_depth: int = typer.Option(DEFAULTS.branch_depth, "--max-branch-depth"),
    engine: str = engine_option(
        "a process pool", "a Dask cluster: files in, --output needed, resumable"
    ),
    scheduler: str | None = scheduler_option(),
    partition_size: int = partition_option(PARTITION, "records"),
) -> None:
    # Imported here, not at the top: `liaison --help` and the node commands skip RDKit.
    from liaison.chem.bulk import count_records, csv_header, read_records, screen_records, write_csv
    from liaison.chem.compiled import load_rulebook
    from liaison.chem.evidence import rules_version
    from liaison.chem.identify import check_jurisdictions
    from liaison.chem.inputs import encoding_label

    sources = list(inputs or [])
    if language is not None and report is None:
        # Silently ignored, it would promise Chinese output that jsonl and csv never give.
        raise usage_error("--language sets the language of the --report; give --report too")
    language = language or "en"
    legends: Callable[[str], str] = str
    if report is not None:
        # The report's translations live in the web layer: loaded only for a report, so that
        # screening to jsonl or csv starts without it.
        from liaison.web.i18n import LANGUAGES, language_tag, translate_to

        if language_tag(language) is None:
            raise usage_error(f"--language {language!r} is not one of {', '.join(LANGUAGES)}")
        legends = partial(translate_to, language)
    if output_format not in FORMATS:
        raise usage_error(f"--format {output_format!r} is not one of {', '.join(FORMATS)}")
    check_engine(engine, scheduler, partition_size, sources, output_format, output, report)
    workers = parse_jobs(jobs)
    day = parse_day(as_of)
    limits = Limits(
        max_characters, max_atoms, max_fragments, max_ring_closures, max_branch_depth, seconds
    )
    if min(max_characters, max_atoms, max_fragments, max_ring_closures, max_branch_depth) < 1:
        raise usage_error("--max-* limits must be whole numbers of at least 1")
    if not seconds > 0:
        raise usage_error(f"--seconds {seconds} must be more than 0")
    try:
        book = load_rulebook()
        codes = check_jurisdictions(book, jurisdiction)
        for source in sources:
            check_input(source, output)
        records = read_records(sources, on_open=_say_encoding(encoding_label))
        first = next(records, None)  # opens the first file now: unreadable -> usage error
    except LiaisonError as error:
        raise usage_error(error.detail) from None
    if engine == "dask":
        assert output is not None  # check_engine
        run_on_dask(
            sources,
            output,
            output_format,
            (first, records),
            day,
            codes,
            limits,
            scheduler=scheduler,
            workers=workers,
            partition_size=partition_size,
        )
        return
    try:
        out: TextIO = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    except OSError as error:
        raise usage_error(f"{output}: cannot be written ({error.strerror})") from None

    def all_records() -> Iterator[Any]:
        if first is not None:
            yield first
        yield from records

    show_progress = bool(sources) and "-" not in sources and sys.stderr.isatty()
    total = count_records(sources) if show_progress else None
    flagged: list[tuple[dict[str, Any], dict[str, str]]] = []
    counts = {code: Counter[str]() for code in codes}
    screened = 0
    table = None
    if output_format == "table":  # Rich only for the table: jsonl and csv start without it
        from liaison.cli.verdicts import add_row, verdict_table

        version = rules_version()
        table = verdict_table(f"Screening as of {day.isoformat()}, rules {version}", codes)
    if output_format == "csv":
        write_csv(out, csv_header(codes, [name for name, _ in first.columns] if first else []))
    render = None if output_format == "table" else output_format
    keep = "all" if output_format == "table" else "flagged" if report is not None else "none"
    try:
        with contextlib.ExitStack() as stack:
            advance = (
                stack.enter_context(progress_bar("screening", total)) if show_progress else None
            )
            for result in screen_records(
                all_records(),
                day,
                codes,
                jobs=workers,
                depict=report is not None,
                render=render,
                keep=keep,
                limits=limits,
                translate=legends,
            ):
                screened += 1
                for code, status in zip(codes, result.statuses, strict=True):
                    counts[code][status] += 1
                if result.line:
                    out.write(result.line)
                elif result.record and table is not None:
                    add_row(table, result.record, codes)
                if report is not None and result.flagged and result.record:
                    flagged.append((result.record, result.svgs))
                if advance is not None:
                    advance(1)
    except LiaisonError as error:  # e.g. a CSV file without a structure column
        raise usage_error(error.detail) from None
    finally:
        if table is not None:
            from rich.console import Console

            Console(file=out, width=None if out is sys.stdout else 160).print(table)
        if output:
            out.close()
    if report is not None:
        from liaison.chem.report import write_report
        from liaison.messages import T
        from liaison.web.i18n import preferences, translate

        with preferences(language):
            path = write_report(
                report,
                flagged,
                title=T("Liaison screening report"),
                as_of=day,
                codes=codes,
                screened=screened,
                counts=counts,
                rules=rules_version(),
                produced_at=datetime.now(UTC),
                translate=translate,
                language=language,
            )
        print(f"report written to {path}", file=sys.stderr)
    if os.environ.get("LIAISON_SCREEN_SUMMARY"):
        print(f"{screened} record(s) screened", file=sys.stderr)
