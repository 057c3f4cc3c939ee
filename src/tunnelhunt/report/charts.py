"""Charts as plotly figure specs (JSON-ready dicts) that the page draws with plotly.js.

Figures are plain data: a template embeds them with Jinja's `tojson` (which escapes `<`, `>`, `&` and
quotes, so an entity named `</script>` stays text) and calls `Plotly.newPlot` on them. plotly.js reads a
few tags in labels (`<b>`, `<br>`, `<a href>`), so every label from the data is HTML-escaped first: it
shows the entities' own text, as plotly turns `&lt;` back into `<` on screen.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

#: One colour per severity, worst first (the incident rules' names).
SEVERITY_COLOURS = {
    "critical": "#b91c1c",
    "high": "#ea580c",
    "medium": "#ca8a04",
    "low": "#2563eb",
    "informational": "#6b7280",
}


def _spec(figure: Any) -> dict[str, Any]:
    """plotly's own JSON encoding (dates, numpy) read back as plain data for `tojson`."""
    spec: dict[str, Any] = json.loads(figure.to_json())
    return spec


def timeline(risk_events: Iterable[dict[str, Any]], time_key: str = "event_time") -> dict[str, Any]:
    """Risk events over time: one row per entity, one colour per detection, marker size by score."""
    import plotly.graph_objects as go

    by_detection: dict[str, list[dict[str, Any]]] = {}
    for event in risk_events:
        by_detection.setdefault(str(event["search_name"]), []).append(event)
    figure = go.Figure()
    for name, events in sorted(by_detection.items()):
        figure.add_trace(
            go.Scatter(
                x=[_iso(e[time_key]) for e in events],
                y=[_label(e["risk_object"]) for e in events],
                mode="markers",
                name=_label(name),
                marker={"size": [6 + min(float(e["risk_score"] or 0), 100) / 8 for e in events], "opacity": 0.8},
                text=[_label(e.get("risk_message") or "") for e in events],
                hovertemplate="%{y}<br>%{x}<br>%{text}<extra>%{fullData.name}</extra>",
            )
        )
    entities = len({str(e["risk_object"]) for es in by_detection.values() for e in es})
    figure.update_layout(
        height=max(300, 60 + 22 * entities),
        margin={"l": 10, "r": 10, "t": 30, "b": 30},
        legend={"orientation": "h", "y": -0.2, "font": {"size": 10}},
        yaxis={"automargin": True},
        title={"text": "Risk events over time (by entity and detection)", "font": {"size": 14}},
    )
    return _spec(figure)


def risk_over_time(risk_events: Iterable[dict[str, Any]], time_key: str = "event_time") -> dict[str, Any]:
    """One entity's cumulative risk score over time, with each risk event as a point."""
    import plotly.graph_objects as go

    events = sorted(risk_events, key=lambda e: e[time_key])
    total, xs, ys, texts = 0.0, [], [], []
    for event in events:
        total += float(event["risk_score"] or 0)
        xs.append(_iso(event[time_key]))
        ys.append(total)
        texts.append(_label(event["search_name"]))
    figure = go.Figure(go.Scatter(x=xs, y=ys, mode="lines+markers", line={"shape": "hv"}, text=texts,
                                  hovertemplate="%{x}<br>risk %{y}<br>%{text}<extra></extra>"))  # fmt: skip
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 30},
                         title={"text": "Cumulative risk over time", "font": {"size": 14}})  # fmt: skip
    return _spec(figure)


def findings_by_detection(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Stacked bars: findings per detection, split by severity."""
    import plotly.graph_objects as go

    rows = list(rows)
    names = sorted({str(r["search_name"]) for r in rows})
    figure = go.Figure()
    for severity, colour in SEVERITY_COLOURS.items():
        counts = {str(r["search_name"]): int(r["findings"]) for r in rows if r["severity"] == severity}
        if counts:
            figure.add_trace(go.Bar(y=[_label(n) for n in names], x=[counts.get(n, 0) for n in names], name=severity,
                                    orientation="h", marker_color=colour))  # fmt: skip
    figure.update_layout(barmode="stack", height=max(250, 60 + 24 * len(names)),
                         margin={"l": 10, "r": 10, "t": 30, "b": 30}, yaxis={"automargin": True},
                         title={"text": "Findings by detection and severity", "font": {"size": 14}})  # fmt: skip
    return _spec(figure)


@cache
def plotly_js() -> str:
    """plotly.js as the plotly package ships it, to inline once (the page needs no network)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def _label(value: Any) -> str:
    return html.escape(str(value))


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
