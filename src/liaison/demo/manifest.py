"""First act of the demo: the example import manifest screened, as a table and a report."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from liaison.chem.bulk import read_records, screen_records
from liaison.chem.compiled import load_rulebook
from liaison.chem.evidence import rules_version
from liaison.chem.report import write_report
from liaison.cli.verdicts import add_row, verdict_table
from liaison.services.as_of import settle_as_of

MANIFEST = Path(__file__).resolve().parent / "examples" / "import_manifest.csv"


def screen_example_manifest(
    console: Console, *, manifest: Path = MANIFEST, reports_dir: Path | None = None
) -> Path:
    """Screen `manifest`, print the verdicts as a table, write the HTML report; return its path."""
    codes = load_rulebook().jurisdictions
    today = settle_as_of(None)
    version = rules_version()
    table = verdict_table(
        f"Import manifest {manifest.name}: verdicts as of {today}, rules {version}", codes
    )
    flagged = []
    counts = {code: Counter[str]() for code in codes}
    screened = 0
    for result in screen_records(read_records([str(manifest)]), today, codes, jobs=1, depict=True):
        screened += 1
        for code, status in zip(codes, result.statuses, strict=True):
            counts[code][status] += 1
        record = dict(result.record)
        # The manifest's other columns come through; its description is shown with the input.
        description = record.get("columns", {}).get("description", "")
        record["input"] = (
            f"{record['input']}\n[dim]{description}[/]" if description else record["input"]
        )
        add_row(table, record, codes)
        if result.flagged:
            flagged.append((result.record, result.svgs))
    console.print(table)
    target = (reports_dir or Path.cwd() / "reports") / "import_manifest.html"
    path = write_report(
        target,
        flagged,
        title=f"Liaison: import manifest {manifest.name}",
        as_of=today,
        codes=codes,
        screened=screened,
        counts=counts,
        rules=version,
        produced_at=datetime.now(UTC),
    )
    console.print(
        f"{screened} lines screened, {len(flagged)} flagged; report with a summary by verdict "
        f"and one picture of each flagged structure: [bold]{path}[/]"
    )
    return path
