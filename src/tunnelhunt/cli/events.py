"""`tunnelhunt events --db FILE ID`: the raw events behind a finding, a risk event or a result."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import OutputOption, app, check_output, fail, stderr
from tunnelhunt.cli.rba_render import print_rows
from tunnelhunt.errors import TunnelhuntError


@app.command("events")
def events_command(
    ident: Annotated[str, typer.Argument(metavar="ID", help="A finding, risk event or result id (8+ characters).")],
    db: hunting.DbOption,
    detections: hunting.DetectionsOption = None,
    macros: hunting.MacrosOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many events per result.")] = 100,
    output: OutputOption = "table",
) -> None:
    """Show the events behind a stored finding, risk event or detection result, with file and line."""
    from tunnelhunt.actions.events import events

    check_output(output)
    try:
        found = events(db, ident, detections or [], macros or [], limit)
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    if not found:
        stderr.print("nothing to show: the results behind this id come from behaviour analytics, which have no search")
    for item in found:
        rows = item.events.to_pylist()
        if output == "table":
            stderr.print(f"[bold]{escape(item.detection)}[/bold] result {item.result['result_id'][:12]}: "
                         f"{len(rows)} event(s)")  # fmt: skip
            print_rows(rows, item.shown(), "events", output)
        else:
            print_rows([{"detection": item.detection, "result_id": item.result["result_id"], **r} for r in rows],
                       [], "events", output)  # fmt: skip
