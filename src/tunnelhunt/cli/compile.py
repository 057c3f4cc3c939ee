"""`tunnelhunt compile`: the SQL of each detection, and a report of what cannot run and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tunnelhunt.cli.common import SigmaOption, app, fail, stderr
from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.errors import TunnelhuntError

if TYPE_CHECKING:  # what the command runs is imported when it runs
    from tunnelhunt.actions.compile import CompileOutcome


@app.command("compile")
def compile_command(
    path: Annotated[
        Path | None, typer.Argument(help="A detection file or a folder of detections (ESCU layout, Sigma YAML too).")
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the compile report as JSON here.")] = None,
    macros: Annotated[
        list[Path] | None, typer.Option("--macros", help="Macro overrides (e.g. your *_filter macros).")
    ] = None,
    sql: Annotated[bool, typer.Option("--sql/--no-sql", help="Print each detection's SQL.")] = True,
    dialect: Annotated[str, typer.Option("--dialect", help="SQL dialect to print (duckdb, spark, ...).")] = "duckdb",
    sigma: SigmaOption = None,
) -> None:
    """Compile detections to SQL and dry-run each on an empty store; report the ones that cannot run."""
    from tunnelhunt.actions.compile import compile_content, report_json, top_reasons

    def show(outcome: CompileOutcome) -> None:
        if sql and outcome.compiled is not None:
            typer.echo(f"-- {outcome.entry.name} ({outcome.entry.path})")
            typer.echo(outcome.compiled.sql(dialect, pretty=True) + ";\n")

    try:
        result = compile_content(path, macros or [], show, sigma or [])
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    entries = result.entries
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(report_json(entries), indent=2) + "\n", encoding="utf-8")
    compiled = result.compiled
    stderr.print(f"{compiled} of {len(entries)} detection(s) and Sigma rule(s) compile and run")
    for reason, count in top_reasons(entries):
        stderr.print(f"  {count:5d}  {reason}")
    raise typer.Exit(int(ExitCode.OK if compiled == len(entries) else ExitCode.DETECTION_FAILED))
