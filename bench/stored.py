"""Detections over a large stored table: build N synthetic normalised events in a DuckDB file, time the hunt.

Rows are made by DuckDB itself (no parsing), with realistic value pools: a few hundred hosts and
users, common Windows processes with varied command lines, and DNS names with one or more answers.
A small share is ngrok activity, plus near misses, so the detections return a handful of rows
while having to scan every event, which is the cost that matters at scale.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from tunnelhunt.content.loader import ContentSet, load_content
from tunnelhunt.detect.runner import DetectionRun, compile_detection, run_detections
from tunnelhunt.detect.shared_scan import prepare, shared_tables
from tunnelhunt.store.duckdb_store import Store

_PROCESSES = [
    "svchost.exe", "chrome.exe", "msedge.exe", "explorer.exe", "powershell.exe", "cmd.exe", "conhost.exe",
    "RuntimeBroker.exe", "taskhostw.exe", "OneDrive.exe", "Teams.exe", "outlook.exe", "winword.exe",
    "excel.exe", "python.exe", "git.exe", "code.exe", "node.exe", "java.exe", "sqlservr.exe",
    "ngrok.exe.bak", "ngrok-helper.exe", "notngrok.exe",
]  # fmt: skip
_DOMAINS = [
    "www.google.com", "login.microsoftonline.com", "outlook.office365.com", "github.com", "api.github.com",
    "update.microsoft.com", "cdn.jsdelivr.net", "slack.com", "zoom.us", "corp.example.com",
    "ngrok.io.evil.com", "ngrok.com", "dashboard-ngrok.example.net", "wpad", "time.windows.com",
]  # fmt: skip
#: One event in this many is ngrok activity.
NGROK_EVERY = 200_003


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def build_stored(path: Path, events: int, processes_share: float = 0.6) -> float:
    """Create `path` holding `events` normalised events (processes and DNS); returns seconds taken."""
    started = time.perf_counter()
    if path.exists():
        path.unlink()
    procs = int(events * processes_share)
    dns = events - procs
    with Store(path, memory_limit=None) as store:
        con = store.con
        con.execute("SET enable_progress_bar = false")
        pick = "list_element({values}, 1 + (hash(i * {salt}) % {n})::INTEGER)"
        name = pick.format(values=_sql_list(_PROCESSES), salt=3, n=len(_PROCESSES))
        con.execute(f"""
            INSERT INTO endpoint_processes BY NAME
            SELECT
              TIMESTAMP '2026-10-01 00:00:00' + to_seconds((i % 2592000)::BIGINT) AS _time,
              'bench' AS _source, i AS _offset, 'XmlWinEventLog' AS sourcetype,
              'allowed' AS action,
              'host-' || (hash(i * 5) % 400)::VARCHAR || '.corp.example.com' AS dest,
              pname AS original_file_name,
              'C:\\Windows\\explorer.exe' AS parent_process,
              'explorer.exe' AS parent_process_exec, '{{guid-p}}' AS parent_process_guid,
              (hash(i * 7) % 9000 + 100)::VARCHAR AS parent_process_id,
              'explorer.exe' AS parent_process_name, 'C:\\Windows\\explorer.exe' AS parent_process_path,
              pname || ' --task ' || (i % 977)::VARCHAR
                || CASE WHEN i % 1000 = 0 THEN ' --proxy http://proxy.corp:8080' ELSE '' END AS process,
              pname AS process_exec, '{{guid-' || (i % 100000)::VARCHAR || '}}' AS process_guid,
              'SHA256=' || md5((i % 5000)::VARCHAR) AS process_hash,
              (hash(i * 11) % 60000 + 4)::VARCHAR AS process_id, 'medium' AS process_integrity_level,
              pname AS process_name, 'C:\\Program Files\\' || pname AS process_path,
              'CORP\\user' || (hash(i * 13) % 300)::VARCHAR AS "user",
              'S-1-5-21-1-' || (hash(i * 13) % 300)::VARCHAR AS user_id, 'Microsoft Sysmon' AS vendor_product
            FROM (
              SELECT i, CASE WHEN i % {NGROK_EVERY} = 7 THEN 'ngrok.exe' ELSE {name} END AS pname
              FROM range({procs}) t(i)
            )
        """)
        domain = pick.format(values=_sql_list(_DOMAINS), salt=17, n=len(_DOMAINS))
        con.execute(f"""
            INSERT INTO network_resolution_dns BY NAME
            SELECT
              TIMESTAMP '2026-10-01 00:00:00' + to_seconds((i % 2592000)::BIGINT) AS _time,
              'bench' AS _source, i AS _offset, 'XmlWinEventLog' AS sourcetype,
              CASE WHEN i % {NGROK_EVERY} = 11 THEN 'tunnel.us.ngrok.com' ELSE {domain} END AS query,
              ['10.' || (i % 250)::VARCHAR || '.' || (i % 199)::VARCHAR || '.7',
               '::ffff:10.' || (i % 97)::VARCHAR || '.0.1'] AS answer,
              '2' AS answer_count, 'Query' AS message_type, '0' AS reply_code_id,
              'host-' || (hash(i * 5) % 400)::VARCHAR || '.corp.example.com' AS src,
              'Microsoft Sysmon' AS vendor_product
            FROM range({dns}) t(i)
        """)
        con.execute("CHECKPOINT")
    return time.perf_counter() - started


@dataclass(frozen=True)
class StoredResult:
    stored_events: int
    build_seconds: float
    detections_seconds: float
    warm_detections_seconds: float
    findings: int
    #: seconds of each step of the first run: compiling, the shared scans of each table, then each detection
    per_detection: dict[str, float]


def _split_run(store: Store, content: ContentSet) -> tuple[list[DetectionRun], dict[str, float]]:
    """`run_detections` step by step (as it runs on a large store), timing each step."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    compiled = [(DetectionRun(d), compile_detection(d, content.macros)) for d in content.detections]
    timings["(compile)"] = round(time.perf_counter() - started, 3)
    searches = [(run, prepare(search)) for run, search in compiled]
    step = time.perf_counter()
    with shared_tables(store, [search for _, search in searches]):
        timings["(shared scans)"] = round(time.perf_counter() - step, 3)
        for run, search in searches:
            one = time.perf_counter()
            run.findings = store.run(search)
            timings[run.detection.name] = round(time.perf_counter() - one, 3)
    return [run for run, _ in compiled], timings


def time_detections(path: Path, events: int, build_seconds: float) -> StoredResult:
    """Run every shipped detection over the stored events, twice (first run, split by step, then warm)."""
    content = load_content([], [])
    with Store(path) as store:
        started = time.perf_counter()
        runs, timings = _split_run(store, content)
        first = time.perf_counter() - started
        started = time.perf_counter()
        warm_runs = run_detections(store, content.detections, content.macros)
        warm = time.perf_counter() - started
    errors = [run.error for run in warm_runs if run.error]
    if errors:
        raise RuntimeError(f"detections failed on the stored table: {errors}")
    findings = sum(len(r.rows) for r in runs)
    if findings != sum(len(r.rows) for r in warm_runs):
        raise RuntimeError("the step-by-step run and run_detections found different numbers of rows")
    return StoredResult(events, round(build_seconds, 2), round(first, 3), round(warm, 3), findings, timings)
