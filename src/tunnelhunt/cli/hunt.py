"""`tunnelhunt hunt`: ingest logs, run every detection over all of it, print findings and risk events."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import Output, SigmaOption, app, fail, safe_markup, stderr
from tunnelhunt.cli.exit_codes import ExitCode, worst
from tunnelhunt.collector import no_collection
from tunnelhunt.errors import TunnelhuntError
from tunnelhunt.sinks.files import write_csv, write_jsonl, write_rows

if TYPE_CHECKING:  # what the command runs is imported when it runs (`--help` stays quick)
    from tunnelhunt.actions.hunt import HuntResult


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
    sigma: SigmaOption = None,
    macros: Annotated[
        list[Path] | None, typer.Option("--macros", help="Macro overrides (e.g. your *_filter macros).")
    ] = None,
    output: Annotated[
        Output | None,
        typer.Option("--output", "-o", help="table (a summary; see --timeline, --all), jsonl or csv (every result)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write every result to this file (jsonl or csv, from -o or its name).")
    ] = None,
    timeline: Annotated[
        bool, typer.Option("--timeline", help="Print every result in one table by time, with its severity.")
    ] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Print every result of every detection.")] = False,
    min_score: Annotated[
        float, typer.Option("--min-score", min=0, help="Only results whose risk score is at least this.")
    ] = 0,
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
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the hunt's report as one self-contained HTML file.")
    ] = None,
    cache_dir: hunting.CacheDirOption = None,
    no_cache: hunting.NoCacheOption = False,
) -> None:
    """Ingest logs, run every detection and analytic over them; summarise the results, risk and findings.

    The terminal gets a summary (results per detection, the entities with the most risk, the findings
    raised); --timeline or --all print every result; -o jsonl/csv write them all (to --out FILE)."""
    with no_collection():  # the hunt's modules (duckdb, pyarrow, readers, detections): see `collector.py`
        from tunnelhunt.actions.hunt import HuntOptions
        from tunnelhunt.actions.hunt import hunt as run_hunt
        from tunnelhunt.cli.ingest_view import progress_display, quarantine_writer, write_report
        from tunnelhunt.cli.render import detection_summary, ingest_summary, result_rows
        from tunnelhunt.spl.window import TimeWindow

    kind = output_format(output, out)
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
        sinks=sink or [], report=html is not None,
        sink_options=hunting.sink_options(db, spool, hec_token, hec_index) if sink else None,
        cache=not no_cache, cache_dir=cache_dir,
    )  # fmt: skip
    written: dict[str, int] = {}

    def publish(found: HuntResult) -> None:
        """The files this hunt writes, before its state commits: the store never records a hunt whose
        --out or --risk could not be written."""
        if out is not None:
            written["out"] = write_rows(result_rows(found.entries(min_score)), out, kind)
        if risk:
            write_rows(found.passed.risk_events, risk, "jsonl")

    try:
        with progress_display(stderr) as on_progress, quarantine_writer(quarantine) as on_quarantine:
            result = run_hunt(options, on_progress, on_quarantine, publish=publish)
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    hunting.report_content_errors(result.content, result.sigma)
    if result.ingest is not None:
        if report_path:
            write_report(result.ingest, report_path)
        ingest_summary(result.ingest, stderr)
    else:
        stderr.print(f"hunting the lake {safe_markup(lake)} as it is (nothing ingested)")
    runs = result.runs
    detection_summary(runs, stderr)
    items = result.entries(min_score)
    rows = result_rows(items)
    if out is not None:
        where = f"{written['out']} result(s) written to {safe_markup(out)} ({kind})"
    elif kind == "csv":
        write_csv(rows, sys.stdout)
    elif kind == "jsonl":
        write_jsonl(rows, sys.stdout)
    else:
        from tunnelhunt.cli.result_tables import hunt_summary, results_table, timeline_table  # tables: only here

        console = Console()
        if timeline:
            timeline_table(items, console)
        elif show_all:
            for run in runs:
                if not run.error:
                    results_table(run, console)
        else:
            hunt_summary(items, result.passed.risk_events, len(runs), console)
    hunting.report_deliveries(result.deliveries)
    events = result.passed.risk_events
    stderr.print(
        f"{len(rows)} result(s)" + (f" scoring {min_score:g} or more" if min_score else "")
        + f", {len(events)} risk event(s) from {len(runs)} detection(s); {finding_counts(result.passed.findings)}"
    )  # fmt: skip
    if db is not None:
        stderr.print(
            f"stored in {safe_markup(db)}: {result.passed.results_added} new result(s), "
            f"{result.passed.risk_events_added} new risk event(s), {len(result.passed.findings)} new finding(s)"
        )
        stderr.print(f"  review: tunnelhunt findings --db {safe_markup(db)}; tunnelhunt risk --db {safe_markup(db)}")
    if out is not None:
        stderr.print(f"results: {where}")
    elif kind == "table" and not (timeline or show_all) and rows:
        stderr.print("every result: --timeline, --all, or -o csv --out FILE")
    if risk:
        stderr.print(f"risk events: {len(events)} written to {safe_markup(risk)}")
    if html is not None and result.report is not None:
        from tunnelhunt.cli.report import write_html  # jinja2 and plotly load only when asked for

        write_html(result.report, html)
    raise typer.Exit(int(_exit_code(result)))


def finding_counts(findings: list[dict[str, object]]) -> str:
    """`3 finding(s): 2 critical, 1 high` (the incident rules' alerts, by severity)."""
    if not findings:
        return "no finding raised"
    counts: dict[str, int] = {}
    for finding in findings:
        counts[str(finding["severity"])] = counts.get(str(finding["severity"]), 0) + 1
    order = ["critical", "high", "medium", "low", "informational"]
    parts = [f"{counts[s]} {s}" for s in sorted(counts, key=lambda s: order.index(s) if s in order else 9)]
    return f"{len(findings)} finding(s) raised: " + ", ".join(parts)


def output_format(output: str | None, out: Path | None) -> str:
    """What to write: `-o`, else what `--out`'s name says (`.csv`, `.jsonl`/`.ndjson`/`.json`), else a table.
    A table is for the terminal: `--out` with `-o table` is refused rather than silently written as JSON."""
    suffix = out.suffix.lower() if out is not None else ""
    fmt = output or {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}.get(suffix, "table")
    if out is not None and fmt == "table":
        raise fail(f"--out {out}: a file gets jsonl or csv; give -o jsonl or -o csv (or name it .csv or .jsonl)")
    return fmt
