"""SPL commands compiled to SQL and run on DuckDB, checked against Splunk's semantics (with near misses)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from tunnelhunt.cim import DNS, PROCESSES, Node
from tunnelhunt.normalize.normalizer import node_schema
from tunnelhunt.spl.compiler import TimeWindow, compile_search
from tunnelhunt.spl.errors import SplSyntaxError, UnsupportedError
from tunnelhunt.spl.macros import MacroDefinition, expand_macros
from tunnelhunt.store.duckdb_store import Store

NOW = datetime(2024, 1, 1, 12, 0, 0)
TSTATS = "| tstats count min(_time) as firstTime from datamodel=Endpoint.Processes"


def _at(minute: int, second: int = 0) -> datetime:
    return datetime(2024, 1, 1, 10, minute, second)


def _epoch(moment: datetime) -> str:
    """A time as Splunk prints it outside `_time` (an unconverted min(_time)): epoch seconds."""
    return str(int(moment.replace(tzinfo=UTC).timestamp()))


def _append(store: Store, node: Node, rows: list[dict[str, Any]]) -> None:
    schema = node_schema(node)
    columns = {f.name: [row.get(f.name) for row in rows] for f in schema}
    store.append(node.table, pa.Table.from_pydict(columns, schema=schema))


PROCESS_ROWS: list[dict[str, Any]] = [
    dict(_time=_at(0), dest="h1", user="alice", process_name="ngrok.exe", process="ngrok.exe tcp 22", process_id="10"),
    dict(_time=_at(5), dest="h1", user="alice", process_name="NGROK.EXE", process="ngrok http 80", process_id="11"),
    dict(_time=_at(7), dest="h2", user="bob", process_name="cmd.exe", process="cmd /c whoami", process_id="9"),
    dict(
        _time=_at(9),
        dest="h2",
        user=None,
        process_name="powershell.exe",
        process="powershell -enc AAAA",
        process_id="100",
    ),
    dict(
        _time=_at(31),
        dest="h3",
        user="carol",
        process_name="ngrok.exe.bak",
        process="ngrok.exe.bak http",
        process_id="7",
    ),
]
DNS_ROWS: list[dict[str, Any]] = [
    dict(_time=_at(1), src="h1", query="abc.ngrok.io", answer=["1.2.3.4", "5.6.7.8"]),
    dict(_time=_at(2), src="h1", query="ngrok.io.evil.com", answer=["9.9.9.9"]),
    dict(_time=_at(3), src="h2", query="ABC.NGROK.IO", answer=None),
    dict(_time=_at(4), src="10.1.2.3", query="intranet.local", answer=["10.0.0.5"]),
]


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    with Store() as store:
        _append(store, PROCESSES, PROCESS_ROWS)
        _append(store, DNS, DNS_ROWS)
        yield store


def run(store: Store, search: str, window: TimeWindow | None = None) -> list[dict[str, Any]]:
    compiled = compile_search(search, window, now=NOW)
    return store.query(compiled.sql("duckdb")).to_pylist()


def by_process(store: Store, tail: str) -> list[dict[str, Any]]:
    return run(
        store,
        f"{TSTATS} by Processes.dest Processes.user Processes.process_name Processes.process Processes.process_id"
        f" | rename Processes.* as * {tail}",
    )


# --- tstats ---------------------------------------------------------------------------------------
def test_tstats_where_matches_case_insensitively_and_drops_rows_with_missing_by_fields(store: Store) -> None:
    rows = run(store, f"{TSTATS} where Processes.process_name=ngrok.exe by Processes.dest Processes.user")
    assert rows == [{"Processes.dest": "h1", "Processes.user": "alice", "count": 2, "firstTime": _epoch(_at(0))}]


def test_tstats_fillnull_value_keeps_rows_with_missing_by_fields(store: Store) -> None:
    rows = run(
        store,
        "| tstats fillnull_value=null count from datamodel=Endpoint.Processes"
        " where Processes.dest=h2 by Processes.user",
    )
    assert rows == [{"Processes.user": "bob", "count": 1}, {"Processes.user": "null", "count": 1}]


def test_tstats_by_time_span_buckets_time(store: Store) -> None:
    rows = run(store, "| tstats count from datamodel=Endpoint.Processes by _time span=30m")
    assert rows == [{"_time": _at(0), "count": 4}, {"_time": _at(30), "count": 1}]


def test_tstats_nodename_selects_the_dataset(store: Store) -> None:
    rows = run(store, "| tstats count from datamodel=Network_Resolution where nodename=DNS DNS.src=h2 by DNS.query")
    assert rows == [{"DNS.query": "ABC.NGROK.IO", "count": 1}]


def test_tstats_wildcard_does_not_match_a_suffix_lookalike(store: Store) -> None:
    rows = run(store, '| tstats count from datamodel=Network_Resolution where DNS.query="*.ngrok.io" by DNS.query')
    assert [r["DNS.query"] for r in rows] == ["ABC.NGROK.IO", "abc.ngrok.io"]


def test_tstats_cidr_value_matches_addresses_inside_the_network(store: Store) -> None:
    rows = run(store, '| tstats count from datamodel=Network_Resolution where DNS.src="10.0.0.0/8" by DNS.src')
    assert rows == [{"DNS.src": "10.1.2.3", "count": 1}]


def test_tstats_where_evaluates_or_before_and_as_the_search_command_does(store: Store) -> None:
    rows = run(
        store,
        f"{TSTATS} where Processes.process_name=cmd.exe Processes.process=*whoami* OR Processes.process=*tcp*"
        " by Processes.process_id",
    )
    assert [r["Processes.process_id"] for r in rows] == ["9"]  # not "10": that is ngrok.exe, not cmd.exe


def test_tstats_time_window_bounds_events(store: Store) -> None:
    window = TimeWindow(_at(5), _at(9))
    assert run(store, f"{TSTATS}", window) == [{"count": 2, "firstTime": _epoch(_at(5))}]


# --- eval and where -------------------------------------------------------------------------------
def test_eval_compares_case_sensitively_unlike_search(store: Store) -> None:
    rows = by_process(store, '| where process_name="ngrok.exe" | table process_id')
    assert rows == [{"process_id": "10"}]
    rows = by_process(store, "| search process_name=ngrok.exe | table process_id")
    assert sorted(r["process_id"] for r in rows) == ["10", "11"]


def test_where_compares_numbers_held_as_text_numerically(store: Store) -> None:
    rows = by_process(store, "| where process_id > 8 | table process_id")
    assert sorted(r["process_id"] for r in rows) == ["10", "11", "9"]  # as text, "10" < "8" and "7" > "10"


def test_eval_functions(store: Store) -> None:
    rows = by_process(
        store,
        '| where process_id=10 | eval up=upper(process_name), n=len(process), parts=mvcount(split(process, " ")),'
        ' last=mvindex(split(process, " "), -1), kind=case(match(process, "tcp"), "tcp", true(), "other"),'
        ' pid=tonumber(process_id) * 2, label=if(like(process, "ngrok%"), "N", "-"), gone=coalesce(nothing, dest),'
        ' fixed=replace(process, "\\d+", "#"), head=substr(process, 1, 5), when=strftime(now(), "%Y-%m-%d %H:%M"),'
        ' hour_ago=strftime(relative_time(now(), "-1h@h"), "%H:%M"), bad=relative_time(now(), "soon"),'
        ' missing=if(isnull(nothing), "y", "n")'
        " | fields - dest user process_name process count firstTime",
    )
    assert rows == [
        {
            "process_id": "10",
            "up": "NGROK.EXE",
            "n": 16,
            "parts": 3,
            "last": "22",
            "kind": "tcp",
            "pid": 20.0,
            "label": "N",
            "gone": "h1",
            "fixed": "ngrok.exe tcp #",
            "head": "ngrok",
            "when": "2024-01-01 12:00",
            "hour_ago": "11:00",
            "bad": None,
            "missing": "y",
        }
    ]


def test_eval_assignment_sees_earlier_assignments_and_replaces_in_place(store: Store) -> None:
    rows = by_process(store, '| where process_id=9 | eval dest=dest . "!", x=dest . "?" | table dest x')
    assert rows == [{"dest": "h2!", "x": "h2!?"}]


def test_eval_cannot_store_a_boolean() -> None:
    with pytest.raises(SplSyntaxError, match="true/false"):
        compile_search(f"{TSTATS} | eval x = count > 1")


def test_cidrmatch_and_in(store: Store) -> None:
    rows = run(
        store,
        "| tstats count from datamodel=Network_Resolution by DNS.src DNS.query | rename DNS.* as *"
        ' | where cidrmatch("10.0.0.0/8", src) OR query IN ("abc.ngrok.io") | table src',
    )
    assert rows == [{"src": "10.1.2.3"}, {"src": "h1"}]


def test_multivalue_comparison_is_true_when_any_value_matches(store: Store) -> None:
    rows = run(
        store,
        "| tstats values(DNS.answer) as answer from datamodel=Network_Resolution by DNS.query"
        ' | rename DNS.* as * | where answer="5.6.7.8" | eval kept=mvfilter(match(answer, "^1\\.")) | table query kept',
    )
    assert rows == [{"query": "abc.ngrok.io", "kept": ["1.2.3.4"]}]


# --- stats, eventstats ------------------------------------------------------------------------------
def test_stats_aggregates_by_fields_and_drops_missing_groups(store: Store) -> None:
    rows = by_process(
        store,
        "| stats count dc(process_name) as names values(process_id) as pids sum(process_id) as total by user",
    )
    assert rows == [
        {"user": "alice", "count": 2, "names": 2, "pids": ["10", "11"], "total": 21.0},
        {"user": "bob", "count": 1, "names": 1, "pids": ["9"], "total": 9.0},
        {"user": "carol", "count": 1, "names": 1, "pids": ["7"], "total": 7.0},
    ]


def test_stats_by_a_multivalue_field_counts_each_value(store: Store) -> None:
    rows = run(
        store,
        "| tstats values(DNS.answer) as answer from datamodel=Network_Resolution by DNS.src | stats count by answer",
    )
    assert [r["answer"] for r in rows] == ["1.2.3.4", "10.0.0.5", "5.6.7.8", "9.9.9.9"]


def test_eventstats_adds_group_aggregates_to_every_row(store: Store) -> None:
    rows = by_process(store, "| eventstats count as per_host by dest | table process_id per_host")
    assert sorted((r["process_id"], r["per_host"]) for r in rows) == [("10", 2), ("11", 2), ("7", 1), ("9", 1)]


# --- table, fields, dedup, sort, head -----------------------------------------------------------------
def test_sort_is_numeric_for_numbers_and_head_keeps_the_first(store: Store) -> None:
    rows = by_process(store, "| sort - process_id | head 2 | table process_id")
    assert rows == [{"process_id": "11"}, {"process_id": "10"}]


def test_dedup_keeps_the_first_row_per_value_in_result_order(store: Store) -> None:
    rows = by_process(store, "| sort process_id | dedup dest | table dest process_id")
    assert rows == [
        {"dest": "h3", "process_id": "7"},
        {"dest": "h2", "process_id": "9"},
        {"dest": "h1", "process_id": "10"},
    ]


def test_table_orders_columns_and_keeps_missing_fields_empty(store: Store) -> None:
    rows = by_process(store, "| where process_id=7 | table p*_id, nothing, dest")
    assert rows == [{"process_id": "7", "nothing": None, "dest": "h3"}]


# --- rex, regex, fillnull, convert, bin ------------------------------------------------------------
def test_rex_named_groups_become_fields_and_regex_filters(store: Store) -> None:
    rows = by_process(
        store,
        '| regex process="^ngrok" | rex field=process "^(?<exe>\\S+)\\s+(?<mode>\\w+)" | table exe mode',
    )
    assert sorted((r["exe"], r["mode"]) for r in rows) == [
        ("ngrok", "http"),
        ("ngrok.exe", "tcp"),
        ("ngrok.exe.bak", "http"),
    ]
    negated = by_process(store, '| regex process!="^ngrok" | table process_id')
    assert sorted(r["process_id"] for r in negated) == ["9"]


def test_fillnull_fills_missing_values_and_creates_missing_fields(store: Store) -> None:
    rows = run(
        store,
        "| tstats fillnull_value=null count from datamodel=Endpoint.Processes where Processes.dest=h2"
        " by Processes.process_id | rename Processes.* as * | eval u=null() | fillnull value=- u extra"
        " | table process_id u extra",
    )
    assert rows == [{"process_id": "100", "u": "-", "extra": "-"}, {"process_id": "9", "u": "-", "extra": "-"}]


def test_convert_ctime_formats_epoch_text_and_leaves_other_text(store: Store) -> None:
    rows = by_process(
        store,
        '| where process_id=7 | eval t="1704103200", word="soon"'
        ' | convert timeformat="%Y-%m-%d %H:%M" ctime(t) ctime(word) | table t word',
    )
    assert rows == [{"t": "2024-01-01 10:00", "word": "soon"}]


def test_bin_buckets_time(store: Store) -> None:
    rows = run(
        store,
        "| tstats count from datamodel=Endpoint.Processes by _time"
        " | bin _time span=1h | stats sum(count) as n by _time",
    )
    assert rows == [{"_time": datetime(2024, 1, 1, 10, 0), "n": 5}]


# --- macros ----------------------------------------------------------------------------------------
def test_backticks_inside_quoted_values_are_not_macro_calls() -> None:
    definitions = {
        ("m", 0): MacroDefinition("m", "eval x=1"),
        ("f", 1): MacroDefinition("f", "rename $p$.* AS *", ("p",)),
    }

    def lookup(name: str, count: int) -> MacroDefinition | None:
        return definitions.get((name, count))

    search = '| `f("Processes")` | eval y=split(process, "`") | eval z="`m`" | `m` ```a `comment` ```'
    assert expand_macros(search, lookup) == (
        '| rename "Processes".* AS * | eval y=split(process, "`") | eval z="`m`" | eval x=1  '
    )


# --- what does not compile ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("search", "token"),
    [
        (f"{TSTATS} | append [| inputlookup x]", "append"),
        (f"{TSTATS} | eval x=urldecode(dest)", "urldecode"),
        (f"{TSTATS} | stats foo(x) as n", "foo"),
        (f'{TSTATS} | where match(dest, "a(?=b)")', "look-around (?= (?! (?<= (?<!"),
        ("| eval x=1", "eval"),
        ("| tstats count from datamodel=Risk.All_Risk", "Risk.All_Risk"),
        (f"{TSTATS} | lookup nowhere a OUTPUT b", "nowhere"),
        (f"{TSTATS} | search [| inputlookup x]", "["),
    ],
)
def test_unsupported_searches_name_the_obstacle_and_its_position(search: str, token: str) -> None:
    with pytest.raises(UnsupportedError) as info:
        compile_search(search)
    assert info.value.token == token
    assert info.value.position is not None
    if token not in ("search", "Risk.All_Risk"):
        assert search[info.value.position :].lower().startswith(token.split(" ")[0].lower()) or token in str(info.value)


def test_sql_is_dialect_neutral_enough_for_spark() -> None:
    compiled = compile_search(
        f"{TSTATS} by Processes.dest | rename Processes.* as * | eval d=lower(dest) | where count > 1 | sort - count"
    )
    spark = compiled.sql("spark")
    assert "WITH" in spark and "LOWER" in spark and "ORDER BY" in spark
