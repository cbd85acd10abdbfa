"""A self-contained HTML report of a screening run: inline CSS, inline SVG, no links out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
.controlled { background: #fbd5d5; } .precursor { background: #fde9c8; }
.review { background: #fff6bf; } .no_match { background: #eef5ee; }
.invalid { background: #e5e5e5; }
.depictions { display: flex; flex-wrap: wrap; gap: 12px; }
.note { color: #555; font-size: 0.9em; }
"""


def _cell(verdict: dict[str, Any]) -> str:
    status = verdict["status"]
    explanation = escape(verdict["explanation"])
    return f'<td class="{escape(status)}"><b>{escape(status)}</b><br>{explanation}</td>'


def write_report(
    path: Path,
    flagged: Iterable[tuple[dict[str, Any], dict[str, str]]],
    *,
    title: str,
    as_of: date,
    codes: tuple[str, ...],
    screened: int,
) -> Path:
    """Write the report of every flagged record (anything but no_match) with its depictions."""
    rows = list(flagged)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">Screened {screened} record(s) as of {as_of.isoformat()} against '
        f"{', '.join(codes)}; {len(rows)} flagged (anything other than no_match). "
        "no_match means no loaded rule matched: it is never a clearance.</p>",
        "<table><tr><th>id</th><th>input</th>"
        + "".join(f"<th>{escape(code)}</th>" for code in codes)
        + "</tr>",
    ]
    for record, _ in rows:
        parts.append(
            f"<tr><td>{escape(str(record['id']))}</td><td>{escape(str(record['input']))}</td>"
            + "".join(_cell(record["verdicts"][code]) for code in codes)
            + "</tr>"
        )
    parts.append("</table>")
    for record, svgs in rows:
        parts.append(f"<h2>{escape(str(record['id']))}: {escape(str(record['input']))}</h2>")
        if record.get("error"):
            parts.append(f'<p class="note">{escape(record["error"])}</p>')
        parts.append('<div class="depictions">')
        parts += [
            f'<figure class="depiction">{svgs[code]}</figure>' for code in codes if code in svgs
        ]
        parts.append("</div>")
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
