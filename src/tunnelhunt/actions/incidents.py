"""Incident review (`serve`'s pages and API): the findings queue with filters, one finding with its
review state and audit log, an entity's risk, and review changes. Each function takes an open store
(a web request's own cursor) and returns plain data; every value reaches SQL as a parameter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tunnelhunt.actions.common import OptionError
from tunnelhunt.actions.report import risk_events_with_time
from tunnelhunt.rba.queries import risk_by_object
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore, to_naive_utc
from tunnelhunt.store.review_store import FIELDS, STATUSES, ReviewStore


@dataclass
class QueueFilters:
    """What the queue can be narrowed to; None means any."""

    earliest: datetime | None = None
    latest: datetime | None = None
    severity: str | None = None
    detection: str | None = None  # a detection among the finding's search names (substring, any case)
    entity: str | None = None  # the risk object (substring, any case)
    status: str | None = None
    after_seq: int | None = None  # only findings written after this (polling for new ones)
    limit: int = 200


_QUEUE = """
SELECT f.* EXCLUDE (search_names, mitre_tactic_id), f.search_names, coalesce(r.status, 'new') AS status,
       r.owner, r.comment, r.updated, r.updated_by
FROM findings f LEFT JOIN finding_review r USING (finding_id)
"""


def _clauses(filters: QueueFilters) -> tuple[str, list[Any]]:
    """One SQL condition per filter given, its value a parameter."""
    conditions = [
        ("f._time >= ?", to_naive_utc(filters.earliest) if filters.earliest else None),
        ("f._time < ?", to_naive_utc(filters.latest) if filters.latest else None),
        ("f.severity = lower(?)", filters.severity or None),
        ("contains(lower(array_to_string(f.search_names, chr(10))), lower(?))", filters.detection or None),
        ("contains(lower(f.risk_object), lower(?))", filters.entity or None),
        ("coalesce(r.status, 'new') = lower(?)", filters.status or None),
        ("f.seq > ?", filters.after_seq),
    ]
    chosen = [(sql, value) for sql, value in conditions if value is not None]
    where = " AND ".join(sql for sql, _ in chosen)
    return (f" WHERE {where}" if chosen else ""), [value for _, value in chosen]


def _tables(store: Store) -> tuple[RbaStore, ReviewStore]:
    """The risk and review tables (each created when missing): built once per call, not per query."""
    return RbaStore(store), ReviewStore(store)


def queue(store: Store, filters: QueueFilters) -> list[dict[str, Any]]:
    """The findings matching `filters`, newest first, with their review state."""
    rba, _ = _tables(store)
    where, params = _clauses(filters)
    order = "f.seq" if filters.after_seq is not None else "f._time DESC, f.seq DESC"
    return rba.rows(f"{_QUEUE}{where} ORDER BY {order} LIMIT {int(filters.limit)}", params)


def choices(store: Store) -> dict[str, list[str]]:
    """The values the queue's filters offer: severities, detections, statuses."""
    rba = RbaStore(store)
    detections = rba.rows("SELECT DISTINCT unnest(search_names) AS name FROM findings ORDER BY 1")
    return {"severities": ["critical", "high", "medium", "low", "informational"],
            "detections": [r["name"] for r in detections], "statuses": list(STATUSES)}  # fmt: skip


class UnknownFinding(OptionError):
    """No stored finding has this id."""


def finding(store: Store, finding_id: str) -> dict[str, Any]:
    """One finding with its review state and audit log (newest change first)."""
    return _finding(_tables(store)[0], finding_id)


def _finding(rba: RbaStore, finding_id: str) -> dict[str, Any]:
    rows = rba.rows(f"{_QUEUE} WHERE f.finding_id = ?", [finding_id])
    if not rows:
        raise UnknownFinding(f"no finding {finding_id!r}")
    audit = rba.rows(
        "SELECT _time, actor, field, old, new FROM finding_audit WHERE finding_id = ? ORDER BY _time DESC, rowid DESC",
        [finding_id],
    )
    return {**rows[0], "audit": audit}


def review(store: Store, finding_id: str, actor: str, changes: dict[str, str | None]) -> dict[str, Any]:
    """Change a finding's status, owner or comment (as `actor`); returns the finding as it now is."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise OptionError(f"cannot change {', '.join(sorted(unknown))}; fields are {', '.join(FIELDS)}")
    status = changes.get("status")
    if status is not None and status not in STATUSES:
        raise OptionError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    rba, reviews = _tables(store)
    _finding(rba, finding_id)  # exists
    cleaned = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in changes.items()}
    if "status" in cleaned and cleaned["status"] is None:
        cleaned.pop("status")
    reviews.change(finding_id, actor, cleaned)
    return _finding(rba, finding_id)


def entity(store: Store, name: str, limit: int = 500) -> dict[str, Any]:
    """One entity: its risk, its risk events (with their result's time), detections and findings."""
    rba, _ = _tables(store)
    summary = risk_by_object(rba, risk_object=name, limit=10)
    events = risk_events_with_time(rba, limit, name)
    detections: dict[str, dict[str, Any]] = {}
    for event in events:
        item = detections.setdefault(event["search_name"], {"search_name": event["search_name"], "risk_events": 0,
                                                            "risk_score": 0.0})  # fmt: skip
        item["risk_events"] += 1
        item["risk_score"] += float(event["risk_score"] or 0)
    return {
        "name": name,
        "summary": summary,
        "risk_events": events,
        "detections": sorted(detections.values(), key=lambda d: -d["risk_score"]),
        "findings": rba.rows(
            f"{_QUEUE} WHERE lower(f.risk_object) = lower(?) ORDER BY f._time DESC, f.seq DESC", [name]
        ),
    }


def latest_seq(store: Store) -> int:
    """The newest finding's delivery number (0 when none): what a page polls from."""
    row = store.con.execute("SELECT coalesce(max(seq), 0) FROM findings").fetchall()
    return int(row[0][0])
