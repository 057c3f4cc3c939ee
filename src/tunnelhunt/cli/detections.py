"""`tunnelhunt detections`: list what would run, and what `run`/`watch` would skip."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import OutputOption, app, fail, safe_markup, stderr
from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.cli.tables import Col, print_table
from tunnelhunt.errors import TunnelhuntError
from tunnelhunt.sinks.files import write_csv, write_jsonl

_COLUMNS = [Col("name", "name"), Col("enabled", "scheduled", False), Col("source", "source", False),
            Col("data", "data", False), Col("schedule", "cron", False)]  # fmt: skip


@app.command()
def detections(
    detections: hunting.DetectionsOption = None,
    macros: hunting.MacrosOption = None,
    sigma: Annotated[list[Path] | None, typer.Option("--sigma", help="Sigma rule file or folder (repeatable).")] = None,
    output: OutputOption = "table",
) -> None:
    """List the detections, behaviour analytics and Sigma rules a hunt runs; `run` and `watch` skip the ones
    whose `schedule.disabled` is true (scheduled: no)."""
    from tunnelhunt.actions.detections import detections as list_detections

    try:
        listed = list_detections(detections or [], macros or [], sigma or [])
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    hunting.report_content_errors(listed.content)
    rows = [
        {**vars(item), "enabled": "yes" if item.enabled else "no", "schedule": item.schedule or "hunt only"}
        for item in listed.items
    ]
    if output == "jsonl":
        write_jsonl([vars(item) for item in listed.items], sys.stdout)
    elif output == "csv":
        write_csv([vars(item) for item in listed.items], sys.stdout)
    else:
        print_table(Console(), f"detections — {len(rows)}", _COLUMNS, rows)
    for where, why in listed.sigma_errors:
        stderr.print(f"[red]sigma error:[/red] {safe_markup(where)}: {safe_markup(why)}")
    skipped = sum(1 for item in listed.items if not item.enabled)
    if skipped:
        stderr.print(f"{skipped} detection(s) disabled for scheduling: hunt runs them, run and watch skip them")
    bad = listed.content.errors or listed.sigma_errors
    raise typer.Exit(int(ExitCode.DETECTION_FAILED if bad else ExitCode.OK))
