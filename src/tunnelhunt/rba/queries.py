"""Read-side queries over stored risk events and findings, newest first (for `risk` and `findings`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tunnelhunt.store.rba_store import RbaStore, to_naive_utc


def _where(since: datetime | None, risk_object: str | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if since is not None:
        clauses.append("_time >= ?")
        params.append(to_naive_utc(since))
    if risk_object is not None:
        clauses.append("lower(risk_object) = lower(?)")  # entity names compare case-insensitively, as in Splunk
        params.append(risk_object)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


#: How entities are ranked: most recently active first (`risk`), or most risk first (the report, the web).
_ENTITY_ORDER = {
    "recent": "last_seen DESC, risk_score DESC, risk_object",
    "score": "risk_score DESC, last_seen DESC, risk_object",
}


def risk_by_object(
    rba: RbaStore,
    since: datetime | None = None,
    risk_object: str | None = None,
    limit: int = 100,
    order: str = "recent",
) -> list[dict[str, Any]]:
    """Risk per entity: total score, events, detections and tactics; ranked by `order` (`_ENTITY_ORDER`)."""
    where, params = _where(since, risk_object)
    return rba.rows(
        f"""
        SELECT risk_object, risk_object_type, sum(risk_score) AS risk_score, count(*) AS risk_events,
               count(DISTINCT search_name) AS detections,
               list_distinct(flatten(list("annotations.mitre_attack.mitre_tactic"))) AS mitre_tactic,
               min(_time) AS first_seen, max(_time) AS last_seen
        FROM risk_events{where}
        GROUP BY risk_object, risk_object_type
        ORDER BY {_ENTITY_ORDER[order]}
        LIMIT {int(limit)}
        """,
        params,
    )


def risk_events_newest(
    rba: RbaStore, since: datetime | None = None, risk_object: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    where, params = _where(since, risk_object)
    return rba.rows(
        f"SELECT * EXCLUDE (seq) FROM risk_events{where} ORDER BY _time DESC, seq DESC LIMIT {int(limit)}", params
    )


def findings_newest(
    rba: RbaStore, since: datetime | None = None, risk_object: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    where, params = _where(since, risk_object)
    return rba.rows(
        f"SELECT * EXCLUDE (seq) FROM findings{where} ORDER BY _time DESC, seq DESC LIMIT {int(limit)}", params
    )


class UnknownId(LookupError):
    """No stored finding, risk event or result has an id starting with what was given."""


def results_behind(rba: RbaStore, ident: str) -> list[dict[str, Any]]:
    """The stored detection results behind an id: a result's own, a risk event's, or every result of the
    risk events a finding summed (its object, inside its span). `ident` may be a unique prefix (8+ chars)."""
    prefix = ident.lower() + "%"
    results = rba.rows("SELECT * EXCLUDE (seq) FROM detection_results WHERE result_id LIKE ?", [prefix])
    if not results:
        results = rba.rows(
            "SELECT r.* EXCLUDE (seq) FROM detection_results r JOIN risk_events e USING (result_id) "
            "WHERE e.risk_event_id LIKE ?",
            [prefix],
        )
    if not results:
        results = rba.rows(
            "SELECT DISTINCT r.* EXCLUDE (seq) FROM findings f JOIN risk_events e "
            "ON lower(e.risk_object) = lower(f.risk_object) AND e.risk_object_type = f.risk_object_type "
            "AND e._time > f.earliest AND e._time <= f.latest "
            "JOIN detection_results r USING (result_id) WHERE f.finding_id LIKE ?",
            [prefix],
        )
    if not results:
        raise UnknownId(f"no finding, risk event or result has an id starting with {ident!r}")
    return results
