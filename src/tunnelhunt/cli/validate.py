"""`tunnelhunt validate`: report content problems (schema, ids, filter macros, macros, lookups, fields)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunnelhunt.cli.common import SigmaOption, app, fail, stderr
from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.errors import TunnelhuntError


@app.command("validate")
def validate_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Detection files or content folders (default: the shipped content).")
    ] = None,
    macros: Annotated[
        list[Path] | None, typer.Option("--macros", help="Macro overrides (e.g. your *_filter macros).")
    ] = None,
    warnings: Annotated[bool, typer.Option("--warnings/--no-warnings", help="Also list warnings.")] = True,
    sigma: SigmaOption = None,
) -> None:
    """Check detections, macros and lookups the way contentctl does; exit 1 when there are errors."""
    from tunnelhunt.actions.validate import validate_content

    try:
        result = validate_content(paths or [], macros or [], sigma or [])
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    content, issues = result.content, result.issues
    for issue in issues:
        if issue.severity == "error":
            typer.echo(f"error: {issue}")
        elif warnings:
            typer.echo(f"warning: {issue}")
    errors = result.errors
    stderr.print(
        f"{len(content.detections)} detection(s) and {result.sigma.collection_size} Sigma rule(s) loaded, "
        f"{len(content.errors) + len(result.sigma.errors)} file(s) failed to load; "
        f"{errors} error(s), {len(issues) - errors} warning(s)"
    )
    raise typer.Exit(int(ExitCode.ERROR if errors else ExitCode.OK))
