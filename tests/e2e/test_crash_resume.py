"""kill -9 in the middle of an ingest into a persistent store: the restart neither loses nor duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

RECORDS = 400_000
HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery\tanswers\n"
)
#: Ingest a file into a store, printing a line after every committed batch.
INGEST = (
    "import sys; from pathlib import Path; from tunnelhunt.ingest.run import ingest;"
    " from tunnelhunt.store.duckdb_store import Store;"
    " store = Store(Path(sys.argv[2]));"
    " r = ingest([Path(sys.argv[1])], store, on_progress=lambda p: print('batch', p.read, flush=True));"
    " store.close(); print(r.total('read'))"
)


def _write_log(path: Path) -> None:
    with path.open("w") as stream:
        stream.write(HEADER)
        for start in range(0, RECORDS, 10_000):
            stream.write(
                "".join(
                    f"{1_763_456_400 + i}.000001\tC{i:09d}\t10.0.{i % 256}.{i % 200}\t5{i % 1000:04d}"
                    f"\t10.0.0.1\t53\tudp\t{i % 65535}\thost{i}.example.org\t10.1.{i % 256}.1\n"
                    for i in range(start, start + 10_000)
                )
            )


def _ingest(log: Path, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", INGEST, str(log), str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")},
    )


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_mid_ingest_then_restart_gives_every_record_exactly_once(tmp_path: Path) -> None:
    log, db = tmp_path / "dns.log", tmp_path / "events.duckdb"
    _write_log(log)
    first = _ingest(log, db)
    assert first.stdout is not None
    committed = [first.stdout.readline(), first.stdout.readline()]  # two batches are in the store
    assert all(line.startswith("batch") for line in committed), committed
    first.send_signal(signal.SIGKILL)
    first.communicate()  # waits, and closes the pipes
    if first.returncode != -signal.SIGKILL:
        pytest.skip("the first ingest finished before it could be killed")

    with duckdb.connect(str(db)) as con:
        partial = con.execute("SELECT count(*) FROM network_resolution_dns").fetchone()
    assert partial is not None and 0 < partial[0] < RECORDS

    second = _ingest(log, db)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert int(out.split()[-1]) == RECORDS - partial[0]  # only what the killed run had not committed

    with duckdb.connect(str(db)) as con:
        total, distinct = con.execute("SELECT count(*), count(DISTINCT _offset) FROM network_resolution_dns").fetchone()  # type: ignore[misc]
        assert total == distinct == RECORDS
