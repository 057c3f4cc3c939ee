"""The Sysmon generator: reproducible, well-formed, realistic in shape, and honest about its ground truth.

The detection logic here is re-implemented independently (regex, not the generator's helpers), so a
bug in the generator's own check cannot hide a wrong truth.json.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tunnelhunt.generate import MIN_EVENTS, GeneratedDataset, generate_sysmon
from tunnelhunt.generate.sysmon.events import EVENT_FIELDS
from tunnelhunt.generate.sysmon.writer import ANCHOR

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
EVENTS = 3000

DNS_PATTERNS = [
    re.compile("^" + re.escape(pattern).replace(r"\*", ".*") + "$", re.IGNORECASE)
    for pattern in ("*.ngrok.com", "*.ngrok.io", "ngrok.*.tunnel.com", "korgn.*.lennut.com")
]
KEYWORDS = ("start", "--config", "http", "authtoken", "tcp")


def dns_hit(query: str) -> bool:
    return any(pattern.match(query) for pattern in DNS_PATTERNS)


def process_hit(image: str, command_line: str) -> bool:
    name = re.split(r"[\\/]", image)[-1]
    return name.lower() == "ngrok.exe" and any(word in command_line.lower() for word in KEYWORDS)


def dns_answers(results: str) -> list[str]:
    """Answers as the normaliser derives them: `type: N ` prefix dropped, `-` and empties skipped."""
    values = (re.sub(r"^\s*type:\s*\d+\s+", "", part).strip() for part in results.split(";"))
    return [value for value in values if value and value != "-"]


def parse(line: bytes) -> dict[str, Any]:
    """One event flattened: System fields plus EventData by name, and the names in document order."""
    root = etree.fromstring(line, PARSER)
    assert root.tag == f"{NS}Event"
    system = root.find(f"{NS}System")
    data = root.find(f"{NS}EventData")
    assert system is not None and data is not None
    names = [item.get("Name") for item in data]
    row: dict[str, Any] = {item.get("Name"): item.text or "" for item in data}
    row["_names"] = names
    row["EventID"] = int(system.findtext(f"{NS}EventID") or 0)
    row["Computer"] = system.findtext(f"{NS}Computer")
    row["RecordID"] = int(system.findtext(f"{NS}EventRecordID") or 0)
    row["SystemTime"] = system.find(f"{NS}TimeCreated").get("SystemTime")  # type: ignore[union-attr]
    row["UserID"] = system.find(f"{NS}Security").get("UserID")  # type: ignore[union-attr]
    return row


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> GeneratedDataset:
    return generate_sysmon(tmp_path_factory.mktemp("gen"), events=EVENTS, seed=11)


@pytest.fixture(scope="module")
def rows(dataset: GeneratedDataset) -> list[dict[str, Any]]:
    with dataset.path.open("rb") as handle:
        return [parse(line) for line in handle]


@pytest.fixture(scope="module")
def truth(dataset: GeneratedDataset) -> dict[str, Any]:
    return json.loads(dataset.truth_path.read_text(encoding="utf-8"))


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    first = generate_sysmon(tmp_path / "a", events=MIN_EVENTS + 300, seed=3)
    second = generate_sysmon(tmp_path / "b", events=MIN_EVENTS + 300, seed=3)
    third = generate_sysmon(tmp_path / "c", events=MIN_EVENTS + 300, seed=4)
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.truth_path.read_bytes() == second.truth_path.read_bytes()
    assert first.path.read_bytes() != third.path.read_bytes()


def test_writes_exactly_the_requested_events(dataset: GeneratedDataset, truth: dict[str, Any]) -> None:
    data = dataset.path.read_bytes()
    assert dataset.path.name == "windows-sysmon.log" and dataset.truth_path.name == "truth.json"
    assert dataset.events == EVENTS == truth["events"] == data.count(b"\n")
    assert data.endswith(b"</Event>\n")
    assert all(
        line.startswith(b"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>")
        for line in data.splitlines()
    )
    assert truth["seed"] == 11


def test_every_line_is_a_sysmon_event_with_the_real_field_layout(rows: list[dict[str, Any]]) -> None:
    assert len(rows) == EVENTS
    for row in rows:
        assert row["_names"] == list(EVENT_FIELDS[row["EventID"]][1])
        assert row["RuleName"] == "-"
        assert re.fullmatch(r"\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}", row["ProcessGuid"])
        assert int(row["ProcessId"]) % 4 == 0
        assert row["SystemTime"].startswith(row["UtcTime"].replace(" ", "T"))


def test_event_mix_hosts_and_users_look_like_a_real_fleet(rows: list[dict[str, Any]]) -> None:
    mix = Counter(row["EventID"] for row in rows)
    assert set(mix) == {1, 3, 5, 7, 11, 13, 22}
    assert mix.most_common(1)[0][0] == 7  # image loads dominate, as in real Sysmon logs
    assert all(mix[eid] > EVENTS * 0.05 for eid in mix)
    assert len({row["Computer"] for row in rows}) == 8
    assert len({row["User"] for row in rows}) >= 10
    creates = [row for row in rows if row["EventID"] == 1]
    assert {row["IntegrityLevel"] for row in creates} >= {"Medium", "High", "System"}
    assert len({row["CommandLine"] for row in creates}) > 40
    for row in creates:
        assert row["UserID"].startswith("S-1-5-")
        assert re.fullmatch(
            r"SHA1=[0-9A-F]{40},MD5=[0-9A-F]{32},SHA256=[0-9A-F]{64},IMPHASH=[0-9A-F]{32}", row["Hashes"]
        )


def test_time_increases_inside_the_default_window(rows: list[dict[str, Any]], truth: dict[str, Any]) -> None:
    times = [row["SystemTime"] for row in rows]
    assert times == sorted(times)
    assert times[0] >= "2026-11-20T06:00:00" and times[-1] < "2026-11-20T12:00:00"
    assert truth["end"] == "2026-11-20T12:00:00.000000Z"
    assert ANCHOR.isoformat() == "2026-11-20T12:00:00+00:00"
    per_host: dict[str, int] = {}
    for row in rows:  # EventRecordID counts up per computer
        assert row["RecordID"] > per_host.get(row["Computer"], 0)
        per_host[row["Computer"]] = row["RecordID"]


def test_truth_lists_exactly_what_the_detections_find(rows: list[dict[str, Any]], truth: dict[str, Any]) -> None:
    found_processes = [
        {
            "dest": row["Computer"],
            "user": row["User"],
            "process": row["CommandLine"],
            "process_name": re.split(r"[\\/]", row["Image"])[-1],
            "parent_process_name": re.split(r"[\\/]", row["ParentImage"])[-1],
        }
        for row in rows
        if row["EventID"] == 1 and process_hit(row["Image"], row["CommandLine"])
    ]
    found_dns = [
        {"src": row["Computer"], "query": row["QueryName"], "answers": dns_answers(row["QueryResults"])}
        for row in rows
        if row["EventID"] == 22 and dns_hit(row["QueryName"])
    ]
    strip = [{key: value for key, value in entry.items() if key != "time"} for entry in truth["process_matches"]]
    assert found_processes == strip
    assert found_dns == [
        {key: value for key, value in entry.items() if key != "time"} for entry in truth["dns_matches"]
    ]


def test_truth_times_are_the_events_times(rows: list[dict[str, Any]], truth: dict[str, Any]) -> None:
    stamps = {row["SystemTime"][:26] + "Z" for row in rows if row["EventID"] in (1, 22)}
    for entry in truth["process_matches"] + truth["dns_matches"]:
        assert entry["time"] in stamps


def test_planted_activity_is_varied(truth: dict[str, Any]) -> None:
    processes = truth["process_matches"]
    assert len({entry["dest"] for entry in processes}) >= 3
    assert len({entry["user"] for entry in processes}) >= 3
    assert {entry["parent_process_name"].lower() for entry in processes} >= {
        "cmd.exe",
        "powershell.exe",
        "explorer.exe",
    }
    commands = {entry["process"] for entry in processes}
    assert {"NGROK.EXE HTTP 80", "ngrok.exe http 8080", "ngrok.exe tcp 3389"} <= commands
    assert any("config add-authtoken" in command for command in commands)
    assert any("start --all --config" in command for command in commands)
    queries = {entry["query"] for entry in truth["dns_matches"]}
    assert {
        "tunnel.us.ngrok.com",
        "abcd-1-2-3-4.ngrok.io",
        "2.tcp.ngrok.io",
        "ngrok.us.tunnel.com",
        "korgn.su.lennut.com",
        "Tunnel.EU.Ngrok.COM",
    } <= queries
    assert any(len(entry["answers"]) >= 3 for entry in truth["dns_matches"])  # CNAME plus two addresses


def test_near_misses_are_present_and_do_not_match(rows: list[dict[str, Any]], truth: dict[str, Any]) -> None:
    misses = truth["near_misses"]
    dns_values = {entry["value"] for entry in misses if entry["kind"] == "dns"}
    process_values = {entry["value"] for entry in misses if entry["kind"] == "process"}
    assert dns_values >= {
        "ngrok.io.evil.com",
        "myngrok.io",
        "ngrok.io",
        "ngrok.com",
        "notngrok.com.example.net",
        "ngrok.tunnel.com",
    }
    assert process_values >= {
        "ngrokker.exe http 80",
        "ngrok.exe version",
        "C:\\tools\\ngrok.exe.bak\\evil.exe tcp 22",
        "notepad.exe C:\\notes\\ngrok-start.txt",
    }
    queries = {row["QueryName"] for row in rows if row["EventID"] == 22}
    commands = {row["CommandLine"]: row["Image"] for row in rows if row["EventID"] == 1}
    assert dns_values <= queries and process_values <= set(commands)
    assert not any(dns_hit(value) for value in dns_values)
    assert not any(process_hit(commands[value], value) for value in process_values)


def test_quotes_and_ampersands_are_escaped_and_round_trip(
    dataset: GeneratedDataset, rows: list[dict[str, Any]], truth: dict[str, Any]
) -> None:
    tricky = next(entry["process"] for entry in truth["process_matches"] if "&" in entry["process"])
    assert '"' in tricky and "<" in tricky
    raw = dataset.path.read_bytes()
    escaped = tricky.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    assert escaped.encode() in raw and tricky.encode() not in raw
    assert tricky in {row["CommandLine"] for row in rows if row["EventID"] == 1}
    background = {row["CommandLine"] for row in rows if row["EventID"] == 1 and "&" in row["CommandLine"]}
    assert len(background) >= 2


def test_time_range_and_size_are_configurable(tmp_path: Path) -> None:
    end = datetime(2025, 1, 2, 3, 4, 5)  # naive: taken as UTC
    small = generate_sysmon(tmp_path / "a", events=MIN_EVENTS, seed=1, end=end, hours=0.5)
    lines = small.path.read_bytes().splitlines()
    assert len(lines) == MIN_EVENTS
    first = re.search(rb"SystemTime='([^']+)'", lines[0]).group(1).decode()  # type: ignore[union-attr]
    last = re.search(rb"SystemTime='([^']+)'", lines[-1]).group(1).decode()  # type: ignore[union-attr]
    start = (end - timedelta(hours=0.5)).isoformat()
    assert start <= first <= last < end.isoformat()
    bigger = json.loads(generate_sysmon(tmp_path / "b", events=25_000, seed=1).truth_path.read_text())
    assert len(bigger["process_matches"]) > len(json.loads(small.truth_path.read_text())["process_matches"])


@pytest.mark.parametrize("kwargs", [{"events": MIN_EVENTS - 1}, {"hours": 0}])
def test_rejects_impossible_requests(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        generate_sysmon(tmp_path, **kwargs)
