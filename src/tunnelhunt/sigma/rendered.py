"""Sigma's shared scans (`sigma.scan`) as DuckDB SQL text, kept in the content cache between runs.

Why: with every rule's conversion cached, a run of SigmaHQ's Windows rules still spent ~4 CPU s in Python
before DuckDB saw a query: building the cached predicates (~860,000 sqlglot nodes, then collecting them),
grouping the rules and lowering their fields (`scan.plan`), and rendering the ~75 batch queries. None of
that depends on the events or the window, only on the rules, the compiler and the batch size: the plan
(which rules share which query, which do not convert and why) and each query's text are one cache entry
for the rule set, and a warm run reads one JSON document and hands DuckDB the text.

The window is the part that varies: each query is rendered with a placeholder column where the window's
conditions go and kept as the text before and after it; a run renders its window (sqlglot) between them.
A rendering where the placeholder's name does not occur exactly once is not used (a rule's string can
hold any text). The result is the query `scan.batch_query` gives for that window.

A group whose filter selects no event in the window is not run: one query asks every group's filter first
(`bool_or`), and the rules of a group without events get the empty result running them would give. A
batch the engine refuses runs again through `scan.run_batch` (the rules' predicates built from their
cached conversions), which splits it down to the failing rule, as an uncached run does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sigma.rule import SigmaRule
from sqlglot import exp

from tunnelhunt.detect.precompiled import CachedSearch
from tunnelhunt.detect.runner import DetectionRun
from tunnelhunt.sigma import scan
from tunnelhunt.sigma.compiler import SigmaCompiler, event_columns, window_predicate
from tunnelhunt.sigma.results import sigma_detection
from tunnelhunt.spl.compiler import TimeWindow
from tunnelhunt.spl.values import Column, Kind
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.events import EVENTS_TABLE

KIND = "sigma-scan"
#: Where a query's window conditions go: its text is cut there.
_SLOT = "_tunnelhunt_window_slot"

#: A query's text before and after its window conditions.
Text = tuple[str, str]


@dataclass
class RenderedBatch:
    """One batch query: the positions of its rules in the rule list, and its text."""

    members: list[int]
    sql: Text


@dataclass
class RenderedPlan:
    """The shared scans of a rule list: rules that do not convert (position, error), each group's batches,
    the query telling which groups have events, and one selecting no event (the result's columns)."""

    failed: list[tuple[int, str]]
    groups: list[list[RenderedBatch]]
    probe: Text
    empty: Text

    def to_json(self) -> dict[str, Any]:
        return {
            "failed": [[i, error] for i, error in self.failed],
            "groups": [[[b.members, list(b.sql)] for b in batches] for batches in self.groups],
            "probe": list(self.probe),
            "empty": list(self.empty),
        }

    @classmethod
    def from_json(cls, data: Any, rules: int) -> RenderedPlan | None:
        """The plan of a cache entry, None when the entry is not one for `rules` rules."""
        try:
            failed = [(int(i), str(error)) for i, error in data["failed"]]
            groups = [[RenderedBatch([int(i) for i in m], _text(sql)) for m, sql in group] for group in data["groups"]]
            plan = cls(failed, groups, _text(data["probe"]), _text(data["empty"]))
        except (KeyError, TypeError, ValueError):
            return None
        members = [i for i, _ in failed] + [i for g in groups for b in g for i in b.members]
        return plan if sorted(members) == list(range(rules)) else None


def _text(value: Any) -> Text:
    before, after = value
    if not (isinstance(before, str) and isinstance(after, str)):
        raise ValueError("not a query text")
    return before, after


def _cut(query: exp.Expr) -> Text | None:
    """The query's DuckDB text before and after its placeholder (rendered in place: not reused)."""
    parts = query.sql("duckdb", copy=False).split(exp.to_identifier(_SLOT, quoted=True).sql("duckdb"))
    return (parts[0], parts[1]) if len(parts) == 2 else None


def fill(text: Text, window: TimeWindow | None) -> str:
    """The query's text with the window's conditions (TRUE without a window) in place of its placeholder."""
    bounds = window_predicate(window)
    condition = exp.and_(*bounds, copy=False) if bounds else exp.true()
    return text[0] + exp.Paren(this=condition).sql("duckdb") + text[1]


def render(rules: Sequence[SigmaRule], compiler: SigmaCompiler, batch: int) -> RenderedPlan | None:
    """Convert and group the rules (`scan.plan`) and render every batch query; None when a query's text
    cannot be cut at its placeholder."""
    slot = exp.column(_SLOT, quoted=True)
    groups, failed = scan.plan(rules, compiler)
    position = {id(rule): i for i, rule in enumerate(rules)}
    rendered: list[list[RenderedBatch]] = []
    for group in groups:
        batches = []
        for start in range(0, len(group.rules), batch):
            members = group.rules[start : start + batch]
            query = scan.batch_query(group.scan, [p for _, p in members], None, group.lowered, [slot.copy()])
            text = _cut(query.query)
            if text is None:
                return None
            batches.append(RenderedBatch([position[id(rule)] for rule, _ in members], text))
        rendered.append(batches)
    flags = [
        exp.alias_(exp.func("bool_or", group.scan.copy()), scan.flag_name(i), quoted=True)
        for i, group in enumerate(groups)
    ]
    events = exp.to_table(EVENTS_TABLE)
    # the count keeps the select list an aggregate (one row) when no rule converts
    probe = _cut(exp.select(*flags, exp.Count(this=exp.Star()).as_("events")).from_(events).where(slot.copy()))
    outputs = [exp.alias_(e, name, quoted=True) for name, e, _ in event_columns()]
    outputs.append(exp.false().as_(scan.flag_name(0), quoted=True))  # a batch of one rule's columns
    empty = _cut(exp.select(*outputs).from_(events).where(exp.and_(exp.false(), slot.copy())))
    if probe is None or empty is None:
        return None
    errors = [(position[id(rule)], str(run.error)) for rule, run in failed]
    return RenderedPlan(errors, rendered, probe, empty)


def cached_render(rules: Sequence[SigmaRule], compiler: SigmaCompiler, batch: int) -> RenderedPlan | None:
    """`render`, kept in the compiler's cache under the rules' conversion keys (in order) and `batch`."""
    keys = [compiler.rule_cache_key(rule) for rule in rules]
    if compiler.cache is None or any(key is None for key in keys):
        return render(rules, compiler, batch)
    key = compiler.entry_key("scan", str(batch), *[k for k in keys if k is not None])
    found = RenderedPlan.from_json(compiler.cache.get(KIND, key), len(rules))
    if found is None:
        found = render(rules, compiler, batch)
        if found is not None:
            compiler.cache.put(KIND, key, found.to_json())
    return found


def _query(text: Text, window: TimeWindow | None, columns: list[Column]) -> CachedSearch:
    return CachedSearch(duckdb_sql=fill(text, window), columns=columns)


def run_rendered(
    store: Store,
    rules: Sequence[SigmaRule],
    plan: RenderedPlan,
    window: TimeWindow | None,
    compiler: SigmaCompiler,
) -> list[DetectionRun]:
    """Each rule's run (in the order of `rules`), from the plan's queries."""
    runs: list[DetectionRun | None] = [None] * len(rules)
    for i, error in plan.failed:
        runs[i] = DetectionRun(sigma_detection(rules[i]), error=error)
    flags = [Column(scan.flag_name(i), Kind.BOOL) for i in range(len(plan.groups))]
    try:
        probe = store.run_few(_query(plan.probe, window, [*flags, Column("events", Kind.INT)]))
        has_events = [probe.column(c.name)[0].as_py() is True for c in flags]
    except scan.QUERY_ERRORS:
        has_events = [True] * len(flags)  # a filter the engine refuses: every group runs and reports it
    empty: pa.Table | None = None
    for group, selects in zip(plan.groups, has_events, strict=True):
        for rendered in group:
            members = [rules[i] for i in rendered.members]
            if not selects:
                if empty is None:
                    empty = scan.batch_rows(members[:1], store.run_few(_query(plan.empty, window, _columns(1))))[0]
                found = [DetectionRun(sigma_detection(rule), findings=empty) for rule in members]
            else:
                found = _run_batch(store, members, rendered.sql, window, compiler)
            for i, run in zip(rendered.members, found, strict=True):
                runs[i] = run
    return [run for run in runs if run is not None]


def _run_batch(
    store: Store, members: list[SigmaRule], text: Text, window: TimeWindow | None, compiler: SigmaCompiler
) -> list[DetectionRun]:
    """A batch from its text; refused, again from the rules' predicates, split down to the failing rule."""
    try:
        table = store.run_few(_query(text, window, _columns(len(members))))
    except scan.QUERY_ERRORS:
        groups, _ = scan.plan(members, compiler)  # they converted before: one group, as in the plan
        runs = {
            id(rule): run
            for group in groups
            for (rule, _), run in zip(
                group.rules, scan.run_batch(store, group, group.rules, window, compiler), strict=True
            )
        }
        return [runs[id(rule)] for rule in members]
    rows = scan.batch_rows(members, table)
    return [DetectionRun(sigma_detection(rule), findings=found) for rule, found in zip(members, rows, strict=True)]


def _columns(rules: int) -> list[Column]:
    """A batch query's result columns: the event's, then one flag per rule."""
    columns = [Column(name, kind) for name, _, kind in event_columns()]
    return columns + [Column(scan.flag_name(i), Kind.BOOL) for i in range(rules)]
