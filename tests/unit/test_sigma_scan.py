"""Rules of the same logsource share a scan (`sigma.scan`) and give exactly the rows of one query per rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from sigma.rule import SigmaLogSource, SigmaRule
from sqlglot import exp

from tests.support.raw_events import create_events, field_rows
from tests.unit.test_sigma import SYSMON, Engine, parse, proc
from tunnelhunt.sigma.compiler import compile_rule, default_compiler
from tunnelhunt.sigma.scan import plan, run_sigma
from tunnelhunt.spl.compiler import CompiledSearch, TimeWindow
from tunnelhunt.store.duckdb_store import FEW_DISABLED_OPTIMIZERS, Store


def make(title: str, logsource: str, detection: str) -> SigmaRule:
    number = sum(map(ord, title)) % 10**12
    text = (
        f"title: {title}\nid: 0d2e7a4e-2d1b-4d6b-9c9f-{number:012d}\nlevel: medium\n"
        f"logsource: {logsource}\ndetection:\n  sel: {detection}\n  condition: sel\n"
    )
    [found] = parse(text)
    assert isinstance(found, SigmaRule)
    return found


PROC = "{category: process_creation, product: windows}"
NET = "{category: network_connection, product: windows}"
SECURITY = "{product: windows, service: security}"
RULES = [
    make("whoami", PROC, "{CommandLine|contains: whoami}"),
    make("whoami near miss", PROC, "{CommandLine|contains: 'whoami /priv'}"),  # matches nothing
    make("any process", PROC, "{Image|endswith: '.exe'}"),
    make("port 443", NET, "{DestinationPort: 443}"),
    make("logon type 10", SECURITY, "{EventID: 4624, LogonType: 10}"),
]
EVENTS = [
    proc(CommandLine="whoami /all", Image="C:\\w\\whoami.exe", UtcTime="2026-01-01 10:00:00"),
    proc(CommandLine="net user", Image="C:\\w\\net.exe"),
    {"Channel": SYSMON, "EventID": "3", "Computer": "ws1", "DestinationPort": "443"},
    {"Channel": SYSMON, "EventID": "3", "Computer": "ws1", "DestinationPort": "4443"},  # near miss
    # a process-creation field on a network event: the process rules must not see it (other logsource)
    {"Channel": SYSMON, "EventID": "3", "Computer": "ws1", "CommandLine": "whoami", "Image": "x.exe"},
    {"Channel": "Security", "EventID": "4624", "Computer": "dc1", "LogonType": "10"},
    {"Channel": "Security", "EventID": "4624", "Computer": "dc1", "LogonType": "3"},
    {"Channel": "Security", "EventID": "4688", "Computer": "dc1", "NewProcessName": "C:\\w\\cmd.exe"},
]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    create_events(connection, field_rows(EVENTS))
    yield connection
    connection.close()


class CountingEngine(Engine):
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        super().__init__(con)
        self.queries = 0

    def run(self, compiled: CompiledSearch) -> pa.Table:
        self.queries += 1
        return super().run(compiled)


def one_by_one(con: duckdb.DuckDBPyConnection, rules: list[SigmaRule]) -> list[list[dict[str, object]]]:
    return [con.sql(compile_rule(r).sql("duckdb")).to_arrow_table().to_pylist() for r in rules]


def test_rules_of_one_logsource_share_one_query_and_give_the_same_rows(con: duckdb.DuckDBPyConnection) -> None:
    engine = CountingEngine(con)
    runs = run_sigma(engine, RULES)
    assert engine.queries == 3  # process_creation, network_connection, security: one scan each
    assert [run.detection.name for run in runs] == [r.title for r in RULES]  # in the order given
    assert [run.rows for run in runs] == one_by_one(con, RULES)  # same rows, columns and order
    counts = [len(run.rows) for run in runs]
    assert counts == [1, 0, 3, 1, 1]  # any process: Sysmon 1 (twice) and Security 4688
    assert [r["_offset"] for r in runs[2].rows] == [0, 1, 7]


def test_a_small_batch_still_gives_every_rule_its_rows(con: duckdb.DuckDBPyConnection) -> None:
    engine = CountingEngine(con)
    runs = run_sigma(engine, RULES, batch=1)
    assert engine.queries == len(RULES) and [run.rows for run in runs] == one_by_one(con, RULES)


def test_the_scan_filter_is_the_logsources_event_conditions_only() -> None:
    filters = default_compiler().logsource_filters(SigmaLogSource(category="process_creation", product="windows"))
    sql = {name: f.sql("duckdb") for name, f in filters.items()}
    assert sql == {
        "windows": "LOWER(\"Channel\") = 'microsoft-windows-sysmon/operational' AND (\"EventCode\" = '1' AND TRUE)",
        "windows-security-audit": "LOWER(\"Channel\") = 'security' AND (\"EventCode\" = '4688' AND TRUE)",
    }
    groups, failed = plan(RULES, default_compiler())
    assert [len(g.rules) for g in groups] == [3, 1, 1] and failed == []


def test_a_field_is_lowered_once_per_group_and_cased_comparisons_stay_cased(con: duckdb.DuckDBPyConnection) -> None:
    cased = make("cased", PROC, "{CommandLine|cased|contains: WHOAMI}")  # near miss: the event says whoami
    upper = make("upper", PROC, "{CommandLine|contains: WHOAMI}")
    rules = [RULES[0], RULES[1], cased, upper]
    groups, _ = plan(rules, default_compiler())
    # one column per field, however many comparisons lower it (the mapping's Channel test is one of them)
    assert [s.sql() for s in groups[0].lowered.values()] == ['"Channel"', '"CommandLine"']
    runs = run_sigma(Engine(con), rules)
    assert [len(r.rows) for r in runs] == [1, 0, 0, 1]
    assert [r.rows for r in runs] == one_by_one(con, rules)


class RefusingEngine(CountingEngine):
    """Refuses any query holding the word `boom` (as an engine refuses a pattern it cannot compile)."""

    def run(self, compiled: CompiledSearch) -> pa.Table:
        if "boom" in compiled.sql("duckdb"):
            self.queries += 1
            raise duckdb.InvalidInputException("refused: boom")
        return super().run(compiled)


def test_a_rule_the_engine_refuses_fails_alone(con: duckdb.DuckDBPyConnection) -> None:
    bad = make("refused", PROC, "{CommandLine|contains: boom}")
    unmapped = make("unmapped", "{category: no_such, product: windows}", "{Image: x}")
    engine = RefusingEngine(con)
    runs = run_sigma(engine, [RULES[0], bad, RULES[2], RULES[3], unmapped])
    assert [len(r.rows) for r in runs] == [1, 0, 3, 1, 0]
    assert [r.error is None for r in runs] == [True, False, True, True, False]
    assert runs[1].error == "failed to run: InvalidInputException: refused: boom"
    assert runs[4].error and "maps to no events" in runs[4].error
    # [whoami, refused, any process] fails; [whoami] runs; [refused, any process] fails; [refused] fails in the
    # batch form and once more alone (its own error); [any process] runs; then the network scan
    assert engine.queries == 7


def test_the_window_bounds_every_rule_of_a_scan(con: duckdb.DuckDBPyConnection) -> None:
    # the events are one second apart from 2026-01-01 00:00:00 (offset n at n seconds)
    window = TimeWindow(datetime(2026, 1, 1, 0, 0, 1), datetime(2026, 1, 1, 0, 0, 7))  # offsets 1..6
    runs = run_sigma(Engine(con), RULES, window)
    assert [[row["_offset"] for row in run.rows] for run in runs] == [[], [], [1], [2], [5]]
    assert all(run.rows == [] for run in run_sigma(Engine(con), RULES, TimeWindow(datetime(2100, 1, 1), None)))


def test_a_store_runs_the_scans_without_the_costly_optimizers_and_restores_its_setting() -> None:
    with Store() as store:
        create_events(store.con, field_rows(EVENTS))
        store.con.execute("SET disabled_optimizers = 'top_n'")  # a setting of its own, kept
        runs = run_sigma(store, RULES)
        assert [r.rows for r in runs] == one_by_one(store.con, RULES)  # the same rows, planned differently
        setting = CompiledSearch(query=exp.select("current_setting('disabled_optimizers') AS s"), node=None, columns=[])
        [during] = store.run_few(setting).column("s").to_pylist()
        assert sorted(during.split(",")) == sorted(["top_n", *FEW_DISABLED_OPTIMIZERS])
        assert store.con.execute("SELECT current_setting('disabled_optimizers')").fetchall() == [("top_n",)]


@pytest.mark.parametrize("threads", [1, 2])
def test_searches_run_at_once_come_back_in_order_with_a_refused_one_in_its_place(threads: int) -> None:
    def search(sql: str) -> CompiledSearch:
        return CompiledSearch(query=sqlglot.parse_one(sql), node=None, columns=[])

    with Store(threads=threads) as store:
        store.con.execute("SET disabled_optimizers = 'top_n'")
        texts = [f"SELECT {n} AS n, current_setting('disabled_optimizers') AS s FROM range(1000)" for n in range(6)]
        refused = "SELECT regexp_matches('a', '(') AS n"  # DuckDB refuses the pattern when it runs
        results = store.run_few_at_once(
            [search(t) for t in texts[:3]] + [search(refused)] + [search(t) for t in texts[3:]]
        )
        assert isinstance(results[3], duckdb.Error)
        tables = [r for r in results if isinstance(r, pa.Table)]
        assert [t.column("n").unique().to_pylist() for t in tables] == [[n] for n in range(6)]
        # every search planned without the costly optimizers, and the store's own setting back afterwards
        settings = {tuple(sorted(s.split(","))) for t in tables for s in t.column("s").to_pylist()}
        assert settings == {tuple(sorted(["top_n", *FEW_DISABLED_OPTIMIZERS]))}
        assert store.con.execute("SELECT current_setting('disabled_optimizers')").fetchall() == [("top_n",)]


def test_a_compressed_in_memory_store_gives_the_same_rows_and_its_cursors_see_its_tables() -> None:
    with Store(threads=2) as store:
        create_events(store.con, field_rows(EVENTS * 50))
        before = [r.rows for r in run_sigma(store, RULES)]
        assert any(before)
        compressions = "SELECT DISTINCT compression FROM pragma_storage_info('events')"
        assert {c for (c,) in store.con.execute(compressions).fetchall()} == {"Uncompressed"}  # until asked
        store.compress()
        assert {c for (c,) in store.con.execute(compressions).fetchall()} - {"Uncompressed"}  # as a file keeps them
        assert [r.rows for r in run_sigma(store, RULES)] == before
        # a cursor (another thread's, or run_few_at_once's) is on the store's database, not DuckDB's default
        with store.cursor() as cursor:
            assert cursor.con.execute("SELECT count(*) FROM events").fetchall() == [(len(EVENTS) * 50,)]


def test_scans_of_a_table_of_one_row_group_plan_without_the_optimizer_and_give_the_same_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tunnelhunt.sigma import scan

    asked: list[bool] = []
    at_once = Store.run_few_at_once

    def spy(store: Store, searches: list[CompiledSearch], optimize: bool = True) -> list[pa.Table | Exception]:
        asked.append(optimize)
        return at_once(store, searches, optimize)

    monkeypatch.setattr(Store, "run_few_at_once", spy)
    with Store() as store:
        create_events(store.con, field_rows(EVENTS))
        small = [r.rows for r in run_sigma(store, RULES)]
        monkeypatch.setattr(scan, "ONE_ROW_GROUP", 0)  # the same events, counted as a larger table
        large = [r.rows for r in run_sigma(store, RULES)]
        assert small == large == one_by_one(store.con, RULES)
    assert asked == [False, True]


@pytest.mark.parametrize("threads", [1, 2])
def test_searches_run_at_once_without_the_optimizer_turn_every_pass_off_and_back(threads: int) -> None:
    every = {name for (name,) in duckdb.connect().execute("SELECT name FROM duckdb_optimizers()").fetchall()}
    search = CompiledSearch(
        query=sqlglot.parse_one("SELECT current_setting('disabled_optimizers') AS s"), node=None, columns=[]
    )
    with Store(threads=threads) as store:
        store.con.execute("SET disabled_optimizers = 'top_n'")
        [during] = store.run_few_at_once([search, search], optimize=False)[:1]
        assert isinstance(during, pa.Table) and set(during.column("s")[0].as_py().split(",")) == every
        assert store.con.execute("SELECT current_setting('disabled_optimizers')").fetchall() == [("top_n",)]
