"""Store tables for scheduled hunting: detection results, risk events, findings, and their bookkeeping.

These tables are the engine's own output, not data models, so they live here and not in the CIM registry.

- `detection_results`, `risk_events`, `findings`: keyed by stable ids; `INSERT OR IGNORE` makes a repeated
  write a no-op. Each row gets a `seq` from one sequence, the order sinks deliver in.
- `searched_windows`: the `[earliest, latest)` spans each detection has already searched. A scheduled run
  only searches the parts of its window not in here, so overlapping windows never see an event twice.
- `schedule_state`: the last cron tick each detection ran for, so a restarted `watch` catches up.
- `sink_cursors`: how far each sink has delivered (last `seq`, and for files the bytes written).
Everything a run writes goes in one transaction (`transaction()`), so `kill -9` leaves all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from tunnelhunt.store.duckdb_store import Store

_LIST = "VARCHAR[]"

RISK_EVENT_COLUMNS: dict[str, str] = {
    "risk_event_id": "VARCHAR PRIMARY KEY",
    "seq": "BIGINT DEFAULT nextval('rba_seq')",
    "_time": "TIMESTAMP",
    "search_name": "VARCHAR",
    "risk_object": "VARCHAR",
    "risk_object_type": "VARCHAR",
    "risk_object_field": "VARCHAR",
    "risk_score": "DOUBLE",
    "risk_message": "VARCHAR",
    "threat_object": _LIST,
    "threat_object_type": _LIST,
    "annotations.mitre_attack": _LIST,
    "annotations.mitre_attack.mitre_technique": _LIST,
    "annotations.mitre_attack.mitre_tactic_id": _LIST,
    "annotations.mitre_attack.mitre_tactic": _LIST,
    "analyticstories": _LIST,
    "detection_id": "VARCHAR",
    "result_id": "VARCHAR",
}

FINDING_COLUMNS: dict[str, str] = {
    "finding_id": "VARCHAR PRIMARY KEY",
    "seq": "BIGINT DEFAULT nextval('rba_seq')",
    "_time": "TIMESTAMP",
    "rule": "VARCHAR",
    "risk_object": "VARCHAR",
    "risk_object_type": "VARCHAR",
    "severity": "VARCHAR",
    "risk_score": "DOUBLE",
    "risk_event_count": "BIGINT",
    "detection_count": "BIGINT",
    "tactic_count": "BIGINT",
    "search_names": _LIST,
    "mitre_tactic_id": _LIST,
    "mitre_tactic": _LIST,
    "earliest": "TIMESTAMP",
    "latest": "TIMESTAMP",
    "description": "VARCHAR",
}

RESULT_COLUMNS: dict[str, str] = {
    "result_id": "VARCHAR PRIMARY KEY",
    "seq": "BIGINT DEFAULT nextval('rba_seq')",
    "detection_id": "VARCHAR",
    "search_name": "VARCHAR",
    "scheduled_time": "TIMESTAMP",
    "earliest": "TIMESTAMP",
    "latest": "TIMESTAMP",
    "result": "VARCHAR",
}

#: Which table each kind of delivered item lives in, and its id column.
KINDS = {"risk_event": ("risk_events", "risk_event_id"), "finding": ("findings", "finding_id")}

_TIME_COLUMNS = {"_time", "earliest", "latest", "scheduled_time"}


def _ddl(table: str, columns: dict[str, str]) -> str:
    body = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
    return f"CREATE TABLE IF NOT EXISTS {table} ({body})"


def to_naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def to_aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _arrow_type(sql: str) -> pa.DataType:
    if sql.startswith("VARCHAR[]"):
        return pa.list_(pa.string())
    if sql.startswith("VARCHAR"):
        return pa.string()
    if sql.startswith("TIMESTAMP"):
        return pa.timestamp("us")
    if sql.startswith("DOUBLE"):
        return pa.float64()
    return pa.int64()


def _schema(columns: dict[str, str]) -> pa.Schema:
    return pa.schema([(name, _arrow_type(kind)) for name, kind in columns.items() if name != "seq"])


class RbaStore:
    """The scheduled-hunting tables on a `Store`'s connection (created when missing)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.con = store.con
        self.con.execute("CREATE SEQUENCE IF NOT EXISTS rba_seq")
        self.con.execute(_ddl("detection_results", RESULT_COLUMNS))
        self.con.execute(_ddl("risk_events", RISK_EVENT_COLUMNS))
        self.con.execute(_ddl("findings", FINDING_COLUMNS))
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS searched_windows (detection_id VARCHAR, earliest TIMESTAMP, latest TIMESTAMP)"
        )
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schedule_state (detection_id VARCHAR PRIMARY KEY, last_tick TIMESTAMP)"
        )
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS sink_cursors "
            "(sink VARCHAR, kind VARCHAR, seq BIGINT, bytes BIGINT, PRIMARY KEY (sink, kind))"
        )

    # --- transactions ------------------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all: the store's own transaction."""
        return self.store.transaction()

    # --- inserts -----------------------------------------------------------------------------------
    def _insert(self, table: str, columns: dict[str, str], rows: Sequence[dict[str, Any]]) -> int:
        if not rows:
            return 0
        schema = _schema(columns)
        prepared = []
        for row in rows:
            item = {name: row.get(name) for name in schema.names}
            for name in _TIME_COLUMNS & set(item):
                value = item[name]
                if isinstance(value, str):
                    value = datetime.fromisoformat(value)
                item[name] = to_naive_utc(value) if isinstance(value, datetime) else value
            prepared.append(item)
        numbers = sorted(
            r[0] for r in self.con.execute(f"SELECT nextval('rba_seq') FROM range({len(prepared)})").fetchall()
        )
        for item, number in zip(prepared, numbers, strict=True):
            item["seq"] = number  # in row order: sinks deliver in the order rows were written
        schema = schema.append(pa.field("seq", pa.int64()))
        # read by DuckDB's replacement scan, as `Store.append` reads a batch; the INSERT's count is of the
        # rows it added (a row already there is ignored), not two counts of the table around it
        _rba_incoming = pa.Table.from_pylist(prepared, schema=schema)  # noqa: F841
        added = self.con.execute(f"INSERT OR IGNORE INTO {table} BY NAME SELECT * FROM _rba_incoming").fetchone()
        return int(added[0]) if added else 0

    def add_results(self, rows: Sequence[dict[str, Any]]) -> int:
        return self._insert("detection_results", RESULT_COLUMNS, rows)

    def add_risk_events(self, rows: Sequence[dict[str, Any]]) -> int:
        return self._insert("risk_events", RISK_EVENT_COLUMNS, rows)

    def add_findings(self, rows: Sequence[dict[str, Any]]) -> int:
        return self._insert("findings", FINDING_COLUMNS, rows)

    # --- searched windows --------------------------------------------------------------------------
    def unsearched(self, detection_id: str, earliest: datetime, latest: datetime) -> list[tuple[datetime, datetime]]:
        """The parts of `[earliest, latest)` this detection has not searched yet (UTC, aware)."""
        start, end = to_naive_utc(earliest), to_naive_utc(latest)
        covered = self.con.execute(
            "SELECT earliest, latest FROM searched_windows WHERE detection_id = ? AND latest > ? AND earliest < ? "
            "ORDER BY earliest",
            [detection_id, start, end],
        ).fetchall()
        gaps: list[tuple[datetime, datetime]] = []
        cursor = start
        for lo, hi in covered:
            if lo > cursor:
                gaps.append((cursor, min(lo, end)))
            cursor = max(cursor, hi)
            if cursor >= end:
                break
        if cursor < end:
            gaps.append((cursor, end))
        return [(to_aware(a), to_aware(b)) for a, b in gaps if a < b]

    def mark_searched(self, detection_id: str, earliest: datetime, latest: datetime) -> None:
        self.con.execute(
            "INSERT INTO searched_windows VALUES (?, ?, ?)",
            [detection_id, to_naive_utc(earliest), to_naive_utc(latest)],
        )

    # --- schedule state ----------------------------------------------------------------------------
    def last_tick(self, detection_id: str) -> datetime | None:
        row = self.con.execute("SELECT last_tick FROM schedule_state WHERE detection_id = ?", [detection_id]).fetchall()
        return to_aware(row[0][0]) if row and row[0][0] is not None else None

    def set_last_tick(self, detection_id: str, tick: datetime) -> None:
        self.con.execute(
            "INSERT INTO schedule_state VALUES (?, ?) ON CONFLICT (detection_id) "
            "DO UPDATE SET last_tick = greatest(schedule_state.last_tick, excluded.last_tick)",
            [detection_id, to_naive_utc(tick)],
        )

    # --- reads -------------------------------------------------------------------------------------
    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Query rows as dicts, timestamps as aware UTC datetimes."""
        cursor = self.con.execute(sql, list(params))
        names = [d[0] for d in cursor.description or []]
        out = []
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            for key, value in row.items():
                if isinstance(value, datetime):
                    row[key] = to_aware(value)
            out.append(row)
        return out

    def items_after(self, kind: str, seq: int, limit: int = 1000) -> list[dict[str, Any]]:
        """Risk events or findings written after `seq`, oldest first, as sinks receive them."""
        table, _ = KINDS[kind]
        return self.rows(f"SELECT * FROM {table} WHERE seq > ? ORDER BY seq LIMIT {int(limit)}", [seq])

    # --- sink cursors ------------------------------------------------------------------------------
    def cursor(self, sink: str, kind: str) -> tuple[int, int]:
        row = self.con.execute(
            "SELECT seq, bytes FROM sink_cursors WHERE sink = ? AND kind = ?", [sink, kind]
        ).fetchall()
        return (int(row[0][0]), int(row[0][1] or 0)) if row else (0, 0)

    def set_cursor(self, sink: str, kind: str, seq: int, size: int = 0) -> None:
        self.con.execute(
            "INSERT INTO sink_cursors VALUES (?, ?, ?, ?) ON CONFLICT (sink, kind) "
            "DO UPDATE SET seq = excluded.seq, bytes = excluded.bytes",
            [sink, kind, seq, size],
        )
