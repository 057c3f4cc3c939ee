"""`tunnelhunt validate`: report content problems (schema, ids, filter macros, macros, lookups, fields)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunnelhunt.cli.common import app, stderr
from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.content.loader import load_content
from tunnelhunt.content.validation import error_count, validate


@app.command("validate")
def validate_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Detection files or content folders (default: the shipped content).")
    ] = None,
    macros: Annotated[
        list[Path] | None, typer.Option("--macros", help="Macro overrides (e.g. your *_filter macros).")
    ] = None,
    warnings: Annotated[bool, typer.Option("--warnings/--no-warnings", help="Also list warnings.")] = True,
) -> None:
    """Check detections, macros and lookups the way contentctl does; exit 1 when there are errors."""
    for path in paths or []:
        if not path.exists():
            stderr.print(f"[red]error:[/red] {path}: no such file or directory")
            raise typer.Exit(int(ExitCode.ERROR))
    content = load_content(paths or [], macros or [], shipped_detections=not paths)
    issues = validate(content)
    for issue in issues:
        if issue.severity == "error":
            typer.echo(f"error: {issue}")
        elif warnings:
            typer.echo(f"warning: {issue}")
    errors = error_count(issues)
    stderr.print(
        f"{len(content.detections)} detection(s) loaded, {len(content.errors)} file(s) failed to load; "
        f"{errors} error(s), {len(issues) - errors} warning(s)"
    )
    raise typer.Exit(int(ExitCode.ERROR if errors else ExitCode.OK))
