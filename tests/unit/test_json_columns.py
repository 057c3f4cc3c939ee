"""One parse per JSON record (issue 20): the raw-event walk picks a mapping's raw columns at their JSON paths,
and the node rows are those DuckDB's `json_extract_string` road gives, edge case by edge case.

Each case normalises the same EVTX-shaped records twice, with the raw store on (the walk's columns) and off
(DuckDB extracts the columns), and compares every node table, the unmapped count and the quarantine; it
also checks which road the batch took, so a case meant for the walk cannot pass by falling back."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from tests.conftest import shared_dataset
from tunnelhunt.normalize.json_columns import ColumnPicks, column_plan, path_steps
from tunnelhunt.normalize.normalizer import NormalizedBatch, Normalizer
from tunnelhunt.normalize.windows import WINDOWS_EVTX, WINDOWS_JSON
from tunnelhunt.readers.base import RawBatch
from tunnelhunt.store.events import EVENTS_TABLE

EVTX = "WinEventLog:evtx"
SYSMON = {
    "Channel": "Microsoft-Windows-Sysmon/Operational",
    "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
}
SECURITY = {"Channel": "Security", "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}}}
TIME = {"TimeCreated": {"#attributes": {"SystemTime": "2026-11-20T10:15:02.1234567Z"}}, "Computer": "pc1.example"}


def _event(event_id: Any, data: dict[str, Any] | None, system: dict[str, Any] | None = None, **extra: Any) -> dict:
    event: dict[str, Any] = {"System": {**SYSMON, **TIME, "EventID": event_id, **(system or {})}}
    if data is not None:
        event["EventData"] = data
    event.update(extra)
    return {"Event": event}


def _batch(records: list[dict[str, Any] | str]) -> RawBatch:
    texts = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    table = pa.table(
        {
            "_source": pa.array(["t.evtx"] * len(texts), pa.string()),
            "_offset": pa.array(range(1, len(texts) + 1), pa.int64()),
            "_json": pa.array(texts, pa.string()),
        }
    )
    return RawBatch(EVTX, table, offset_kind="record", json_checked=True)


def _picked(records: list[dict[str, Any] | str]) -> bool:
    """Whether the walk took the batch's raw columns (else DuckDB extracts them)."""
    normalizer = Normalizer()
    assert normalizer._events is not None
    return normalizer._events.walk(_batch(records), WINDOWS_EVTX).columns is not None


def _nodes(result: NormalizedBatch) -> dict[str, list[dict[str, Any]]]:
    return {name: table.to_pylist() for name, table in result.tables.items() if name != EVENTS_TABLE}


def _both_roads(records: list[dict[str, Any] | str], picked: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Node rows by the walk's columns, after checking they equal DuckDB's road (and the road taken)."""
    assert _picked(records) is picked
    walked = Normalizer(raw=True).normalize(_batch(records))
    extracted = Normalizer(raw=False).normalize(_batch(records))
    assert _nodes(walked) == _nodes(extracted)
    assert (walked.unmapped, walked.unmapped_by_source) == (extracted.unmapped, extracted.unmapped_by_source)
    assert walked.quarantined == extracted.quarantined
    assert walked.tables[EVENTS_TABLE].num_rows == len(records) - len(walked.quarantined)
    return _nodes(walked)


def test_a_name_in_system_and_in_event_data_is_read_where_the_mapping_reads_it() -> None:
    record = _event(
        1,
        {"Computer": "not-the-host", "ProcessID": "77", "Image": "C:\\t\\a.exe"},
        {"Execution": {"#attributes": {"ProcessID": "4", "ThreadID": "8"}}},
    )
    [row] = _both_roads([record])["endpoint_processes"]
    assert row["dest"] == "pc1.example"  # System's Computer, not EventData's
    assert row["process_id"] == "77"  # EventData's ProcessID (a spelling of ProcessId), not System's Execution


def test_event_id_as_number_as_text_and_as_an_object_with_attributes() -> None:
    records = [
        _event(1, {"Image": "a.exe"}),
        _event("1", {"Image": "b.exe"}),
        _event({"#attributes": {"Qualifiers": 16384}, "#text": 1}, {"Image": "c.exe"}),
    ]
    rows = _both_roads(records)["endpoint_processes"]
    assert [r["process_name"] for r in rows] == ["a.exe", "b.exe", "c.exe"]


def test_an_event_id_object_without_text_is_its_json_text() -> None:
    """DuckDB reads the object as its JSON text (so no node takes the record); DuckDB writes that cell."""
    records = [_event(1, {"Image": "a.exe"}), _event({"#attributes": {"Qualifiers": 16384}}, {"Image": "b.exe"})]
    rows = _both_roads(records)["endpoint_processes"]
    assert [r["process_name"] for r in rows] == ["a.exe"]


def test_an_event_data_value_that_is_an_object_is_its_json_text() -> None:
    record = _event(1, {"Image": {"#attributes": {"Type": "x"}, "#text": "a.exe"}, "CommandLine": "a"})
    [row] = _both_roads([record])["endpoint_processes"]
    assert row["process_path"] == '{"#attributes":{"Type":"x"},"#text":"a.exe"}'


def test_empty_string_null_and_the_dash_placeholder() -> None:
    record = _event(
        3,
        {"Image": "", "CommandLine": None, "DestinationHostname": "-", "DestinationIp": "10.0.0.9",
         "SourceHostname": "", "SourceIp": "10.0.0.1", "User": None},
    )  # fmt: skip
    [row] = _both_roads([record])["network_traffic_all_traffic"]
    assert row["process_path"] == ""  # an empty value stays empty
    assert row["user"] is None  # JSON null is no value
    assert row["dest"] == "10.0.0.9" and row["src"] == "10.0.0.1"  # `-` and empty fall back to the address


def test_numbers_and_booleans_are_their_json_text() -> None:
    record = _event(
        3,
        {"Image": "a.exe", "ProcessId": 4294967295, "SourcePort": 0, "DestinationPort": -1,
         "Initiated": True, "DestinationIsIpv6": False, "SourceIp": "1.2.3.4", "DestinationIp": "5.6.7.8"},
    )  # fmt: skip
    [row] = _both_roads([record])["network_traffic_all_traffic"]
    assert (row["process_id"], row["src_port"], row["dest_port"]) == ("4294967295", "0", "-1")
    assert (row["direction"], row["protocol_version"]) == ("outbound", "ipv4")


def test_a_decimal_is_walked_and_written_as_duckdb_writes_it() -> None:
    record = _event(3, {"Image": "a.exe", "SourcePort": 1.50, "SourceIp": "1.2.3.4", "DestinationIp": "5.6.7.8"})
    [row] = _both_roads([record])["network_traffic_all_traffic"]
    assert row["src_port"] == "1.5"


def test_an_integer_beyond_64_bits_is_left_to_duckdb() -> None:
    record = _event(
        3, {"Image": "a.exe", "SourcePort": 18446744073709551616, "SourceIp": "1.2.3.4", "DestinationIp": "5.6.7.8"}
    )
    [row] = _both_roads([record], picked=False)["network_traffic_all_traffic"]
    assert row["src_port"] == "18446744073709551616"  # DuckDB's text, digit for digit


def test_repeated_data_names_are_left_to_duckdb() -> None:
    """The `evtx` parser writes a repeated `Data` name as a repeated key; DuckDB picks one of them."""
    text = json.dumps(_event(1, {"Image": "a.exe"})).replace('"Image": "a.exe"', '"Image": "a.exe", "Image": "b.exe"')
    rows = _both_roads([text], picked=False)["endpoint_processes"]
    assert len(rows) == 1


def test_user_data_params_and_their_lowercase_spelling() -> None:
    rdp = {
        "Channel": "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational",
        "Provider": {"#attributes": {"Name": "Microsoft-Windows-TerminalServices-RemoteConnectionManager"}},
    }
    scm = {"Channel": "System", "Provider": {"#attributes": {"Name": "Service Control Manager"}}}
    records = [
        _event(
            1149, None, rdp, UserData={"EventXML": {"Param1": "bob", "Param2": "CORP", "Param3": "::ffff:10.1.2.3"}}
        ),
        _event(1149, {"Param1": None}, rdp, UserData={"EventXML": {"Param1": "eve", "Param3": "10.9.9.9"}}),
        _event({"#attributes": {"Qualifiers": 16384}, "#text": 7036}, {"param1": "Spooler", "param2": "running"}, scm),
    ]
    nodes = _both_roads(records)
    assert [(r["user"], r["dest_nt_domain"], r["src"]) for r in nodes["authentication_authentication"]] == [
        ("bob", "CORP", "10.1.2.3"),
        ("eve", None, "10.9.9.9"),  # EventData's null Param1 is no value: UserData's is next
    ]
    [service] = nodes["endpoint_services"]
    assert (service["service_name"], service["status"]) == ("Spooler", "running")


def test_unnamed_data_and_array_values_name_no_mapped_column() -> None:
    record = _event(1, {"Data": ["x", "y"], "Image": "a.exe", "Hashes": ["SHA1=1", "MD5=2"]})
    [row] = _both_roads([record])["endpoint_processes"]
    assert row["process_hash"] == '["SHA1=1","MD5=2"]'  # an array at a mapped path is DuckDB's JSON text


def test_a_record_without_a_valid_time_is_quarantined_on_both_roads() -> None:
    bad = _event(1, {"Image": "a.exe"}, {"TimeCreated": {"#attributes": {"SystemTime": "yesterday"}}})
    _both_roads([_event(1, {"Image": "b.exe"}), bad, _event(4624, {"Image": "x"}, SECURITY)])


def test_paths_the_walk_can_match_and_those_it_cannot() -> None:
    assert path_steps('$.Event.System.EventID."#text"') == ("Event", "System", "EventID", "#text")
    assert path_steps('$."a.b"[2]."q\\"k"') == ("a.b", 2, 'q"k')
    for text in ("$.a[*]", "$..a", "a.b", "$", '$."a\\\\b"', "$.a b[x]"):
        assert path_steps(text) is None, text


def test_an_object_only_where_an_earlier_candidate_has_no_value_is_read_by_duckdb() -> None:
    plan = column_plan(WINDOWS_EVTX)
    assert plan is not None
    first, second = [s for s, c in enumerate(plan.column_of) if plan.columns[c] == "EventID"]  # "#text", then itself
    records = [_event({"#text": 1}, {}), _event(4624, {}), _event({"#attributes": {"Q": 1}}, {})]
    picks = ColumnPicks(
        plan, rows=[0, 0, 1, 2], slots=[first, second, second, second], values=["1", None, "4624", None]
    )
    texts = pa.chunked_array([pa.array([json.dumps(r) for r in records], pa.string())])
    columns = picks.columns(duckdb.connect(), texts)
    assert columns["EventID"].to_pylist() == ["1", "4624", '{"#attributes":{"Q":1}}']
    assert columns["Image"].to_pylist() == [None, None, None]


def test_flat_json_exports_have_a_plan_too() -> None:
    plan = column_plan(WINDOWS_JSON)
    assert plan is not None
    times = [plan.paths[s] for s, c in enumerate(plan.column_of) if plan.columns[c] == "TimeCreated"]
    assert times[:2] == [("TimeCreated",), ("SystemTime",)]


@pytest.mark.shared
def test_every_shared_evtx_record_maps_the_same_on_both_roads() -> None:
    import evtx

    folders = [shared_dataset(name) for name in ("EVTX-ATTACK-SAMPLES", "EVTX-to-MITRE-Attack")]
    paths = sorted(p for folder in folders for p in folder.rglob("*.evtx"))
    records: list[dict[str, Any] | str] = [r["data"] for p in paths for r in evtx.PyEvtxParser(str(p)).records_json()]
    nodes = _both_roads(records)
    assert sum(len(rows) for rows in nodes.values()) > 500


def _lines(sourcetype: str, lines: list[str]) -> RawBatch:
    table = pa.table(
        {
            "_source": pa.array(["t.jsonl"] * len(lines), pa.string()),
            "_offset": pa.array(range(1, len(lines) + 1), pa.int64()),
            "_json": pa.array(lines, pa.string()),
        }
    )
    return RawBatch(sourcetype, table)


def _both_roads_lines(sourcetype: str, lines: list[str], picked: bool = True) -> NormalizedBatch:
    """JSON lines (not known to be objects) normalised with the walk's columns and with DuckDB's."""
    normalizer = Normalizer()
    assert normalizer._events is not None
    walked_json = normalizer._events.walk(_lines(sourcetype, lines), normalizer._registry.get(sourcetype))
    assert (walked_json.columns is not None) is picked
    walked = normalizer.normalize(_lines(sourcetype, lines))
    extracted = Normalizer(raw=False).normalize(_lines(sourcetype, lines))
    assert _nodes(walked) == _nodes(extracted)
    assert (walked.unmapped, walked.unmapped_by_source) == (extracted.unmapped, extracted.unmapped_by_source)
    assert walked.quarantined == extracted.quarantined
    return walked


def test_flat_windows_json_lines_and_lines_that_are_no_objects() -> None:
    process = {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Hostname": "pc2",
               "@timestamp": "2026-11-20T10:00:00Z", "Image": "C:\\x\\ngrok.exe", "ProcessID": 12}  # fmt: skip
    lines = [
        json.dumps(process),
        "not json",
        "[1, 2]",
        '"text"',
        json.dumps({**process, "Computer": "pc3", "SourceName": "Microsoft-Windows-Sysmon", "Image": "", "x\u0000": 1}),
        "null",
        json.dumps({**process, "TimeCreated": None, "SystemTime": "2026-11-21T00:00:00Z"}),
    ]
    result = _both_roads_lines("WinEventLog:json", lines)
    rows = result.tables["endpoint_processes"].to_pylist()
    assert [(r["dest"], r["process_path"], r["process_id"]) for r in rows] == [
        ("pc2", "C:\\x\\ngrok.exe", "12"),
        ("pc3", "", "12"),  # Computer before Hostname; an empty value stays empty
        ("pc2", "C:\\x\\ngrok.exe", "12"),
    ]
    assert str(rows[2]["_time"]) == "2026-11-21 00:00:00"  # a null TimeCreated: SystemTime is next
    assert [(q.offset, q.reason) for q in result.quarantined] == [
        (2, "invalid JSON"),
        (3, "JSON array where an object was expected"),
        (4, "JSON varchar where an object was expected"),
        (6, "JSON null where an object was expected"),
    ]
    assert result.tables[EVENTS_TABLE].num_rows == 3


def test_lines_the_walk_refuses_quarantine_each_non_object_once() -> None:
    """An integer beyond 64 bits makes the walk leave the batch to DuckDB: the lines that are not objects, already set
    aside by the walk, are quarantined once, as with the raw store off."""
    process = {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Hostname": "pc2",
               "@timestamp": "2026-11-20T10:00:00Z", "Image": "a.exe", "ProcessID": 12,
               "ts": 18446744073709551616}  # fmt: skip
    lines = [json.dumps(process), "not json", "[1, 2]", json.dumps({**process, "Hostname": "pc3"})]
    result = _both_roads_lines("WinEventLog:json", lines, picked=False)
    assert [r["dest"] for r in result.tables["endpoint_processes"].to_pylist()] == ["pc2", "pc3"]
    assert [(q.offset, q.reason) for q in result.quarantined] == [
        (2, "invalid JSON"),
        (3, "JSON array where an object was expected"),
    ]
    assert result.tables[EVENTS_TABLE].num_rows == 2


def test_ecs_lines_nested_and_flat_dotted_names() -> None:
    nested = {"@timestamp": "2026-11-20T10:00:00Z", "event": {"category": "process", "type": "start"},
              "host": {"name": "h1"}, "process": {"name": "ngrok", "pid": 7, "command_line": "ngrok"}}  # fmt: skip
    flat = {"@timestamp": "2026-11-20T10:00:01Z", "event.category": "process", "event.type": "start",
            "host.name": "h2", "process.name": "ngrok", "process.pid": 8}  # fmt: skip
    both = {**nested, "process.name": "flat-loses"}
    result = _both_roads_lines("ecs", [json.dumps(nested), json.dumps(flat), json.dumps(both)])
    rows = result.tables["endpoint_processes"].to_pylist()
    assert [(r["dest"], r["process_name"], r["process_id"]) for r in rows] == [
        ("h1", "ngrok", "7"),
        ("h2", "ngrok", "8"),
        ("h1", "ngrok", "7"),  # the nested name before the flat dotted key
    ]


def test_an_ecs_list_at_a_mapped_path_is_its_json_text() -> None:
    """`event.category` as a JSON array: DuckDB gives its JSON text, which the mapping reads as a list."""
    line = {"@timestamp": "2026-11-20T10:00:00Z", "event": {"category": ["process", "x\"y/é"], "type": ["start"]},
            "host": {"name": "h1"}, "process": {"name": "ngrok"}}  # fmt: skip
    result = _both_roads_lines("ecs", [json.dumps(line)])
    assert result.tables["endpoint_processes"].num_rows == 1
