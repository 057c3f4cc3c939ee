"""`tunnelhunt risk`: risk per entity from a database, most recently active first."""

from __future__ import annotations

from typing import Annotated

import typer

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import OutputOption, app, fail
from tunnelhunt.cli.rba_render import print_rows
from tunnelhunt.errors import TunnelhuntError

#: By importance: a narrow terminal leaves out the last ones (and says which).
_SUMMARY = ["risk_object", "risk_score", "risk_object_type", "risk_events", "detections", "mitre_tactic", "last_seen"]
_EVENTS = ["_time", "risk_score", "risk_object", "search_name", "risk_message", "risk_object_type"]


@app.command()
def risk(
    db: hunting.DbOption,
    since: Annotated[str | None, typer.Option("--since", help="Only risk from this time on (e.g. -24h).")] = None,
    risk_object: hunting.ObjectOption = None,
    events: Annotated[bool, typer.Option("--events", help="List risk events instead of totals.")] = False,
    limit: hunting.LimitOption = 100,
    output: OutputOption = "table",
    tz: hunting.TzOption = "UTC",
) -> None:
    """Show accumulated risk per entity (or the risk events themselves), newest first."""
    from tunnelhunt.actions import review

    start = hunting.stored_report_start(db, output, since, tz)
    try:
        rows = review.risk(db, start, risk_object, events, limit)
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    if events:
        print_rows(rows, _EVENTS, "risk events", output)
    else:
        print_rows(rows, _SUMMARY, "risk by entity", output)
