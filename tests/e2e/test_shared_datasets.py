"""Real public samples (../shared/datasets): record counts and per-node counts as their SOURCE.md states."""

from __future__ import annotations

import re
from pathlib import Path

import evtx
import pytest

from tests.conftest import shared_dataset
from tests.support.ingesting import count, ingest_into, rows
from tunnelhunt.store.duckdb_store import Store

pytestmark = pytest.mark.shared

PROCESSES, DNS, TRAFFIC = "endpoint_processes", "network_resolution_dns", "network_traffic_all_traffic"
FILESYSTEM = "endpoint_filesystem"

# file → (records, {table: rows}) from the SOURCE.md tables
EVTX = {
    "EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx": (565, {PROCESSES: 511}),
    "EVTX-ATTACK-SAMPLES/Privilege Escalation/Sysmon_UACME_64.evtx": (530, {PROCESSES: 3, DNS: 1}),
    "EVTX-ATTACK-SAMPLES/Command and Control/DE_sysmon-3-rdp-tun.evtx": (73, {PROCESSES: 13, TRAFFIC: 42}),
    "EVTX-ATTACK-SAMPLES/Command and Control/DE_RDP_Tunneling_4624.evtx": (18, {}),
    "EVTX-ATTACK-SAMPLES/Command and Control/DE_RDP_Tunnel_5156.evtx": (101, {PROCESSES: 17}),
    "EVTX-ATTACK-SAMPLES/Command and Control/"
    "DE_RDP_Tunneling_TerminalServices-RemoteConnectionManagerOperational_1149.evtx": (228, {}),
    "EVTX-to-MITRE-Attack/EVTX_full_APT_attack_steps/ID11,13,17,18-PSexec as system execution.evtx": (
        15,
        {PROCESSES: 2, DNS: 1},
    ),
    "EVTX-to-MITRE-Attack/TA0011-Command and Control/T1572-Protocol tunneling/"
    "ID4688-netsh RDP port forwarding abuse.evtx": (8, {PROCESSES: 3}),
    "EVTX-to-MITRE-Attack/TA0002-Execution/T1059.003-Windows Command Shell/"
    "ID4688-SQL Server payload injectection for reverse shell (MSF).evtx": (140, {PROCESSES: 140}),
}


def _counts_from_xml(path: Path) -> dict[str, int]:
    """Per-node counts from the parser's XML rendering: an independent path to the same answer."""
    nodes = {
        ("sysmon", "1"): PROCESSES,
        ("sysmon", "22"): DNS,
        ("sysmon", "3"): TRAFFIC,
        ("sysmon", "11"): FILESYSTEM,
        ("security", "4688"): PROCESSES,
        ("security", "5156"): TRAFFIC,  # Windows Filtering Platform connections
        ("security", "5157"): TRAFFIC,
    }
    counts: dict[str, int] = {}
    for record in evtx.PyEvtxParser(str(path)).records():
        xml = record["data"]
        event_id = re.search(r"<EventID[^>]*>(\d+)<", xml)
        channel = re.search(r"<Channel>([^<]*)<", xml)
        kind = (
            "sysmon"
            if channel and "Sysmon" in channel.group(1)
            else "security"
            if channel and channel.group(1) == "Security"
            else ""
        )
        table = nodes.get((kind, event_id.group(1) if event_id else ""))
        if table:
            counts[table] = counts.get(table, 0) + 1
    return counts


@pytest.mark.parametrize("relative", sorted(EVTX))
def test_evtx_samples_read_completely_with_source_md_counts(relative: str) -> None:
    records, stated = EVTX[relative]
    path = shared_dataset(relative)
    store = Store()
    report = ingest_into(store, path)
    (entry,) = report.files
    assert (entry.format, entry.error, entry.read, entry.quarantined) == ("evtx", None, records, 0)
    independent = _counts_from_xml(path)
    for table, expected in stated.items():  # what SOURCE.md states...
        assert independent.get(table, 0) == expected, table
    for table in (PROCESSES, DNS, TRAFFIC, FILESYSTEM):  # ...and everything the XML rendering says
        assert count(store, table) == independent.get(table, 0), table


def test_evtx_sysmon_dns_and_4688_fields_from_the_samples() -> None:
    store = Store()
    ingest_into(store, shared_dataset("EVTX-ATTACK-SAMPLES/Privilege Escalation/Sysmon_UACME_64.evtx"))
    ingest_into(store, shared_dataset("EVTX-to-MITRE-Attack/EVTX_full_APT_attack_steps"))
    queries = {r["query"] for r in rows(store, DNS)}
    assert queries == {"wpad", "fs03vuln"}
    netsh = shared_dataset(
        "EVTX-to-MITRE-Attack/TA0011-Command and Control/T1572-Protocol tunneling/"
        "ID4688-netsh RDP port forwarding abuse.evtx"
    )
    store = Store()
    ingest_into(store, netsh)
    found = rows(store, PROCESSES)
    assert {r["process_name"].lower() for r in found} >= {"netsh.exe"}
    assert all(r["process_id"].isdigit() and r["vendor_product"] == "Microsoft Windows" for r in found)
    assert any("portproxy" in (r["process"] or "").lower() for r in found)


def test_evtx_sysmon_network_connections_from_the_rdp_tunnel_sample() -> None:
    store = Store()
    ingest_into(store, shared_dataset("EVTX-ATTACK-SAMPLES/Command and Control/DE_sysmon-3-rdp-tun.evtx"))
    traffic = rows(store, TRAFFIC)
    assert len(traffic) == 42
    assert all(r["dest_ip"] and r["dest_port"] and r["transport"] in ("tcp", "udp") for r in traffic)
    assert any(r["dest_ip"] in ("127.0.0.1", "::1") or r["src_ip"] in ("127.0.0.1", "::1") for r in traffic)


@pytest.mark.parametrize(
    ("relative", "events", "expected"),
    [
        (
            "Security-Datasets/datasets/compound/LSASS_campaign_01/metasploit_logonpasswords_lsass_memory_dump.zip",
            53_698,
            {PROCESSES: 269 + 53, DNS: 51, TRAFFIC: 140 + 177},  # Sysmon 3 + Security 5156
        ),
        (
            "Security-Datasets/datasets/compound/LSASS_campaign_05/metasploit_sharpdump_lsass_memory_dump.zip",
            59_707,
            {PROCESSES: 122, DNS: 441, TRAFFIC: 889},
        ),
    ],
)
def test_security_datasets_zips_of_flattened_windows_json(relative: str, events: int, expected: dict[str, int]) -> None:
    store = Store()
    report = ingest_into(store, shared_dataset(relative))
    (entry,) = report.files
    assert (entry.format, entry.read, entry.quarantined, entry.error) == ("windows-json", events, 0, None)
    assert "!" in entry.path  # read from inside the zip
    for table, rows_expected in expected.items():
        assert count(store, table) == rows_expected, table


@pytest.mark.parametrize(
    ("relative", "fmt"),
    [("zed-sample-data/zeek-default/dns.log.gz", "zeek"), ("zed-sample-data/zeek-json/dns.json.gz", "zeek-json")],
)
def test_zeek_dns_tsv_and_json_give_the_same_53615_records(relative: str, fmt: str) -> None:
    store = Store()
    report = ingest_into(store, shared_dataset(relative))
    (entry,) = report.files
    assert (entry.format, entry.read, entry.ingested, entry.quarantined) == (fmt, 53_615, 53_615, 0)
    counted = store.query(f"SELECT record_type[1] AS t, count(*) AS n FROM {DNS} GROUP BY 1").to_pylist()
    by_type = {r["t"]: r["n"] for r in counted}
    assert (by_type["A"], by_type["AAAA"], by_type["NBSTAT"], by_type["PTR"]) == (35_525, 12_597, 3_834, 1_358)
    first = rows(store, DNS, "query = 'ise.wrccdc.org'", order="_time, _offset")[0]
    assert first["answer"] == ["ise.wrccdc.cpp.edu", "134.71.3.16"] and first["src"] == "10.47.1.100"
    assert str(first["_time"]) == "2018-03-24 17:15:20.865716"


def test_security_datasets_zeek_json_with_renamed_fields() -> None:
    root = shared_dataset("Security-Datasets/datasets/compound/apt29")
    store = Store()
    report = ingest_into(store, root)
    zeek = [f for f in report.files if f.path.endswith("_dns.log")]
    assert len(zeek) == 8 and all(f.format == "zeek-json" for f in zeek)
    assert sum(f.read for f in zeek) == sum(f.ingested for f in zeek) == 303
    assert count(store, DNS, "src IS NULL OR dest IS NULL") == 0


@pytest.mark.parametrize(
    ("relative", "lines", "dns"),
    [
        ("suricata-verify/eve-dns/expected/eve.json", 9, 9),
        ("suricata-verify/dns-tcp-www-google-com/expected/eve.json", 14, 13),
    ],
)
def test_suricata_verify_eve_v1(relative: str, lines: int, dns: int) -> None:
    store = Store()
    report = ingest_into(store, shared_dataset(relative))
    (entry,) = report.files
    assert (entry.format, entry.read, entry.ingested, entry.unmapped) == ("suricata", lines, dns, lines - dns)
    answers = rows(store, DNS, "message_type = 'Response'")
    assert answers and all(r["answer"] for r in answers)
    clients = {r["src"] for r in rows(store, DNS)}
    assert clients == {"10.16.1.11"}  # the DNS client, whichever side Suricata put in src_ip


def test_a_whole_dataset_folder_in_one_run_accounts_for_every_record(tmp_path: Path) -> None:
    store = Store()
    report = ingest_into(store, shared_dataset("EVTX-ATTACK-SAMPLES"), shared_dataset("suricata-verify"))
    data_files = [f for f in report.files if f.format not in (None, "empty") or f.error]
    unreadable = [f for f in report.files if f.error]
    assert {Path(f.path).name for f in unreadable} <= {"SOURCE.md", "LICENSE.GPL"}
    assert sum(f.read for f in data_files) == 565 + 530 + 73 + 18 + 101 + 228 + 9 + 14
