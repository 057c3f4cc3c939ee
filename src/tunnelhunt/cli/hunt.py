"""`tunnelhunt hunt`: ingest logs, run every detection over all of it, print findings and risk events."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tunnelhunt.cli.common import OutputOption, app, check_output, fail, stderr
from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.cli.ingest_view import progress_display, quarantine_writer, write_report
from tunnelhunt.cli.render import detection_summary, finding_rows, findings_table, ingest_summary
from tunnelhunt.content.loader import load_content
from tunnelhunt.detect.behaviour import hunt_behaviours
from tunnelhunt.detect.runner import DetectionRun, run_detections
from tunnelhunt.ingest.run import IngestReport, build_readers, ingest
from tunnelhunt.normalize.custom import CustomMapping, MappingError, load_mapping
from tunnelhunt.rba.risk import risk_events
from tunnelhunt.readers.detect import format_names
from tunnelhunt.sinks.files import write_csv, write_jsonl, write_rows
from tunnelhunt.store.duckdb_store import Store


def load_mappings(paths: list[Path]) -> list[CustomMapping]:
    """The user's mapping files, or a clean exit naming the bad one."""
    try:
        return [load_mapping(path) for path in paths]
    except MappingError as exc:
        raise fail(str(exc)) from None


def check_format(fmt: str | None, mappings: list[CustomMapping]) -> None:
    if fmt is None:
        return
    known = format_names(build_readers(mappings).readers)
    if fmt not in known:
        raise fail(f"unknown --format {fmt!r}; known formats: {', '.join(known)}")


def _exit_code(report: IngestReport, runs: list[DetectionRun]) -> ExitCode:
    if report.failed_files:
        return ExitCode.FILE_UNREADABLE
    if any(run.error for run in runs):
        return ExitCode.DETECTION_FAILED
    if report.total("quarantined"):
        return ExitCode.QUARANTINED
    return ExitCode.OK


@app.command()
def hunt(
    paths: Annotated[list[Path] | None, typer.Argument(help="Log files or directories (searched recursively).")] = None,
    detections: Annotated[
        list[Path] | None, typer.Option("--detections", help="Extra detection YAML file or directory.")
    ] = None,
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
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Parsing processes (default: every core on large inputs).")
    ] = None,
) -> None:
    """Ingest logs, run every detection over them, and print the findings."""
    check_output(output)
    mappings = load_mappings(mapping or [])
    check_format(fmt, mappings)
    content = load_content(detections or [], macros or [])
    for error in content.errors:
        stderr.print(f"[red]content error:[/red] {error}")
    if content.errors and not content.detections:
        raise fail("no detection could be loaded")
    from tunnelhunt.store.lake import LakeStore, LakeWriter, lake_has_data  # pyarrow.dataset: only here

    if engine not in ("duckdb", "spark"):
        raise fail(f"--engine must be duckdb or spark, not {engine!r}")
    if engine == "spark" and lake is None:
        raise fail("--engine spark runs over a Parquet lake: give --lake DIR")
    if lake is not None and db is not None:
        raise fail("--lake and --db are two different stores: give one")
    if not paths and lake is None:
        raise fail("give log files to hunt, or --lake DIR to hunt a lake written before")
    if not paths and lake is not None and not lake_has_data(lake):
        raise fail(f"{lake} holds no events (write it first: tunnelhunt hunt LOGS --lake {lake})")
    try:
        store = Store(db)
    except Exception as exc:  # duckdb raises its own IOException types
        raise fail(f"cannot open database {db}: {exc}") from None
    with store, quarantine_writer(quarantine) as sink:
        report = IngestReport()
        if paths:
            with progress_display(stderr) as on_progress, LakeWriter(lake) if lake else nullcontext() as writer:
                report = ingest(
                    paths,
                    writer or store,
                    fmt,
                    include=include or [],
                    exclude=exclude or [],
                    mappings=mappings,
                    incremental=writer is None,  # the lake keeps no checkpoints: each run adds its files
                    on_progress=on_progress,
                    on_quarantine=sink,
                    workers=workers,
                )
        run_time = datetime.now(UTC)
        if lake is None:
            runs = run_detections(store, content.detections, content.macros, lookups=content.lookups)
            runs += hunt_behaviours(store, runs)
        elif engine == "spark":
            from tunnelhunt.detect.spark import SparkEngine

            with stderr.status("starting Spark…"), SparkEngine(lake, spark_master) as spark:
                runs = run_detections(spark, content.detections, content.macros, lookups=content.lookups)
            with LakeStore(lake) as lake_store:  # behaviour analytics keep their state in DuckDB
                runs += hunt_behaviours(lake_store, runs)
        else:
            with LakeStore(lake) as lake_store:
                runs = run_detections(lake_store, content.detections, content.macros, lookups=content.lookups)
                runs += hunt_behaviours(lake_store, runs)
    if report_path:
        write_report(report, report_path)
    if paths:
        ingest_summary(report, stderr)
    else:
        stderr.print(f"hunting the lake {lake} as it is (nothing ingested)")
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
    events = [event for run in runs for event in risk_events(run.detection, run.rows, run_time)]
    if risk:
        write_rows(events, risk, "jsonl")
    stderr.print(f"{len(rows)} finding(s), {len(events)} risk event(s) from {len(runs)} detection(s)")
    raise typer.Exit(int(_exit_code(report, runs)))
