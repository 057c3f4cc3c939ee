"""EVTX files → rows of the raw-event table `events` (docs: raw-events contract), for Sigma tests.

A stand-in for the real raw-event ingest: it reads records with the `evtx` package and keeps the
contract's shape (`_time, host, source, sourcetype, index, _raw, _source, _offset, EventCode, Channel,
fields MAP`), flattening `System` (attributes as `Provider_Name`, `Security_UserID`, ...), and every
`EventData`/`UserData` leaf by name. An empty element (JSON null) is an empty string: the field exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import evtx
import pyarrow as pa

from tunnelhunt.store.events import DEFAULT_COLUMNS, EVENT_COLUMNS, FIELDS_COLUMN, events_schema

#: The columns every event has (Splunk's default fields, provenance and the map), as `store/events.py` lays them.
DEFAULT_NAMES = frozenset(name for name, _ in DEFAULT_COLUMNS) | {FIELDS_COLUMN}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return _text(value.get("#text"))
    if isinstance(value, list):
        return "\n".join(_text(v) for v in value)
    return str(value)


def _leaves(node: Any, name: str, out: dict[str, str]) -> None:
    """Every leaf of an EventData/UserData subtree by its own name (attributes as `<name>_<attr>`)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "#attributes":
                for attr, attr_value in value.items():
                    out.setdefault(f"{name}_{attr}" if name else attr, _text(attr_value))
            elif key == "#text":
                out[name] = _text(value)
            else:
                _leaves(value, key, out)
    elif isinstance(node, list) and name != "Data":
        out[name] = "\n".join(_text(v) for v in node)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out[f"Data{index}"] = _text(value)
    else:
        out[name] = _text(node)


def event_fields(event: dict[str, Any]) -> dict[str, str]:
    """The `fields` map of one EVTX record (the JSON the `evtx` parser renders)."""
    body = event.get("Event", {})
    fields: dict[str, str] = {}
    for key, value in (body.get("System") or {}).items():
        if isinstance(value, dict) and "#attributes" in value and "#text" not in value:
            for attr, attr_value in value["#attributes"].items():
                fields[f"{key}_{attr}"] = _text(attr_value)
        else:
            fields[key] = _text(value)
    if "Security_UserID" in fields:
        fields["UserID"] = fields["Security_UserID"]
    for section in ("EventData", "UserData"):
        data = body.get(section)
        if isinstance(data, dict):
            _leaves(data, "", fields)
        elif data is not None:
            fields[section] = _text(data)
    fields.pop("", None)
    fields["EventCode"] = fields.get("EventID", "")
    return fields


def _time(record: dict[str, Any], fields: dict[str, str]) -> datetime:
    text = fields.get("TimeCreated_SystemTime") or record["timestamp"].replace(" UTC", "")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(tzinfo=None)


def evtx_rows(path: Path) -> Iterator[dict[str, Any]]:
    """One `events` row per record of an EVTX file."""
    for record in evtx.PyEvtxParser(str(path)).records_json():
        event = json.loads(record["data"])
        fields = event_fields(event)
        channel = fields.get("Channel") or None
        yield {
            "_time": _time(record, fields),
            "host": fields.get("Computer") or None,
            "source": f"XmlWinEventLog:{channel}" if channel else None,
            "sourcetype": "XmlWinEventLog",
            "index": "main",
            "_raw": record["data"],
            "_source": str(path),
            "_offset": int(record["event_record_id"]),
            "EventCode": fields.get("EventID") or None,
            "Channel": channel,
            "fields": list(fields.items()),
        }


def _store_layout(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows in the store's layout: its hot fields move from the map to their columns."""
    hot = [name for name in EVENT_COLUMNS if name not in DEFAULT_NAMES]
    for row in rows:
        fields = dict(row["fields"])
        row.update({name: fields.pop(name, None) for name in hot})
        row["fields"] = list(fields.items())
    return pa.Table.from_pylist(rows, schema=events_schema())


def events_table(paths: Iterable[Path]) -> pa.Table:
    return _store_layout([row for path in paths for row in evtx_rows(path)])


def load_events(con: duckdb.DuckDBPyConnection, paths: Iterable[Path]) -> pa.Table:
    """Create (or replace) `events` in a DuckDB connection from EVTX files; returns the rows."""
    table = events_table(paths)
    create_events(con, table)
    return table


def field_rows(events: Iterable[dict[str, str]], start: datetime | None = None) -> pa.Table:
    """`events` rows from plain field dicts (a Windows event each: `Channel` and `EventID` among its fields).

    Event n gets `_offset` n and `_time` start + n seconds, unless it has a `_time` of its own (ISO text).
    """
    first = start or datetime(2026, 1, 1)
    rows = []
    for number, given in enumerate(events):
        fields = {k: v for k, v in given.items() if not k.startswith("_")}
        channel = fields.get("Channel")
        moment = datetime.fromisoformat(given["_time"]) if "_time" in given else first + timedelta(seconds=number)
        rows.append(
            {
                "_time": moment,
                "host": fields.get("Computer"),
                "source": f"XmlWinEventLog:{channel}" if channel else None,
                "sourcetype": "XmlWinEventLog",
                "index": "main",
                "_raw": given.get("_raw", json.dumps(fields)),
                "_source": "test.evtx",
                "_offset": number,
                "EventCode": fields.get("EventID"),
                "Channel": channel,
                "fields": list(fields.items()),
            }
        )
    return _store_layout(rows)


def create_events(con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
    """Create (or replace) `events` in a DuckDB connection from an `events` Arrow table."""
    con.register("_new_events", table)
    con.execute("CREATE OR REPLACE TABLE events AS SELECT * FROM _new_events")
    con.unregister("_new_events")


def event_fields_of(row: dict[str, Any]) -> dict[str, str]:
    """Every extracted field of an `events` row (or finding), wherever the layout keeps it."""
    fields = {k: v for k, v in row.items() if k not in DEFAULT_NAMES and v is not None and isinstance(v, str)}
    fields.update(dict(row["fields"]))
    return fields
