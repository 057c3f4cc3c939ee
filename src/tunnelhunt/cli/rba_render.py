"""Terminal and file output of stored rows: risk, findings, search results, events (dicts of columns)."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console

from tunnelhunt.cli.common import stderr
from tunnelhunt.cli.tables import Col, print_table
from tunnelhunt.sinks.files import write_csv, write_jsonl

#: Headers in ES 8's words for the store's columns; times and numbers are never shortened.
LABELS = {
    "_time": "time",
    "risk_object": "entity",
    "risk_object_type": "type",
    "risk_score": "score",
    "risk_events": "risk events",
    "detection_count": "detections",
    "mitre_tactic": "tactics",
    "search_name": "detection",
    "risk_message": "message",
    "last_seen": "last seen",
    "first_seen": "first seen",
}
_FIXED = {"_time", "last_seen", "first_seen", "firstTime", "lastTime", "risk_score", "risk_events", "detections",
          "detection_count", "count", "severity", "risk_object_type"}  # fmt: skip
_NUMBERS = {"risk_score", "risk_events", "detections", "detection_count", "count"}


def columns_of(keys: list[str]) -> list[Col]:
    return [Col(k, LABELS.get(k, k), text=k not in _FIXED, right=k in _NUMBERS) for k in keys]


def print_rows(rows: list[dict[str, Any]], columns: list[str], title: str, output: str) -> None:
    """`table` to the terminal (one line per row, see `cli/tables.py`), or every column as `jsonl` /
    `csv` on stdout (no rows: nothing, and a note on stderr)."""
    if output == "jsonl":
        write_jsonl(rows, sys.stdout)
    elif output == "csv":
        write_csv(rows, sys.stdout)
    else:
        print_table(Console(), f"{title} — {len(rows)}", columns_of(columns), rows)
        return
    if not rows:
        stderr.print(f"no {title}")
