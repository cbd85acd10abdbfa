"""A self-contained HTML report of a screening run: inline CSS, inline SVG, no links out.

It stands as evidence: what was screened, the day whose law applied, the rule data (version)
and when it was produced; a summary by verdict; a table whose rows link to each flagged
record's picture, one per record with every jurisdiction's regions; the input's own columns
(a description, a seizure number) beside each record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liaison.chem.models import COMBINED
from liaison.messages import T

if TYPE_CHECKING:
    from liaison.chem.evidence import RulesVersion

Translate = Callable[[str], str]

STATUSES = ("controlled", "precursor", "review", "no_match", "invalid")
STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
.controlled { background: #fbd5d5; } .precursor { background: #fde9c8; }
.review { background: #fff6bf; } .no_match { background: #eef5ee; }
.invalid { background: #e5e5e5; }
.count { text-align: right; }
.depictions { display: flex; flex-wrap: wrap; gap: 12px; }
.note { color: #555; font-size: 0.9em; }
"""


def _cell(verdict: dict[str, Any], translate: Translate) -> str:
    status = verdict["status"]
    explanation = escape(translate(verdict["explanation"]))
    return f'<td class="{escape(status)}"><b>{escape(status)}</b><br>{explanation}</td>'


def _summary(
    codes: tuple[str, ...], counts: Mapping[str, Mapping[str, int]], translate: Translate
) -> str:
    rows = [
        f"<table><caption>{escape(translate(T('Records per verdict')))}</caption>"
        f"<tr><th>{escape(translate(T('jurisdiction')))}</th>"
        + "".join(f"<th>{status}</th>" for status in STATUSES)
        + "</tr>"
    ]
    for code in codes:
        cells = "".join(
            f'<td class="count {status}">{counts.get(code, {}).get(status, 0)}</td>'
            for status in STATUSES
        )
        rows.append(f"<tr><th>{escape(code)}</th>{cells}</tr>")
    rows.append("</table>")
    return "".join(rows)


def _columns(record: dict[str, Any]) -> str:
    columns = record.get("columns") or {}
    return "<br>".join(
        f"{escape(str(name))}: {escape(str(value))}" for name, value in columns.items() if value
    )


def write_report(
    path: Path,
    flagged: Iterable[tuple[dict[str, Any], dict[str, str]]],
    *,
    title: str,
    as_of: date,
    codes: tuple[str, ...],
    screened: int,
    counts: Mapping[str, Mapping[str, int]],
    rules: RulesVersion,
    produced_at: datetime,
    translate: Translate = str,
    language: str = "en",
) -> Path:
    """Write the report of every flagged record (anything but no_match) with its picture, in
    `language` (its texts through `translate`, the caller's catalog; English by default)."""
    rows = list(flagged)
    has_columns = any(record.get("columns") for record, _ in rows)
    screened_text = T(
        "Screened %(count)s record(s) as of %(day)s against %(codes)s; %(flagged)s flagged "
        "(anything other than no_match). no_match means no loaded rule matched: it is never a "
        "clearance.",
        count=screened,
        day=as_of.isoformat(),
        codes=", ".join(codes),
        flagged=len(rows),
    )
    version_text = T(
        "Rules version %(hash)s (newest entry %(newest)s); produced %(at)s (UTC). The same "
        "input, as-of day and rules version give the same verdicts.",
        hash=rules.hash,
        newest=rules.newest_entry.isoformat(),
        at=produced_at.isoformat(timespec="seconds"),
    )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(language)}"><head><meta charset="utf-8">',
        f"<title>{escape(translate(title))}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(translate(title))}</h1>",
        f'<p class="note">{escape(translate(screened_text))}</p>',
        f'<p class="note">{escape(translate(version_text))}</p>',
        _summary(codes, counts, translate),
        f"<table><caption>{escape(translate(T('Flagged records')))}</caption>"
        f"<tr><th>id</th><th>{escape(translate(T('input')))}</th>"
        + (f"<th>{escape(translate(T('input columns')))}</th>" if has_columns else "")
        + "".join(f"<th>{escape(code)}</th>" for code in codes)
        + "</tr>",
    ]
    for number, (record, _) in enumerate(rows, start=1):
        parts.append(
            f'<tr><td><a href="#record-{number}">{escape(str(record["id"]))}</a></td>'
            f"<td>{escape(str(record['input']))}</td>"
            + (f"<td>{_columns(record)}</td>" if has_columns else "")
            + "".join(_cell(record["verdicts"][code], translate) for code in codes)
            + "</tr>"
        )
    parts.append("</table>")
    for number, (record, svgs) in enumerate(rows, start=1):
        parts.append(
            f'<h2 id="record-{number}">{escape(str(record["id"]))}: '
            f"{escape(str(record['input']))}</h2>"
        )
        if record.get("columns"):
            parts.append(f'<p class="note">{_columns(record)}</p>')
        if record.get("error"):
            parts.append(f'<p class="note">{escape(translate(record["error"]))}</p>')
        parts.append('<div class="depictions">')
        if COMBINED in svgs:
            parts.append(f'<figure class="depiction">{svgs[COMBINED]}</figure>')
        parts.append("</div>")
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
