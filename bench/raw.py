"""The raw-event store: ingest with and without it on one input, and ten raw searches over N stored events.

Ingest: the same Sysmon XML file into two fresh DuckDB files, `raw=True` (every event also in `events`)
and `raw=False` (data-model rows only), in one run; the ratio of the two rates is what keeping every
event costs, and the difference in file size per event is what it weighs.

Searches: N events are made by DuckDB itself (no parsing, as `stored.py` does for the node tables) in the
`events` layout: a Sysmon / Security / PowerShell mix with realistic value pools, the hot columns and the
field map filled as ingest fills them, and an XML `_raw`. A few events are ngrok activity, so the searches
return a handful of rows while scanning every event. Each search is one kind of raw search ESCU and
analysts write; each is compiled and run twice (first, then warm) and both times are kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.stored import _sql_list
from tunnelhunt.content.loader import load_content
from tunnelhunt.ingest.run import ingest
from tunnelhunt.spl.compiler import TimeWindow, compile_search
from tunnelhunt.spl.macros import expand_macros
from tunnelhunt.store.duckdb_store import Store

#: One event in this many is ngrok activity (a process, its DNS lookups).
NGROK_EVERY = 100_003
_START = "TIMESTAMP '2026-10-01 00:00:00'"
_SPAN_SECONDS = 30 * 86400

_IMAGES = [
    "C:\\Windows\\System32\\svchost.exe", "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
    "C:\\Windows\\explorer.exe", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    "C:\\Windows\\System32\\cmd.exe", "C:\\Windows\\System32\\conhost.exe", "C:\\Windows\\System32\\rundll32.exe",
    "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "C:\\Users\\Public\\updater.exe",
    "C:\\Windows\\System32\\lsass.exe", "C:\\Program Files\\Git\\cmd\\git.exe", "C:\\Tools\\ngrok-helper.exe",
]  # fmt: skip
_DOMAINS = [
    "www.google.com", "login.microsoftonline.com", "outlook.office365.com", "github.com", "api.github.com",
    "update.microsoft.com", "cdn.jsdelivr.net", "slack.com", "zoom.us", "corp.example.com", "pastebin.com",
    "ngrok.io.evil.com", "dashboard-ngrok.example.net", "wpad", "time.windows.com",
]  # fmt: skip

#: name → (SPL, time-bounded to one day of the 30)
SEARCHES: dict[str, tuple[str, bool]] = {
    "bare_term": ("ngrok | stats count by host", False),
    "hot_column_value": ("EventCode=1 process_name=powershell.exe | stats count by dest", False),
    # the map holds only fields no column has (store/events.py): here an add-on alias
    "map_field_value": ("EventCode=1 user_id=S-1-5-18 | stats count by process_name", False),
    "wildcard": ('CommandLine="* -enc *" | stats count by process_name', False),
    "in_list": (
        'EventCode=22 QueryName IN ("*.ngrok.io", "*.ngrok-free.app", "pastebin.com") | stats count by QueryName',
        False,
    ),
    "stats_by": ("sourcetype=XmlWinEventLog | stats count dc(host) as hosts by source EventCode", False),
    "eval_where": (
        "EventCode=3 | eval port=tonumber(DestinationPort) | where port > 1024 AND port < 5000"
        " | stats count by process_name",
        False,
    ),
    "join": (
        'EventCode=22 QueryName="*.ngrok.io" | join ProcessGuid [search EventCode=1 process_name="ngrok.exe"'
        " | table ProcessGuid CommandLine] | table _time host QueryName CommandLine",
        False,
    ),
    "sysmon_macro": (
        "`sysmon` EventCode=10 TargetImage=*lsass.exe GrantedAccess=0x1010 | stats count by SourceImage",
        False,
    ),
    "time_bounded": ("EventCode=4624 LogonType=3 | stats count by TargetUserName", True),
}  # fmt: skip


def build_raw_events(path: Path, events: int) -> float:
    """Create `path` holding `events` rows of the events table; returns the seconds taken."""
    started = time.perf_counter()
    if path.exists():
        path.unlink()
    with Store(path, memory_limit=None) as store:
        con = store.con
        con.execute("SET enable_progress_bar = false")
        con.execute(_INSERT.format(
            n=events, start=_START, span=_SPAN_SECONDS, every=NGROK_EVERY,
            images=_sql_list(_IMAGES), n_images=len(_IMAGES), domains=_sql_list(_DOMAINS), n_domains=len(_DOMAINS),
        ))  # fmt: skip
        con.execute("CHECKPOINT")
    return time.perf_counter() - started


# kind: 0-3 Sysmon 1, 4-5 Sysmon 3, 6-7 Sysmon 22, 8 Security 4624, 9 PowerShell 4104 (of every 10 events);
# Sysmon 10 (lsass access) replaces one process event in 50.
_INSERT = """
INSERT INTO events BY NAME
WITH base AS (
  SELECT i,
    CASE WHEN i % 10 < 4 AND i % 50 = 3 THEN 10 WHEN i % 10 < 4 THEN 1 WHEN i % 10 < 6 THEN 3
         WHEN i % 10 < 8 THEN 22 WHEN i % 10 = 8 THEN 4624 ELSE 4104 END AS code,
    {start} + to_seconds((i * 7 % {span})::BIGINT) AS t,
    'wks-' || (hash(i * 5) % 500)::VARCHAR || '.corp.example.com' AS computer,
    CASE WHEN i % {every} IN (1, 6) THEN 'C:\\Users\\Public\\ngrok.exe'
         ELSE list_element({images}, 1 + (hash(i * 3) % {n_images})::INTEGER) END AS image,
    '{{' || md5((i // 10)::VARCHAR) || '}}' AS guid,
    CASE WHEN i % {every} = 6 THEN 'tunnel.us.ngrok.io'
         ELSE list_element({domains}, 1 + (hash(i * 17) % {n_domains})::INTEGER) END AS domain,
    'CORP\\user' || (hash(i * 13) % 300)::VARCHAR AS usr
  FROM range({n}) r(i)
), shaped AS (
  SELECT *,
    CASE code WHEN 1 THEN 'Microsoft-Windows-Sysmon/Operational' WHEN 3 THEN 'Microsoft-Windows-Sysmon/Operational'
      WHEN 10 THEN 'Microsoft-Windows-Sysmon/Operational' WHEN 22 THEN 'Microsoft-Windows-Sysmon/Operational'
      WHEN 4624 THEN 'Security' ELSE 'Microsoft-Windows-PowerShell/Operational' END AS channel,
    regexp_extract(image, '[^\\\\]+$') AS pname,
    CASE WHEN code = 1 THEN
      CASE WHEN i % {every} = 1 THEN 'ngrok.exe tcp 3389'
           WHEN i % 997 = 0 THEN 'powershell.exe -nop -w hidden -enc SQBFAFgA'
           ELSE regexp_extract(image, '[^\\\\]+$') || ' --task ' || (i % 977)::VARCHAR END END AS cmd
  FROM base
)
SELECT
  t AS _time, computer AS host, 'XmlWinEventLog:' || channel AS source, 'XmlWinEventLog' AS sourcetype,
  'main' AS "index", 'bench' AS _source, i AS _offset, code::VARCHAR AS EventCode, channel AS Channel,
  computer AS Computer, code::VARCHAR AS EventID, i::VARCHAR AS EventRecordID,
  CASE WHEN code = 4624 THEN 'Microsoft-Windows-Security-Auditing' WHEN code = 4104 THEN 'Microsoft-Windows-PowerShell'
       ELSE 'Microsoft-Windows-Sysmon' END AS Provider_Name,
  'S-1-5-18' AS UserID,
  CASE WHEN code IN (1, 3, 22) THEN image END AS Image,
  cmd AS CommandLine,
  CASE WHEN code = 1 THEN 'C:\\Windows\\explorer.exe' END AS ParentImage,
  CASE WHEN code IN (1, 3, 22) THEN (hash(i) % 60000)::VARCHAR END AS ProcessId,
  CASE WHEN code IN (1, 3, 22) THEN guid END AS ProcessGuid,
  CASE WHEN code = 10 THEN image END AS SourceImage,
  CASE WHEN code = 10 THEN 'C:\\Windows\\system32\\lsass.exe' END AS TargetImage,
  CASE WHEN code = 10 THEN CASE WHEN i % 7 = 0 THEN '0x1010' ELSE '0x1400' END END AS GrantedAccess,
  CASE WHEN code = 22 THEN domain END AS QueryName,
  CASE WHEN code = 3 THEN '10.0.' || (i % 250)::VARCHAR || '.7' END AS SourceIp,
  CASE WHEN code = 3 THEN '203.0.113.' || (i % 250)::VARCHAR END AS DestinationIp,
  CASE WHEN code = 3 THEN (hash(i * 19) % 9000 + 22)::VARCHAR END AS DestinationPort,
  CASE WHEN code = 4624 THEN 'user' || (hash(i * 13) % 300)::VARCHAR END AS TargetUserName,
  CASE WHEN code = 4624 THEN (2 + (i % 9))::VARCHAR END AS LogonType,
  CASE WHEN code = 4624 THEN '10.0.' || (i % 250)::VARCHAR || '.9' END AS IpAddress,
  CASE WHEN code = 4104 THEN 'Get-ChildItem -Path C:\\Users\\' || (i % 300)::VARCHAR || ' -Recurse' END
    AS ScriptBlockText,
  computer AS dest,
  CASE WHEN code IN (1, 3, 22) THEN usr WHEN code = 4624 THEN 'user' || (hash(i * 13) % 300)::VARCHAR END AS "user",
  cmd AS process,
  CASE WHEN code IN (1, 3, 22) THEN pname END AS process_name,
  CASE WHEN code IN (1, 3, 22) THEN image END AS process_path,
  CASE WHEN code = 22 THEN domain END AS query,
  code::VARCHAR AS signature_id,
  CASE code
    WHEN 1 THEN MAP {{'user_id': CASE WHEN i % 3 = 0 THEN 'S-1-5-18' ELSE 'S-1-5-21-1004-512' END,
                     'process_exec': pname}}
    ELSE MAP {{'user_id': 'S-1-5-18'}} END AS fields,
  '<Event xmlns=''http://schemas.microsoft.com/win/2004/08/events/event''><System><EventID>' || code::VARCHAR
    || '</EventID><Channel>' || channel || '</Channel><Computer>' || computer || '</Computer></System><EventData>'
    || coalesce('<Data Name=''Image''>' || CASE WHEN code IN (1, 3, 22, 10) THEN image END || '</Data>', '')
    || coalesce('<Data Name=''CommandLine''>' || cmd || '</Data>', '')
    || CASE WHEN code = 22 THEN '<Data Name=''QueryName''>' || domain || '</Data>' ELSE '' END
    || '</EventData></Event>' AS _raw
FROM shaped
"""


@dataclass(frozen=True)
class SearchTiming:
    rows: int
    compile_seconds: float
    first_seconds: float
    warm_seconds: float


def time_searches(path: Path) -> dict[str, SearchTiming]:
    """Each search of `SEARCHES` over the stored events: compile once, run twice."""
    macros = load_content([], []).macros
    day = TimeWindow(datetime(2026, 10, 10, tzinfo=UTC), datetime(2026, 10, 11, tzinfo=UTC))
    out: dict[str, SearchTiming] = {}
    with Store(path) as store:
        for name, (spl, bounded) in SEARCHES.items():
            started = time.perf_counter()
            compiled = compile_search(expand_macros(spl, macros.lookup), day if bounded else None)
            compiled_at = time.perf_counter()
            rows = store.run(compiled).num_rows
            first_at = time.perf_counter()
            store.run(compiled)
            warm_at = time.perf_counter()
            out[name] = SearchTiming(
                rows, round(compiled_at - started, 3), round(first_at - compiled_at, 3), round(warm_at - first_at, 3)
            )
    return out


def measure_ingest(log: Path, work: Path, workers: int | None) -> dict[str, Any]:
    """`log` ingested into a fresh DuckDB file with and without the raw store, one after the other."""
    out: dict[str, Any] = {"input_mb": round(log.stat().st_size / 1e6, 1)}
    for raw in (False, True):
        target = work / f"ingest-raw-{raw}.duckdb"
        target.unlink(missing_ok=True)
        started = time.perf_counter()
        with Store(target) as store:
            report = ingest([log], store, raw=raw, workers=workers)
            store.con.execute("CHECKPOINT")
            events = int(store.query("SELECT count(*) AS n FROM events").column("n")[0].as_py())
        seconds = time.perf_counter() - started
        read = sum(f.read for f in report.files)
        size = target.stat().st_size
        target.unlink()
        out["raw" if raw else "no_raw"] = {
            "records": read,
            "events_rows": events,
            "seconds": round(seconds, 2),
            "records_per_s": round(read / seconds),
            "store_mb": round(size / 1e6, 1),
            "store_bytes_per_record": round(size / read) if read else None,
        }
    with_raw, without = out["raw"], out["no_raw"]
    out["throughput_ratio"] = round(with_raw["records_per_s"] / without["records_per_s"], 3)
    if with_raw["records"]:
        out["raw_bytes_per_event"] = round((with_raw["store_mb"] - without["store_mb"]) * 1e6 / with_raw["records"])
    return out


def measure_raw(work: Path, log: Path, events: int, workers: int | None) -> dict[str, Any]:
    """Both parts: ingest with/without the raw store on `log`, then the searches over `events` stored events."""
    ingest_figures = measure_ingest(log, work, workers)
    path = work / f"raw-events-{events}.duckdb"
    build = build_raw_events(path, events)
    searches = time_searches(path)
    size = path.stat().st_size
    path.unlink()
    return {
        "ingest": ingest_figures,
        "stored_events": events,
        "build_seconds": round(build, 2),
        "store_mb": round(size / 1e6),
        "store_bytes_per_event": round(size / events) if events else None,
        "searches": {name: vars(timing) for name, timing in searches.items()},
    }
