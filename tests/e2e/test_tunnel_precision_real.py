"""Precision on real logs: every shipped detection and behaviour analytic over the public corpora in
../shared/datasets. None holds a tunnel service (their SOURCE.md say so and a search of their strings
agrees), so the service detections find nothing; two corpora do hold protocol tunnelling, and exactly
those events are found: EVTX-ATTACK-SAMPLES' RDP tunnelled through plink (`Command and Control/`: the plink
command line, its loopback connections to 3389, the loopback RDP logons) and EVTX-to-MITRE-Attack's netsh
port proxies (`T1572-Protocol tunneling/ID4688-netsh RDP port forwarding abuse.evtx`, one rule written in
netsh's abbreviated grammar). The beaconing analytic finds programs polling on a timer in the Zeek
recording (`BEACONS`, each explained); no corpus holds DNS tunnelling, and none is found. The data-model
counts show the logs were really read."""

from __future__ import annotations

import pytest

from tests.conftest import shared_dataset
from tunnelhunt.content.loader import load_content
from tunnelhunt.detect.behaviour import hunt_behaviours
from tunnelhunt.detect.runner import run_detections
from tunnelhunt.ingest.run import ingest
from tunnelhunt.store.duckdb_store import Store

CORPORA = [
    ("zed-sample-data/zeek-default/dns.log.gz", {"network_resolution_dns": 53_615}),
    ("zed-sample-data/zeek-json/dns.json.gz", {"network_resolution_dns": 53_615}),
    ("Security-Datasets/datasets/compound/apt29", {"network_resolution_dns": 303}),
    (
        "Security-Datasets/datasets/compound/LSASS_campaign_01/metasploit_logonpasswords_lsass_memory_dump.zip",
        {"endpoint_processes": 322, "network_resolution_dns": 51},
    ),
    (
        "Security-Datasets/datasets/compound/LSASS_campaign_05/metasploit_sharpdump_lsass_memory_dump.zip",
        {"endpoint_processes": 122, "network_resolution_dns": 441, "network_traffic_all_traffic": 889},
    ),
    ("EVTX-ATTACK-SAMPLES", {"authentication_authentication": 37, "network_traffic_all_traffic": 109}),
    ("EVTX-to-MITRE-Attack", {}),
    # every sample twice: the EVTX and its pretty-printed `evtx_dump` JSON (read as JSON documents)
    ("sigma/regression_data", {"endpoint_registry": 30}),
    ("suricata-verify", {}),
]

#: What each corpus holds of tunnelling, per detection: (grouping values) of each finding.
TUNNELLING: dict[str, dict[str, list[tuple[str, ...]]]] = {
    "EVTX-ATTACK-SAMPLES": {
        "SSH Tunnel to Remote Access Port or Loopback": [
            ("PC01.example.corp", "plink.exe  10.0.2.18 -P 80 -C -R 127.0.0.3:4444:127.0.0.2:3389 -l test -pw test")
        ],
        # plink's leg to the RDP listener, once through Sysmon 3 and once through WFP 5156
        "RDP Connection over Loopback": [("PC01.example.corp", "plink.exe"), ("PC01.example.corp", "plink.exe")],
        "RDP Logon from Loopback Address": [
            ("PC01.example.corp", "admin01"),
            ("PC01.example.corp", "admin01"),
            ("PC02.example.corp", "IEUser"),
        ],
    },
    "EVTX-to-MITRE-Attack": {
        "Netsh Port Proxy Rule Added": [
            ("fs01.offsec.lan", "netsh  I p a v l=8001 listena=0.0.0.0 connectp=3389 c=1.1.1.1"),
            (
                "fs01.offsec.lan",
                "netsh  interface portproxy add v4tov4 listenaddress=0.0.0.0 listenport=48333"
                " connectaddress=127.0.0.1 connectport=80",
            ),
        ],
    },
}
#: What each corpus holds of regular polling, found by the beaconing analytic: (zone, src) of each finding.
#: All in the Zeek recording of a CCDC exercise (WRCCDC 2018, 21 minutes), each a program on a timer:
#: ise.wrccdc.org every 30 s from every team network (Cisco ISE's posture agent), arena1.wrccdc.cpp.edu
#: every 60 s (the exercise's arena service), detectportal.firefox.com every 60 s (Firefox's captive portal
#: check), videosearch.ubuntu.com every 60 s (Ubuntu's Unity lens). Genuine beacons, benign ones; the
#: scoring engine's bursts of lookups under oompa.loompa (1-4 s apart for a minute) are below the
#: analytic's 10 s minimum interval, as is the LSASS campaign's continuous resolver traffic.
_WRCCDC_BEACONS = [
    ("cpp.edu", "10.47.6.154"),
    ("firefox.com", "10.47.1.153"),
    ("ubuntu.com", "10.47.5.155"),
    *(
        ("wrccdc.org", host)
        for host in (
            "10.47.1.100", "10.47.1.153", "10.47.2.153", "10.47.2.155", "10.47.4.100", "10.47.4.155",
            "10.47.5.100", "10.47.5.155", "10.47.5.156", "10.47.8.155",
        )
    ),
]  # fmt: skip
BEACONS: dict[str, dict[str, list[tuple[str, ...]]]] = {
    "zed-sample-data/zeek-default/dns.log.gz": {"Host Beaconing to One Destination": _WRCCDC_BEACONS},
    "zed-sample-data/zeek-json/dns.json.gz": {"Host Beaconing to One Destination": _WRCCDC_BEACONS},
}
_KEYS = ("process", "process_name", "user", "src")


@pytest.mark.parametrize(("relative", "counts"), CORPORA, ids=[c[0].split("/")[0] + ":" + c[0][-24:] for c in CORPORA])
def test_tunnel_findings_on_real_logs_are_exactly_the_tunnelling(relative: str, counts: dict[str, int]) -> None:
    source = shared_dataset(relative)
    content = load_content()
    with Store() as store:
        report = ingest([source], store, include=["*.evtx", "*.log", "*.gz", "*.zip", "*.json"])
        assert report.total("ingested") > 0 and report.total("quarantined") == 0
        for table, expected in counts.items():
            assert store.count(table) == expected, table
        runs = run_detections(store, content.detections, content.macros, lookups=content.lookups)
        runs += hunt_behaviours(store, runs)
    assert all(run.error is None for run in runs)
    found = {
        run.detection.name: sorted((row.get("dest") or row.get("dvc"), _detail(row)) for row in run.rows)
        for run in runs
        if run.rows
    }
    assert found == {**TUNNELLING.get(relative, {}), **BEACONS.get(relative, {})}


def _detail(row: dict[str, object]) -> str:
    """The command line where the finding has one, else the process, else the user."""
    return str(next(row[k] for k in _KEYS if row.get(k)))
