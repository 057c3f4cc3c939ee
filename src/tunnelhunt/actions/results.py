"""A hunt's results as a person reads them: each result with its time, host, risk and severity; per
detection, how many results on how many hosts; the entities with the most risk.

The CLI renders these (summary, `--timeline`, `--min-score`); a web page would show the same.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tunnelhunt import pipeline
from tunnelhunt.detect.runner import DetectionRun
from tunnelhunt.spl.window import TimeWindow

#: The fields that name the host a result is about, most specific first (CIM `dest`/`src`, raw `host`).
HOST_FIELDS = ("dest", "src", "host", "dvc", "dest_host", "src_host", "Computer", "hostname")
#: The fields that give a result's time: tstats' `firstTime`, then a raw event's `_time`.
TIME_FIELDS = ("firstTime", "_time", "lastTime")
#: A result's severity from the highest risk score of its risk events, on ESCU's impact × confidence
#: / 100 scale (scores of 0-100): the bands ES uses to rank risk (informational below 20).
SEVERITY_BANDS = ((80, "critical"), (60, "high"), (40, "medium"), (20, "low"))
SEVERITIES = ("informational", "low", "medium", "high", "critical")


def severity(score: float) -> str:
    return next((name for floor, name in SEVERITY_BANDS if score >= floor), "informational")


@dataclass(frozen=True)
class Entry:
    """One result of one detection, with what makes it readable in a line."""

    detection: str
    row: dict[str, Any]
    time: datetime | None
    host: str | None
    score: float
    severity: str
    message: str


@dataclass
class DetectionSummary:
    name: str
    results: int = 0
    hosts: set[str] = field(default_factory=set)
    score: float = 0.0


@dataclass(frozen=True)
class Entity:
    """An entity's risk in this hunt (ES 8: the risk object)."""

    name: str
    kind: str
    score: float
    risk_events: int
    detections: int


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def event_time(row: dict[str, Any]) -> datetime | None:
    """When a result happened: its first event's time (tstats' `firstTime`, a raw event's `_time`)."""
    return _time(_first(row, TIME_FIELDS))


def _first(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = row.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value not in (None, ""):
            return value
    return None


def entries(runs: list[DetectionRun], risk_events: list[dict[str, Any]], window: TimeWindow | None) -> list[Entry]:
    """Every result of every run that ran, in run order, scored by its own risk events."""
    by_result: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in risk_events:
        by_result[str(event.get("result_id"))].append(event)
    span = pipeline.span_key(window)
    out = []
    for run in runs:
        if run.error:
            continue
        rows = run.rows
        for rid, row in zip(pipeline.result_ids(run.detection.id, span, rows), rows, strict=True):
            events = by_result.get(rid, [])
            top = max(events, key=lambda e: float(e.get("risk_score") or 0), default=None)
            score = float(top.get("risk_score") or 0) if top else 0.0
            host = _first(row, HOST_FIELDS)
            message = str(top["risk_message"]) if top and top.get("risk_message") else _describe(row)
            when = event_time(row)
            out.append(Entry(run.detection.name, row, when, None if host is None else str(host), score,
                             severity(score), message))  # fmt: skip
    return out


def _describe(row: dict[str, Any]) -> str:
    """A result without a risk message: its fields other than time and count, `name=value`."""
    skip = {*TIME_FIELDS, "count"}
    return " ".join(f"{k}={v}" for k, v in row.items() if k not in skip and v not in (None, "", []))


def timeline(items: list[Entry]) -> list[Entry]:
    """Results by time (those without one last), then by detection."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(items, key=lambda e: (e.time or far, e.detection))


def by_detection(items: list[Entry]) -> list[DetectionSummary]:
    """Per detection with results: how many, on how many hosts, its highest score; most results first."""
    summaries: dict[str, DetectionSummary] = {}
    for item in items:
        summary = summaries.setdefault(item.detection, DetectionSummary(item.detection))
        summary.results += 1
        summary.score = max(summary.score, item.score)
        if item.host:
            summary.hosts.add(item.host.lower())
    return sorted(summaries.values(), key=lambda s: (-s.score, -s.results, s.name))


def top_entities(risk_events: list[dict[str, Any]], limit: int = 10) -> list[Entity]:
    """The entities with the most risk in this hunt (summed score), highest first."""
    score: defaultdict[tuple[str, str], float] = defaultdict(float)
    count: Counter[tuple[str, str]] = Counter()
    searches: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in risk_events:
        key = (str(event.get("risk_object")), str(event.get("risk_object_type")))
        score[key] += float(event.get("risk_score") or 0)
        count[key] += 1
        searches[key].add(str(event.get("search_name")))
    ranked = sorted(score, key=lambda k: (-score[k], k))[:limit]
    return [Entity(k[0], k[1], score[k], count[k], len(searches[k])) for k in ranked]
