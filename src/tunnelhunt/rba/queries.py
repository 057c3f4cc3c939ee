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


def risk_by_object(
    rba: RbaStore, since: datetime | None = None, risk_object: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Risk per entity: total score, events, detections and tactics; most recently active first."""
    where, params = _where(since, risk_object)
    return rba.rows(
        f"""
        SELECT risk_object, risk_object_type, sum(risk_score) AS risk_score, count(*) AS risk_events,
               count(DISTINCT search_name) AS detections,
               list_distinct(flatten(list("annotations.mitre_attack.mitre_tactic"))) AS mitre_tactic,
               min(_time) AS first_seen, max(_time) AS last_seen
        FROM risk_events{where}
        GROUP BY risk_object, risk_object_type
        ORDER BY last_seen DESC, risk_score DESC, risk_object
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
