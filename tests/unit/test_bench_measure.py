"""The benchmark's memory sampler sees a process tree's children, and the stored-table builder is exact."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.measure import run_measured
from bench.raw import SEARCHES, build_raw_events, time_searches
from bench.stored import build_stored

from tunnelhunt.store.duckdb_store import Store

CHILD_HOLDS_200MB = (
    "import subprocess, sys;"
    "subprocess.run([sys.executable, '-c', 'import time; b = bytearray(200 * 1024 * 1024); b[::4096] = b\"x\" * "
    "len(b[::4096]); time.sleep(0.5)'])"
)


def test_peak_memory_includes_children() -> None:
    result = run_measured([sys.executable, "-c", CHILD_HOLDS_200MB])
    assert result.returncode == 0
    assert result.peak_rss_mb > 180
    assert result.peak_rss_sum_mb >= result.peak_rss_mb


def test_stored_table_has_the_requested_events(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    build_stored(path, 5000)
    with Store(path) as store:
        assert store.count("endpoint_processes") + store.count("network_resolution_dns") == 5000
        assert store.count("endpoint_processes") == 3000


def test_raw_event_table_is_exact_and_every_raw_search_runs_on_it(tmp_path: Path) -> None:
    path = tmp_path / "r.duckdb"
    build_raw_events(path, 5000)
    with Store(path) as store:
        assert store.count("events") == 5000
        dns = store.query("SELECT count(*) AS n FROM events WHERE EventCode = '22'").column("n")[0].as_py()
        assert dns == 1000
    timings = time_searches(path)
    assert set(timings) == set(SEARCHES)
    assert timings["join"].rows == 1  # the one ngrok process and its DNS lookup share a ProcessGuid
    assert timings["in_list"].rows == 2 and timings["sysmon_macro"].rows >= 1  # pastebin.com and the ngrok lookup


def test_peer_row_counts_only_sigma_hits_as_triples(tmp_path: Path) -> None:
    """ESCU results (no `rule_id`) are not compared with Zircolite; each Sigma hit is (rule, file, record)."""
    import json

    from bench.peer import tunnelhunt_triples
    from bench.sigma import agreement

    results = tmp_path / "r.jsonl"
    rows = [
        {"detection": "Windows Ngrok Reverse Proxy Usage", "_source": "/x/a.evtx", "_offset": 7},
        {"detection": "ngrok", "rule_id": "r1", "_source": "/x/a.evtx", "_offset": 7},
        {"detection": "ngrok", "rule_id": "r1", "_source": "/y/b.evtx", "_offset": 9},
    ]
    results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ours = tunnelhunt_triples(results)
    assert ours == [("r1", "a.evtx", "7"), ("r1", "b.evtx", "9")]
    assert agreement(ours, [("r1", "a.evtx", "7"), ("r2", "a.evtx", "7")]) == {
        "common": 1,
        "only_tunnelhunt": 1,
        "only_zircolite": 1,
    }
