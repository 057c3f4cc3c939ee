"""Terminal and file output of risk and findings rows (rows are dicts of the store's columns)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from tunnelhunt.cli.common import plain
from tunnelhunt.rba.risk import render_value
from tunnelhunt.sinks.files import write_csv, write_jsonl


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(render_value(v) for v in value)
    return render_value(value)


def print_rows(rows: list[dict[str, Any]], columns: list[str], title: str, output: str) -> None:
    """`table` to the terminal, or every column as `jsonl` / `csv` on stdout."""
    if output == "jsonl":
        write_jsonl(rows, sys.stdout)
        return
    if output == "csv":
        write_csv(rows, sys.stdout)
        return
    console = Console()
    table = Table(title=plain(f"{title} — {len(rows)}"), title_justify="left")
    for column in columns:
        table.add_column(plain(column), overflow="fold")
    for row in rows:
        table.add_row(*[plain(_cell(row.get(c))) for c in columns])
    console.print(table)
