"""The Parquet lake: hive partitions by data model and date, and DuckDB over it sees what the store saw."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import dns_event, process_event
from tunnelhunt.cli.app import app
from tunnelhunt.ingest.run import ingest
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.lake import LakeStore, LakeWriter, lake_has_data

ROWS = "SELECT * FROM {table} ORDER BY _source, _offset"


def _log(path: Path) -> Path:
    lines = [
        process_event("ngrok.exe http 80", time="2026-11-19T23:59:59.9999999Z"),
        process_event("ngrok.exe tcp 22", time="2026-11-20T00:00:00.0000000Z"),
        dns_event("a.ngrok.io", results="type:  5 x.ngrok.io;::ffff:1.2.3.4;", time="2026-11-20T01:00:00.0Z"),
        dns_event("example.com", results="", time="2026-11-21T01:00:00.0Z"),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_lake_partitions_by_model_and_date_and_reads_back_the_same_rows(tmp_path: Path) -> None:
    log = _log(tmp_path / "a.log")
    lake = tmp_path / "lake"
    with LakeWriter(lake, flush_bytes=1) as writer:  # a write per batch: several row groups per file
        ingest([log], writer)
    partitions = sorted(str(p.parent.relative_to(lake)) for p in lake.rglob("*.parquet"))
    assert partitions == [
        "datamodel=Endpoint/node=Processes/date=2026-11-19",
        "datamodel=Endpoint/node=Processes/date=2026-11-20",
        "datamodel=Network_Resolution/node=DNS/date=2026-11-20",
        "datamodel=Network_Resolution/node=DNS/date=2026-11-21",
        "datamodel=raw/sourcetype=XmlWinEventLog/date=2026-11-19",
        "datamodel=raw/sourcetype=XmlWinEventLog/date=2026-11-20",
        "datamodel=raw/sourcetype=XmlWinEventLog/date=2026-11-21",
    ]
    with Store() as store, LakeStore(lake) as lake_store:
        ingest([log], store)
        for table in ("endpoint_processes", "network_resolution_dns", "network_traffic_all_traffic", "events"):
            expected = store.query(ROWS.format(table=table))
            got = lake_store.query(ROWS.format(table=table))
            assert got.schema == expected.schema
            assert got.to_pylist() == expected.to_pylist()


def test_appends_accumulate_and_empty_lake_has_no_data(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    assert not lake_has_data(lake)
    log = _log(tmp_path / "a.log")
    for _ in range(2):
        with LakeWriter(lake) as writer:
            ingest([log], writer)
    with LakeStore(lake) as lake_store:
        assert lake_store.count("endpoint_processes") == 4


def test_hunt_writes_the_lake_then_hunts_it_without_logs(tmp_path: Path) -> None:
    log = _log(tmp_path / "a.log")
    lake = tmp_path / "lake"
    runner = CliRunner()
    first = runner.invoke(app, ["hunt", str(log), "--lake", str(lake), "-o", "jsonl", "--out", str(tmp_path / "1")])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["hunt", "--lake", str(lake), "-o", "jsonl", "--out", str(tmp_path / "2")])
    assert again.exit_code == 0, again.output
    direct = runner.invoke(app, ["hunt", str(log), "-o", "jsonl", "--out", str(tmp_path / "3")])
    assert direct.exit_code == 0, direct.output
    findings = (tmp_path / "1").read_text()
    seeds = {"Ngrok Reverse Proxy on Network", "Windows Ngrok Reverse Proxy Usage"}
    seed_rows = [row for row in map(json.loads, findings.splitlines()) if row["detection"] in seeds]
    assert len(seed_rows) == 4  # two ngrok runs, and one ngrok lookup with two answers (a row each)
    assert findings == (tmp_path / "2").read_text() == (tmp_path / "3").read_text()


def test_hunt_refuses_inconsistent_lake_options(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["hunt", "--lake", str(tmp_path / "none")]).exit_code == 1
    assert runner.invoke(app, ["hunt", "--engine", "spark"]).exit_code == 1
    assert runner.invoke(app, ["hunt"]).exit_code == 1
    log = _log(tmp_path / "a.log")
    both = ["hunt", str(log), "--lake", str(tmp_path / "l"), "--db", str(tmp_path / "d.duckdb")]
    assert runner.invoke(app, both).exit_code == 1
