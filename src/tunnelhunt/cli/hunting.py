"""What `run`, `watch`, `risk` and `findings` share: the database, content, rules and sinks options."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from tunnelhunt.cli.common import check_output, fail, safe_markup, stderr
from tunnelhunt.cli.exit_codes import ExitCode

if TYPE_CHECKING:  # the command modules import this one: what it runs is imported when it runs
    from tunnelhunt.actions.schedule import ScheduleOptions
    from tunnelhunt.content.loader import ContentSet
    from tunnelhunt.ingest.report import IngestReport
    from tunnelhunt.schedule.delivery import Delivery
    from tunnelhunt.schedule.scheduler import DetectionTick, TickReport
    from tunnelhunt.sigma import SigmaContent
    from tunnelhunt.sinks.spec import SinkOptions

DbOption = Annotated[Path, typer.Option("--db", help="DuckDB file holding events, risk events and findings.")]
DetectionsOption = Annotated[
    list[Path] | None, typer.Option("--detections", help="Extra detection YAML file or directory.")
]
MacrosOption = Annotated[list[Path] | None, typer.Option("--macros", help="Macro overrides (e.g. *_filter macros).")]
RulesOption = Annotated[
    Path | None, typer.Option("--rules", help="YAML file overriding the risk incident rule thresholds.")
]
SinkOption = Annotated[
    list[str] | None,
    typer.Option("--sink", help="Deliver risk events and findings: jsonl:DIR, csv:DIR, hec:URL, webhook:URL."),
]
HecTokenOption = Annotated[
    str | None, typer.Option("--hec-token", envvar="TUNNELHUNT_HEC_TOKEN", help="Splunk HEC token.")
]
HecIndexOption = Annotated[str | None, typer.Option("--hec-index", help="Splunk index for HEC events.")]
RetriesOption = Annotated[
    int, typer.Option("--retries", min=1, help="Attempts per network delivery before spooling for later.")
]
SpoolOption = Annotated[
    Path | None, typer.Option("--spool", help="Directory for undelivered network events (default: DB.spool).")
]
CacheDirOption = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir", envvar="TUNNELHUNT_CACHE_DIR",
        help="Keep compiled detections and converted Sigma rules here (default: ~/.cache/tunnelhunt).",
    ),
]  # fmt: skip
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Compile every detection and Sigma rule again; keep nothing.")
]
TzOption = Annotated[str, typer.Option("--tz", help="Time zone for cron schedules and @ snapping.")]
ObjectOption = Annotated[str | None, typer.Option("--object", help="Only this entity.")]
LimitOption = Annotated[int, typer.Option("--limit", min=1, help="Show at most this many rows.")]


def zone(name: str) -> tzinfo:
    try:
        return UTC if name.upper() == "UTC" else ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"unknown time zone {name!r}") from None


def parse_time(text: str, tz: tzinfo, now: datetime | None = None) -> datetime:
    """An absolute time (ISO 8601, Splunk's %m/%d/%Y:%H:%M:%S, epoch) or a modifier such as `-1h@h`."""
    from tunnelhunt.actions.common import OptionError, resolve_time

    try:
        return resolve_time(text, tz, now)
    except OptionError as exc:
        raise fail(str(exc)) from None


def schedule_options(
    db: Path,
    paths: list[Path] | None,
    detections: list[Path] | None,
    macros: list[Path] | None,
    rules: Path | None,
    sinks: list[str] | None,
    hec_token: str | None,
    hec_index: str | None,
    spool: Path | None,
    retries: int,
    tz: tzinfo,
    fmt: str | None,
    sigma: list[Path] | None = None,
    cache_dir: Path | None = None,
    no_cache: bool = False,
) -> ScheduleOptions:
    """The options `run` and `watch` share, as the action takes them."""
    from tunnelhunt.actions.schedule import ScheduleOptions

    return ScheduleOptions(
        db, paths or [], detections or [], macros or [], rules, sinks or [],
        sink_options(db, spool, hec_token, hec_index, retries), tz, fmt, sigma or [], not no_cache, cache_dir,
    )  # fmt: skip


def sink_options(
    db: Path | None, spool: Path | None, hec_token: str | None, hec_index: str | None, retries: int = 4
) -> SinkOptions:
    """Where network sinks spool (default: beside the database, or `.tunnelhunt-spool` here) and how."""
    from tunnelhunt.actions.common import default_spool
    from tunnelhunt.sinks.retry import RetryPolicy
    from tunnelhunt.sinks.spec import SinkOptions

    root = spool or default_spool(db)
    return SinkOptions(root, hec_token, hec_index, RetryPolicy(attempts=retries))


def report_content_errors(content: ContentSet, sigma: SigmaContent | None = None) -> bool:
    """Print the content files that did not load (ESCU and Sigma); True when there were any."""
    for error in content.errors:
        stderr.print(f"[red]content error:[/red] {safe_markup(error)}")
    sigma_errors = sigma.errors if sigma else []
    for where, why in sigma_errors:
        stderr.print(f"[red]sigma error:[/red] {safe_markup(where)}: {safe_markup(why)}")
    return bool(content.errors or sigma_errors)


def report_deliveries(deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        if delivery.error:
            stderr.print(
                f"[red]delivery error:[/red] {safe_markup(delivery.sink)}: {safe_markup(delivery.error)} "
                f"({delivery.pending} spooled, sent on the next run)"
            )


def ingest_conditions(report: IngestReport | None) -> set[ExitCode]:
    """The exit-code conditions an ingest leaves: unreadable files, quarantined records."""
    conditions = set()
    if report is not None and report.failed_files:
        conditions.add(ExitCode.FILE_UNREADABLE)
    if report is not None and report.total("quarantined"):
        conditions.add(ExitCode.QUARANTINED)
    return conditions


def delivery_conditions(deliveries: list[Delivery]) -> set[ExitCode]:
    """A sink that did not take everything (receiver down, spool or file unwritable) fails the run."""
    return {ExitCode.DELIVERY_FAILED} if any(d.error for d in deliveries) else set()


def describe_run(run: DetectionTick) -> str:
    if run.error:
        return f"  [red]failed[/red] {run.detection.name}: {run.error}"
    spans = ", ".join(f"[{a:%Y-%m-%d %H:%M}, {b:%H:%M})" for a, b in run.searched) or "nothing new to search"
    return f"  {run.detection.name}: {spans} → {run.results} result(s), {run.risk_events} risk event(s)"


def report_tick(report: TickReport) -> None:
    stderr.print(f"tick {report.at:%Y-%m-%d %H:%M} UTC: {len(report.runs)} detection(s) due")
    for run in report.runs:
        stderr.print(describe_run(run))
        for warning in run.warnings:
            stderr.print(f"  [yellow]warning[/yellow] {run.detection.name}: {warning}")
    for run in report.analytics:
        if run.error or run.results:
            stderr.print(describe_run(run))
    for finding in report.findings:
        stderr.print(f"  [bold]finding[/bold] {finding['severity']}: {finding['rule']} — {finding['description']}")


def stored_report_start(db: Path, output: str, since: str | None, tz: str) -> datetime | None:
    """What `risk` and `findings` check before reading a kept database (the action checks the file);
    returns the `--since` time."""
    check_output(output)
    return parse_time(since, zone(tz)) if since else None
