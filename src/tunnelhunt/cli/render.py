"""Rich rendering of a hunt on stderr: the ingest account and the detections that failed or warned; the
result rows `-o jsonl` and `-o csv` write. The tables of `-o table` are in `result_tables.py`.

Words as in ES 8: a detection's rows are *results*; each becomes *risk events* (intermediate findings)
on an *entity*; a *finding* is what an incident rule raises when an entity's risk adds up."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from tunnelhunt.actions.results import Entry
from tunnelhunt.cli.common import safe_markup
from tunnelhunt.detect.runner import DetectionRun
from tunnelhunt.ingest.run import IngestReport


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
