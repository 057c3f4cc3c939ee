"""The events behind one result: what a detection's first command selected, narrowed to the result.

A detection's result is an aggregate (`tstats … by dest process`, `stats … by host`); the events behind
it are those its first command matched (the data model's `where`, or the raw search terms), whose values
equal the result's for every field the result was grouped by, inside the result's time span
(`firstTime`..`lastTime` when the result has them, else the window it was searched over). Each event
comes back with its source file and line or record number (`_source`, `_offset`), so a finding leads to
the log lines themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlglot import exp

from tunnelhunt.spl import ast, raw, semantics
from tunnelhunt.spl.compiler import CompiledSearch, Compiler, TimeWindow
from tunnelhunt.spl.errors import UnsupportedError
from tunnelhunt.spl.lookups import LookupResolver, no_lookups
from tunnelhunt.spl.parser import parse
from tunnelhunt.spl.values import Column, Kind, Typed, col, table, to_text
from tunnelhunt.store.events import EVENT_COLUMNS, EVENTS_TABLE

#: The time formats a result's firstTime/lastTime may carry (`security_content_ctime`, ISO, epoch).
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S")


def events_behind(
    search: str,
    result: dict[str, Any],
    window: TimeWindow | None = None,
    lookups: LookupResolver = no_lookups,
    limit: int = 1000,
) -> CompiledSearch:
    """A query for the events behind `result`, a row of the expanded `search`'s results."""
    pipeline = parse(search)
    first = pipeline.commands[0]
    by = _group_fields(pipeline)
    span = _span(result, window or TimeWindow())
    compiler = Compiler(span, lookups)
    if isinstance(first, ast.Tstats):
        node = compiler._resolve_node(first, None)
        resolve = compiler.node_resolver(node)
        where = first.where
        source = node.table
        names = {f"{node.name}.{field.name}": field.name for field in node.fields}
        columns = [c for c, _kind, _mv in node.all_columns]
    elif isinstance(first, ast.Search):
        resolve, where, source = raw.event_field, first.expression, EVENTS_TABLE
        names = {}
        columns = list(EVENT_COLUMNS)
    else:
        raise UnsupportedError("only searches that start with tstats or search terms have events behind them", 0)
    conditions = [] if where is None or isinstance(where, ast.MatchAll) else [compiler._predicate(where, resolve)]
    conditions.extend(compiler._window_conditions())
    for field in by:
        value = _value_for(result, field, names)
        if value is None:
            continue
        expression, column = resolve(field)
        if not isinstance(expression, exp.Null):
            text = expression if column.kind in (Kind.STR, Kind.MV) else to_text(Typed(expression, column.kind), 0, "")
            condition = _equals(text, value, column.multivalue)
            if condition is not None:
                conditions.append(condition)
    query = exp.select(*[col(name) for name in columns]).from_(table(source), copy=False)
    if conditions:
        query = query.where(exp.and_(*conditions), copy=False)
    query = query.order_by(col("_time"), col("_source"), col("_offset"), copy=False).limit(limit, copy=False)
    if source != EVENTS_TABLE:  # a data model's row: add the event as it was read
        query = _with_raw(query, columns)
        columns = [*columns, "_raw"]
    return CompiledSearch(query, None, [Column(name) for name in columns], compiler.warnings)


def _with_raw(rows: exp.Select, columns: list[str]) -> exp.Select:
    """The rows with their raw event's `_raw`, found by file and line/record (the same in both tables)."""
    joined = exp.select(*[col(name, "n") for name in columns], col("_raw", "e"))
    joined = joined.from_(exp.alias_(exp.Subquery(this=rows), "n", table=True), copy=False)
    on = exp.and_(
        exp.EQ(this=col("_source", "e"), expression=col("_source", "n")),
        exp.EQ(this=col("_offset", "e"), expression=col("_offset", "n")),
    )
    joined = joined.join(exp.alias_(table(EVENTS_TABLE), "e", table=True), on=on, join_type="LEFT", copy=False)
    return joined.order_by(col("_time", "n"), col("_source", "n"), col("_offset", "n"), copy=False)


def _group_fields(pipeline: ast.Pipeline) -> list[str]:
    """The by-fields of the first aggregation (tstats, stats): what one result row stands for."""
    for command in pipeline.commands:
        if isinstance(command, ast.Tstats | ast.Stats) and not getattr(command, "keep_events", False):
            return [name for name in command.by if name != "_time"]
    return []


def _value_for(result: dict[str, Any], field: str, names: dict[str, str]) -> Any:
    """The result's value of a by-field, under its full name or the one `drop_dm_object_name` left."""
    for key in (field, names.get(field), field.rsplit(".", 1)[-1]):
        if key and key in result and result[key] not in (None, "", []):
            return result[key]
    return None


def _equals(expression: exp.Expr, value: Any, multivalue: bool) -> exp.Expr | None:
    """Equality (case-insensitive, as search compares) to the value or any of a multivalue's values; None
    when a value holds `*`, which search would read as a wildcard (the narrowing is then left out)."""
    values = [str(v) for v in (value if isinstance(value, list) else [value])]
    if any("*" in v for v in values):
        return None
    return exp.or_(*[semantics.compare(expression, "=", v, multivalue) for v in values])


def _span(result: dict[str, Any], window: TimeWindow) -> TimeWindow:
    first, last = _time(result.get("firstTime")), _time(result.get("lastTime"))
    if first is None or last is None:
        return window
    return TimeWindow(first, last + timedelta(seconds=1))


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) or (isinstance(value, str) and value.replace(".", "", 1).isdigit()):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        for fmt in _TIME_FORMATS:
            try:
                return datetime.strptime(value, fmt).replace(tzinfo=UTC)
            except ValueError:
                continue
    return None
