"""Shared scans rendered once and kept in the content cache (`sigma.rendered`): the same rows as one query per
rule, whether the plan is rendered, read back warm, cut around a window, or falls back to the trees."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from sigma.rule import SigmaRule

from tests.support.raw_events import create_events, field_rows
from tests.unit.test_sigma_scan import EVENTS, NET, PROC, SECURITY, one_by_one
from tunnelhunt.content.cache import ContentCache
from tunnelhunt.sigma import load_content
from tunnelhunt.sigma.compiler import SigmaCompiler
from tunnelhunt.sigma.rendered import KIND
from tunnelhunt.sigma.scan import run_sigma
from tunnelhunt.spl.compiler import TimeWindow
from tunnelhunt.spl.searches import RunnableSearch
from tunnelhunt.store.duckdb_store import Store

POWERSHELL = "{category: ps_script, product: windows}"  # no such event in EVENTS
DETECTIONS = [
    ("whoami", PROC, "{CommandLine|contains: whoami}"),
    ("whoami near miss", PROC, "{CommandLine|contains: 'whoami /priv'}"),
    ("any process", PROC, "{Image|endswith: '.exe'}"),
    ("port 443", NET, "{DestinationPort: 443}"),
    ("logon type 10", SECURITY, "{EventID: 4624, LogonType: 10}"),
    ("script block", POWERSHELL, "{ScriptBlockText|contains: mimikatz}"),
    ("unmapped", "{category: no_such, product: windows}", "{Image: x}"),
]


class CountingStore(Store):
    """A store counting its queries and refusing any that holds `refuse` (as DuckDB refuses a bad pattern)."""

    def __init__(self, refuse: str | None = None) -> None:
        super().__init__()
        self.queries: list[str] = []
        self.refuse = refuse

    def run_few(self, compiled: RunnableSearch, cursor: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
        self._check(compiled.sql("duckdb"))
        return super().run_few(compiled, cursor)

    def run(self, compiled: RunnableSearch) -> pa.Table:  # a rule run alone
        self._check(compiled.sql("duckdb"))
        return super().run(compiled)

    def _check(self, sql: str) -> None:
        self.queries.append(sql)
        if self.refuse and self.refuse in sql:
            raise duckdb.InvalidInputException(f"refused: {self.refuse}")


def write_rules(folder: Path, detections: list[tuple[str, str, str]]) -> list[SigmaRule]:
    folder.mkdir(parents=True, exist_ok=True)
    for number, (title, logsource, detection) in enumerate(detections):
        text = (
            f"title: {title}\nid: 0d2e7a4e-2d1b-4d6b-9c9f-{number:012d}\nlevel: medium\n"
            f"logsource: {logsource}\ndetection:\n  sel: {detection}\n  condition: sel\n"
        )
        (folder / f"r{number:02d}.yml").write_text(text)
    return load_content([folder]).rules


@pytest.fixture
def store() -> Iterator[CountingStore]:
    with CountingStore() as opened:
        create_events(opened.con, field_rows(EVENTS))
        yield opened


def test_a_warm_plan_runs_without_converting_and_gives_the_rows_of_one_query_per_rule(
    store: CountingStore, tmp_path: Path
) -> None:
    cache = ContentCache(tmp_path / "cache")
    rules = write_rules(tmp_path / "rules", DETECTIONS)
    expected = one_by_one(store.con, rules[:-1])
    cold = run_sigma(store, rules, compiler=SigmaCompiler(cache=cache))
    assert [run.rows for run in cold[:-1]] == expected
    assert [len(run.rows) for run in cold] == [1, 0, 3, 1, 1, 0, 0]
    assert cold[-1].error and "maps to no events" in cold[-1].error
    assert len(list((tmp_path / "cache" / KIND).rglob("*.json"))) == 1  # one entry for the rule list

    warm_rules = load_content([tmp_path / "rules"]).rules
    warm = SigmaCompiler(cache=cache)
    warm.mapped = None  # type: ignore[assignment,method-assign]  # a warm run must not build predicates
    store.queries.clear()
    runs = run_sigma(store, warm_rules, compiler=warm)
    assert [run.rows for run in runs[:-1]] == expected and runs[-1].error == cold[-1].error
    assert [run.detection.name for run in runs] == [title for title, _, _ in DETECTIONS]
    # which groups have events, then the three scans with events, then the empty result of the powershell
    # rule's scan, which does not run
    assert len(store.queries) == 5 and not any("mimikatz" in q for q in store.queries)
    assert runs[5].findings is not None and runs[5].findings.schema == runs[1].findings.schema  # type: ignore[union-attr]


def test_a_window_bounds_the_cached_queries_and_the_groups_with_events(store: CountingStore, tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    rules = write_rules(tmp_path / "rules", DETECTIONS[:5])
    run_sigma(store, rules, compiler=SigmaCompiler(cache=cache))  # fills the cache
    # the events are one second apart from 2026-01-01 00:00:00 (offset n at n seconds)
    window = TimeWindow(datetime(2026, 1, 1, 0, 0, 1), datetime(2026, 1, 1, 0, 0, 7))  # offsets 1..6
    runs = run_sigma(store, rules, window, SigmaCompiler(cache=cache))
    assert [[row["_offset"] for row in run.rows] for run in runs] == [[], [], [1], [2], [5]]
    store.queries.clear()
    later = run_sigma(store, rules, TimeWindow(datetime(2100, 1, 1), None), SigmaCompiler(cache=cache))
    assert all(run.rows == [] and run.error is None for run in later)
    assert len(store.queries) == 2  # no group has events then: the probe and the empty result only


def test_a_refused_cached_batch_is_split_down_to_the_failing_rule(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    rules = write_rules(tmp_path / "rules", [*DETECTIONS[:3], ("refused", PROC, "{CommandLine|contains: boom}")])
    with CountingStore(refuse="boom") as store:
        create_events(store.con, field_rows(EVENTS))
        for _ in range(2):  # cold, then warm
            runs = run_sigma(store, rules, compiler=SigmaCompiler(cache=cache))
            assert [len(r.rows) for r in runs] == [1, 0, 3, 0]
            assert [r.error for r in runs] == [None, None, None, "failed to run: InvalidInputException: refused: boom"]


def test_a_rule_holding_the_placeholder_name_runs_from_its_predicates(store: CountingStore, tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    odd = ("placeholder", PROC, "{CommandLine|contains: '\"_tunnelhunt_window_slot\"'}")
    rules = write_rules(tmp_path / "rules", [DETECTIONS[0], odd])
    runs = run_sigma(store, rules, compiler=SigmaCompiler(cache=cache))
    assert [run.rows for run in runs] == one_by_one(store.con, rules) and len(runs[0].rows) == 1
    assert not (tmp_path / "cache" / KIND).exists()  # not rendered, so not kept


def test_a_cache_entry_of_another_shape_is_rendered_again(store: CountingStore, tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    rules = write_rules(tmp_path / "rules", DETECTIONS[:5])
    expected = [run.rows for run in run_sigma(store, rules, compiler=SigmaCompiler(cache=cache))]
    (entry,) = (tmp_path / "cache" / KIND).rglob("*.json")
    plan = json.loads(entry.read_text())
    plan["groups"][0][0][0] = [0]  # a batch missing rules: not a plan of these rules
    entry.write_text(json.dumps(plan))
    assert [run.rows for run in run_sigma(store, rules, compiler=SigmaCompiler(cache=cache))] == expected
    assert json.loads(entry.read_text())["groups"][0][0][0] != [0]


def test_rules_that_all_fail_to_convert_ask_one_row_of_the_store(store: CountingStore, tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "rules", [DETECTIONS[-1]])
    runs = run_sigma(store, rules, compiler=SigmaCompiler(cache=ContentCache(tmp_path / "cache")))
    assert runs[0].error and "maps to no events" in runs[0].error
    assert [store.con.execute(q).fetchall() for q in store.queries] == [[(len(EVENTS),)]]
