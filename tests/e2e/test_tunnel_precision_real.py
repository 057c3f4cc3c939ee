"""Precision on real, benign logs: every shipped detection and behaviour analytic over the public corpora
in ../shared/datasets finds nothing, because none of them holds a tunnel service (their SOURCE.md say so
and a search of their strings agrees), while the data-model counts show the logs were really read."""

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
    ("EVTX-ATTACK-SAMPLES", {}),
    ("EVTX-to-MITRE-Attack", {}),
]


@pytest.mark.parametrize(("relative", "counts"), CORPORA, ids=[c[0].split("/")[0] + ":" + c[0][-24:] for c in CORPORA])
def test_no_tunnel_finding_on_real_benign_logs(relative: str, counts: dict[str, int]) -> None:
    source = shared_dataset(relative)
    content = load_content()
    with Store() as store:
        report = ingest([source], store, include=["*.evtx", "*.log", "*.gz", "*.zip"])
        assert report.total("ingested") > 0 and report.total("quarantined") == 0
        for table, expected in counts.items():
            assert store.count(table) == expected, table
        runs = run_detections(store, content.detections, content.macros, lookups=content.lookups)
        runs += hunt_behaviours(store, runs)
    assert all(run.error is None for run in runs)
    assert {run.detection.name: run.rows for run in runs if run.rows} == {}
