"""Detections sharing one pass over a table (`detect/shared_scan.py`) find what each finds alone."""

from __future__ import annotations

from datetime import datetime

from tests.helpers import store_with
from tunnelhunt.cim import DNS, PROCESSES
from tunnelhunt.content.loader import load_content
from tunnelhunt.content.models import Detection
from tunnelhunt.detect.runner import compile_detection, run_detection, run_detections
from tunnelhunt.detect.shared_scan import _is_table, prepare, shared_tables
from tunnelhunt.spl.window import TimeWindow

CONTENT = load_content()
PROCESS_DETECTIONS = [d for d in CONTENT.detections if "datamodel=Endpoint.Processes" in d.search]
DNS_DETECTIONS = [d for d in CONTENT.detections if "datamodel=Network_Resolution" in d.search]

#: Hits of several detections, their near misses, and rows whose other key columns are NULL (a match
#: on `process` alone must survive the NULL-safe join of the key tuples), in mixed case.
COMMANDS = [
    ("ngrok.exe", "ngrok.exe http 8080"),
    (None, "NGROK TCP 3389"),
    (None, "ngrok http8080"),
    ("ssh.exe", "ssh.exe -R 80:localhost:8080 serveo.net"),
    ("ssh.exe", "ssh.exe -v host"),
    ("sc.exe", "sc.exe start iphlpsvc"),
    ("sc.exe", "sc.exe config iphlpsvc start= disabled"),
    ("netsh.exe", "netsh interface portproxy add v4tov4 listenport=3389"),
    ("cloudflared.exe", "cloudflared.exe tunnel --url http://localhost:80"),
    ("cloudflared.exe", "cloudflared.exe tunnel list"),
    ("chrome.exe", None),
    (None, None),
]
PROCESS_ROWS = [
    {"dest": f"wks-{i % 3}", "user": "CORP\\alice", "process_name": name, "process": command}
    for i in range(3)
    for name, command in COMMANDS
]
DNS_ROWS = [
    {"src": "wks-1", "query": name}
    for name in ("tunnel.us.ngrok.com", "abc.ngrok-free.app", "ngrok.com.evil.net", "x.trycloudflare.com", None)
]


def _alone_and_shared(store, detections, window=None):
    alone = [run_detection(store, d, CONTENT.macros, window).rows for d in detections]
    shared = [run.rows for run in run_detections(store, detections, CONTENT.macros, window, share_from_rows=0)]
    return alone, shared


def test_shared_pass_finds_what_each_detection_finds_alone() -> None:
    with store_with(PROCESSES, PROCESS_ROWS) as store:
        alone, shared = _alone_and_shared(store, PROCESS_DETECTIONS)
    assert shared == alone
    assert sum(map(len, alone)) >= 5  # the hits above are found, so the comparison is not between empties
    with store_with(DNS, DNS_ROWS) as store:
        alone, shared = _alone_and_shared(store, DNS_DETECTIONS)
    assert shared == alone and any(alone)


def test_time_window_stays_in_each_query() -> None:
    window = TimeWindow(datetime(2026, 11, 20, 10, 0, 3), datetime(2026, 11, 20, 10, 0, 20))
    with store_with(PROCESSES, PROCESS_ROWS) as store:
        alone, shared = _alone_and_shared(store, PROCESS_DETECTIONS, window)
        everything = [run.rows for run in run_detections(store, PROCESS_DETECTIONS, CONTENT.macros)]
    assert shared == alone
    assert sum(map(len, shared)) < sum(map(len, everything))


def test_a_window_all_reads_have_bounds_both_passes() -> None:
    window = TimeWindow(datetime(2026, 11, 20, 10, 0, 3), datetime(2026, 11, 20, 10, 0, 20))  # rows 3..19
    searches = [prepare(compile_detection(d, CONTENT.macros, window)) for d in PROCESS_DETECTIONS]
    with store_with(PROCESSES, PROCESS_ROWS) as store, shared_tables(store, searches):
        (table,) = {read.table.name for search in searches for read in search.reads}
        times = store.query(f"SELECT _time FROM {table}").column(0).to_pylist()
        keys = store.query(f"SELECT count(*) FROM {table.replace('rows', 'keys')}").column(0).to_pylist()
    assert times and all(window.earliest <= t < window.latest for t in times)
    assert keys == [len({(r["process_name"], r["process"]) for r in PROCESS_ROWS[3:20]})]


def test_reads_point_at_the_shared_rows_only_inside_the_block() -> None:
    searches = [prepare(compile_detection(d, CONTENT.macros)) for d in PROCESS_DETECTIONS]
    assert all(search.reads for search in searches)
    with store_with(PROCESSES, PROCESS_ROWS) as store:
        with shared_tables(store, searches):
            assert all("_shared_rows_" in search.sql() for search in searches)
            temporary = store.query("SELECT table_name FROM duckdb_tables() WHERE temporary").column(0).to_pylist()
            assert len(temporary) == 3
        left = store.query("SELECT count(*) AS n FROM duckdb_tables() WHERE temporary").column(0).to_pylist()
    assert left == [0]


def test_small_stores_are_not_shared(monkeypatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("shared scan over a small store")

    monkeypatch.setattr("tunnelhunt.detect.shared_scan.prepare", refuse)
    with store_with(PROCESSES, PROCESS_ROWS) as store:
        assert store.node_rows() == len(PROCESS_ROWS)
        runs = run_detections(store, PROCESS_DETECTIONS, CONTENT.macros, share_from_rows=len(PROCESS_ROWS) + 1)
    assert all(run.error is None for run in runs)


def test_a_table_read_once_is_read_directly() -> None:
    searches = [prepare(compile_detection(PROCESS_DETECTIONS[0], CONTENT.macros))]
    with store_with(PROCESSES, PROCESS_ROWS) as store, shared_tables(store, searches):
        assert "_shared_rows_" not in searches[0].sql()


def test_a_view_without_row_ids_is_shared_through_its_key_column() -> None:
    """The lake's node tables are views over Parquet files: no row ids, so the rows come from the key
    column's semi-join directly, and find the same as each detection alone."""
    searches = [prepare(compile_detection(d, CONTENT.macros)) for d in PROCESS_DETECTIONS]
    with store_with(PROCESSES, PROCESS_ROWS) as store:
        store.con.execute(f"ALTER TABLE {PROCESSES.table} RENAME TO stored_processes")
        store.con.execute(f"CREATE VIEW {PROCESSES.table} AS SELECT * FROM stored_processes")
        assert _is_table(store.con, "stored_processes") and not _is_table(store.con, PROCESSES.table)
        with shared_tables(store, searches):
            assert all("_shared_rows_" in search.sql() for search in searches)
        alone, shared = _alone_and_shared(store, PROCESS_DETECTIONS)
    assert shared == alone and sum(map(len, alone)) >= 5


def test_the_shared_rows_are_those_whose_key_value_a_hit_has() -> None:
    """Row ids pick the candidate rows: all columns the reads need, for exactly the rows whose `process`
    some hit has, and none of the others."""
    searches = [prepare(compile_detection(d, CONTENT.macros)) for d in PROCESS_DETECTIONS]
    with store_with(PROCESSES, PROCESS_ROWS) as store, shared_tables(store, searches):
        (table,) = {read.table.name for search in searches for read in search.reads}
        hits = store.query(f"SELECT DISTINCT process FROM {table.replace('rows', 'hits')}").column(0).to_pylist()
        rows = store.query(f"SELECT * FROM {table} ORDER BY _time").to_pylist()
    expected = [row for row in PROCESS_ROWS if row["process"] in hits]
    assert "ngrok http8080" not in hits and None not in hits  # near misses and NULL commands are left out
    assert len(rows) == len(expected) < len(PROCESS_ROWS)
    assert [(r["dest"], r["user"], r["process_name"], r["process"]) for r in rows] == [
        (r["dest"], r["user"], r["process_name"], r["process"]) for r in expected
    ]


def _detection(name: str, search: str) -> Detection:
    return Detection(name=name, id=name, version=1, type="TTP", search=search)


_TSTATS = "| tstats `security_content_summariesonly` count from datamodel=Endpoint.Processes"
#: reads every command line with a colon, then keeps by its by-field what names a tunnel (in any case)
_LOOSE = _detection(
    "loose",
    f'{_TSTATS} where Processes.process="*:*" by Processes.dest Processes.process'
    ' | `drop_dm_object_name(Processes)` | eval tool=if(match(process, "(?i)tunnel"), "t", null())'
    " | where isnotnull(tool)",
)
_NGROK = _detection(
    "ngrok",
    f'{_TSTATS} where Processes.process_name="ngrok.exe" by Processes.process | `drop_dm_object_name(Processes)`',
)
LOOSE_ROWS = [
    {"dest": "wks-1", "process_name": "a.exe", "process": "a.exe --proxy http://proxy:8080"},  # colon only
    {"dest": "wks-2", "process_name": "b.exe", "process": "b.exe TUNNEL --to host:22"},  # both, upper case
    {"dest": "wks-3", "process_name": "ngrok.exe", "process": "ngrok.exe tunnel --url http://x:80"},
    {"dest": "wks-4", "process_name": "ngrok.exe", "process": "ngrok.exe help"},  # the other detection's
    {"dest": "wks-5", "process_name": "c.exe", "process": "c.exe tunnel"},  # no colon: the WHERE drops it
    {"dest": "wks-6", "process_name": "d.exe", "process": None},
]


def test_a_where_on_a_by_field_after_stats_narrows_the_shared_rows() -> None:
    """`| where` on a by-field after tstats holds for every row of a group or none: carried down into the
    read's key, the command lines with a colon but no tunnel are no longer candidates; the findings stay."""
    detections = [_LOOSE, _NGROK]
    searches = [prepare(compile_detection(d, CONTENT.macros)) for d in detections]
    assert "tunnel" in searches[0].reads[0].key.sql("duckdb")
    with store_with(PROCESSES, LOOSE_ROWS) as store:
        with shared_tables(store, searches):
            (table,) = {read.table.name for search in searches for read in search.reads}
            rows = store.query(f"SELECT process FROM {table} ORDER BY process").column(0).to_pylist()
        alone, shared = _alone_and_shared(store, detections)
    assert rows == ["b.exe TUNNEL --to host:22", "ngrok.exe help", "ngrok.exe tunnel --url http://x:80"]
    assert shared == alone
    assert [sorted(r["process"] for r in found) for found in alone] == [
        ["b.exe TUNNEL --to host:22", "ngrok.exe tunnel --url http://x:80"],
        ["ngrok.exe help", "ngrok.exe tunnel --url http://x:80"],
    ]


def test_a_where_on_a_filled_null_by_field_keeps_the_null_rows() -> None:
    """A missing by-field is filled with `null` before the stats: a later condition true of that text
    keeps the rows whose stored value is NULL among the candidates."""
    filled = _detection(
        "filled",
        f'{_TSTATS} where Processes.process_name IN ("d.exe", "a.exe") OR Processes.process="zzz*"'
        ' by Processes.process | `drop_dm_object_name(Processes)` | where process="null"',
    )
    detections = [filled, _NGROK]
    (read,) = prepare(compile_detection(filled, CONTENT.macros)).reads
    assert "COALESCE(\"process\", 'null')" in read.key.sql("duckdb")
    with store_with(PROCESSES, LOOSE_ROWS) as store:
        alone, shared = _alone_and_shared(store, detections)
    assert shared == alone and [r["process"] for r in alone[0]] == ["null"]


def test_conditions_after_rows_are_counted_limited_or_multiplied_stay_where_they_are() -> None:
    """A condition after `head`, `eventstats`, an aggregate or a multivalue by-field (one row per value) is
    not moved into the key: dropping rows before such a stage could change what it gives."""
    after = {
        "head": f'{_TSTATS} where Processes.process="*:*" by Processes.process | `drop_dm_object_name(Processes)`'
        ' | head 1 | where like(process, "%zzz%")',
        "eventstats": f'{_TSTATS} where Processes.process="*:*" by Processes.process'
        ' | `drop_dm_object_name(Processes)` | eventstats sum(count) as total | where like(process, "%zzz%")',
        "count": f'{_TSTATS} where Processes.process="*:*" by Processes.process | where count > 1',
    }
    for name, search in after.items():
        (read,) = prepare(compile_detection(_detection(name, search), CONTENT.macros)).reads
        assert "zzz" not in read.key.sql("duckdb") and "count" not in read.key.sql("duckdb"), name
        with store_with(PROCESSES, LOOSE_ROWS) as store:
            alone, shared = _alone_and_shared(store, [_detection(name, search), _NGROK])
        assert shared == alone, name
    dns = _detection(
        "answers",
        "| tstats `security_content_summariesonly` count from datamodel=Network_Resolution"
        ' where DNS.query="*.example.com" by DNS.query DNS.answer | `drop_dm_object_name("DNS")`'
        ' | search answer="10.*"',
    )
    (read,) = prepare(compile_detection(dns, CONTENT.macros)).reads
    assert "10." not in read.key.sql("duckdb")
