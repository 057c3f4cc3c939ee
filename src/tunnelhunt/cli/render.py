"""Rich rendering of a hunt: its results, summary and timeline (stdout), the ingest account (stderr).

Words as in ES 8: a detection's rows are *results*; each becomes *risk events* (intermediate findings)
on an *entity*; a *finding* is what an incident rule raises when an entity's risk adds up."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from tunnelhunt.actions.results import Entry, by_detection, severity, timeline, top_entities
from tunnelhunt.cli.common import plain, safe_markup
from tunnelhunt.cli.tables import Col, cell, print_table
from tunnelhunt.detect.runner import DetectionRun
from tunnelhunt.ingest.run import IngestReport

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


def ingest_summary(report: IngestReport, console: Console) -> None:
    read, ingested = report.total("read"), report.total("ingested")
    unmapped, quarantined = report.total("unmapped"), report.total("quarantined")
    console.print(
        f"ingested {ingested:,} of {read:,} events from {len(report.files)} file(s) in {report.seconds:.1f} s; "
        f"{unmapped:,} of kinds no data model covers; {quarantined:,} quarantined"
    )
    formats: dict[str, int] = {}
    for file in report.files:
        if file.format:
            formats[file.format] = formats.get(file.format, 0) + 1
    if formats:
        console.print(
            "  formats: " + ", ".join(f"{safe_markup(name)} ×{count}" for name, count in sorted(formats.items()))
        )
    for bad in report.quarantine[:10]:
        console.print(f"  [yellow]skipped[/yellow] {safe_markup(bad.location())}: {safe_markup(bad.reason)}")
    if quarantined > 10:
        console.print(f"  … and {quarantined - 10:,} more (see --quarantine FILE)")
    skipped = report.skipped_files
    if skipped:
        names = ", ".join(safe_markup(f.path) for f in skipped[:3]) + (", …" if len(skipped) > 3 else "")
        console.print(f"  skipped {len(skipped)} file(s) of no known format found in folders: {names}")
    for failed in report.failed_files:
        console.print(f"  [red]error[/red] {safe_markup(failed.path)}: {safe_markup(failed.error)}")


def detection_summary(runs: list[DetectionRun], console: Console) -> None:
    for run in runs:
        if run.error:
            console.print(f"  [red]not run[/red] {safe_markup(run.detection.name)}: {safe_markup(run.error)}")
        for warning in run.warnings:
            console.print(f"  [yellow]warning[/yellow] {safe_markup(run.detection.name)}: {safe_markup(warning)}")


def result_rows(items: list[Entry]) -> list[dict[str, Any]]:
    """Results as flat rows led by the detection name (what `-o jsonl` and `-o csv` write)."""
    return [{"detection": item.detection, **item.row} for item in items]


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
