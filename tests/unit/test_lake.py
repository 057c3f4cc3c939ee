"""The Parquet lake: hive partitions by data model and date, and DuckDB over it sees what the store saw."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.helpers import dns_event, process_event
from tunnelhunt.cim import NODES
from tunnelhunt.cli.app import app
from tunnelhunt.generate import generate_sysmon
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


@pytest.fixture(scope="module")
def sysmon_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_sysmon(tmp_path_factory.mktemp("sysmon"), events=3000, seed=3).path


def test_writer_holds_at_most_flush_bytes_and_appends_row_groups_to_one_file_per_partition(
    tmp_path: Path, sysmon_log: Path
) -> None:
    tables = ("endpoint_processes", "network_resolution_dns", "network_traffic_all_traffic", "events")
    lake = tmp_path / "lake"
    held: list[int] = []
    with Store() as store:
        ingest([sysmon_log], store)
        expected = {table: store.query(ROWS.format(table=table)) for table in tables}
    with LakeWriter(lake, flush_bytes=300_000) as writer:
        for start in range(0, 3000, 200):  # batches as ingest hands them over, the tables interleaved
            for table in tables:
                writer.append(table, expected[table].slice(start, 200))
                held.append(writer.buffered_bytes)
    assert max(held) < 300_000 and any(held)  # rows did wait, never more than the bound
    files = sorted(lake.rglob("*.parquet"))
    assert len(files) == len({f.parent for f in files})  # one file per partition for the run
    assert not [p for p in lake.rglob("*") if p.is_file() and p.suffix != ".parquet"]
    raw = next(f for f in files if "datamodel=raw" in str(f))
    assert pq.ParquetFile(raw).metadata.num_row_groups > 1  # flushed several times into the same file
    with LakeStore(lake) as lake_store:
        for table in tables:
            assert lake_store.query(ROWS.format(table=table)) == expected[table]


def test_a_writer_that_never_closes_leaves_nothing_a_reader_sees(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    writer = LakeWriter(lake, flush_bytes=1)  # every batch written at once, into files still open
    ingest([_log(tmp_path / "a.log")], writer)
    assert [p.name for p in lake.rglob("*") if p.is_file() and p.name.endswith(".parquet.partial")]
    assert not lake_has_data(lake)
    with LakeStore(lake) as lake_store:  # the killed run's files are not read (nor fail the read)
        assert lake_store.count("endpoint_processes") == lake_store.count("events") == 0
    writer.close()
    assert lake_has_data(lake)


def test_a_lake_of_many_small_files_gives_the_memory_stores_findings(tmp_path: Path, sysmon_log: Path) -> None:
    lake = tmp_path / "lake"
    with Store() as store, LakeWriter(lake, flush_bytes=100_000, open_files=1) as writer:
        ingest([sysmon_log], store)
        everything = {table: store.query(f"SELECT * FROM {table}") for table in [n.table for n in NODES] + ["events"]}
        for start in range(0, 3000, 200):  # a file finished at every switch of table
            for table, rows in everything.items():
                writer.append(table, rows.slice(start, 200))
    files = list(lake.rglob("*.parquet"))
    assert len(files) > len({f.parent for f in files})
    runner = CliRunner()
    from_lake = runner.invoke(app, ["hunt", "--lake", str(lake), "-o", "jsonl", "--out", str(tmp_path / "1")])
    assert from_lake.exit_code == 0, from_lake.output
    direct = runner.invoke(app, ["hunt", str(sysmon_log), "-o", "jsonl", "--out", str(tmp_path / "2")])
    assert direct.exit_code == 0, direct.output
    findings = (tmp_path / "1").read_text()
    assert findings.count("\n") > 5 and findings == (tmp_path / "2").read_text()
