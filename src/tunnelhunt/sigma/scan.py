"""Rules over the same logsource share one scan of `events`.

A separate query per rule plans, scans and sorts the events once per rule: with SigmaHQ's ~2,400 Windows
rules that is thousands of scans. Here the rules are grouped by what their logsource selects (the
`LogsourceMapping` filters: `Channel`, `EventCode`, ...), and each group (in batches of `BATCH` rules) is
one query:

    SELECT <event columns>, "_sigma_0", ... FROM (SELECT *, <rule 1> AS "_sigma_0", ...
                   FROM (SELECT *, LOWER(<field>) AS "_sigma_lower_0", ...
                         FROM events WHERE <logsource filter> AND <window>) AS events) AS scan
    WHERE "_sigma_0" OR "_sigma_1" OR ...

so the filter is evaluated once per event, each rule's condition only on the events of its logsource, and
the result's columns only for the events some rule flags. On DuckDB (`Store.run_few`) the outer `WHERE`
is not pushed below the flags: that copied every rule's predicate into a filter, planned and run twice.
Case-insensitive comparisons read each field lowered once per event (`ScanGroup.lower_once`): SigmaHQ's
process-creation rules hold ~20 `LOWER(CommandLine)`/`LOWER(Image)` each, and computing and planning
those per comparison was most of a batch's cost (and its planner memory).
Each rule's rows are then taken from the result by its flag, given the rule's identity columns and sorted
as `compiler.SigmaCompiler.compile` sorts them: the same (rule, event) rows as running the rules one by one.
Why that holds: a rule's predicate under a mapping is the mapping's event conditions AND the detection,
and the filter is exactly those event conditions (`SigmaCompiler.logsource_filters`); the full predicate
is still evaluated on every scanned event. A rule whose mappings have no such filter is scanned unfiltered.

A batch whose query fails (a regular expression the engine refuses, ...) is split in halves until the
failing rules are alone, so one bad rule costs a few queries and gets its own error.

On DuckDB (a `Store`) the plan and the batch queries' text are rendered once and kept in the content cache
(`sigma.rendered`), and only the groups with events in the window run (`_run_plan`), their batch queries
several at a time, one per DuckDB thread (`Store.run_few_at_once`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule
from sqlglot import exp

from tunnelhunt.detect.precompiled import CachedSearch
from tunnelhunt.detect.runner import DetectionRun, QueryEngine, QueryError
from tunnelhunt.sigma import rendered
from tunnelhunt.sigma.compiler import (
    SigmaCompileError,
    SigmaCompiler,
    default_compiler,
    event_columns,
    logsource_key,
    rule_columns,
    window_predicate,
)
from tunnelhunt.sigma.results import run_sigma_rule, sigma_detection
from tunnelhunt.sigma.rules import SigmaRuleKind
from tunnelhunt.spl.compiler import CompiledSearch, TimeWindow
from tunnelhunt.spl.values import Column, Kind
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.events import EVENTS_TABLE

#: Rules per query: one scan serves this many rules. DuckDB plans a batch in time that grows faster than its size
#: (602 Windows rules: 17.2 CPU s in batches of 300, 14.7 in batches of 60).
BATCH = 100
#: DuckDB's rows per row group: a table this small is scanned whole by one thread, filters or not.
ONE_ROW_GROUP = 122_880
_FLAG = "_sigma_{}"
_LOWER = "_sigma_lower_{}"
_ORDER = [("_time", "ascending"), ("_source", "ascending"), ("_offset", "ascending")]
QUERY_ERRORS = (duckdb.Error, OSError, pa.ArrowException, QueryError)


def flag_name(index: int) -> str:
    """The name of the flag column of a batch's `index`-th rule."""
    return _FLAG.format(index)


@dataclass
class ScanGroup:
    """Rules whose matches all lie among the events `scan` selects, with their predicates."""

    scan: exp.Expr
    rules: list[tuple[SigmaRule, exp.Expr]] = field(default_factory=list)
    #: `LOWER(field)` of the group's predicates, computed once per event: column name → the field it lowers
    lowered: dict[str, exp.Expr] = field(default_factory=dict)

    #: `_field_key` of each lowered field → its column name
    _names: dict[tuple[str, str], str] = field(default_factory=dict)

    def lower_once(self, predicate: exp.Expr) -> exp.Expr:
        """The predicate with each `LOWER(field)` read from a column of `lowered` (in place, once per rule).

        Thousands of rules lower the same few fields (`Image`, `CommandLine`): computed and planned once per
        field instead of once per comparison. The value is the same, so the matches are."""

        def replace(node: exp.Expr) -> exp.Expr:
            key = _field_key(node.this) if isinstance(node, exp.Lower) else None
            if key is None:
                return node
            if key not in self._names:
                self._names[key] = _LOWER.format(len(self.lowered))
                self.lowered[self._names[key]] = node.this.copy()
            return exp.column(self._names[key], quoted=True)

        return predicate.transform(replace, copy=False)


def _field_key(node: exp.Expr) -> tuple[str, str] | None:
    """An events column or a `fields['name']` lookup (what the backend lowers), as a key; else None.

    Not the node's SQL: rendering every lowered operand was a fifth of a ruleset's matching time."""
    if isinstance(node, exp.Column) and not node.table:
        return ("column", node.name)
    if (
        isinstance(node, exp.Bracket)
        and isinstance(node.this, exp.Column)
        and node.this.name == "fields"
        and len(node.expressions) == 1
        and isinstance(node.expressions[0], exp.Literal)
    ):
        return ("fields", node.expressions[0].this)
    return None


def plan(
    rules: Iterable[SigmaRule], compiler: SigmaCompiler
) -> tuple[list[ScanGroup], list[tuple[SigmaRule, DetectionRun]]]:
    """Group convertible rules by the events their logsource selects; rules that do not convert come back
    with a run carrying their error."""
    groups: dict[tuple[str, tuple[str, ...]], ScanGroup] = {}
    failed: list[tuple[SigmaRule, DetectionRun]] = []
    for rule in rules:
        try:
            mapped = compiler.mapped(rule)
        except (SigmaCompileError, SigmaError) as exc:
            failed.append((rule, DetectionRun(sigma_detection(rule), error=f"does not compile: {exc}")))
            continue
        names = tuple(sorted({name for name, _ in mapped}))
        filters = compiler.logsource_filters(rule.logsource)
        key = (logsource_key(rule.logsource), names) if all(n in filters for n in names) else ("", ())
        if key not in groups:
            scan = exp.or_(*[filters[n].copy() for n in names], copy=False) if key[1] else exp.true()
            groups[key] = ScanGroup(scan)
        predicates = [predicate for _, predicate in mapped]
        predicate = exp.or_(*predicates, copy=False) if len(predicates) > 1 else predicates[0]
        groups[key].rules.append((rule, groups[key].lower_once(predicate)))
    return list(groups.values()), failed


def batch_query(
    scan: exp.Expr,
    predicates: Sequence[exp.Expr],
    window: TimeWindow | None,
    lowered: dict[str, exp.Expr] | None = None,
    bounds: list[exp.Expr] | None = None,
) -> CompiledSearch:
    """One scan of the events `scan` selects, a flag column per predicate, only events some predicate matches;
    the `lowered` columns the predicates read are computed first, once per event. `bounds` replace the
    window's conditions (`sigma.rendered` puts a placeholder there)."""
    outputs = event_columns()
    lowered = lowered or {}
    bounds = window_predicate(window) if bounds is None else bounds
    used = {c.name for p in predicates for c in p.find_all(exp.Column) if c.name in lowered}
    events = (
        exp.select(exp.Star(), *[exp.alias_(exp.Lower(this=lowered[n].copy()), n, quoted=True) for n in sorted(used)])
        .from_(exp.to_table(EVENTS_TABLE), copy=False)
        .where(exp.and_(scan.copy(), *bounds, copy=False), copy=False)
    )
    # the predicates are not copied (copying them cost more than planning the query): a predicate node is
    # re-parented into each query that uses it, which rendering does not depend on
    flags = [exp.Alias(this=_flag(p), alias=exp.to_identifier(_FLAG.format(i), True)) for i, p in enumerate(predicates)]
    inner = exp.select(exp.Star(), *flags, copy=False).from_(events.subquery(EVENTS_TABLE, copy=False), copy=False)
    # the result's columns only for the flagged events (the filter is not pushed below the flags, run_few)
    names = [exp.column(_FLAG.format(i), quoted=True) for i in range(len(predicates))]
    query = (
        exp.select(*[exp.alias_(e, name, quoted=True) for name, e, _ in outputs], *names, copy=False)
        .from_(inner.subquery("scan", copy=False), copy=False)
        .where(exp.or_(*[n.copy() for n in names], copy=False), copy=False)
    )
    columns = [Column(name, kind) for name, _, kind in outputs]
    columns += [Column(_FLAG.format(i), Kind.BOOL) for i in range(len(predicates))]
    return CompiledSearch(query=query, node=None, columns=columns)


def _flag(predicate: exp.Expr) -> exp.Expr:
    """`CASE WHEN predicate THEN TRUE ELSE FALSE END`: TRUE exactly where the predicate is (a NULL predicate,
    a missing field, is no match, as in a WHERE).

    Why not the predicate itself: DuckDB evaluates an `AND`/`OR` in a select list on every row for each
    operand, but a `CASE` condition as a filter, each operand only on the rows the ones before leave
    undecided. Most rules' first comparison holds for few events, so most of their comparisons are never
    evaluated (SigmaHQ's Windows rules over 8 copies of the EVTX corpus: 6.6-8.8 → 5.3-5.8 CPU s)."""
    return exp.Case(ifs=[exp.If(this=predicate, true=exp.true())], default=exp.false())


def rule_rows(rule: SigmaRule, events: pa.Table, flag: pa.ChunkedArray) -> pa.Table:
    """The rows of one rule in a batch's result (`events`, the flag columns dropped): the events its `flag`
    marks (NULL is no match), its identity columns first, sorted."""
    rows = events.filter(flag)
    identity = []
    for name, typed, kind in rule_columns(rule):
        value = typed.this if isinstance(typed, exp.Cast) else typed  # a literal typed for Spark
        if kind is Kind.MV:
            items = [e.this for e in value.expressions]
            identity.append((name, pa.array([items] * rows.num_rows, pa.list_(pa.string()))))
        else:
            text = value.this if isinstance(value, exp.Literal) else None
            identity.append((name, pa.array([text] * rows.num_rows, pa.string())))
    names = [name for name, _ in identity] + rows.column_names
    result = pa.table([array for _, array in identity] + rows.columns, names=names)
    return result.take(pc.sort_indices(result, sort_keys=_ORDER)) if result.num_rows > 1 else result


def batch_rows(rules: Sequence[SigmaRule], table: pa.Table) -> list[pa.Table]:
    """Each rule's rows in its batch's result. Most rules match nothing: they share one empty table
    (the same columns for every rule), built once, not a table of ~130 columns per rule."""
    flags = [_FLAG.format(i) for i in range(len(rules))]
    events = table.drop_columns(flags)
    empty: pa.Table | None = None
    out = []
    for rule, flag in zip(rules, flags, strict=True):
        column = table.column(flag)
        if pc.any(column).as_py():
            out.append(rule_rows(rule, events, column))
            continue
        if empty is None:
            empty = rule_rows(rule, events.slice(0, 0), column.slice(0, 0))
        out.append(empty)
    return out


def run_batch(
    engine: QueryEngine,
    group: ScanGroup,
    members: list[tuple[SigmaRule, exp.Expr]],
    window: TimeWindow | None,
    compiler: SigmaCompiler,
) -> list[DetectionRun]:
    """Run a batch in one query; on failure split it, down to single rules run (and failing) alone."""
    try:
        run = engine.run_few if isinstance(engine, Store) else engine.run
        table = run(batch_query(group.scan, [p for _, p in members], window, group.lowered))
    except QUERY_ERRORS:
        if len(members) == 1:
            return [run_sigma_rule(engine, members[0][0], window, compiler)]
        half = len(members) // 2
        return run_batch(engine, group, members[:half], window, compiler) + run_batch(
            engine, group, members[half:], window, compiler
        )
    return [
        DetectionRun(sigma_detection(rule), findings=rows)
        for (rule, _), rows in zip(members, batch_rows([rule for rule, _ in members], table), strict=True)
    ]


def run_sigma(
    engine: QueryEngine,
    rules: Iterable[SigmaRuleKind],
    window: TimeWindow | None = None,
    compiler: SigmaCompiler | None = None,
    batch: int = BATCH,
) -> list[DetectionRun]:
    """The run of every rule that produces output (not rules only correlations use, unless they say
    `generate`), in the order of `rules`: detection rules share scans by logsource, correlations run alone."""
    compiler = compiler or default_compiler()
    chosen = [rule for rule in rules if getattr(rule, "_output", True)]
    detections = [r for r in chosen if isinstance(r, SigmaRule)]
    by_rule = _run_rendered(engine, detections, window, compiler, batch) if isinstance(engine, Store) else None
    if by_rule is None:
        groups, failed = plan(detections, compiler)
        by_rule = {id(rule): run for rule, run in failed}
        for group in groups:
            for start in range(0, len(group.rules), batch):
                members = group.rules[start : start + batch]
                for (rule, _), run in zip(members, run_batch(engine, group, members, window, compiler), strict=True):
                    by_rule[id(rule)] = run
    return [
        run_sigma_rule(engine, rule, window, compiler) if isinstance(rule, SigmaCorrelationRule) else by_rule[id(rule)]
        for rule in chosen
    ]


def _run_rendered(
    store: Store, rules: list[SigmaRule], window: TimeWindow | None, compiler: SigmaCompiler, batch: int
) -> dict[int, DetectionRun] | None:
    """On DuckDB, the runs of the rules from their rendered queries, kept in the compiler's cache
    (`sigma.rendered`); None when the queries could not be rendered for that."""
    cache, key = compiler.cache, rendered.plan_key(rules, compiler, batch)
    found = rendered.RenderedPlan.from_json(cache.get(rendered.KIND, key), len(rules)) if cache and key else None
    if found is None:
        found = _render(rules, compiler, batch)
        if found is None:
            return None
        if cache and key:
            cache.put(rendered.KIND, key, found.to_json())
    runs = _run_plan(store, rules, found, window, compiler)
    return {id(rule): run for rule, run in zip(rules, runs, strict=True)}


def _render(rules: Sequence[SigmaRule], compiler: SigmaCompiler, batch: int) -> rendered.RenderedPlan | None:
    """Convert and group the rules (`plan`) and render every batch query around a window placeholder; None
    when a query's text cannot be cut there."""
    groups, failed = plan(rules, compiler)
    position = {id(rule): i for i, rule in enumerate(rules)}
    batches: list[list[rendered.RenderedBatch]] = []
    for group in groups:
        texts = []
        for start in range(0, len(group.rules), batch):
            members = group.rules[start : start + batch]
            query = batch_query(group.scan, [p for _, p in members], None, group.lowered, [rendered.slot()])
            text = rendered.cut(query.query)
            if text is None:
                return None
            texts.append(rendered.RenderedBatch([position[id(rule)] for rule, _ in members], text))
        batches.append(texts)
    flags = [exp.alias_(exp.func("bool_or", g.scan.copy()), flag_name(i), quoted=True) for i, g in enumerate(groups)]
    events = exp.to_table(EVENTS_TABLE)
    # the count keeps the select list an aggregate (one row) when no rule converts
    probe = rendered.cut(
        exp.select(*flags, exp.Count(this=exp.Star()).as_("events")).from_(events).where(rendered.slot())
    )
    outputs = [exp.alias_(e, name, quoted=True) for name, e, _ in event_columns()]
    outputs.append(exp.false().as_(flag_name(0), quoted=True))  # a batch of one rule's columns
    empty = rendered.cut(exp.select(*outputs).from_(events).where(exp.and_(exp.false(), rendered.slot())))
    if probe is None or empty is None:
        return None
    errors = [(position[id(rule)], str(run.error)) for rule, run in failed]
    return rendered.RenderedPlan(errors, batches, probe, empty)


def _run_plan(
    store: Store,
    rules: Sequence[SigmaRule],
    found: rendered.RenderedPlan,
    window: TimeWindow | None,
    compiler: SigmaCompiler,
) -> list[DetectionRun]:
    """Each rule's run (in the order of `rules`) from the plan's queries: first which groups have events
    in the window, then the batches of those; the others' rules get the empty result."""
    runs: list[DetectionRun | None] = [None] * len(rules)
    for i, error in found.failed:
        runs[i] = DetectionRun(sigma_detection(rules[i]), error=error)
    flags = [Column(flag_name(i), Kind.BOOL) for i in range(len(found.groups))]
    try:
        probe = store.run_few(_text_query(found.probe, window, [*flags, Column("events", Kind.INT)]))
        has_events = [probe.column(c.name)[0].as_py() is True for c in flags]
    except QUERY_ERRORS:
        has_events = [True] * len(flags)  # a filter the engine refuses: every group runs and reports it
    empty: pa.Table | None = None
    pending: list[rendered.RenderedBatch] = []
    for group, selects in zip(found.groups, has_events, strict=True):
        if selects:
            pending.extend(group)
            continue
        for batch in group:
            members = [rules[i] for i in batch.members]
            if empty is None:
                result = store.run_few(_text_query(found.empty, window, _batch_columns(1)))
                empty = batch_rows(members[:1], result)[0]
            for i, rule in zip(batch.members, members, strict=True):
                runs[i] = DetectionRun(sigma_detection(rule), findings=empty)
    searches = [_text_query(b.sql, window, _batch_columns(len(b.members))) for b in pending]
    # a table of one row group: no rewrite of DuckDB's optimizer pays for its planning (`run_few_at_once`);
    # over a larger one, pushing the logsource and window filters into the scan does
    small = bool(searches) and store.count(EVENTS_TABLE) <= ONE_ROW_GROUP
    results = store.run_few_at_once(searches, optimize=not small)
    for batch, result in zip(pending, results, strict=True):
        members = [rules[i] for i in batch.members]
        for i, run in zip(batch.members, _batch_runs(store, members, result, window, compiler), strict=True):
            runs[i] = run
    return [run for run in runs if run is not None]


def _batch_runs(
    store: Store,
    members: list[SigmaRule],
    result: pa.Table | Exception,
    window: TimeWindow | None,
    compiler: SigmaCompiler,
) -> list[DetectionRun]:
    """A batch's runs from its result; refused, again from the rules' predicates, split down to the failing
    rule."""
    if isinstance(result, Exception):
        groups, _ = plan(members, compiler)  # they converted before: one group, as in the plan
        runs = {
            id(rule): run
            for group in groups
            for (rule, _), run in zip(group.rules, run_batch(store, group, group.rules, window, compiler), strict=True)
        }
        return [runs[id(rule)] for rule in members]
    rows = batch_rows(members, result)
    return [DetectionRun(sigma_detection(rule), findings=found) for rule, found in zip(members, rows, strict=True)]


def _text_query(text: rendered.Text, window: TimeWindow | None, columns: list[Column]) -> CachedSearch:
    return CachedSearch(duckdb_sql=rendered.fill(text, window), columns=columns)


def _batch_columns(rules: int) -> list[Column]:
    """A batch query's result columns: the event's, then one flag per rule."""
    columns = [Column(name, kind) for name, _, kind in event_columns()]
    return columns + [Column(flag_name(i), Kind.BOOL) for i in range(rules)]
