"""`tunnelhunt risk`: risk per entity from a database, most recently active first."""

from __future__ import annotations

from typing import Annotated

import typer

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import OutputOption, app
from tunnelhunt.cli.rba_render import print_rows
from tunnelhunt.rba.queries import risk_by_object, risk_events_newest
from tunnelhunt.store.rba_store import RbaStore

_SUMMARY = ["risk_object", "risk_object_type", "risk_score", "risk_events", "detections", "mitre_tactic", "last_seen"]
_EVENTS = ["_time", "risk_object", "risk_object_type", "risk_score", "search_name", "risk_message"]


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
    start = hunting.stored_report_start(db, output, since, tz)
    with hunting.open_store(db) as store:
        rba = RbaStore(store)
        if events:
            rows = risk_events_newest(rba, start, risk_object, limit)
            print_rows(rows, _EVENTS, "risk events", output)
        else:
            rows = risk_by_object(rba, start, risk_object, limit)
            print_rows(rows, _SUMMARY, "risk by entity", output)
