"""`tunnelhunt watch PATH...`: hunt continuously until SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import SigmaOption, app, fail, safe_markup, stderr
from tunnelhunt.cli.exit_codes import ExitCode, worst
from tunnelhunt.errors import TunnelhuntError

if TYPE_CHECKING:  # what the command runs is imported when it runs
    from tunnelhunt.actions.schedule import WatchSession
    from tunnelhunt.schedule.scheduler import TickReport
    from tunnelhunt.schedule.watch import Clock, StepReport


@app.command()
def watch(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to follow (include rotated names).")],
    db: hunting.DbOption,
    interval: Annotated[float, typer.Option("--interval", min=0.05, help="Seconds between polls.")] = 5.0,
    since: Annotated[
        str | None, typer.Option("--since", help="On first start, also run the ticks since this time (backfill).")
    ] = None,
    detections: hunting.DetectionsOption = None,
    sigma: SigmaOption = None,
    macros: hunting.MacrosOption = None,
    rules: hunting.RulesOption = None,
    sink: hunting.SinkOption = None,
    hec_token: hunting.HecTokenOption = None,
    hec_index: hunting.HecIndexOption = None,
    spool: hunting.SpoolOption = None,
    retries: hunting.RetriesOption = 4,
    tz: hunting.TzOption = "UTC",
    fmt: Annotated[str | None, typer.Option("--format", help="Force the input format.")] = None,
    cache_dir: hunting.CacheDirOption = None,
    no_cache: hunting.NoCacheOption = False,
    clock_start: Annotated[
        str | None, typer.Option("--clock-start", help="Replay: start the clock at this time instead of now.")
    ] = None,
    clock_speed: Annotated[float, typer.Option("--clock-speed", min=0.001, help="Replay: clock speed factor.")] = 1.0,
    until: Annotated[str | None, typer.Option("--until", help="Stop once the clock reaches this time.")] = None,
) -> None:
    """Follow growing and rotated files, run detections when due, deliver risk events and findings."""
    from tunnelhunt.actions.schedule import watch as run_watch
    from tunnelhunt.schedule.watch import scaled_clock, wall_clock

    zone = hunting.zone(tz)
    options = hunting.schedule_options(
        db, paths, detections, macros, rules, sink, hec_token, hec_index, spool, retries, zone, fmt, sigma,
        cache_dir, no_cache,
    )  # fmt: skip
    start_clock = hunting.parse_time(clock_start, zone) if clock_start else None
    reference = start_clock or wall_clock()
    stop_at = hunting.parse_time(until, zone, reference) if until else None
    first = hunting.parse_time(since, zone, reference) if since else None
    stopping: dict[str, str | None] = {"signal": None}
    conditions: set[ExitCode] = set()
    last: dict[str, set[ExitCode]] = {"deliveries": set()}  # the sinks' state at the latest step

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping["signal"] = signal.Signals(signum).name  # finish the current step, then stop

    def on_start(session: WatchSession) -> None:
        content_failed = hunting.report_content_errors(session.content, session.sigma)
        for problem in session.invalid:
            stderr.print(f"[red]schedule error:[/red] {safe_markup(problem)}")
        if session.invalid or content_failed:
            conditions.add(ExitCode.DETECTION_FAILED)
        for path in session.waiting:
            stderr.print(f"[yellow]warning:[/yellow] {safe_markup(path)} does not exist yet: followed once it appears")
        stderr.print(f"watching {len(paths)} path(s); {session.detections} detection(s); db {db}")

    def on_tick(tick: TickReport) -> None:  # as each commits: a backfill shows its progress
        hunting.report_tick(tick)
        if any(r.error for r in tick.runs + tick.analytics):
            conditions.add(ExitCode.DETECTION_FAILED)

    def on_step(report: StepReport) -> None:
        _print_step(report)
        last["deliveries"] = hunting.delivery_conditions(report.deliveries)

    def clock() -> Clock:  # a replay's clock starts with the watching, not during set-up
        return scaled_clock(start_clock, clock_speed) if start_clock else wall_clock

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        run_watch(
            options,
            clock,
            lambda: stopping["signal"] is not None,
            interval,
            first,
            stop_at,
            on_start,
            on_step,
            on_tick=on_tick,
        )
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if stopping["signal"]:
        stderr.print(f"stopped cleanly on {stopping['signal']}")
    raise typer.Exit(int(worst(conditions | last["deliveries"])))


def _print_step(report: StepReport) -> None:
    ingested = report.ingest.total("ingested")
    if ingested or report.ingest.total("quarantined"):
        stderr.print(
            f"{_fmt(report.now)} ingested {ingested:,} event(s), {report.ingest.total('quarantined'):,} quarantined"
        )
    hunting.report_deliveries(report.deliveries)


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")
