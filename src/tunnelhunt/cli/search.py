"""`tunnelhunt search "SPL"`: run one search over a database, a lake, or files read first."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import OutputOption, app, check_output, fail, stderr
from tunnelhunt.cli.rba_render import print_rows
from tunnelhunt.errors import TunnelhuntError


@app.command("search")
def search_command(
    spl: Annotated[str, typer.Argument(metavar="SPL", help="The search, as in Splunk's search bar.")],
    db: Annotated[Path | None, typer.Option("--db", help="DuckDB file written by hunt, run or watch.")] = None,
    lake: Annotated[Path | None, typer.Option("--lake", help="Parquet lake written by hunt --lake.")] = None,
    inputs: Annotated[
        list[Path] | None, typer.Option("--in", help="Log files or folders to read first (into --db, or memory).")
    ] = None,
    earliest: Annotated[str | None, typer.Option("--earliest", help="e.g. -24h@h, 2026-11-20T10:00:00.")] = None,
    latest: Annotated[str | None, typer.Option("--latest", help="e.g. now, @d.")] = None,
    macros: Annotated[list[Path] | None, typer.Option("--macros", help="Extra macro files or folders.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many results.")] = 100,
    output: OutputOption = "table",
    show_sql: Annotated[bool, typer.Option("--sql", help="Print the compiled SQL on stderr.")] = False,
    tz: hunting.TzOption = "UTC",
) -> None:
    """Run one SPL search (tstats over data models, or search terms over the raw events)."""
    from tunnelhunt.actions.search import SearchOptions, search
    from tunnelhunt.cli.render import ingest_summary

    check_output(output)
    zone = hunting.zone(tz)
    options = SearchOptions(
        spl, db, lake, inputs or [], macros or [],
        hunting.parse_time(earliest, zone) if earliest else None,
        hunting.parse_time(latest, zone) if latest else None,
        limit,
    )  # fmt: skip
    try:
        result = search(options)
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    if result.ingest is not None:
        ingest_summary(result.ingest, stderr)
    if show_sql:
        stderr.print(result.compiled.sql("duckdb", pretty=True), markup=False, highlight=False)
    for warning in result.compiled.warnings:
        stderr.print(f"[yellow]warning:[/yellow] {warning}", markup=True, highlight=False)
    rows = result.rows.to_pylist()
    columns = [c for c in result.compiled.output_fields if any(row.get(c) is not None for row in rows)] or (
        result.compiled.output_fields
    )
    print_rows(rows, columns, "results", output)
    if result.truncated:
        stderr.print(f"showing the first {limit} results; more matched (raise --limit)")
