"""`tunnelhunt findings`: the findings the risk incident rules raised, newest first."""

from __future__ import annotations

from typing import Annotated

import typer

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import OutputOption, app
from tunnelhunt.cli.rba_render import print_rows
from tunnelhunt.rba.queries import findings_newest
from tunnelhunt.store.rba_store import RbaStore

_COLUMNS = [
    "_time",
    "severity",
    "rule",
    "risk_object",
    "risk_object_type",
    "risk_score",
    "detection_count",
    "mitre_tactic",
]


@app.command()
def findings(
    db: hunting.DbOption,
    since: Annotated[str | None, typer.Option("--since", help="Only findings from this time on.")] = None,
    risk_object: hunting.ObjectOption = None,
    limit: hunting.LimitOption = 100,
    output: OutputOption = "table",
    tz: hunting.TzOption = "UTC",
) -> None:
    """Show the findings raised when risk added up for an entity, newest first."""
    start = hunting.stored_report_start(db, output, since, tz)
    with hunting.open_store(db) as store:
        rows = findings_newest(RbaStore(store), start, risk_object, limit)
    print_rows(rows, _COLUMNS, "findings", output)
