"""`tunnelhunt watch PATH...`: hunt continuously until SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import app, stderr
from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.schedule.follow import Follower
from tunnelhunt.schedule.scheduler import Scheduler
from tunnelhunt.schedule.watch import StepReport, Watcher, scaled_clock, wall_clock


@app.command()
def watch(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to follow (include rotated names).")],
    db: hunting.DbOption,
    interval: Annotated[float, typer.Option("--interval", min=0.05, help="Seconds between polls.")] = 5.0,
    since: Annotated[
        str | None, typer.Option("--since", help="On first start, also run the ticks since this time (backfill).")
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
    clock_start: Annotated[
        str | None, typer.Option("--clock-start", help="Replay: start the clock at this time instead of now.")
    ] = None,
    clock_speed: Annotated[float, typer.Option("--clock-speed", min=0.001, help="Replay: clock speed factor.")] = 1.0,
    until: Annotated[str | None, typer.Option("--until", help="Stop once the clock reaches this time.")] = None,
) -> None:
    """Follow growing and rotated files, run detections when due, deliver risk events and findings."""
    zone = hunting.zone(tz)
    loaded = hunting.content(detections, macros)
    config = hunting.rules(rules)
    sinks = hunting.sinks(sink, db, spool, hec_token, hec_index, retries)
    start_clock = hunting.parse_time(clock_start, zone) if clock_start else None
    reference = start_clock or wall_clock()
    stop_at = hunting.parse_time(until, zone, reference) if until else None
    first = hunting.parse_time(since, zone, reference) if since else None
    stopping: dict[str, str | None] = {"signal": None}

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping["signal"] = signal.Signals(signum).name  # finish the current step, then stop

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with hunting.open_store(db) as store:
            scheduler = Scheduler(store, loaded.detections, loaded.macros, config, zone, lookups=loaded.lookups)
            for problem in scheduler.invalid:
                stderr.print(f"[red]schedule error:[/red] {problem}")
            watcher = Watcher(paths, Follower(store, fmt), scheduler, sinks, first)
            stderr.print(f"watching {len(paths)} path(s); {len(scheduler.detections)} detection(s); db {db}")
            # a replay's clock starts with the watching, not during set-up (opening the store, compiling)
            clock = scaled_clock(start_clock, clock_speed) if start_clock else wall_clock
            watcher.run(clock, lambda: stopping["signal"] is not None, interval, stop_at, _print_step)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if stopping["signal"]:
        stderr.print(f"stopped cleanly on {stopping['signal']}")
    raise typer.Exit(int(ExitCode.OK))


def _print_step(report: StepReport) -> None:
    ingested = report.ingest.total("ingested")
    if ingested or report.ingest.total("quarantined"):
        stderr.print(
            f"{_fmt(report.now)} ingested {ingested:,} event(s), {report.ingest.total('quarantined'):,} quarantined"
        )
    for tick in report.ticks:
        hunting.report_tick(tick)
    for delivery in report.deliveries:
        if delivery.error:
            stderr.print(f"  [yellow]sink[/yellow] {delivery.sink}: {delivery.error} ({delivery.pending} spooled)")


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")
