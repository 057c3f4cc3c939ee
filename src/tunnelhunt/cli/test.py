"""`tunnelhunt test`: replay each detection's attack data and check its results, as contentctl does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tunnelhunt.cli.common import app, fail, stderr
from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.errors import TunnelhuntError

_MARKS = {
    "pass": "[green]pass[/green]",
    "fail": "[red]FAIL[/red]",
    "error": "[red]ERROR[/red]",
    "skip": "[yellow]skip[/yellow]",
}


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
    sigma_regression: Annotated[
        Path | None,
        typer.Option("--sigma-regression", help="Run SigmaHQ's regression_data folder (rules: --sigma, or beside it)."),
    ] = None,
    sigma: Annotated[list[Path] | None, typer.Option("--sigma", help="Sigma rule files or folders.")] = None,
) -> None:
    """Run detection tests: replay attack data into a fresh store, run over all time, check results."""
    from tunnelhunt.actions.test import test_content
    from tunnelhunt.cli.junit import write_junit

    if sigma_regression is not None:
        _regression(sigma_regression, sigma or [], junit)
    try:
        result = test_content(detections or [], data_root, macros or [])
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    for error in result.content.errors:
        stderr.print(f"[red]content error:[/red] {error}")
    runs, counts = result.runs, result.counts()
    for run in runs:
        for outcome in run.results:
            line = escape(f"{outcome.detection} — {outcome.test} [{outcome.kind}]: {outcome.message}")
            stderr.print(f"{_MARKS[outcome.status]}  {line}")
    if junit is not None:
        write_junit(runs, junit)
    stderr.print(
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['error']} error(s), {counts['skip']} skipped "
        f"({len(runs)} detection(s))"
    )
    bad = counts["fail"] or counts["error"] or result.content.errors
    raise typer.Exit(int(ExitCode.DETECTION_FAILED if bad else ExitCode.OK))


def _regression(root: Path, rules: list[Path], junit: Path | None) -> None:
    from tunnelhunt.actions.test import sigma_regression as run_sigma_regression
    from tunnelhunt.cli.junit import write_regression_junit

    try:
        report = run_sigma_regression(root, rules)
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    for result in report.results:
        case = result.case
        status = "pass" if result.passed else ("error" if result.error else "fail")
        detail = result.error or f"{result.matched} match(es), expected {case.match_count}"
        stderr.print(f"{_MARKS[status]}  {escape(f'{case.title} — {case.sample.name}: {detail}')}")
    if junit is not None:
        write_regression_junit(report, junit)
    failed = report.total - report.passed
    stderr.print(f"{report.passed} passed, {failed} failed ({report.exact} of {report.total} with exactly match_count)")
    raise typer.Exit(int(ExitCode.DETECTION_FAILED if failed else ExitCode.OK))
