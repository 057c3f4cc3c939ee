"""Windows events through every transport (XML, EVTX, flattened JSON, CSV, Sysmon for Linux) → CIM.

The same events written in each transport must land identically: one mapping, many shapes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import formats as F
from tests.support.ingesting import count, ingest_into, rows
from tunnelhunt.store.duckdb_store import Store

TRANSPORTS = {
    "xml": (F.write_xml, "sysmon.xml"),
    "evtx": (F.write_evtx_file, "Sysmon.evtx"),
    "winjson": (F.write_windows_json, "security.json"),
    "wincsv": (F.write_windows_csv, "events.csv"),
}


@pytest.fixture(params=sorted(TRANSPORTS))
def windows_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Store]:
    writer, name = TRANSPORTS[request.param]
    path = tmp_path / name
    written = writer(path, 6)
    store = Store()
    report = ingest_into(store, path)
    assert report.total("read") == written == report.total("ingested")
    return request.param, store


def test_sysmon_process_create_maps_like_the_sysmon_add_on(windows_store: tuple[str, Store]) -> None:
    fmt, store = windows_store
    (ngrok,) = rows(store, "endpoint_processes", "process_name = 'ngrok.exe' AND vendor_product = 'Microsoft Sysmon'")
    assert ngrok["dest"] == F.host(fmt)
    assert ngrok["process"] == F.NGROK_COMMAND
    assert ngrok["process_path"] == F.NGROK_IMAGE
    assert ngrok["process_exec"] == "ngrok.exe"
    assert ngrok["parent_process_name"] == "cmd.exe"
    assert ngrok["process_id"] == "4242"
    assert ngrok["process_integrity_level"] == "medium"
    assert ngrok["user"] == "LAB\\jdoe"
    assert str(ngrok["_time"]) == "2026-11-18 09:00:10"


def test_security_4688_maps_like_the_windows_add_on(windows_store: tuple[str, Store]) -> None:
    fmt, store = windows_store
    (event,) = rows(store, "endpoint_processes", "vendor_product = 'Microsoft Windows'")
    assert event["process_name"] == "ngrok.exe"
    assert event["process_path"] == F.NGROK_IMAGE
    assert event["process"] == F.NGROK_COMMAND
    assert event["process_id"] == str(0x1D18)  # NewProcessId hex → decimal
    assert event["parent_process_id"] == str(0x11C0)
    assert event["parent_process_name"] == "explorer.exe"
    assert event["user"] == "LAB\\jdoe"  # TargetUserName is '-': the subject is the user
    assert event["user_id"] == "S-1-5-21-1-2-3-1104"
    assert event["process_integrity_level"] == "medium"
    assert event["dest"] == F.host(fmt)


def test_sysmon_network_connection_maps_to_all_traffic(windows_store: tuple[str, Store]) -> None:
    fmt, store = windows_store
    (event,) = rows(store, "network_traffic_all_traffic", "dest = 'connect.ngrok-agent.com'")
    assert event["dest_ip"] == "3.134.73.173"
    assert event["dest_port"] == "443"
    assert event["src"] == F.host(fmt)
    assert event["src_ip"] == "10.0.0.7"
    assert event["transport"] == "tcp"
    assert event["direction"] == "outbound"
    assert event["process_name"] == "ngrok.exe"
    assert event["dvc"] == F.host(fmt)
    assert event["action"] == "allowed"


def test_sysmon_file_create_maps_to_filesystem(windows_store: tuple[str, Store]) -> None:
    _fmt, store = windows_store
    (event,) = rows(store, "endpoint_filesystem")
    assert event["file_name"] == "ngrok.yml"
    assert event["file_path"] == r"C:\Users\jdoe\AppData\Local\ngrok\ngrok.yml"
    assert event["action"] == "created"
    assert event["process_name"] == "ngrok.exe"
    assert event["file_create_time"] == "2026-11-18 09:00:00.000"


def test_sysmon_dns_query_keeps_answers_multivalue(windows_store: tuple[str, Store]) -> None:
    _fmt, store = windows_store
    (event,) = rows(store, "network_resolution_dns", f"query = '{F.NGROK_DOMAIN}'")
    assert event["answer"] == ["::ffff:3.134.73.173"]


def test_sysmon_for_linux_maps_to_the_same_nodes(tmp_path: Path) -> None:
    path = tmp_path / "syslog"
    written = F.write_sysmon_linux(path, 6)
    store = Store()
    report = ingest_into(store, path)
    assert report.files[0].format == "sysmon-linux"
    assert report.total("read") == written
    assert report.total("unmapped") == 1  # the sshd line
    (ngrok,) = rows(store, "endpoint_processes", "process_name = 'ngrok'")
    assert ngrok["process"] == "ngrok tcp 22"
    assert ngrok["vendor_product"] == "Sysmon for Linux"
    assert ngrok["dest"] == "linux-host"
    assert count(store, "endpoint_filesystem", "file_name = 'ngrok.yml'") == 1
    assert count(store, "network_traffic_all_traffic", "dest = 'connect.ngrok-agent.com'") == 1
    times = rows(store, "endpoint_processes", "process_name = 'ngrok'")
    assert str(times[0]["_time"]) == "2026-11-18 09:00:10"  # nine fractional digits parsed


def test_unmodelled_windows_events_are_counted_unmapped(tmp_path: Path) -> None:
    event = F.WinEvent(7, *F.SYSMON, F.stamp(1), "h", {"ImageLoaded": r"C:\x.dll"})
    path = tmp_path / "image_load.xml"
    path.write_text(F.event_xml(event, 1) + "\n")
    report = ingest_into(Store(), path)
    assert (report.total("read"), report.total("unmapped"), report.total("ingested")) == (1, 1, 0)


def test_4688_with_a_target_user_uses_it(tmp_path: Path) -> None:
    event = F.security_4688("h", 1, r"C:\x\ngrok.exe", "ngrok.exe http 80")
    event.data.update({"TargetUserName": "admin", "TargetDomainName": "CORP", "TargetUserSid": "S-1-5-21-9"})
    path = tmp_path / "a.xml"
    path.write_text(F.event_xml(event, 1) + "\n")
    store = Store()
    ingest_into(store, path)
    (row,) = rows(store, "endpoint_processes")
    assert (row["user"], row["user_id"]) == ("CORP\\admin", "S-1-5-21-9")
