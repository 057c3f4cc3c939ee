"""Zeek, Suricata, ECS, OCSF and user mappings → CIM, field by field, with near misses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.support import formats as F
from tests.support.ingesting import count, ingest_into, rows
from tunnelhunt.normalize.custom import MappingError, compile_mapping
from tunnelhunt.store.duckdb_store import Store


@pytest.mark.parametrize(
    ("writer", "name", "fmt"), [(F.write_zeek_tsv, "dns.log", "zeek"), (F.write_zeek_json, "dns.json", "zeek-json")]
)
def test_zeek_dns_in_tsv_and_json_map_alike(tmp_path: Path, writer: F.Writer, name: str, fmt: str) -> None:
    path = tmp_path / name
    written = writer(path, 5)
    store = Store()
    report = ingest_into(store, path)
    assert report.files[0].format == fmt
    assert report.total("ingested") == written == 7
    (hit,) = rows(store, "network_resolution_dns", f"query = '{F.NGROK_DOMAIN}'")
    assert hit["answer"] == ["3.134.73.173", "3.20.27.198"]
    assert hit["ttl"] in (["60.000000", "60.000000"], ["60.0", "60.0"])
    assert hit["answer_count"] == "2"
    assert hit["src"].endswith("-host") and hit["src_port"] == "53000"
    assert (hit["dest"], hit["dest_port"], hit["transport"]) == ("10.0.0.1", "53", "udp")
    assert (hit["record_type"], hit["reply_code"], hit["reply_code_id"]) == (["A"], "NOERROR", "0")
    assert hit["message_type"] == "Response" and hit["vendor_product"] == "Zeek"
    assert str(hit["_time"]) == "2026-11-18 09:00:20"
    (unanswered,) = rows(store, "network_resolution_dns", "query = 'ngrok.io.example.net'")
    assert unanswered["answer"] is None and unanswered["message_type"] == "Query"
    empty = rows(store, "network_resolution_dns", "query = 'www0.example.org'")[0]
    assert empty["answer"] in ([], None)


def test_zeek_json_with_renamed_id_fields_and_stream_key(tmp_path: Path) -> None:
    record = {
        "@stream": "dns",
        "ts": 1588205199.82437,
        "uid": "C1",
        "id_orig_h": "10.0.1.6",
        "id_orig_p": 54243,
        "id_resp_h": "10.0.0.4",
        "id_resp_p": 53,
        "proto": "udp",
        "trans_id": 1,
        "query": "a.ngrok.io",
        "answers": ["10.0.0.4"],
        "TTLs": [3600.0],
    }
    path = tmp_path / "NASHUA_dns.log"
    path.write_text(json.dumps(record) + "\n")
    store = Store()
    ingest_into(store, path)
    (hit,) = rows(store, "network_resolution_dns")
    assert (hit["src"], hit["dest"], hit["answer"]) == ("10.0.1.6", "10.0.0.4", ["10.0.0.4"])
    assert str(hit["_time"]).startswith("2020-04-30 00:06:39.824")


def test_zeek_logs_other_than_dns_are_read_but_unmapped(tmp_path: Path) -> None:
    path = tmp_path / "conn.log"
    path.write_text("#separator \\x09\n#path\tconn\n#fields\tts\tuid\n1.0\tC1\n2.0\tC2\n")
    report = ingest_into(Store(), path)
    assert (report.total("read"), report.total("unmapped")) == (2, 2)


def test_suricata_eve_dns_v1_v2_v3_and_non_dns_events(tmp_path: Path) -> None:
    path = tmp_path / "eve.json"
    F.write_suricata(path, 3)
    store = Store()
    report = ingest_into(store, path)
    assert report.files[0].format == "suricata"
    assert report.total("unmapped") == 1  # the flow record
    v1 = rows(store, "network_resolution_dns", f"query = '{F.NGROK_DOMAIN}'")
    assert [r["message_type"] for r in v1] == ["Query", "Response"]
    assert v1[1]["answer"] == ["3.134.73.173"] and v1[1]["ttl"] == ["60"]
    # the v1 answer came from the server's side: src is still the client
    assert v1[1]["src"] == "suricata-host" and v1[1]["dest"] == "10.0.0.1" and v1[1]["dest_port"] == "53"
    (v2,) = rows(store, "network_resolution_dns", "query = 'tunnel.us.ngrok.com'")
    assert sorted(v2["answer"]) == ["3.20.27.198", "tunnel.us.ngrok.com.herokudns.com"]
    (v3,) = rows(store, "network_resolution_dns", "query = 'abc.ngrok.io'")
    assert v3["answer"] == ["3.134.73.173"] and v3["message_type"] == "Response" and v3["record_type"] == ["A"]
    assert all(r["vendor_product"] == "Suricata" for r in rows(store, "network_resolution_dns"))


def test_ecs_process_and_dns_events(tmp_path: Path) -> None:
    path = tmp_path / "winlogbeat.ndjson"
    F.write_ecs(path, 2)
    store = Store()
    assert ingest_into(store, path).files[0].format == "ecs"
    (ngrok,) = rows(store, "endpoint_processes", "process_name = 'ngrok.exe'")
    assert (ngrok["process"], ngrok["process_path"], ngrok["dest"]) == (F.NGROK_COMMAND, F.NGROK_IMAGE, "ecs-host")
    assert (ngrok["user"], ngrok["parent_process_name"], ngrok["process_id"]) == ("LAB\\jdoe", "cmd.exe", "4242")
    assert ngrok["vendor_product"] == "Elastic winlogbeat"
    (dns,) = rows(store, "network_resolution_dns")
    assert (dns["query"], dns["answer"], dns["src"]) == (F.NGROK_DOMAIN, ["3.134.73.173"], "ecs-host")


def test_ecs_flat_dotted_keys_and_a_string_category(tmp_path: Path) -> None:
    record = {
        "@timestamp": "2026-11-18T09:00:00Z",
        "event.category": "process",
        "event.type": "start",
        "host.name": "h1",
        "process.name": "ngrok.exe",
        "process.command_line": "ngrok tcp 22",
    }
    path = tmp_path / "flat.json"
    path.write_text(json.dumps(record) + "\n")
    store = Store()
    ingest_into(store, path)
    assert count(store, "endpoint_processes", "process = 'ngrok tcp 22' AND dest = 'h1'") == 1


def test_ecs_process_end_is_not_a_process_start(tmp_path: Path) -> None:
    record = F._ecs_process(1, "ngrok.exe", F.NGROK_IMAGE, F.NGROK_COMMAND, "h")
    record["event"] = {"category": ["process"], "type": ["end"]}
    path = tmp_path / "end.json"
    path.write_text(json.dumps(record) + "\n")
    report = ingest_into(Store(), path)
    assert (report.total("ingested"), report.total("unmapped")) == (0, 1)


def test_ocsf_process_and_dns_activity(tmp_path: Path) -> None:
    path = tmp_path / "ocsf.jsonl"
    F.write_ocsf(path, 2)
    store = Store()
    assert ingest_into(store, path).files[0].format == "ocsf"
    (ngrok,) = rows(store, "endpoint_processes", "process_name = 'ngrok.exe'")
    assert (ngrok["process"], ngrok["dest"], ngrok["user"]) == (F.NGROK_COMMAND, "ocsf-host", "LAB\\jdoe")
    assert ngrok["vendor_product"] == "Acme Sensor"
    assert str(ngrok["_time"]) == "2026-11-18 09:00:10"  # epoch milliseconds
    (dns,) = rows(store, "network_resolution_dns")
    assert (dns["query"], dns["answer"]) == (F.NGROK_DOMAIN, ["3.134.73.173"])


def test_ecs_csv_uses_dotted_column_names(tmp_path: Path) -> None:
    path = tmp_path / "processes.csv"
    written = F.write_ecs_csv(path, 4)
    store = Store()
    report = ingest_into(store, path)
    assert report.files[0].format == "csv" and report.total("ingested") == written
    assert count(store, "endpoint_processes", f"process = '{F.NGROK_COMMAND}'") == 1


def test_user_mapping_file_maps_a_custom_export(tmp_path: Path) -> None:
    mapping = compile_mapping(yaml.safe_load(F.CUSTOM_MAPPING))
    path = tmp_path / "acme.jsonl"
    written = F.write_custom(path, 3)
    store = Store()
    report = ingest_into(store, path, mappings=[mapping])
    assert report.files[0].format == "acme_edr"
    assert (report.total("read"), report.total("unmapped")) == (written, 1)  # the heartbeat
    (ngrok,) = rows(store, "endpoint_processes", "process_name = 'ngrok.exe'")
    assert (ngrok["process"], ngrok["dest"], ngrok["vendor_product"]) == (
        "ngrok.exe http 8080",
        "custom-host",
        "ACME EDR",
    )
    assert ngrok["sourcetype"] == "acme_edr"
    (dns,) = rows(store, "network_resolution_dns")
    assert dns["answer"] == ["3.134.73.173"]  # multivalue CIM field from a JSON array


def test_user_mapping_values_are_literals_not_sql(tmp_path: Path) -> None:
    spec = {
        "name": "quoted",
        "nodes": [
            {
                "node": "Endpoint.Processes",
                "time": "t",
                "when": {"k": "it's"},
                "fields": {"process": "cmd", "vendor_product": {"value": "x'); DROP TABLE endpoint_processes; --"}},
            }
        ],
    }
    mapping = compile_mapping(spec)
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"k": "IT'S", "t": "2026-01-01T00:00:00Z", "cmd": "c"}) + "\n")
    store = Store()
    ingest_into(store, path, fmt="quoted", mappings=[mapping])
    (row,) = rows(store, "endpoint_processes")
    assert row["vendor_product"] == "x'); DROP TABLE endpoint_processes; --"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "x", "nodes": [{"node": "Nope.Node", "time": "t", "fields": {}}]}, "unknown data model node"),
        (
            {"name": "x", "nodes": [{"node": "Endpoint.Processes", "time": "t", "fields": {"procss": "a"}}]},
            "no field 'procss'",
        ),
        ({"name": "9bad", "nodes": [{"node": "Endpoint.Processes", "time": "t", "fields": {}}]}, "name must start"),
        (
            {
                "name": "x",
                "nodes": [{"node": "Endpoint.Processes", "time": "t", "fields": {"process": {"upper": "a"}}}],
            },
            "unknown transform",
        ),
        ({"name": "x", "nodes": []}, "nodes"),
    ],
)
def test_bad_user_mappings_are_clear_errors(spec: dict[str, object], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        compile_mapping(spec, "m.yml")
