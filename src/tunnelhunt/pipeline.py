"""One detection pass, the same for `hunt` and for a scheduled tick: detections → behaviour analytics →
risk events → incident rules, everything recorded in the store's RBA tables.

Why one module: a hunt and a cron tick differ only in which detections run over which span. What a
result is worth (its stable id, its risk events, the findings the incident rules raise from them) must
not depend on the command that found it, or `hunt --db` then `risk` would show something else than
`run`. Identities make every write idempotent: a result is `sha256(detection id, searched span, row)`,
a risk event `sha256(result id, risk object field, risk object)`, so repeating a pass adds nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tunnelhunt.content.behaviours import BehaviourAnalytic
from tunnelhunt.content.cache import ContentCache
from tunnelhunt.content.loader import ContentSet
from tunnelhunt.detect.behaviour import hunt_behaviours
from tunnelhunt.detect.precompiled import lookups_key
from tunnelhunt.detect.runner import DetectionRun, QueryEngine, run_detections
from tunnelhunt.rba.risk import canonical, risk_events, stable_id
from tunnelhunt.rba.rules import RuleConfig, default_rules, evaluate
from tunnelhunt.sigma import SigmaContent
from tunnelhunt.spl.window import TimeWindow
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore

#: The span key of a search over all time (a hunt): results of two hunts of the same events share ids.
ALL_TIME = ("", "")


@dataclass
class Recorded:
    """What recording one detection run added to the RBA tables."""

    results: int = 0
    risk_events: list[dict[str, Any]] = field(default_factory=list)
    risk_events_added: int = 0


@dataclass
class PassReport:
    """One pass: every run (detections, then behaviour analytics), its risk events, the findings raised."""

    at: datetime
    runs: list[DetectionRun] = field(default_factory=list)
    results_added: int = 0
    risk_events: list[dict[str, Any]] = field(default_factory=list)
    risk_events_added: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)

    def add(self, run: DetectionRun, recorded: Recorded) -> None:
        self.runs.append(run)
        self.results_added += recorded.results
        self.risk_events.extend(recorded.risk_events)
        self.risk_events_added += recorded.risk_events_added


def span_key(window: TimeWindow | None) -> tuple[str, str]:
    if window is None or (window.earliest is None and window.latest is None):
        return ALL_TIME
    return (
        window.earliest.isoformat() if window.earliest else "",
        window.latest.isoformat() if window.latest else "",
    )


def result_ids(detection_id: str, span: tuple[str, str], rows: Sequence[dict[str, Any]]) -> list[str]:
    """One id per row; identical rows (possible without `by`) are told apart by their occurrence."""
    seen: Counter[str] = Counter()
    ids = []
    for row in rows:
        text = canonical(row)
        seen[text] += 1
        ids.append(stable_id(detection_id, span[0], span[1], text, str(seen[text])))
    return ids


def record(rba: RbaStore, run: DetectionRun, window: TimeWindow | None, at: datetime) -> Recorded:
    """Store a run's results and its risk events (nothing for a run that failed)."""
    if run.error:
        return Recorded()
    detection, rows = run.detection, run.rows
    span = span_key(window)
    ids = result_ids(detection.id, span, rows)
    results = rba.add_results(
        [
            {
                "result_id": rid,
                "detection_id": detection.id,
                "search_name": detection.search_name,
                "scheduled_time": at,
                "earliest": window.earliest if window else None,
                "latest": window.latest if window else None,
                "result": canonical(row),
            }
            for rid, row in zip(ids, rows, strict=True)
        ]
    )
    events = risk_events(detection, rows, at, ids)
    return Recorded(results, events, rba.add_risk_events(events))


def behaviours(
    rba: RbaStore,
    state: Store,
    runs: list[DetectionRun],
    window: TimeWindow | None,
    at: datetime,
    analytics: list[BehaviourAnalytic] | None = None,
    cache: ContentCache | None = None,
) -> list[tuple[DetectionRun, Recorded]]:
    """The behaviour analytics (default: the shipped ones, validated once and kept in `cache`) over the
    window, fed the pass's detection runs; each recorded like a detection."""
    found = hunt_behaviours(state, runs, window, analytics, cache)
    return [(run, record(rba, run, window, at)) for run in found]


def raise_findings(rba: RbaStore, at: datetime, rules: RuleConfig) -> list[dict[str, Any]]:
    """The incident rules at `at` over every stored risk event; the new findings are stored."""
    findings = evaluate(rba, at, rules)
    rba.add_findings(findings)
    return findings


def hunt_pass(
    engine: QueryEngine,
    state: Store,
    content: ContentSet,
    at: datetime,
    rules: RuleConfig | None = None,
    window: TimeWindow | None = None,
    sigma: SigmaContent | None = None,
    before_commit: Callable[[PassReport], None] | None = None,
) -> PassReport:
    """Every detection over one window (all time for a hunt), then the analytics, risk and rules.

    `engine` runs the compiled searches (the store itself, DuckDB over a lake, or Spark); `state` is the
    DuckDB store that keeps the analytics' state and the RBA tables. Sigma rules run over the same
    engine and their hits join the same risk events and rules.

    `before_commit` gets the report while the pass's writes are still uncommitted: a caller writes its
    output there, and if that raises, nothing is committed. The analytics' first-seen state and the
    incident rules' throttling remember what a pass saw, so state committed before its output is
    durable would lose that output for good (issue 19, item 9); output first means a crash in between
    gives the output again on the next pass (at least once), never not at all.
    """
    rba = RbaStore(state)
    report = PassReport(at)
    with rba.transaction():
        lookup_key = lookups_key(content.lookups) if content.cache is not None else None
        runs = run_detections(
            engine, content.detections, content.macros, window, content.lookups, content.cache, lookup_key
        )
        if sigma is not None and sigma.runnable():
            from tunnelhunt.collector import no_collection
            from tunnelhunt.sigma import run_sigma  # pySigma only when there are Sigma rules

            with no_collection():  # converted rules build a million sqlglot nodes: see `no_collection`
                runs.extend(run_sigma(engine, sigma.runnable(), window, sigma.compiler()))
        for run in runs:
            report.add(run, record(rba, run, window, at))
        for run, recorded in behaviours(rba, state, runs, window, at, cache=content.cache):
            report.add(run, recorded)
        report.findings = raise_findings(rba, at, rules or default_rules())
        if before_commit is not None:
            before_commit(report)
    return report
