"""`tunnelhunt findings`: the findings the risk incident rules raised, newest first."""

from __future__ import annotations

from typing import Annotated

import typer

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import OutputOption, app, fail
from tunnelhunt.cli.rba_render import print_rows
from tunnelhunt.errors import TunnelhuntError

#: By importance: a narrow terminal leaves out the last ones (and says which).
_COLUMNS = ["_time", "severity", "risk_score", "risk_object", "rule", "risk_object_type", "detection_count",
            "mitre_tactic"]  # fmt: skip


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
    from tunnelhunt.actions import review

    start = hunting.stored_report_start(db, output, since, tz)
    try:
        rows = review.findings(db, start, risk_object, limit)
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    print_rows(rows, _COLUMNS, "findings", output)
