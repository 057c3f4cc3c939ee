"""`tunnelhunt run --at TIME`: run the detections due at a time over their windows (backfill, tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import app, stderr
from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.cli.render import ingest_summary
from tunnelhunt.schedule.delivery import deliver_all
from tunnelhunt.schedule.follow import Follower
from tunnelhunt.schedule.scheduler import Scheduler


@app.command()
def run(
    at: Annotated[str, typer.Option("--at", help="When: ISO 8601, 11/20/2026:10:00:00, epoch, or e.g. -1h@h.")],
    db: hunting.DbOption,
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Log files or directories to ingest first (only what is new).")
    ] = None,
    detections: hunting.DetectionsOption = None,
    macros: hunting.MacrosOption = None,
    rules: hunting.RulesOption = None,
    sink: hunting.SinkOption = None,
    hec_token: hunting.HecTokenOption = None,
    hec_index: hunting.HecIndexOption = None,
    spool: hunting.SpoolOption = None,
    retries: hunting.RetriesOption = 4,
    tz: hunting.TzOption = "UTC",
    fmt: Annotated[str | None, typer.Option("--format", help="Force the input format.")] = None,
) -> None:
    """Run the detections whose cron schedule fires at TIME, each over its own window, then the risk rules."""
    zone = hunting.zone(tz)
    when = hunting.parse_time(at, zone)
    loaded = hunting.content(detections, macros)
    config = hunting.rules(rules)
    sinks = hunting.sinks(sink, db, spool, hec_token, hec_index, retries)
    code = ExitCode.OK
    with hunting.open_store(db) as store:
        if paths:
            ingested = Follower(store, fmt).poll(paths)
            if ingested.files:
                ingest_summary(ingested, stderr)
            if ingested.failed_files:
                code = ExitCode.FILE_UNREADABLE
            elif ingested.total("quarantined"):
                code = ExitCode.QUARANTINED
        scheduler = Scheduler(store, loaded.detections, loaded.macros, config, zone, lookups=loaded.lookups)
        for problem in scheduler.invalid:
            stderr.print(f"[red]schedule error:[/red] {problem}")
            code = ExitCode.DETECTION_FAILED
        report = scheduler.run_at(when)
        hunting.report_tick(report)
        for delivery in deliver_all(sinks, scheduler.rba):
            if delivery.error:
                stderr.print(f"  [yellow]sink[/yellow] {delivery.sink}: {delivery.error} ({delivery.pending} spooled)")
    stderr.print(f"{report.risk_events} new risk event(s), {len(report.findings)} new finding(s)")
    if any(r.error for r in report.runs):
        code = ExitCode.DETECTION_FAILED
    raise typer.Exit(int(code))
