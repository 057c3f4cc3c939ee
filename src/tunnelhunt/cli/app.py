"""`tunnelhunt` commands. Lower layers raise typed errors; this layer turns them into one line and an exit code."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.cli.render import detection_summary, finding_rows, findings_table, ingest_summary
from tunnelhunt.content.loader import load_content
from tunnelhunt.engine.ingest import IngestReport, ingest
from tunnelhunt.engine.runner import DetectionRun, run_detections
from tunnelhunt.rba.risk import risk_events
from tunnelhunt.readers.base import QuarantinedRecord
from tunnelhunt.sinks.files import write_csv, write_jsonl, write_rows
from tunnelhunt.store.duckdb_store import Store

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Hunt tunnelling tools (ngrok first) in your logs.")
stderr = Console(stderr=True)


def _fail(message: str, code: ExitCode = ExitCode.ERROR) -> typer.Exit:
    stderr.print(f"[red]error:[/red] {message}")
    return typer.Exit(int(code))


def _write_quarantine(records: list[QuarantinedRecord], path: Path) -> None:
    rows = [
        {"file": r.source, r.offset_kind: r.offset, "reason": r.reason, "excerpt": r.excerpt} for r in records
    ]
    write_rows(rows, path, "jsonl")


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
    paths: Annotated[list[Path], typer.Argument(help="Log files or directories (searched recursively).")],
    detections: Annotated[list[Path] | None, typer.Option("--detections", help="Extra detection YAML file or directory.")] = None,
    macros: Annotated[list[Path] | None, typer.Option("--macros", help="Macro overrides (e.g. your *_filter macros).")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="table, jsonl or csv.")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write findings here instead of stdout.")] = None,
    risk: Annotated[Path | None, typer.Option("--risk", help="Write risk events as JSON lines.")] = None,
    db: Annotated[Path | None, typer.Option("--db", help="DuckDB file to keep events in (default: in memory).")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="Force the input format instead of detecting it.")] = None,
    quarantine: Annotated[Path | None, typer.Option("--quarantine", help="Write skipped records as JSON lines.")] = None,
) -> None:
    """Ingest logs, run every detection over them, and print the findings."""
    if output not in ("table", "jsonl", "csv"):
        raise _fail(f"--output must be table, jsonl or csv, not {output!r}")
    content = load_content(detections or [], macros or [])
    for error in content.errors:
        stderr.print(f"[red]content error:[/red] {error}")
    if content.errors and not content.detections:
        raise _fail("no detection could be loaded")
    try:
        store = Store(db)
    except Exception as exc:  # duckdb raises its own IOException types
        raise _fail(f"cannot open database {db}: {exc}") from None
    with store:
        with stderr.status("ingesting…"):
            report = ingest(paths, store, fmt)
        run_time = datetime.now(UTC)
        runs = run_detections(store, content.detections, content.macros)
    ingest_summary(report, stderr)
    detection_summary(runs, stderr)
    if quarantine:
        _write_quarantine(report.quarantine, quarantine)
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


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write the dataset into.")],
    events: Annotated[int, typer.Option("--events", min=1, help="Total number of events.")] = 20000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same bytes).")] = 7,
) -> None:
    """Write a realistic Sysmon XML dataset with ngrok activity and near misses."""
    from tunnelhunt.generate.sysmon import generate_sysmon

    dataset = generate_sysmon(out_dir, events=events, seed=seed)
    truth = json.loads(dataset.truth_path.read_text())
    stderr.print(
        f"wrote {dataset.events:,} events to {dataset.path} "
        f"({len(truth['process_matches'])} ngrok process runs, {len(truth['dns_matches'])} ngrok DNS lookups, "
        f"{len(truth['near_misses'])} near misses; ground truth in {dataset.truth_path.name})"
    )


def main() -> None:
    """Entry point: typer's own errors keep their codes; anything unexpected is one line, not a traceback."""
    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # last line of defence: no traceback reaches the user
        stderr.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc}")
        sys.exit(int(ExitCode.ERROR))


if __name__ == "__main__":
    main()
