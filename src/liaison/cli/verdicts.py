"""Verdicts as a Rich table: `liaison screen --format table` and the demo's manifest."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from liaison.chem.bulk import short_basis

STATUS_STYLES = {
    "controlled": "bold red",
    "precursor": "bold yellow",
    "review": "magenta",
    "no_match": "green",
    "invalid": "dim",
}


def status_text(verdict: dict[str, Any]) -> str:
    style = STATUS_STYLES.get(verdict["status"], "")
    basis = short_basis(verdict)
    text = f"[{style}]{verdict['status']}[/]" if style else verdict["status"]
    return f"{text}\n[dim]{basis}[/]" if basis else text


def verdict_table(title: str, codes: tuple[str, ...]) -> Table:
    table = Table(title=title, show_lines=True)
    table.add_column("id")
    table.add_column("input", overflow="fold", max_width=40)
    for code in codes:
        table.add_column(code, overflow="fold")
    return table


def add_row(table: Table, record: dict[str, Any], codes: tuple[str, ...]) -> None:
    table.add_row(
        str(record["id"]),
        str(record["input"]),
        *[status_text(record["verdicts"][code]) for code in codes],
    )
