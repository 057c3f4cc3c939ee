"""Risk events as Splunk ES writes them to its risk index: one per risk object per finding.

Field names are the risk index's own (`risk_object`, `risk_score`, `annotations.mitre_attack.mitre_tactic`,
…), flat, so JSON lines, CSV, HEC and the store all carry the same keys. Every risk event has a stable
`risk_event_id` derived from the finding it came from, which is what makes re-runs idempotent.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from tunnelhunt.content.models import Detection, RiskObject
from tunnelhunt.rba.attack import attack_table

_TOKEN = re.compile(r"\$([A-Za-z0-9_.]+)\$")

#: The risk event fields, in the order they are written (CSV columns, store columns).
RISK_EVENT_FIELDS = (
    "risk_event_id",
    "_time",
    "search_name",
    "risk_object",
    "risk_object_type",
    "risk_object_field",
    "risk_score",
    "risk_message",
    "threat_object",
    "threat_object_type",
    "annotations.mitre_attack",
    "annotations.mitre_attack.mitre_technique",
    "annotations.mitre_attack.mitre_tactic_id",
    "annotations.mitre_attack.mitre_tactic",
    "analyticstories",
    "detection_id",
    "result_id",
)


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


def stable_id(*parts: str) -> str:
    """A short, stable identity from its parts (sha256, 32 hex digits)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8"))
    return digest.hexdigest()[:32]


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def canonical(row: dict[str, Any]) -> str:
    """A finding as canonical JSON (sorted keys): the same row always gives the same text."""
    return json.dumps(row, sort_keys=True, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def risk_score(detection: Detection, risk_object: RiskObject) -> int | float:
    """impact × confidence / 100 where the content gives both, else the risk object's own score."""
    tags = detection.tags
    score = risk_object.score
    if tags.impact is not None and tags.confidence is not None:
        score = tags.impact * tags.confidence / 100
    return int(score) if float(score).is_integer() else score


def risk_events(
    detection: Detection,
    findings: Iterable[dict[str, Any]],
    run_time: datetime | None = None,
    result_ids: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The risk events of a detection's findings (none when it has no risk configuration).

    `result_ids` name each finding (the scheduler's identity, which includes its search window); without
    them a finding is named by its detection, content and the run time.
    """
    rba = detection.risk
    if rba is None:
        return []
    when = (run_time or datetime.now(UTC)).astimezone(UTC)
    annotation = attack_table().annotate(detection.tags.mitre_attack_id)
    events: list[dict[str, Any]] = []
    for index, finding in enumerate(findings):
        result_id = (
            result_ids[index]
            if result_ids is not None
            else stable_id(detection.id, when.isoformat(), canonical(finding))
        )
        threat_values = [(render_value(finding.get(t.field)), t.type) for t in rba.threat_objects]
        threat_values = [(value, kind) for value, kind in threat_values if value]
        message = substitute(rba.message, finding)
        for risk_object in rba.risk_objects:
            value = finding.get(risk_object.field)
            if value in (None, "", "null"):
                continue
            rendered = render_value(value)
            events.append(
                {
                    "risk_event_id": stable_id(result_id, risk_object.field, rendered),
                    "_time": when.isoformat(),
                    "search_name": detection.search_name,
                    "risk_object": rendered,
                    "risk_object_type": risk_object.type,
                    "risk_object_field": risk_object.field,
                    "risk_score": risk_score(detection, risk_object),
                    "risk_message": message,
                    "threat_object": [v for v, _ in threat_values],
                    "threat_object_type": [k for _, k in threat_values],
                    "annotations.mitre_attack": list(annotation.technique_ids),
                    "annotations.mitre_attack.mitre_technique": list(annotation.technique_names),
                    "annotations.mitre_attack.mitre_tactic_id": list(annotation.tactic_ids),
                    "annotations.mitre_attack.mitre_tactic": list(annotation.tactic_names),
                    "analyticstories": list(detection.tags.analytic_story),
                    "detection_id": detection.id,
                    "result_id": result_id,
                }
            )
    return events
