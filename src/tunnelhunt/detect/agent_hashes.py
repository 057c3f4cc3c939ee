"""Known agent binaries by hash: learned from the agent detections' findings, kept in the store.

Why: once a command line has shown that a file is ngrok (`svchost32.exe tcp 3389`), every other run
of the same file is ngrok too, whatever it is called and whatever it is told: `svchost32.exe version`,
a copy under another name on another host, or a run whose arguments live in a config file. The hashes
(SHA256 from the `process_hash` field, where the telemetry has one) are kept in a store table, so with
`--db` a binary identified last week is recognised today.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyarrow as pa

from tunnelhunt.cim import PROCESSES
from tunnelhunt.detect.dns_state import window_sql
from tunnelhunt.detect.runner import DetectionRun
from tunnelhunt.spl.window import TimeWindow
from tunnelhunt.store.duckdb_store import Store

TABLE = "state_tunnel_agent_hashes"
_SHA256 = re.compile(r"SHA256=([0-9A-Fa-f]{64})")
_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (sha256 VARCHAR PRIMARY KEY, service VARCHAR NOT NULL, "
    "known_as VARCHAR, first_host VARCHAR, first_process VARCHAR)"
)


def sha256_of(process_hash: object) -> str | None:
    """The SHA256 in a `process_hash` value (`SHA1=..,MD5=..,SHA256=..`), upper case; None without one."""
    if not isinstance(process_hash, str):
        return None
    match = _SHA256.search(process_hash)
    return match.group(1).upper() if match else None


class AgentHashes:
    """Learns agent hashes from findings and finds the other runs of the same files."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.con.execute(_CREATE)

    def learn(self, runs: Iterable[DetectionRun], services_by_detection: dict[str, str]) -> int:
        """Remember the hashes of the processes the named agent detections found; returns how many are new."""
        rows: dict[str, tuple[str, str, object, object, object]] = {}
        for run in runs:
            service = services_by_detection.get(run.detection.name)
            if not service:
                continue
            for finding in run.rows:
                digest = sha256_of(finding.get("process_hash"))
                if digest and digest not in rows:
                    rows[digest] = (digest, service, finding.get("process_name"), finding.get("dest"),
                                    finding.get("process"))  # fmt: skip
        if not rows:
            return 0
        before = self.count()
        self.store.con.executemany(
            f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", list(rows.values())
        )
        return self.count() - before

    def count(self) -> int:
        rows = self.store.con.execute(f"SELECT count(*) FROM {TABLE}").fetchall()  # fetch all: leave no open result
        return int(rows[0][0]) if rows else 0

    def other_runs(self, flagged: Iterable[tuple[str, str]], window: TimeWindow | None = None) -> pa.Table:
        """Runs of known agent files in the window that no agent detection found (by host and command line)."""
        pairs = list(flagged)
        flagged_table = pa.table(
            {
                "host": pa.array([h for h, _ in pairs], pa.string()),
                "process": pa.array([p for _, p in pairs], pa.string()),
            }
        )
        sql = (
            'WITH p AS (SELECT _time, dest, "user", process_name, process, process_path, '
            "upper(regexp_extract(process_hash, 'SHA256=([0-9A-Fa-f]{64})', 1)) AS sha256 "
            f"FROM {PROCESSES.table} WHERE process_hash IS NOT NULL AND {window_sql(window)}) "
            'SELECT p.dest, p."user", p.process_name, p.process, p.process_path, p.sha256, h.service, h.known_as, '
            "h.first_host, count(*) AS count, min(p._time) AS firstTime, max(p._time) AS lastTime "
            f"FROM p JOIN {TABLE} h USING (sha256) "
            "WHERE NOT EXISTS (SELECT 1 FROM _flagged f WHERE f.host = lower(p.dest) AND f.process = p.process) "
            "GROUP BY ALL ORDER BY firstTime, p.dest"
        )
        con = self.store.con
        con.register("_flagged", flagged_table)
        try:
            return con.sql(sql).to_arrow_table()
        finally:
            con.unregister("_flagged")
