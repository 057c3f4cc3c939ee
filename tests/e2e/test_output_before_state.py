"""Output is durable before the state that remembers it commits (issue 19, item 9).

The first-seen analytics and the incident rules' throttling remember what a pass saw: a pass committed
before its output was written gives that output only once. So `hunt --out/--risk` writes its files
(whole, by rename) while the pass is uncommitted: an unwritable `--out` is an error that stores no
result, and a crash between the files and the commit gives the same files again on the next hunt (at
least once). `run`'s sinks keep a cursor in the store that advances only after the sink wrote: a sink
that cannot write gets everything on the next run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import dns_event
from tunnelhunt.cli.app import app
from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore

FIRST_SEEN = "Tunnel Service Domain First Seen on Host"


def _log(tmp_path: Path) -> Path:
    log = tmp_path / "dns.log"
    lines = [
        dns_event("abc.ngrok-free.app", computer="wks-1", time="2026-11-20T10:00:00.0000000Z"),
        dns_event("tunnel.us.ngrok.com", computer="wks-1", time="2026-11-20T10:00:05.0000000Z"),
    ]
    log.write_text("\n".join(lines) + "\n")
    return log


def _hunt(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["hunt", *args])
    return result.exit_code, result.stderr


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _recorded(db: Path) -> tuple[int, int, int]:
    with Store(db) as store:
        rba = RbaStore(store)
        return tuple(  # type: ignore[return-value]
            rba.rows(f"SELECT count(*) AS n FROM {table}")[0]["n"]
            for table in ("detection_results", "risk_events", "findings")
        )


def _expected(tmp_path: Path, log: Path) -> tuple[list[dict[str, object]], tuple[int, int, int]]:
    """What one hunt into a fresh database writes and records."""
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    code, err = _hunt(str(log), "--db", str(fresh / "h.duckdb"), "--out", str(fresh / "out.jsonl"))
    assert code == ExitCode.OK, err
    rows = _lines(fresh / "out.jsonl")
    assert sum(row["detection"] == FIRST_SEEN for row in rows) == 2  # the rows a committed state hides
    return rows, _recorded(fresh / "h.duckdb")


def test_an_unwritable_out_stores_nothing_and_the_next_hunt_writes_everything(tmp_path: Path) -> None:
    log = _log(tmp_path)
    rows, recorded = _expected(tmp_path, log)
    db, blocker = tmp_path / "h.duckdb", tmp_path / "blocker"
    blocker.write_text("a file where --out wants a folder")
    risk = ["--risk", str(tmp_path / "r.jsonl")]
    code, err = _hunt(str(log), "--db", str(db), "--out", str(blocker / "out.jsonl"), *risk)
    assert code == ExitCode.ERROR
    assert "cannot write the output" in err and "blocker" in err and "Traceback" not in err
    assert _recorded(db) == (0, 0, 0)
    assert not (tmp_path / "r.jsonl").exists()  # written after --out, in the same pass: not at all

    out = tmp_path / "out.jsonl"
    code, err = _hunt(str(log), "--db", str(db), "--out", str(out), *risk)
    assert code == ExitCode.OK, err
    assert _lines(out) == rows
    assert _recorded(db) == recorded
    assert len(_lines(tmp_path / "r.jsonl")) == recorded[1]


def test_a_crash_after_the_output_gives_it_again_and_records_it_once(tmp_path: Path) -> None:
    log = _log(tmp_path)
    rows, recorded = _expected(tmp_path, log)
    db, out = tmp_path / "h.duckdb", tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "tunnelhunt.cli.app", "hunt", str(log), "--db", str(db), "--out", str(out)]
    env = {**os.environ, "TUNNELHUNT_CRASHPOINT": "hunt-after-output:1"}
    crashed = subprocess.run(command, capture_output=True, env=env, timeout=120)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()
    assert _lines(out) == rows  # written whole before the state
    assert _recorded(db) == (0, 0, 0)
    out.unlink()

    code, err = _hunt(str(log), "--db", str(db), "--out", str(out))
    assert code == ExitCode.OK, err
    assert _lines(out) == rows  # delivered again: at least once
    assert _recorded(db) == recorded  # recorded once
    code, err = _hunt(str(log), "--db", str(db), "--out", str(out))
    assert _recorded(db) == recorded


def test_a_run_whose_sink_cannot_write_delivers_everything_next_time(tmp_path: Path) -> None:
    log, db, target = _log(tmp_path), tmp_path / "h.duckdb", tmp_path / "sink"
    target.write_text("a file where the sink wants its folder")
    sink = ["--sink", f"jsonl:{target}"]
    first = CliRunner().invoke(app, ["run", "--at", "2026-11-20T11:00:00Z", "--db", str(db), str(log), *sink])
    assert first.exit_code == ExitCode.DELIVERY_FAILED, first.stderr
    _, risk_events, findings = _recorded(db)
    assert risk_events and findings  # the tick committed; its items wait in the store for the sink
    target.unlink()
    again = CliRunner().invoke(app, ["run", "--at", "2026-11-20T11:00:00Z", "--db", str(db), *sink])
    assert again.exit_code == ExitCode.OK, again.stderr
    assert len(_lines(target / "risk_events.jsonl")) == risk_events
    assert len(_lines(target / "findings.jsonl")) == findings
