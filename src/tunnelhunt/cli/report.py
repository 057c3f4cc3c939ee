"""`tunnelhunt report --db FILE --html FILE`: the HTML report of what a database holds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import app, fail, safe_markup, stderr
from tunnelhunt.errors import TunnelhuntError

if TYPE_CHECKING:
    from tunnelhunt.actions.report import ReportData


def write_html(data: ReportData, path: Path) -> None:
    """Render and write the page (jinja2 and plotly are imported only here), and say where it is."""
    from tunnelhunt.report.html import write_report

    try:
        size = write_report(data, path)
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}") from None
    stderr.print(f"HTML report: {safe_markup(path)} ({size / 1e6:.1f} MB, {len(data.findings)} finding(s))")


@app.command("report")
def report_command(
    db: hunting.DbOption,
    html: Annotated[Path, typer.Option("--html", help="The HTML file to write (self-contained, works offline).")],
    detections: hunting.DetectionsOption = None,
    macros: hunting.MacrosOption = None,
    events: Annotated[int, typer.Option("--events", min=1, help="Raw events shown per result of a finding.")] = 20,
) -> None:
    """Write one self-contained HTML page: inputs, findings, entities by risk, a timeline, raw events."""
    from tunnelhunt.actions.report import report

    try:
        data = report(db, detections or [], macros or [], events)
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    write_html(data, html)
