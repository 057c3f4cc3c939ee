"""Exactly-once ingest with a persistent store: same file adds nothing, a grown file only its new part."""

from __future__ import annotations

import functools
import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support import formats as F
from tests.support.evtx_writer import windows_event, write_evtx
from tests.support.ingesting import count, ingest_into, rows
from tunnelhunt.ingest.run import ingest
from tunnelhunt.readers.lines import line_blocks
from tunnelhunt.store.checkpoints import FINGERPRINT_BYTES
from tunnelhunt.store.duckdb_store import Store

TABLE = "network_resolution_dns"


def _zeek_json_lines(start: int, stop: int) -> str:
    return "".join(
        json.dumps(
            {"_path": "dns", "ts": 1_700_000_000 + i, "uid": f"C{i}", "id.orig_h": "10.0.0.1", "query": f"q{i}.example"}
        )
        + "\n"
        for i in range(start, stop)
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "events.duckdb"


def test_ingesting_the_same_file_twice_adds_nothing(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "dns.json"
    path.write_text(_zeek_json_lines(0, 50))
    with Store(db) as store:
        first = ingest_into(store, path)
    with Store(db) as store:  # a later run, a new process in real life
        second = ingest_into(store, path)
        assert count(store, TABLE) == 50
    assert (first.total("read"), second.total("read")) == (50, 0)
    assert second.files[0].resumed_from is not None


def test_a_grown_file_adds_only_its_new_lines_with_true_line_numbers(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "dns.json"
    path.write_text(_zeek_json_lines(0, 30))
    with Store(db) as store:
        ingest_into(store, path)
        with path.open("a") as stream:
            stream.write(_zeek_json_lines(30, 45))
        report = ingest_into(store, path)
        assert report.total("read") == 15
        assert count(store, TABLE) == 45
        assert [r["_offset"] for r in rows(store, TABLE, "_offset > 30")] == list(range(31, 46))


def test_a_file_smaller_than_the_fingerprint_keeps_its_identity_as_it_grows(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "dns.json"
    path.write_text(_zeek_json_lines(0, 1))
    assert path.stat().st_size < FINGERPRINT_BYTES
    with Store(db) as store:
        ingest_into(store, path)
        for start, stop in ((1, 2), (2, 20), (20, 40)):
            with path.open("a") as stream:
                stream.write(_zeek_json_lines(start, stop))
            assert ingest_into(store, path).total("read") == stop - start
        uids = [r["uid"] for r in store.query("SELECT query AS uid FROM network_resolution_dns").to_pylist()]
        assert len(uids) == len(set(uids)) == 40


def test_a_different_file_at_the_same_path_is_read_from_the_start(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "dns.json"
    path.write_text(_zeek_json_lines(0, 20))
    with Store(db) as store:
        ingest_into(store, path)
        path.write_text(_zeek_json_lines(100, 105))  # replaced: shorter, other first bytes
        report = ingest_into(store, path)
        assert report.total("read") == 5 and report.files[0].resumed_from is None
        assert count(store, TABLE) == 25


def test_a_rotated_file_is_recognised_under_its_new_name(tmp_path: Path, db: Path) -> None:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    current = log_dir / "dns.json"
    current.write_text(_zeek_json_lines(0, 20))
    with Store(db) as store:
        ingest_into(store, log_dir)
        with current.open("a") as stream:
            stream.write(_zeek_json_lines(20, 25))  # grew before rotation
        current.rename(log_dir / "dns.json.1")
        current.write_text(_zeek_json_lines(500, 510))  # the new file
        report = ingest_into(store, log_dir)
        by_name = {Path(f.path).name: f.read for f in report.files}
        assert by_name == {"dns.json": 10, "dns.json.1": 5}
        assert count(store, TABLE) == 35


def test_a_grown_evtx_file_adds_only_new_records(tmp_path: Path, db: Path) -> None:
    events = [
        windows_event(1, F.stamp(i), "h", *F.SYSMON, {"Image": f"C:\\p{i}.exe", "CommandLine": f"p{i}"}, i + 1)
        for i in range(45)
    ]
    path = tmp_path / "Sysmon.evtx"
    write_evtx(path, events[:20], per_chunk=10)
    with Store(db) as store:
        assert ingest_into(store, path).total("ingested") == 20
        write_evtx(path, events, per_chunk=10)  # the log kept growing
        report = ingest_into(store, path)
        assert report.total("read") == 25 and report.files[0].resumed_from is not None
        assert count(store, "endpoint_processes") == 45
        assert ingest_into(store, path).total("read") == 0


def test_compressed_files_and_zip_members_are_exactly_once_too(tmp_path: Path, db: Path) -> None:
    gz = tmp_path / "dns.json.gz"
    gz.write_bytes(gzip.compress(_zeek_json_lines(0, 30).encode()))
    eve = tmp_path / "eve.json"
    F.write_suricata(eve, 5)
    archive = F.zip_files(tmp_path / "a.zip", [eve])
    with Store(db) as store:
        first = ingest_into(store, gz, archive)
        again = ingest_into(store, gz, archive)
        assert first.total("read") == 40 and again.total("read") == 0


def test_a_line_being_written_is_left_for_the_next_call_when_not_final(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "dns.json"
    complete = _zeek_json_lines(0, 10)
    partial = _zeek_json_lines(10, 11)
    path.write_text(complete + partial[:25])
    with Store(db) as store:
        assert ingest_into(store, path, final=False).total("read") == 10
        path.write_text(complete + partial)
        report = ingest_into(store, path, final=False)
        assert report.total("read") == 1 and report.total("quarantined") == 0
        assert count(store, TABLE) == 11


def test_a_failure_inside_the_batch_transaction_leaves_neither_rows_nor_checkpoint(
    tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dns.json"
    path.write_text(_zeek_json_lines(0, 10))
    with Store(db) as store:

        def broken(*args: object, **kwargs: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(store.checkpoints, "advance", broken)
        report = ingest_into(store, path)
        assert report.files[0].error and "disk full" in report.files[0].error
        assert count(store, TABLE) == 0
        monkeypatch.undo()
        assert ingest_into(store, path).total("ingested") == 10
        assert count(store, TABLE) == 10


def test_a_failed_transaction_of_several_inputs_stores_each_again_so_only_the_failing_one_stops(
    tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inputs share one transaction; when it fails, each is read again and stored alone."""
    good, bad = tmp_path / "a.json", tmp_path / "b.json"
    good.write_text(_zeek_json_lines(0, 10))
    bad.write_text(_zeek_json_lines(10, 25))
    with Store(db) as store:
        advance_many = store.checkpoints.advance_many

        def fails_for_b(items: list[Any]) -> None:  # so the transaction holding both fails
            if any(identity.source.endswith("b.json") for _previous, identity, *_rest in items):
                raise OSError("disk full")
            advance_many(items)

        monkeypatch.setattr(store.checkpoints, "advance_many", fails_for_b)
        report = ingest_into(store, tmp_path)
        by_name = {Path(f.path).name: f for f in report.files}
        assert by_name["a.json"].error is None and by_name["a.json"].ingested == 10
        assert by_name["b.json"].error and "disk full" in by_name["b.json"].error
        assert by_name["b.json"].ingested == 0
        assert count(store, TABLE) == 10
        monkeypatch.undo()
        assert ingest_into(store, tmp_path).total("ingested") == 15  # b from its start, a not again
        assert count(store, TABLE) == 25


def test_a_large_input_is_committed_in_parts_and_a_failed_part_is_read_again_from_where_it_began(
    tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dns.json"
    path.write_text(_zeek_json_lines(0, 60))
    small_blocks = functools.partial(line_blocks, block_bytes=2000)  # batches of about 13 lines
    monkeypatch.setattr("tunnelhunt.readers.jsonl.line_blocks", small_blocks)
    monkeypatch.setattr("tunnelhunt.ingest.run.COMMIT_ROWS", 20)  # a transaction of two batches
    with Store(db) as store:
        advance_many = store.checkpoints.advance_many
        calls: list[int] = []

        def second_fails(items: list[Any]) -> None:
            calls.append(len(items))
            if len(calls) == 2:
                raise OSError("disk full")
            advance_many(items)

        monkeypatch.setattr(store.checkpoints, "advance_many", second_fails)
        seen: list[int] = []
        report = ingest([path], store, on_progress=lambda progress: seen.append(progress.read))
        assert report.files[0].error is None and report.total("ingested") == 60, report.files[0]
        assert len(calls) >= 3  # committed in parts: the first, the failed second, and the rest
        assert seen[0] < 60  # the first part was counted before the input was read to its end
        assert [r["_offset"] for r in rows(store, TABLE)] == list(range(1, 61))  # each line once
        monkeypatch.undo()
        assert ingest_into(store, path).total("read") == 0


def test_copies_of_a_file_under_two_names_are_both_read(tmp_path: Path, db: Path) -> None:
    first = tmp_path / "a.json"
    first.write_text(_zeek_json_lines(0, 5))
    shutil.copy(first, tmp_path / "b.json")
    with Store(db) as store:
        assert ingest_into(store, first, tmp_path / "b.json").total("read") == 10


def test_an_input_read_alone_is_stored_batch_by_batch_not_held_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inline, each batch is handed to the store before the next is read: memory holds one batch of an
    input, whatever its size (a whole unit held all of them: 1.1 GB for 300 MB of JSON lines)."""
    from tunnelhunt.ingest import run as ingest_run
    from tunnelhunt.normalize.normalizer import Normalizer

    path = tmp_path / "dns.json"
    path.write_text(_zeek_json_lines(0, 60))
    monkeypatch.setattr("tunnelhunt.readers.jsonl.line_blocks", functools.partial(line_blocks, block_bytes=2000))
    order: list[str] = []
    normalize, stage = Normalizer.normalize, ingest_run._Run.stage
    monkeypatch.setattr(Normalizer, "normalize", lambda self, batch: (order.append("read"), normalize(self, batch))[1])
    monkeypatch.setattr(ingest_run._Run, "stage", lambda self, *a: (order.append("store"), stage(self, *a))[1])
    with Store() as store:
        report = ingest([path], store, workers=1)
        assert report.total("ingested") == 60 and [r["_offset"] for r in rows(store, TABLE)] == list(range(1, 61))
    assert order.count("read") >= 3
    assert order == ["read", "store"] * order.count("read")
