"""`serve --watch`: the watcher and the pages in one process, on one database (its lock is no wall)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.conftest import PROJECT
from tests.support.browser import free_port
from tests.support.web_data import SAMPLE


def _get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return dict(json.load(answer))


def test_serve_shows_what_its_watcher_ingests_into_the_same_database(tmp_path: Path) -> None:
    log = tmp_path / "sysmon.log"
    log.write_bytes(SAMPLE.read_bytes())
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT / "src")}
    command = [sys.executable, "-m", "tunnelhunt.cli.app", "serve", "--db", str(tmp_path / "th.duckdb"),
               "--watch", str(log), "--interval", "0.2", "--port", str(port)]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    query = urllib.parse.urlencode({"q": "index=main | stats count"})
    counts: list[object] = []
    try:
        deadline = time.monotonic() + 120  # a limit for a loaded machine, not a measurement
        while time.monotonic() < deadline and counts[-1:] != [5]:
            time.sleep(0.5)
            try:
                rows = _get(f"http://127.0.0.1:{port}/api/v1/search?{query}")["rows"]
            except OSError:
                continue  # not listening yet
            assert isinstance(rows, list)
            counts.append(rows[0]["count"] if rows else 0)
        assert counts[-1:] == [5], (counts, server.poll())
        assert _get(f"http://127.0.0.1:{port}/api/v1/findings")["latest_seq"] is not None
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0, err
    assert "watch stopped" not in err and f"127.0.0.1:{port}" in err
