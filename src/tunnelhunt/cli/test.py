"""`tunnelhunt test`: replay each detection's attack data and check its results, as contentctl does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tunnelhunt.actions.test import run_tests
from tunnelhunt.cli.common import app, fail, stderr
from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.content.loader import load_content
from tunnelhunt.content.models import Detection
from tunnelhunt.sinks.junit import write_junit

_MARKS = {
    "pass": "[green]pass[/green]",
    "fail": "[red]FAIL[/red]",
    "error": "[red]ERROR[/red]",
    "skip": "[yellow]skip[/yellow]",
}


def _select(detections: list[Detection], wanted: list[str]) -> list[Detection]:
    """Detections named by name or id (for arguments that are not paths)."""
    chosen = []
    for key in wanted:
        match = [d for d in detections if key in (d.name, d.id)]
        if not match:
            raise fail(f"no detection named or with id {key!r}")
        chosen.extend(match)
    return chosen


@app.command("test")
def test_command(
    detections: Annotated[
        list[str] | None,
        typer.Argument(help="Detection files, folders, names or ids (default: every shipped detection)."),
    ] = None,
    data_root: Annotated[
        Path | None, typer.Option("--data-root", help="Local copy of the attack data that tests name by URL.")
    ] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML here.")] = None,
    macros: Annotated[
        list[Path] | None, typer.Option("--macros", help="Macro overrides (e.g. your *_filter macros).")
    ] = None,
) -> None:
    """Run detection tests: replay attack data into a fresh store, run over all time, check results."""
    arguments = detections or []
    paths = [Path(a) for a in arguments if Path(a).exists()]
    names = [a for a in arguments if not Path(a).exists()]
    content = load_content(paths, macros or [], shipped_detections=not paths)
    for error in content.errors:
        stderr.print(f"[red]content error:[/red] {error}")
    chosen = _select(content.detections, names) if names else content.detections
    runs = run_tests(chosen, content, data_root)
    counts = {"pass": 0, "fail": 0, "error": 0, "skip": 0}
    for run in runs:
        for result in run.results:
            counts[result.status] += 1
            line = escape(f"{result.detection} — {result.test} [{result.kind}]: {result.message}")
            stderr.print(f"{_MARKS[result.status]}  {line}")
    if junit is not None:
        write_junit(runs, junit)
    stderr.print(
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['error']} error(s), {counts['skip']} skipped "
        f"({len(runs)} detection(s))"
    )
    bad = counts["fail"] or counts["error"] or content.errors
    raise typer.Exit(int(ExitCode.DETECTION_FAILED if bad else ExitCode.OK))
