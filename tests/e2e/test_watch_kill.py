"""`tunnelhunt watch` as a real process: kill -9 at any moment, restart, and nothing is lost or repeated.

The log holds six hours of activity (the simulation's hits among thousands of noise events); the watcher
runs on an accelerated clock (`--clock-start`, `--clock-speed`). It is killed with SIGKILL at exact worst
moments through `TUNNELHUNT_CRASHPOINT`, and once at a moment of the clock's choosing: rows ingested
but not committed, a tick's results written but not committed, a sink file written but its cursor not
recorded. After each kill it is restarted; finally it runs to `--until`. The store and the JSON lines sink
must then hold exactly the events of the log and exactly the expected risk events and finding.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from tests.e2e.test_six_hour_simulation import MINUTES, START, expected_ticks, minute_of_events
from tests.helpers import dns_event
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore

NOISE_PER_MINUTE = 15
END = START + timedelta(minutes=MINUTES)


def write_log(path: Path) -> int:
    """Six hours of events; returns how many DNS events it holds."""
    dns = 0
    with path.open("w") as stream:
        for step in range(MINUTES):
            minute = START + timedelta(minutes=step)
            lines = minute_of_events(minute)
            # at random seconds: the same second of every minute would make each host a beacon to example.net
            chance = random.Random(step)
            stamps = [
                minute.strftime(f"%Y-%m-%dT%H:%M:{chance.randrange(60):02d}.0000000Z") for _ in range(NOISE_PER_MINUTE)
            ]
            lines += [
                dns_event(f"cdn{n}.example.net", computer=f"wks-{n % 7}", time=stamp) for n, stamp in enumerate(stamps)
            ]
            dns += sum("<EventID>22</EventID>" in line for line in lines)
            stream.write("\n".join(lines) + "\n")
    return dns


def watch(tmp_path: Path, *extra: str, crash: str | None = None) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "tunnelhunt.cli.app", "watch", str(tmp_path / "logs"),
        "--db", str(tmp_path / "hunt.duckdb"), "--sink", f"jsonl:{tmp_path / 'out'}",
        "--clock-start", START.isoformat(), "--clock-speed", "7200", "--since", START.isoformat(),
        "--until", END.isoformat(), "--interval", "0.05", *extra,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "TUNNELHUNT_CRASHPOINT"}
    if crash:
        env["TUNNELHUNT_CRASHPOINT"] = crash
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def kill_after(process: subprocess.Popen[bytes], seconds: float) -> None:
    time.sleep(seconds)
    assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)  # waits, and closes the pipes


def wait_for_stderr(process: subprocess.Popen[bytes], text: str, timeout: float = 60.0) -> None:
    """Read the process's standard error until a line holds `text` (however slow the machine)."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    seen: list[bytes] = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 0.2)
        if not ready:
            assert process.poll() is None, b"".join(seen).decode()
            continue
        line = process.stderr.readline()
        seen.append(line)
        if text.encode() in line:
            return
        assert line or process.poll() is None, b"".join(seen).decode()
    raise AssertionError(f"no {text!r} on standard error within {timeout} s: {b''.join(seen).decode()}")


def test_kill_9_and_restart_neither_loses_nor_duplicates(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    dns_events = write_log(tmp_path / "logs" / "sysmon.log")
    # the first ingest is killed at its commit first: a plain kill -9 after 0.9 s, made first, found the
    # log already ingested on a fast machine, and the next run had no ingest left to kill
    for point in ("ingest-before-commit:1", None, "tick-before-commit:3", "sink-after-write:2", "tick-before-commit:2"):
        if point is None:
            kill_after(watch(tmp_path), 0.9)  # a plain kill -9, at whatever moment that is
            continue
        crashed = watch(tmp_path, crash=point)
        _, err = crashed.communicate(timeout=60)
        assert crashed.returncode == -signal.SIGKILL, f"{point} was never reached: {err.decode()}"
    final = watch(tmp_path)
    _, err = final.communicate(timeout=60)
    assert final.returncode == 0, err.decode()

    with Store(tmp_path / "hunt.duckdb") as store:
        assert store.count("network_resolution_dns") == dns_events  # every event once
        rows = RbaStore(store).rows("SELECT risk_object, _time, risk_event_id FROM risk_events")
        findings = RbaStore(store).rows("SELECT risk_object, severity, _time FROM findings")
    expected = expected_ticks(timedelta(minutes=10), END)
    assert Counter((r["risk_object"], r["_time"]) for r in rows) == expected
    sink = [json.loads(line) for line in (tmp_path / "out" / "risk_events.jsonl").read_text().splitlines()]
    assert Counter((r["risk_object"], datetime.fromisoformat(r["_time"])) for r in sink) == expected
    assert [(f["risk_object"], f["severity"]) for f in findings] == [("wks-a", "medium")]
    sink_findings = (tmp_path / "out" / "findings.jsonl").read_text().splitlines()
    assert len(sink_findings) == 1


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "sysmon.log").write_text("\n".join(minute_of_events(START + timedelta(minutes=20))) + "\n")
    process = watch(tmp_path)
    wait_for_stderr(process, " ingested ")  # the first step is done: no fixed delay to outguess
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "stopped cleanly on SIGTERM" in err.decode()
    with Store(tmp_path / "hunt.duckdb") as store:  # the database is closed and consistent
        assert store.count("network_resolution_dns") == 2


def _backfill(tmp_path: Path, db: str, since: datetime, clock: datetime, *extra: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "tunnelhunt.cli.app", "watch", str(tmp_path / "logs"), "--db", str(tmp_path / db),
        "--since", since.isoformat(), "--clock-start", clock.isoformat(), "--interval", "0.05", *extra,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "TUNNELHUNT_CRASHPOINT"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def _schedule(db: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[tuple[object, ...]]]:
    with Store(db) as store:
        rba = RbaStore(store)
        return (
            sorted(tuple(r.values()) for r in rba.rows("SELECT detection_id, last_tick FROM schedule_state")),
            sorted(tuple(r.values()) for r in rba.rows("SELECT detection_id, earliest, latest FROM searched_windows")),
            sorted(tuple(r.values()) for r in rba.rows("SELECT result_id FROM detection_results")),
        )


def test_sigterm_during_a_long_backfill_stops_between_ticks_and_a_restart_resumes(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "sysmon.log").write_text("\n".join(minute_of_events(START + timedelta(minutes=20))) + "\n")
    since = START - timedelta(days=7)  # 168 hourly ticks of every detection: minutes of work
    process = _backfill(tmp_path, "hunt.duckdb", since, END)
    wait_for_stderr(process, f"tick {since + timedelta(hours=1):%Y-%m-%d %H:%M} UTC", 300)  # under way
    process.send_signal(signal.SIGTERM)
    # one tick takes seconds; before, the whole backfill ran first (a week: 12 minutes and more)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    assert "stopped cleanly on SIGTERM" in err.decode()
    ticks, _, _ = _schedule(tmp_path / "hunt.duckdb")
    last = max(tick for _, tick in ticks)  # type: ignore[type-var]
    assert since < last < END - timedelta(days=6)  # type: ignore[operator]  # stopped early in the backfill

    until = last + timedelta(hours=2)  # type: ignore[operator]
    resumed = _backfill(tmp_path, "hunt.duckdb", since, END, "--until", until.isoformat())
    reference = _backfill(tmp_path, "reference.duckdb", since, END, "--until", until.isoformat())
    for run in (resumed, reference):
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err.decode()
    assert _schedule(tmp_path / "hunt.duckdb") == _schedule(tmp_path / "reference.duckdb")
