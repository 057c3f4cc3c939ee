"""Rich rendering of findings and run summaries (stderr for status, stdout for results)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from tunnelhunt.cli.common import plain, safe_markup
from tunnelhunt.detect.runner import DetectionRun
from tunnelhunt.ingest.run import IngestReport
from tunnelhunt.rba.risk import render_value

#: Above this many columns a finding prints as a field list instead of a squeezed table.
WIDE_TABLE_COLUMNS = 8


def findings_table(run: DetectionRun, console: Console) -> None:
    """Findings as a table (or a field list when wide); every value printed literally."""
    rows = run.rows
    title = plain(f"{run.detection.name} — {len(rows)} finding(s)", style="bold")
    if not rows:
        console.print(title)
        return
    columns = list(rows[0])
    if len(columns) <= WIDE_TABLE_COLUMNS:
        table = Table(title=title, title_justify="left", show_lines=False)
        for column in columns:
            table.add_column(plain(column), overflow="fold")
        for row in rows:
            table.add_row(*[plain(render_value(row.get(c))) for c in columns])
        console.print(table)
        return
    console.print(title)
    for index, row in enumerate(rows, 1):
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="cyan", no_wrap=True)
        grid.add_column(overflow="fold")
        for column in columns:
            grid.add_row(plain(column), plain(render_value(row.get(column))))
        console.print(f"[dim]finding {index}[/dim]")
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


def finding_rows(runs: list[DetectionRun]) -> list[dict[str, Any]]:
    """All findings as flat rows led by the detection name."""
    return [{"detection": run.detection.name, **row} for run in runs for row in run.rows]
