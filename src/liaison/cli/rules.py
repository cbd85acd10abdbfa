"""`liaison rules`: checks on the rule data (`check`) and the reviewer's report (`report`).

`check` prints one line per finding and exits 1 when any is an error, 0 otherwise (warnings
are deliberate, flagged double listings and the like). `report` writes an HTML page and a CSV
of every rule.
"""

from __future__ import annotations

from pathlib import Path

import typer

from liaison.cli import summary
from liaison.cli.output import console, fail

rules_app = typer.Typer(help=summary("rules"), no_args_is_help=True)

RULES_DIR_HELP = "Rule directory (default: the shipped rule files)."


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")


def _directory(rules_dir: Path | None) -> Path:
    from liaison.chem.rulebook import RULES_DIR

    directory = rules_dir or RULES_DIR
    if not directory.is_dir():
        raise fail(f"{directory} is not a directory", 2, prefix="liaison rules: error:")
    return directory


@rules_app.command("check")
def check(
    rules_dir: Path | None = typer.Option(None, "--rules-dir", help=RULES_DIR_HELP),
) -> None:
    """Check every entry: structure, stated formula, shared InChIKeys, overlapping ranges,
    names, citations and first days in force."""
    from liaison.chem.rulecheck import check_rules

    with console().status("Checking the rule files..."):
        result = check_rules(_directory(rules_dir))
    for finding in result.findings:
        typer.echo(finding.line())
    book = result.book
    rules = (
        0
        if book is None
        else len(book.entries) + len(book.name_only) + len(book.families) + len(book.classes)
    )
    typer.echo(
        f"{rules} rules checked: {len(result.errors)} error(s), {len(result.warnings)} warning(s)"
    )
    if result.errors:
        raise typer.Exit(1)


@rules_app.command("report")
def report(
    html: Path = typer.Option(Path("reports/rules.html"), "--html", help="HTML report path."),
    csv_path: Path = typer.Option(Path("reports/rules.csv"), "--csv", help="CSV of every rule."),
    rules_dir: Path | None = typer.Option(None, "--rules-dir", help=RULES_DIR_HELP),
) -> None:
    """Write the report a reviewer reads: lists, sizes, unconfirmed entries, sources, checks."""
    if not write_reports(html, csv_path, _directory(rules_dir)):
        raise typer.Exit(1)


def write_reports(html: Path, csv_path: Path, rules_dir: Path | None = None) -> bool:
    """Check the rule files, write the HTML report and the CSV; False when they do not load."""
    from liaison.chem.rulebook import RULES_DIR
    from liaison.chem.rulecheck import check_rules, report_csv, report_html

    with console().status("Checking the rule files..."):
        result = check_rules(rules_dir or RULES_DIR)
    for path in (html, csv_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(report_html(result), encoding="utf-8")
    if result.book is None:
        console().print(f"wrote {html} (the rule files do not load: no CSV)", markup=False)
        return False
    csv_path.write_text(report_csv(result.book), encoding="utf-8")
    console().print(f"Rule data report: {html} and {csv_path}", markup=False)
    return True
