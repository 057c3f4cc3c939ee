"""A hunt's results as tables on the terminal (`-o table`, stdout): the summary by detection and entity,
the timeline, every result (`--all`). Imported only for table output: rich's tables are not a piped
hunt's start-up (issue 20)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from tunnelhunt.actions.results import Entry, by_detection, severity, timeline, top_entities
from tunnelhunt.cli.common import plain
from tunnelhunt.cli.tables import Col, cell, print_table
from tunnelhunt.detect.runner import DetectionRun

#: Above this many columns a result prints as a field list instead of a squeezed table.
WIDE_TABLE_COLUMNS = 8


def results_table(run: DetectionRun, console: Console) -> None:
    """One detection's results (`hunt --all`): a table, or a field list per result when wide; one line
    per value, long values ending in `…`."""
    rows = run.rows
    title = f"{run.detection.name} — {len(rows)} result(s)"
    if not rows:
        console.print(plain(title, style="bold"))
        return
    columns = list(rows[0])
    if len(columns) <= WIDE_TABLE_COLUMNS:
        print_table(console, title, [Col(c, c) for c in columns], rows)
        return
    console.print(plain(title, style="bold"))
    for index, row in enumerate(rows, 1):
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="cyan", no_wrap=True)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        for column in columns:
            grid.add_row(plain(column), plain(cell(row.get(column))))
        console.print(f"[dim]result {index}[/dim]")
        console.print(grid)


_SUMMARY = [Col("detection", "detection"), Col("results", "results", False, True), Col("hosts", "hosts", False, True),
            Col("score", "top score", False, True), Col("severity", "severity", False)]  # fmt: skip
_ENTITIES = [Col("name", "entity"), Col("score", "risk", False, True), Col("kind", "type", False),
             Col("risk_events", "risk events", False, True), Col("detections", "detections", False, True)]  # fmt: skip
#: By importance: a narrow terminal leaves out the last ones (and says which).
_TIMELINE = [Col("time", "time", False), Col("severity", "severity", False), Col("host", "host"),
             Col("message", "what"), Col("detection", "detection"), Col("score", "score", False, True)]  # fmt: skip


def hunt_summary(items: list[Entry], risk_events: list[dict[str, Any]], ran: int, console: Console) -> None:
    """Per detection with results: results, hosts, top score; then the entities with the most risk."""
    summaries = by_detection(items)
    rows = [{"detection": s.name, "results": s.results, "hosts": len(s.hosts), "score": s.score,
             "severity": severity(s.score)} for s in summaries]  # fmt: skip
    print_table(console, f"results by detection — {len(summaries)} of {ran} detection(s) found something",
                _SUMMARY, rows)  # fmt: skip
    entities = top_entities(risk_events)
    if entities:
        print_table(console, f"entities with the most risk — top {len(entities)}", _ENTITIES,
                    [vars(e) for e in entities])  # fmt: skip


def timeline_table(items: list[Entry], console: Console) -> None:
    """Every result in one table, by time."""
    rows = [{"time": e.time, "severity": e.severity, "score": e.score, "detection": e.detection, "host": e.host,
             "message": e.message} for e in timeline(items)]  # fmt: skip
    print_table(console, f"timeline — {len(rows)} result(s)", _TIMELINE, rows)
