"""Following files: only new complete lines, correct line numbers, rotation and truncation."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import dns_event
from tunnelhunt.schedule.follow import Follower
from tunnelhunt.store.duckdb_store import Store


def hit(n: int) -> str:
    return dns_event(f"n{n}.ngrok.io", time=f"2026-11-20T10:{n % 60:02d}:00Z")


def queries(store: Store) -> list[str]:
    return store.query('SELECT "query" FROM network_resolution_dns ORDER BY _source, _offset').column(0).to_pylist()


def test_growing_file_is_ingested_once_with_real_line_numbers(tmp_path: Path) -> None:
    log = tmp_path / "sysmon.log"
    log.write_text(hit(0) + "\n" + hit(1) + "\n")
    store = Store()
    follower = Follower(store)
    assert follower.poll([log]).total("ingested") == 2
    assert follower.poll([log]).total("ingested") == 0
    with log.open("a") as stream:
        stream.write(hit(2) + "\n<Event broken\n" + hit(3)[:100])  # a bad line and a line still being written
    report = follower.poll([log])
    assert (report.total("ingested"), report.total("quarantined")) == (1, 1)
    assert report.quarantine[0].source == str(log) and report.quarantine[0].offset == 4
    with log.open("a") as stream:
        stream.write(hit(3)[100:] + "\n")
    assert follower.poll([log]).total("ingested") == 1
    assert queries(store) == ["n0.ngrok.io", "n1.ngrok.io", "n2.ngrok.io", "n3.ngrok.io"]
    offsets = store.query("SELECT _offset FROM network_resolution_dns ORDER BY _offset").column(0).to_pylist()
    assert offsets == [1, 2, 3, 5]
    # a new follower on the same store (a restart) carries on from the checkpoint
    assert Follower(store).poll([log]).total("ingested") == 0


def test_rotation_by_rename_finishes_the_old_file_and_starts_the_new(tmp_path: Path) -> None:
    log = tmp_path / "sysmon.log"
    log.write_text(hit(0) + "\n")
    store = Store()
    follower = Follower(store)
    follower.poll([tmp_path])
    with log.open("a") as stream:
        stream.write(hit(1) + "\n")  # written just before rotation, not yet read
    os.rename(log, tmp_path / "sysmon.log.1")
    log.write_text(hit(2) + "\n")
    assert follower.poll([tmp_path]).total("ingested") == 2
    assert follower.poll([tmp_path]).total("ingested") == 0
    assert sorted(queries(store)) == ["n0.ngrok.io", "n1.ngrok.io", "n2.ngrok.io"]


def test_truncated_file_is_read_again_from_the_start(tmp_path: Path) -> None:
    log = tmp_path / "sysmon.log"
    log.write_text(hit(0) + "\n" + hit(1) + "\n")
    store = Store()
    follower = Follower(store)
    follower.poll([log])
    log.write_text(hit(5) + "\n")  # copytruncate-style rotation: same inode, shorter content
    assert follower.poll([log]).total("ingested") == 1
    assert sorted(queries(store)) == ["n0.ngrok.io", "n1.ngrok.io", "n5.ngrok.io"]


def test_rewritten_file_of_the_same_size_is_detected_by_fingerprint(tmp_path: Path) -> None:
    log = tmp_path / "sysmon.log"
    log.write_text(hit(0) + "\n")
    store = Store()
    follower = Follower(store)
    follower.poll([log])
    with log.open("r+") as stream:  # same inode, different first bytes, then grown
        stream.write(hit(7) + "\n" + hit(8) + "\n")
    assert follower.poll([log]).total("ingested") == 2


def test_missing_paths_are_waited_for(tmp_path: Path) -> None:
    store = Store()
    follower = Follower(store)
    assert follower.poll([tmp_path / "later.log"]).files == []
    (tmp_path / "later.log").write_text(hit(0) + "\n")
    assert follower.poll([tmp_path / "later.log"]).total("ingested") == 1
