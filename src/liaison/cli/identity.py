"""`liaison identity`: synthetic populations, matching requests against a registry, and checks
of identity numbers and MRZs (liaison.identity).

The contract: `match` writes exactly one row per request (request_id, person_id, empty when no
registry record is likely enough, match_probability), or K ranked rows with --candidates K;
bad fields are reported on standard error with their row and the row is used without them.
Heavy libraries (Splink, DuckDB, pandas) are imported inside the commands that need them.
"""

from __future__ import annotations

import contextlib
import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from liaison.cli import summary
from liaison.cli.engines import ENGINES, engine_option, partition_option, scheduler_option
from liaison.cli.output import console, fail, progress_bar

if TYPE_CHECKING:
    from liaison.identity.documents import DocumentCheck, MrzCheck
    from liaison.identity.people import RowProblem

DEFAULT_THRESHOLD = 0.9
PARTITION = 2000  # match_dask.PARTITION, not imported: `liaison --help` skips Dask

identity_app = typer.Typer(help=summary("identity"), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(identity_app, name="identity")


def usage_error(command: str, message: str) -> typer.Exit:
    return fail(message, 2, prefix=f"liaison identity {command}: error:")


@identity_app.command("synth")
def synth(
    people: int = typer.Option(..., "--people", min=0, help="Registry size."),
    requests: int = typer.Option(..., "--requests", min=0, help="Number of requests."),
    seed: int = typer.Option(1, "--seed", help="Random seed (same seed, same files)."),
    out: Path = typer.Option(..., "--out", help="Directory for registry/requests/truth CSV."),
) -> None:
    """Write a synthetic registry, labelled requests and the truth (request_id, person_id)."""
    from liaison.identity.synth import write

    with _status("generating"):
        paths = write(out, people, requests, seed)
    for path in paths:
        console().print(str(path), markup=False, highlight=False)


@identity_app.command("match")
def match(
    registry: Path = typer.Option(..., "--registry", help="REGISTRY file (CSV or Parquet)."),
    requests: Path = typer.Option(..., "--requests", help="REQUESTS file (CSV or Parquet)."),
    output: Path = typer.Option(..., "--output", help="MATCHES CSV to write."),
    threshold: float = typer.Option(
        DEFAULT_THRESHOLD,
        "--threshold",
        help="Lowest match probability (the person's share of the request among its "
        "candidates and 'not in the registry') to name a person.",
    ),
    candidates: int | None = typer.Option(
        None, "--candidates", help="Write K ranked rows per request (with a rank column)."
    ),
    model: Path | None = typer.Option(
        None, "--model", help="Use this trained model (JSON) instead of training one."
    ),
    save_model: Path | None = typer.Option(
        None, "--save-model", help="Write the trained model (JSON) here."
    ),
    engine: str = engine_option(
        "this process",
        "requests in partitions on a Dask cluster; resumable; the workers read --registry at "
        "the same path",
    ),
    scheduler: str | None = scheduler_option(),
    jobs: int | None = typer.Option(
        None, "--jobs", min=1, help="--engine dask without --scheduler: worker processes."
    ),
    partition_size: int = partition_option(PARTITION, "requests"),
) -> None:
    """Match each request against the registry: one row per request, or K with --candidates.

    match_probability is the probability that the request concerns that registry person,
    given every candidate found for the request: the candidates and "not in the registry"
    share 1 (the share of requests whose person is in the registry is estimated from the
    batch, without labels). Candidates are ranked by it; the evidence per field is Splink's.
    """
    if not 0.0 <= threshold <= 1.0:
        raise usage_error("match", f"--threshold {threshold} is not between 0 and 1")
    if candidates is not None and candidates < 1:
        raise usage_error("match", f"--candidates {candidates} is not at least 1")
    if engine not in ENGINES:
        raise usage_error("match", f"--engine {engine!r} is not one of {', '.join(ENGINES)}")
    if engine == "local" and (scheduler is not None or jobs is not None):
        raise usage_error("match", "--scheduler and --jobs need --engine dask")
    if partition_size < 1:
        raise usage_error("match", f"--partition-size {partition_size} must be at least 1")
    from liaison.identity.matching import Matcher, matches_header, matches_rows
    from liaison.identity.people import read_people

    try:
        with _status("reading"):
            people, registry_problems = read_people(registry, "person_id")
            asked, request_problems = read_people(requests, "request_id")
    except ValueError as error:
        raise fail(str(error), 2, prefix="liaison identity match: error:") from error
    _report(registry, registry_problems)
    _report(requests, request_problems)
    with _status("training the model" if model is None else "loading the model"):
        matcher = Matcher.train(people, asked) if model is None else Matcher.load(model, people)
    if save_model is not None:
        matcher.save(save_model)
    with progress_bar("matching", len(asked)) as advance:
        if engine == "dask":
            from liaison.bulk_dask import Runner
            from liaison.match_dask import match as match_on_dask

            runner = Runner(scheduler, jobs, None, advance, lambda _index, count: advance(count))
            try:
                outcome = match_on_dask(
                    registry, requests, asked, matcher.model, output, threshold, candidates,
                    partition_size=partition_size, runner=runner,
                )  # fmt: skip
            # The scheduler cannot be reached, the output not written, a worker without the
            # registry file (RuntimeError, raised on the worker).
            except (OSError, RuntimeError) as error:
                raise usage_error("match", str(error)) from None
            if outcome.skipped:
                sys.stderr.write(
                    f"liaison identity match: resumed: {outcome.skipped} request(s) already "
                    "written were skipped\n"
                )
        else:
            found = matcher.match(asked, k=candidates or 1, progress=advance)
            with output.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(matches_header(candidates))
                writer.writerows(matches_rows(asked, found, threshold, candidates))
    console().print(
        f"{len(asked)} requests, {_named(output)} matched at probability >= {threshold}; "
        f"{len(request_problems) + len(registry_problems)} field(s) read as empty; "
        f"written to {output}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _named(matches: Path) -> int:
    """The requests of a MATCHES file given a person (their first row names one)."""
    with matches.open(encoding="utf-8", newline="") as handle:
        return sum(1 for row in csv.DictReader(handle) if row["person_id"] and
                   row.get("rank", "1") == "1")  # fmt: skip


def _report(path: Path, problems: list[RowProblem]) -> None:
    for problem in problems:
        where = f"row {problem.row}" if problem.row else "file"
        sys.stderr.write(f"{path}: {where}: {problem.field}: {problem.message}\n")


@identity_app.command("check")
def check(
    value: str = typer.Argument(
        ..., help="A resident identity number, or an MRZ (lines separated by newlines or spaces)."
    ),
) -> None:
    """Validate a resident identity number or a passport/ID-card MRZ; exit 1 when invalid."""
    from liaison.identity.documents import check_resident_id, parse_mrz

    text = value.strip()
    if "<" in text:
        lines = text.split() if "\n" not in text else text.splitlines()
        result = parse_mrz("\n".join(lines))
        _print_mrz(result)
        valid = result.valid
    else:
        number = check_resident_id(text)
        _print_number(number)
        valid = number.valid
    raise typer.Exit(0 if valid else 1)


def _print_number(check: DocumentCheck) -> None:
    out = console()
    out.print(f"{check.normalised}: {'valid' if check.valid else 'INVALID'} ({check.kind})",
              markup=False, highlight=False)  # fmt: skip
    for name, part in check.parts.items():
        out.print(f"  {name}: {part}", markup=False, highlight=False)
    for part, message in check.problems:
        out.print(f"  problem: {part}: {message}", markup=False, highlight=False)
    for part, message in check.notes:
        out.print(f"  note: {part}: {message}", markup=False, highlight=False)


def _print_mrz(check: MrzCheck) -> None:
    out = console()
    out.print(f"MRZ {check.format or '?'}: {'valid' if check.valid else 'INVALID'}",
              markup=False, highlight=False)  # fmt: skip
    for name, part in check.fields.items():
        out.print(f"  {name}: {part}", markup=False, highlight=False)
    for digit in check.check_digits:
        verdict = "ok" if digit.ok else f"FAILS (computed {digit.expected})"
        out.print(f"  check digit {digit.name}: {digit.found} {verdict}", markup=False,
                  highlight=False)  # fmt: skip
    for part, message in check.problems:
        out.print(f"  problem: {part}: {message}", markup=False, highlight=False)


@contextlib.contextmanager
def _status(what: str) -> Iterator[None]:
    from rich.console import Console

    with Console(stderr=True).status(what):
        yield
