"""`tunnelhunt run --at TIME`: run the detections due at a time over their windows (backfill, tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import SigmaOption, app, fail, safe_markup, stderr
from tunnelhunt.cli.exit_codes import ExitCode, worst
from tunnelhunt.errors import TunnelhuntError


@app.command()
def run(
    at: Annotated[str, typer.Option("--at", help="When: ISO 8601, 11/20/2026:10:00:00, epoch, or e.g. -1h@h.")],
    db: hunting.DbOption,
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Log files or directories to ingest first (only what is new).")
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
) -> None:
    """Run the detections whose cron schedule fires at TIME, each over its own window, then the risk rules."""
    from tunnelhunt.actions.schedule import run_at
    from tunnelhunt.cli.render import ingest_summary

    zone = hunting.zone(tz)
    when = hunting.parse_time(at, zone)
    options = hunting.schedule_options(
        db, paths, detections, macros, rules, sink, hec_token, hec_index, spool, retries, zone, fmt, sigma,
        cache_dir, no_cache,
    )  # fmt: skip
    try:
        result = run_at(options, when)
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    content_failed = hunting.report_content_errors(result.content, result.sigma)
    conditions = hunting.ingest_conditions(result.ingest) | hunting.delivery_conditions(result.deliveries)
    if result.ingest is not None and result.ingest.files:
        ingest_summary(result.ingest, stderr)
    for problem in result.invalid:
        stderr.print(f"[red]schedule error:[/red] {safe_markup(problem)}")
    hunting.report_tick(result.tick)
    hunting.report_deliveries(result.deliveries)
    report = result.tick
    stderr.print(f"{report.risk_events} new risk event(s), {len(report.findings)} new finding(s)")
    if result.invalid or content_failed or any(r.error for r in report.runs + report.analytics):
        conditions.add(ExitCode.DETECTION_FAILED)
    raise typer.Exit(int(worst(conditions)))
