"""Risk events as Splunk ES writes them to its risk index: one per risk object per finding."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from tunnelhunt.content.models import Detection

_TOKEN = re.compile(r"\$([A-Za-z0-9_.]+)\$")


def render_value(value: Any) -> str:
    """A finding value as Splunk prints it in text: multivalue joined by spaces, missing as empty."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(render_value(v) for v in value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return str(value)


def substitute(message: str, finding: dict[str, Any]) -> str:
    """Replace every `$field$` with the finding's value (empty when the field is absent)."""
    return _TOKEN.sub(lambda m: render_value(finding.get(m.group(1))), message)


def risk_events(
    detection: Detection, findings: Iterable[dict[str, Any]], run_time: datetime | None = None
) -> list[dict[str, Any]]:
    """Build the risk events of a detection's findings (none when it has no risk configuration)."""
    rba = detection.risk
    if rba is None:
        return []
    when = (run_time or datetime.now(UTC)).astimezone(UTC)
    events: list[dict[str, Any]] = []
    for finding in findings:
        threat_values = [(render_value(finding.get(t.field)), t.type) for t in rba.threat_objects]
        threat_values = [(value, kind) for value, kind in threat_values if value]
        message = substitute(rba.message, finding)
        for risk_object in rba.risk_objects:
            value = finding.get(risk_object.field)
            if value in (None, "", "null"):
                continue
            events.append(
                {
                    "_time": when.isoformat(),
                    "search_name": detection.search_name,
                    "risk_object": render_value(value),
                    "risk_object_field": risk_object.field,
                    "risk_object_type": risk_object.type,
                    "risk_score": _score(risk_object.score),
                    "risk_message": message,
                    "threat_object": [v for v, _ in threat_values],
                    "threat_object_type": [k for _, k in threat_values],
                    "annotations": {"mitre_attack": list(detection.tags.mitre_attack_id)},
                    "analyticstories": list(detection.tags.analytic_story),
                    "detection_id": detection.id,
                }
            )
    return events


def _score(score: float) -> int | float:
    return int(score) if float(score).is_integer() else score
