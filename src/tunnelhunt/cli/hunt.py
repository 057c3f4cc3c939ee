"""`tunnelhunt hunt`: ingest logs, run every detection over all of it, print findings and risk events."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from tunnelhunt.actions.hunt import HuntOptions, HuntResult
from tunnelhunt.actions.hunt import hunt as run_hunt
from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import OutputOption, app, check_output, fail, stderr
from tunnelhunt.cli.exit_codes import ExitCode, worst
from tunnelhunt.cli.ingest_view import progress_display, quarantine_writer, write_report
from tunnelhunt.cli.render import detection_summary, finding_rows, findings_table, ingest_summary
from tunnelhunt.errors import TunnelhuntError
from tunnelhunt.sinks.files import write_csv, write_jsonl, write_rows
from tunnelhunt.spl.compiler import TimeWindow


def _exit_code(result: HuntResult) -> ExitCode:
    conditions = hunting.ingest_conditions(result.ingest) | hunting.delivery_conditions(result.deliveries)
    if result.content.errors or result.sigma.errors or result.failed_runs:
        conditions.add(ExitCode.DETECTION_FAILED)
    return worst(conditions)


@app.command()
def hunt(
    paths: Annotated[list[Path] | None, typer.Argument(help="Log files or directories (searched recursively).")] = None,
    detections: Annotated[
        list[Path] | None, typer.Option("--detections", help="Extra detection YAML file or directory.")
    ] = None,
    sigma: Annotated[list[Path] | None, typer.Option("--sigma", help="Sigma rule file or folder (repeatable).")] = None,
    macros: Annotated[
        list[Path] | None, typer.Option("--macros", help="Macro overrides (e.g. your *_filter macros).")
    ] = None,
    output: OutputOption = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write findings here instead of stdout.")] = None,
    risk: Annotated[Path | None, typer.Option("--risk", help="Write risk events as JSON lines.")] = None,
    db: Annotated[Path | None, typer.Option("--db", help="DuckDB file to keep events in (default: in memory).")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="Force the input format instead of detecting it.")] = None,
    quarantine: Annotated[
        Path | None, typer.Option("--quarantine", help="Write skipped records as JSON lines.")
    ] = None,
    report_path: Annotated[
        Path | None, typer.Option("--report", help="Write the JSON ingest report (per file and totals).")
    ] = None,
    include: Annotated[
        list[str] | None, typer.Option("--include", help="Only files matching this glob in directories (repeatable).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Skip files matching this glob in directories (repeatable).")
    ] = None,
    mapping: Annotated[
        list[Path] | None, typer.Option("--mapping", help="YAML mapping file for a JSON/CSV export (repeatable).")
    ] = None,
    lake: Annotated[
        Path | None,
        typer.Option(
            "--lake", help="Parquet lake: write the events there, or hunt it as it is when no logs are given."
        ),
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="duckdb, or spark (runs over --lake).")] = "duckdb",
    spark_master: Annotated[
        str, typer.Option("--spark-master", help="Spark master URL for --engine spark.")
    ] = "local[*]",
    earliest: Annotated[
        str | None, typer.Option("--earliest", help="Only events from this time (e.g. -7d@d, 2026-11-20T10:00:00).")
    ] = None,
    latest: Annotated[str | None, typer.Option("--latest", help="Only events before this time (e.g. now, @d).")] = None,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="YAML file overriding the risk incident rule thresholds.")
    ] = None,
    sink: hunting.SinkOption = None,
    hec_token: hunting.HecTokenOption = None,
    hec_index: hunting.HecIndexOption = None,
    spool: hunting.SpoolOption = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Parsing processes (default: every core on large inputs).")
    ] = None,
) -> None:
    """Ingest logs, run every detection over them, and print the findings."""
    check_output(output)
    window = None
    if earliest or latest:
        zone = hunting.zone("UTC")
        window = TimeWindow(
            hunting.parse_time(earliest, zone) if earliest else None,
            hunting.parse_time(latest, zone) if latest else None,
        )
    options = HuntOptions(
        paths=paths or [], detections=detections or [], sigma=sigma or [], macros=macros or [], mappings=mapping or [],
        rules=rules, db=db, lake=lake, engine=engine, spark_master=spark_master, fmt=fmt,
        include=include or [], exclude=exclude or [], workers=workers, window=window,
        sinks=sink or [], sink_options=hunting.sink_options(db, spool, hec_token, hec_index),
    )  # fmt: skip
    try:
        with progress_display(stderr) as on_progress, quarantine_writer(quarantine) as on_quarantine:
            result = run_hunt(options, on_progress, on_quarantine)
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    for error in result.content.errors:
        stderr.print(f"[red]content error:[/red] {escape(str(error))}")
    for where, why in result.sigma.errors:
        stderr.print(f"[red]sigma error:[/red] {escape(where)}: {escape(why)}")
    if result.ingest is not None:
        if report_path:
            write_report(result.ingest, report_path)
        ingest_summary(result.ingest, stderr)
    else:
        stderr.print(f"hunting the lake {lake} as it is (nothing ingested)")
    runs = result.runs
    detection_summary(runs, stderr)
    rows = finding_rows(runs)
    if output == "table" and out is None:
        console = Console()
        for run in runs:
            if not run.error:
                findings_table(run, console)
    elif out is not None:
        write_rows(rows, out, "csv" if output == "csv" else "jsonl")
    elif output == "csv":
        write_csv(rows, sys.stdout)
    else:
        write_jsonl(rows, sys.stdout)
    hunting.report_deliveries(result.deliveries)
    events = result.passed.risk_events
    if risk:
        write_rows(events, risk, "jsonl")
    for finding in result.passed.findings:
        stderr.print(f"[bold]finding[/bold] {finding['severity']}: {finding['rule']} — {finding['description']}")
    stderr.print(f"{len(rows)} finding(s), {len(events)} risk event(s) from {len(runs)} detection(s)")
    if db is not None:
        stderr.print(
            f"stored in {db}: {result.passed.results_added} new result(s), "
            f"{result.passed.risk_events_added} new risk event(s), {len(result.passed.findings)} new finding(s)"
        )
    raise typer.Exit(int(_exit_code(result)))
