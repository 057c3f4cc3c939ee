"""The new Windows mappings on real recordings: per-node counts on the shared EVTX corpora, and the rows of
the tunnelled-RDP samples (EVTX-ATTACK-SAMPLES `Command and Control/`) as the detections need them.

The expected counts were made independently of tunnelhunt: each record parsed with the `evtx` package
(`PyEvtxParser.records_json`), its System/Channel and EventID classified by the event lists of the brief
(Sysmon 1/3/11/12/13/14/22; Security 4688, 4657, 4624/4625/4634/4648/4768/4769/4771/4776, account changes
4720-4758/4740/4767/4781/4794, 4697, 5156/5157; System 7045/7036; RemoteConnectionManager 1149), and tallied
per node. Command and Control: Security 4624 x23 (18 + 5), 4648 x3, 1149 x11; 4688 x17, Sysmon 1 x13;
5156 x63, Sysmon 3 x42.
"""

from __future__ import annotations

import pytest

from tests.conftest import shared_dataset
from tests.support.ingesting import rows
from tunnelhunt.cim import NODES
from tunnelhunt.ingest.run import ingest
from tunnelhunt.store.duckdb_store import Store

pytestmark = pytest.mark.shared

COUNTS = {
    "EVTX-ATTACK-SAMPLES/Command and Control": {
        "authentication_authentication": 37, "endpoint_processes": 30, "network_traffic_all_traffic": 105},
    "EVTX-ATTACK-SAMPLES": {
        "authentication_authentication": 37, "endpoint_filesystem": 6, "endpoint_processes": 544,
        "endpoint_registry": 40, "network_resolution_dns": 1, "network_traffic_all_traffic": 109},
    "EVTX-to-MITRE-Attack": {
        "authentication_authentication": 1, "endpoint_filesystem": 1, "endpoint_processes": 145,
        "endpoint_registry": 3, "network_resolution_dns": 1},
    "sigma/regression_data": {
        "authentication_authentication": 1, "endpoint_filesystem": 15, "endpoint_processes": 91,
        "endpoint_registry": 15},
}  # fmt: skip


@pytest.mark.parametrize("relative", sorted(COUNTS))
def test_node_counts_on_real_evtx(relative: str) -> None:
    with Store() as store:
        report = ingest([shared_dataset(relative)], store, include=["*.evtx"])
        assert report.total("quarantined") == 0
        counts = {node.table: store.count(node.table) for node in NODES if store.count(node.table)}
    assert counts == COUNTS[relative]


def test_tunnelled_rdp_rows() -> None:
    with Store() as store:
        ingest([shared_dataset("EVTX-ATTACK-SAMPLES/Command and Control")], store, include=["*.evtx"])
        logons = rows(
            store,
            "authentication_authentication",
            "src = '127.0.0.1' AND Logon_Type = '10'",
            "signature_id, lower(user)",
        )
        traffic = rows(
            store,
            "network_traffic_all_traffic",
            "dest_ip = '127.0.0.2' AND dest_port = '3389'",
            "vendor_product, _time",
        )
        registry = rows(store, "endpoint_registry")
    assert [(r["signature_id"], r["user"], r["dest"]) for r in logons] == [
        ("1149", "admin01", "PC01.example.corp"),
        ("4624", "admin01", "PC01.example.corp"),
        ("4624", "IEUser", "PC02.example.corp"),
    ]
    assert all(r["action"] == "success" and r["app"] == "win:remote" for r in logons)
    # plink's outbound leg to the forwarded RDP port: twice through WFP 5156, twice through Sysmon 3
    assert [(r["process_name"], r["src_ip"], r["direction"], r["vendor_product"]) for r in traffic] == [
        ("plink.exe", "127.0.0.1", "outbound", "Microsoft Sysmon"),
        ("plink.exe", "127.0.0.1", "outbound", "Microsoft Sysmon"),
        ("plink.exe", "127.0.0.1", "outbound", "Microsoft Windows"),
        ("plink.exe", "127.0.0.1", "outbound", "Microsoft Windows"),
    ]
    assert registry == []


def test_sysmon_registry_events_of_the_attack_samples() -> None:
    """EVTX-ATTACK-SAMPLES' Sysmon 12/13 (UACME and Atomic Red Team runs) land with the add-on's fields."""
    with Store() as store:
        ingest([shared_dataset("EVTX-ATTACK-SAMPLES")], store, include=["*.evtx"])
        actions = store.query("SELECT action, count(*) AS n FROM endpoint_registry GROUP BY 1 ORDER BY 1").to_pylist()
        missing = store.query(
            "SELECT count(*) AS n FROM endpoint_registry WHERE registry_path IS NULL OR registry_key_name IS NULL"
            " OR dest IS NULL OR process_guid IS NULL"
        ).to_pylist()
    assert sum(a["n"] for a in actions) == 40 and all(
        a["action"] in ("created", "deleted", "modified") for a in actions
    )
    assert missing == [{"n": 0}]


def test_every_node_row_has_splunks_default_fields_as_its_raw_event_does() -> None:
    """host, source, sourcetype, index of each data-model row (real EVTX): host is the event's Computer,
    source its channel (`XmlWinEventLog:<Channel>`), index `main`; host and source equal those of the
    same record in the events table, so `tstats ... by host` and a raw search agree."""
    with Store() as store:
        ingest([shared_dataset("EVTX-ATTACK-SAMPLES/Command and Control")], store, include=["*.evtx"])
        for node in NODES:
            if not store.count(node.table):
                continue
            mismatched = rows(
                store,
                f"{node.table} n JOIN events e USING (_source, _offset)",
                "n.host IS DISTINCT FROM e.host OR n.source IS DISTINCT FROM e.source OR n.host IS NULL"
                " OR n.host IS DISTINCT FROM e.Computer OR n.source <> 'XmlWinEventLog:' || e.Channel"
                " OR n.index <> 'main' OR n.sourcetype <> 'WinEventLog:evtx'",
                "_source, _offset",
            )
            assert mismatched == [], node.table
        grouped = store.query(
            "SELECT host, source, count(*) AS n FROM authentication_authentication GROUP BY ALL ORDER BY ALL"
        ).to_pylist()
    rdp = "XmlWinEventLog:Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational"
    assert [(r["host"], r["source"], r["n"]) for r in grouped] == [
        ("IEWIN7", rdp, 2),
        ("PC01.example.corp", rdp, 9),
        ("PC01.example.corp", "XmlWinEventLog:Security", 8),
        ("PC02.example.corp", "XmlWinEventLog:Security", 18),
    ]
