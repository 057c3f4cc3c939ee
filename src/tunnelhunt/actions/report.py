"""`report` and `hunt --html`: gather what a hunt stored into one typed value for the HTML report.

The report is built from the store (so `report --db FILE` and `hunt --html` show the same things), plus,
for `hunt`, what only the run knows: each input's full account and every detection run, even those with
no result. A database keeps neither, so `report --db` shows the inputs' checkpoints (format, lines read),
the events and quarantined records stored per input, and the detections that stored results.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tunnelhunt.actions.common import kept, load, open_store
from tunnelhunt.actions.events import NotFound, ResultEvents, events_in
from tunnelhunt.actions.results import event_time
from tunnelhunt.content.loader import ContentSet
from tunnelhunt.detect.runner import DetectionRun
from tunnelhunt.ingest.report import IngestReport
from tunnelhunt.rba.queries import risk_by_object
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore


@dataclass
class InputRow:
    """One input: from the run's account (`read` known) or from the database (`read` is None)."""

    source: str
    format: str | None
    read: int | None
    ingested: int | None
    unmapped: int | None
    quarantined: int
    events: int
    error: str | None = None


@dataclass
class DetectionRow:
    name: str
    results: int
    error: str | None = None


@dataclass
class Drilldown:
    """The raw events behind one finding (at most `limit` per result), or why there are none."""

    results: list[ResultEvents] = field(default_factory=list)
    note: str | None = None


@dataclass
class ReportData:
    """Everything the HTML report shows; field values are attacker-controlled text (escape on output)."""

    generated: datetime
    source: str  # what the report is of: the database path, or "hunt (in memory)"
    from_run: bool  # inputs and detections come from the run (True) or from the database (False)
    inputs: list[InputRow]
    detections: list[DetectionRow]
    findings: list[dict[str, Any]]
    by_detection: list[dict[str, Any]]  # search_name, severity, findings
    entities: list[dict[str, Any]]
    risk_events: list[dict[str, Any]]
    drilldowns: dict[str, Drilldown]

    @property
    def totals(self) -> dict[str, int | None]:
        def total(name: str) -> int | None:
            values = [getattr(row, name) for row in self.inputs]
            return None if any(v is None for v in values) else sum(values)

        return {name: total(name) for name in ("read", "ingested", "unmapped", "quarantined", "events")}


def report(db: Path, detections: Sequence[Path] = (), macros: Sequence[Path] = (), events: int = 20) -> ReportData:
    """The report of a kept database (`tunnelhunt report --db FILE`)."""
    kept(db)
    content = load(detections, macros)
    with open_store(db) as store:
        return gather(store, content, str(db), events_per_result=events)


def gather(
    store: Store,
    content: ContentSet,
    source: str,
    ingest: IngestReport | None = None,
    runs: Sequence[DetectionRun] | None = None,
    events_per_result: int = 20,
    results_per_finding: int = 5,
    limit: int = 2000,
) -> ReportData:
    """Read the report's data from an open store; `ingest` and `runs` when a hunt has them."""
    rba = RbaStore(store)
    findings = rba.rows(f"SELECT * EXCLUDE (seq) FROM findings ORDER BY _time DESC, seq DESC LIMIT {int(limit)}")
    return ReportData(
        generated=datetime.now(UTC),
        source=source,
        from_run=ingest is not None,
        inputs=_inputs_of_run(ingest) if ingest is not None else _inputs_stored(rba),
        detections=_detections_of_run(runs) if runs is not None else _detections_stored(rba),
        findings=findings,
        by_detection=rba.rows(
            "SELECT name AS search_name, severity, count(*) AS findings "
            "FROM (SELECT unnest(search_names) AS name, severity FROM findings) GROUP BY ALL ORDER BY name, severity"
        ),
        entities=risk_by_object(rba, limit=limit, order="score"),
        risk_events=risk_events_with_time(rba, limit * 10),
        drilldowns=_drilldowns(store, content, findings, events_per_result, results_per_finding),
    )


def risk_events_with_time(rba: RbaStore, limit: int, risk_object: str | None = None) -> list[dict[str, Any]]:
    """Risk events with `event_time`: when their result happened (a hunt over all time stamps every
    risk event with the hunt's own time, so the timeline places them by their result's first event)."""
    where, params = ("", []) if risk_object is None else (" WHERE lower(e.risk_object) = lower(?)", [risk_object])
    rows = rba.rows(
        "SELECT e._time, e.risk_event_id, e.risk_object, e.risk_object_type, e.search_name, e.risk_score, "
        'e.risk_message, e."annotations.mitre_attack.mitre_tactic" AS mitre_tactic, r.result '
        f"FROM risk_events e LEFT JOIN detection_results r USING (result_id){where} ORDER BY e._time "
        f"LIMIT {int(limit)}",
        params,
    )
    for row in rows:
        result = row.pop("result")
        row["event_time"] = (event_time(json.loads(result)) if result else None) or row["_time"]
    return rows


def _drilldowns(
    store: Store, content: ContentSet, findings: list[dict[str, Any]], per_result: int, per_finding: int
) -> dict[str, Drilldown]:
    out: dict[str, Drilldown] = {}
    cache: dict[str, ResultEvents] = {}
    for finding in findings:
        ident = str(finding["finding_id"])
        try:
            found = events_in(store, content, ident, per_result, per_finding, cache)
        except NotFound as exc:
            out[ident] = Drilldown(note=str(exc))
            continue
        out[ident] = Drilldown(found, None if found else "computed by behaviour analytics: no search to drill into")
    return out


def _inputs_of_run(ingest: IngestReport) -> list[InputRow]:
    return [
        InputRow(f.path, f.format, f.read, f.ingested, f.unmapped, f.quarantined, f.events, f.error or f.skipped)
        for f in ingest.files
    ]


def _inputs_stored(rba: RbaStore) -> list[InputRow]:
    rows = rba.rows(
        """
        WITH ev AS (SELECT _source AS source, count(*) AS events FROM events GROUP BY ALL),
             q AS (SELECT source, count(*) AS quarantined FROM ingest_quarantine GROUP BY ALL),
             c AS (SELECT source, any_value(format) AS format FROM ingest_checkpoints GROUP BY ALL)
        SELECT source, c.format, coalesce(ev.events, 0) AS events, coalesce(q.quarantined, 0) AS quarantined
        FROM c FULL JOIN ev USING (source) FULL JOIN q USING (source) ORDER BY source
        """
    )
    return [InputRow(r["source"], r["format"], None, None, None, r["quarantined"], r["events"]) for r in rows]


def _detections_of_run(runs: Sequence[DetectionRun]) -> list[DetectionRow]:
    return [DetectionRow(run.detection.name, run.findings.num_rows if run.findings is not None else 0, run.error)
            for run in runs]  # fmt: skip


def _detections_stored(rba: RbaStore) -> list[DetectionRow]:
    rows = rba.rows("SELECT search_name, count(*) AS n FROM detection_results GROUP BY ALL ORDER BY n DESC, 1")
    return [DetectionRow(r["search_name"], r["n"]) for r in rows]
