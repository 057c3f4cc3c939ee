"""`report.html`: the report of a hunt as one file, scripts and styles inline, readable offline."""

from __future__ import annotations

from pathlib import Path

from tunnelhunt import __version__
from tunnelhunt.actions.events import READABLE
from tunnelhunt.actions.report import ReportData
from tunnelhunt.report import charts
from tunnelhunt.report.templating import environment


def render_report(data: ReportData) -> str:
    """The whole page as text."""
    return (
        environment()
        .get_template("report.html")
        .render(
            data=data,
            version=__version__,
            plotly_js=charts.plotly_js(),
            timeline=charts.timeline(data.risk_events),
            by_detection=charts.findings_by_detection(data.by_detection),
            readable=READABLE,
        )
    )


def write_report(data: ReportData, path: Path) -> int:
    """Write the page; returns its size in bytes."""
    page = render_report(data).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(page)
    return len(page)
