"""Builders the tests share: Sysmon XML events and a store filled from plain rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

import pyarrow as pa

from tunnelhunt.cim import Node
from tunnelhunt.normalize.normalizer import node_schema
from tunnelhunt.store.duckdb_store import Store

NS = "http://schemas.microsoft.com/win/2004/08/events/event"


def sysmon_event(
    event_id: int,
    data: dict[str, str],
    computer: str = "host-1.example.test",
    time: str = "2026-11-20T10:00:00.1234567Z",
    user_sid: str = "S-1-5-18",
    channel: str = "Microsoft-Windows-Sysmon/Operational",
) -> str:
    """One Sysmon event in Splunk's XmlWinEventLog single-line form."""
    fields = "".join(f"<Data Name='{k}'>{escape(v)}</Data>" for k, v in data.items())
    return (
        f"<Event xmlns='{NS}'><System><Provider Name='Microsoft-Windows-Sysmon' "
        f"Guid='{{5770385f-c22a-43e0-bf4c-06f5698ffbd9}}'/><EventID>{event_id}</EventID><Version>5</Version>"
        f"<TimeCreated SystemTime='{time}'/><EventRecordID>1</EventRecordID><Channel>{channel}</Channel>"
        f"<Computer>{computer}</Computer><Security UserID='{user_sid}'/></System>"
        f"<EventData>{fields}</EventData></Event>"
    )


def process_event(command_line: str, image: str = "C:\\Tools\\ngrok.exe", **overrides: str) -> str:
    data = {
        "RuleName": "-",
        "ProcessGuid": "{1111}",
        "ProcessId": "4242",
        "Image": image,
        "OriginalFileName": image.rsplit("\\", 1)[-1],
        "CommandLine": command_line,
        "CurrentDirectory": "C:\\Tools\\",
        "User": "CORP\\alice",
        "IntegrityLevel": "High",
        "Hashes": "SHA256=ABC",
        "ParentProcessGuid": "{2222}",
        "ParentProcessId": "100",
        "ParentImage": "C:\\Windows\\System32\\cmd.exe",
        "ParentCommandLine": "cmd.exe /c run.bat",
    }
    meta = {k: overrides.pop(k) for k in ("computer", "time", "user_sid") if k in overrides}
    data.update(overrides)
    return sysmon_event(1, data, **meta)


def dns_event(query: str, results: str = "::ffff:1.2.3.4;", **meta: str) -> str:
    data = {"RuleName": "-", "ProcessId": "10", "QueryName": query, "QueryStatus": "0", "QueryResults": results}
    return sysmon_event(22, data, **meta)


def store_with(node: Node, rows: list[dict[str, Any]]) -> Store:
    """An in-memory store whose `node` table holds `rows` (missing columns NULL, _time defaulted)."""
    store = Store()
    schema = node_schema(node)
    full = []
    for index, row in enumerate(rows):
        item: dict[str, Any] = {name: None for name in schema.names}
        when = datetime(2026, 11, 20, 10) + timedelta(seconds=index)
        item.update({"_time": when, "_source": "test", "_offset": index + 1})
        item.update(row)
        full.append(item)
    store.append(node.table, pa.Table.from_pylist(full, schema=schema))
    return store
