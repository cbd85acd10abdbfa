"""First act of the demo: the example import manifest screened, as a table and a report."""

from __future__ import annotations

import csv
from pathlib import Path

from rich.console import Console

from liaison.chem.bulk import read_records, screen_records
from liaison.chem.compiled import load_rulebook
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
    with manifest.open(encoding="utf-8", newline="") as handle:
        descriptions = {row["id"]: row.get("description", "") for row in csv.DictReader(handle)}
    table = verdict_table(f"Import manifest {manifest.name}: verdicts as of {today}", codes)
    flagged = []
    screened = 0
    for result in screen_records(read_records([str(manifest)]), today, codes, jobs=1, depict=True):
        screened += 1
        record = dict(result.record)
        description = descriptions.get(str(record["id"]), "")
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
    )
    console.print(
        f"{screened} lines screened, {len(flagged)} flagged; report with a depiction of each "
        f"flagged structure: [bold]{path}[/]"
    )
    return path
