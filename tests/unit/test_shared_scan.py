"""Detections sharing one pass over a table (`detect/shared_scan.py`) find what each finds alone."""

from __future__ import annotations

from datetime import datetime

from tests.helpers import store_with
from tunnelhunt.cim import DNS, PROCESSES
from tunnelhunt.content.loader import load_content
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
