"""Sysmon → CIM: every field the Windows seed groups by, DNS answers as multivalue, time and accounting."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.helpers import dns_event, process_event, sysmon_event
from tunnelhunt.normalize.normalizer import Normalizer
from tunnelhunt.readers.sources import Source
from tunnelhunt.readers.sysmon_xml import SysmonXmlReader

SEED_BY_FIELDS = (
    "action",
    "dest",
    "original_file_name",
    "parent_process",
    "parent_process_exec",
    "parent_process_guid",
    "parent_process_id",
    "parent_process_name",
    "parent_process_path",
    "process",
    "process_exec",
    "process_guid",
    "process_hash",
    "process_id",
    "process_integrity_level",
    "process_name",
    "process_path",
    "user",
    "user_id",
    "vendor_product",
)


def normalize_lines(tmp_path: Path, lines: list[str]):  # type: ignore[no-untyped-def]
    path = tmp_path / "events.log"
    path.write_text("\n".join(lines) + "\n")
    normalizer = Normalizer()
    return [normalizer.normalize(batch) for batch in SysmonXmlReader().read(Source(path))]


def test_process_create_maps_every_seed_field(tmp_path: Path) -> None:
    event = process_event(
        '"C:\\Users\\bob\\ngrok.exe" start --all',
        image="C:\\Users\\bob\\ngrok.exe",
        user_sid="S-1-5-21-9",
        time="2026-11-20T10:15:02.1234567Z",
    )
    [result] = normalize_lines(tmp_path, [event])
    [row] = result.tables["endpoint_processes"].to_pylist()
    assert all(row[f] is not None for f in SEED_BY_FIELDS), [f for f in SEED_BY_FIELDS if row[f] is None]
    assert row["process"] == '"C:\\Users\\bob\\ngrok.exe" start --all'
    assert row["process_name"] == row["process_exec"] == "ngrok.exe"
    assert row["process_path"] == "C:\\Users\\bob\\ngrok.exe"
    assert row["parent_process_name"] == "cmd.exe"
    assert row["parent_process_path"] == "C:\\Windows\\System32\\cmd.exe"
    assert row["parent_process"] == "cmd.exe /c run.bat"
    assert row["dest"] == "host-1.example.test"
    assert row["user"] == "CORP\\alice"
    assert row["user_id"] == "S-1-5-21-9"
    assert row["process_integrity_level"] == "high"
    assert row["vendor_product"] == "Microsoft Sysmon"
    assert row["action"] == "allowed"
    assert row["_time"] == datetime(2026, 11, 20, 10, 15, 2, 123456)
    assert row["_offset"] == 1


def test_dns_query_answers_are_multivalue(tmp_path: Path) -> None:
    lines = [
        dns_event(
            "tunnel.us.ngrok.com", "type:  5 tunnel.us.ngrok.com.herokudns.com;::ffff:3.20.27.198;::ffff:3.1.1.1;"
        ),
        dns_event("wpad", "-"),
        dns_event("empty.example", ""),
    ]
    [result] = normalize_lines(tmp_path, lines)
    rows = result.tables["network_resolution_dns"].to_pylist()
    assert rows[0]["answer"] == ["tunnel.us.ngrok.com.herokudns.com", "::ffff:3.20.27.198", "::ffff:3.1.1.1"]
    assert rows[0]["query"] == "tunnel.us.ngrok.com"
    assert rows[0]["src"] == "host-1.example.test"
    assert rows[0]["reply_code_id"] == "0"
    assert rows[1]["answer"] == [] and rows[2]["answer"] == []


def test_every_record_is_accounted_for(tmp_path: Path) -> None:
    lines = [
        process_event("a"),
        sysmon_event(7, {"ImageLoaded": "C:\\x.dll"}),  # image load: valid, no node models it
        process_event("b", time="not-a-time"),
        sysmon_event(1, {"CommandLine": "c"}, channel="Security").replace(
            "Microsoft-Windows-Sysmon", "Microsoft-Windows-Security-Auditing"
        ),  # EventID 1 of another provider is not a Sysmon process creation
        "garbage line",
    ]
    [result] = normalize_lines(tmp_path, lines)
    assert result.normalized == 1
    assert result.unmapped == 2
    reasons = sorted((q.offset, q.reason) for q in result.quarantined)
    assert reasons == [(3, "missing or invalid event time"), (5, "text outside an <Event> element")]
    assert result.normalized + result.unmapped + len(result.quarantined) == len(lines)
