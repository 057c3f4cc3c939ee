"""AST → one sqlglot query (a chain of CTEs, one per command), independent of the engine.

The compiler tracks the columns each stage produces (name, multivalue, time) so that renames,
time conversions and filters resolve field names the way Splunk does at that point of the pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlglot import exp

from tunnelhunt.cim import PROVENANCE_FIELDS, Node, UnknownNodeError, find_node
from tunnelhunt.spl import ast, semantics
from tunnelhunt.spl.errors import SplError, SplSyntaxError, UnsupportedError
from tunnelhunt.spl.parser import parse

#: Fields every event has besides its data-model fields (Splunk's default fields we keep).
_DEFAULT_FIELDS = {name for name, _ in PROVENANCE_FIELDS} | {"source"}


@dataclass(frozen=True)
class TimeWindow:
    """A search window `[earliest, latest)` in UTC; None means unbounded."""

    earliest: datetime | None = None
    latest: datetime | None = None


@dataclass(frozen=True)
class Column:
    name: str
    multivalue: bool = False
    is_time: bool = False


@dataclass
class CompiledSearch:
    """The compiled query and what a caller needs to know about its result."""

    query: exp.Select
    node: Node
    columns: list[Column]
    warnings: list[str] = field(default_factory=list)

    @property
    def output_fields(self) -> list[str]:
        return [column.name for column in self.columns]

    def sql(self, dialect: str = "duckdb", pretty: bool = False) -> str:
        return self.query.sql(dialect=dialect, pretty=pretty)


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _alias(expression: exp.Expression, name: str) -> exp.Alias:
    return exp.alias_(expression, name, quoted=True)


def _timestamp(value: datetime) -> exp.Expression:
    text = value.replace(tzinfo=None).isoformat(sep=" ")
    return exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMP"))


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + "(.*)".join(re.escape(part) for part in pattern.split("*")) + "$")


class _Builder:
    """Accumulates CTE stages; each stage reads the previous one."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, exp.Select]] = []
        self.columns: list[Column] = []
        self.sort_keys: list[str] = []

    @property
    def current(self) -> str:
        return self.stages[-1][0]

    def add(self, select: exp.Select, columns: list[Column]) -> None:
        self.stages.append((f"stage{len(self.stages)}", select))
        self.columns = columns

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def finish(self) -> exp.Select:
        final = exp.select(*[_col(c.name) for c in self.columns]).from_(self.current)
        keys = [k for k in self.sort_keys if self.column(k) is not None]
        if keys:
            final = final.order_by(*[exp.Ordered(this=_col(k), nulls_first=True) for k in keys])
        for name, select in self.stages:
            final = final.with_(name, as_=select)
        return final


class Compiler:
    """Compiles one parsed pipeline; create one per search."""

    def __init__(self, window: TimeWindow | None = None) -> None:
        self.window = window or TimeWindow()
        self.builder = _Builder()
        self.warnings: list[str] = []
        self.node: Node | None = None

    def compile(self, pipeline: ast.Pipeline) -> CompiledSearch:
        first = pipeline.commands[0]
        if not isinstance(first, ast.Tstats):
            name = type(first).__name__.lower()
            raise UnsupportedError(
                f"searches must start with tstats (found '{name}' over raw events)", first.position, name
            )
        for command in pipeline.commands:
            self._compile_command(command)
        assert self.node is not None
        return CompiledSearch(self.builder.finish(), self.node, list(self.builder.columns), self.warnings)

    def _compile_command(self, command: ast.Command) -> None:
        if isinstance(command, ast.Tstats):
            if self.builder.stages:
                raise UnsupportedError("tstats is only supported as the first command", command.position, "tstats")
            self._tstats(command)
        elif isinstance(command, ast.Rename):
            self._rename(command)
        elif isinstance(command, ast.Convert):
            self._convert(command)
        elif isinstance(command, ast.Search):
            self._search(command)
        else:  # pragma: no cover - the parser only builds the commands above
            raise UnsupportedError(f"command {type(command).__name__} is not supported", command.position)

    # --- tstats ----------------------------------------------------------------------------------
    def _tstats(self, command: ast.Tstats) -> None:
        if command.datamodel is None:
            raise UnsupportedError("tstats without 'from datamodel=' is not supported", command.position, "tstats")
        try:
            node = find_node(command.datamodel)
        except UnknownNodeError:
            raise UnsupportedError(
                f"data model '{command.datamodel}' is not modelled", command.position, command.datamodel
            ) from None
        self.node = node
        prefix = f"{node.name}."

        def resolve(name: str) -> tuple[exp.Expression, Column]:
            if name.startswith(prefix):
                cim = node.field(name[len(prefix) :])
                if cim is not None:
                    return _col(cim.name), Column(name, cim.multivalue)
            elif name in _DEFAULT_FIELDS:
                source = "_source" if name == "source" else name
                return _col(source), Column(name, False, name == "_time")
            self.warnings.append(f"field '{name}' is not in data model {node.qualified_name}; it is always null")
            return exp.Null(), Column(name)

        base = exp.select(_col("_time")).from_(exp.to_table(node.table))
        conditions: list[exp.Expression] = []
        if command.where is not None:
            conditions.append(self._predicate(command.where, resolve))
        if self.window.earliest is not None:
            conditions.append(exp.GTE(this=_col("_time"), expression=_timestamp(self.window.earliest)))
        if self.window.latest is not None:
            conditions.append(exp.LT(this=_col("_time"), expression=_timestamp(self.window.latest)))
        if conditions:
            base = base.where(exp.and_(*conditions))

        by_columns: list[Column] = []
        for name in dict.fromkeys(command.by):
            expression, column = resolve(name)
            base = base.select(_alias(expression, name))
            by_columns.append(column)
        value_fields: dict[str, Column] = {}
        for aggregate in command.aggregates:
            if aggregate.field is None or aggregate.field == "_time" or aggregate.field in command.by:
                continue
            expression, column = resolve(aggregate.field)
            base = base.select(_alias(expression, aggregate.field))
            value_fields[aggregate.field] = column
        self.builder.add(base, [Column("_time", is_time=True), *by_columns, *value_fields.values()])

        for column in by_columns:
            if column.multivalue:
                self._explode(column.name)
        self._fill_or_drop(by_columns, command.options.get("fillnull_value"))
        self._aggregate(command, by_columns, value_fields)
        self.builder.sort_keys = [c.name for c in by_columns]

    def _explode(self, name: str) -> None:
        selects: list[exp.Expression] = []
        columns: list[Column] = []
        for column in self.builder.columns:
            if column.name == name:
                selects.append(_alias(semantics.explode_keep_empty(_col(name)), name))
                columns.append(Column(name))
            else:
                selects.append(_col(column.name))
                columns.append(column)
        self.builder.add(exp.select(*selects).from_(self.builder.current), columns)

    def _fill_or_drop(self, by_columns: list[Column], fill: str | None) -> None:
        if not by_columns:
            return
        by_names = {c.name for c in by_columns}
        selects: list[exp.Expression] = []
        for column in self.builder.columns:
            if fill is not None and column.name in by_names:
                selects.append(_alias(semantics.fill_null(_col(column.name), fill), column.name))
            else:
                selects.append(_col(column.name))
        select = exp.select(*selects).from_(self.builder.current)
        if fill is None:
            select = select.where(
                exp.and_(*[exp.Not(this=exp.Is(this=_col(c.name), expression=exp.Null())) for c in by_columns])
            )
        self.builder.add(select, list(self.builder.columns))

    def _aggregate(self, command: ast.Tstats, by_columns: list[Column], value_fields: dict[str, Column]) -> None:
        selects: list[exp.Expression] = [_col(c.name) for c in by_columns]
        outputs: list[Column] = [Column(c.name) for c in by_columns]
        for aggregate in command.aggregates:
            source = aggregate.field
            column = Column("_time", is_time=True) if source == "_time" else value_fields.get(source or "")
            if column is None and source in {c.name for c in by_columns}:
                column = Column(source or "")
            expression, output = self._aggregate_expression(aggregate, column)
            selects.append(_alias(expression, aggregate.output_name))
            outputs.append(output)
        select = exp.select(*selects).from_(self.builder.current)
        if by_columns:
            select = select.group_by(*[_col(c.name) for c in by_columns])
        self.builder.add(select, outputs)

    def _aggregate_expression(self, aggregate: ast.Aggregate, column: Column | None) -> tuple[exp.Expression, Column]:
        name = aggregate.output_name
        function = aggregate.function
        if function == "count" and aggregate.field is None:
            return exp.Count(this=exp.Star()), Column(name)
        if column is None:
            raise SplSyntaxError(f"{function} needs a field", aggregate.position, function)
        if column.multivalue and function not in ("count", "dc"):
            raise UnsupportedError(
                f"{function}() over multivalue field '{column.name}' is not supported", aggregate.position, function
            )
        target = _col(column.name)
        if function == "count":
            return exp.Count(this=target), Column(name)
        if function == "dc":
            return exp.Count(this=exp.Distinct(expressions=[target])), Column(name)
        if function in ("min", "max"):
            cls = exp.Min if function == "min" else exp.Max
            return cls(this=target), Column(name, is_time=column.is_time)
        if function in ("earliest", "latest"):
            cls2 = exp.ArgMin if function == "earliest" else exp.ArgMax
            return cls2(this=target, expression=_col("_time")), Column(name, is_time=column.is_time)
        if function == "values":
            return exp.ArraySort(this=exp.ArrayUniqueAgg(this=target)), Column(name, multivalue=True)
        if function in ("sum", "avg"):
            numeric = exp.TryCast(this=target, to=exp.DataType.build("DOUBLE"))
            return (exp.Sum if function == "sum" else exp.Avg)(this=numeric), Column(name)
        raise UnsupportedError(f"aggregate function '{function}' is not supported", aggregate.position, function)

    # --- rename, convert, search -----------------------------------------------------------------------
    def _rename(self, command: ast.Rename) -> None:
        names = [c.name for c in self.builder.columns]
        mapping: dict[str, str] = {}
        for source, target in command.pairs:
            regex = _wildcard_regex(source)
            for name in names:
                match = regex.match(mapping.get(name, name))
                if match:
                    new = target
                    for group in match.groups():
                        new = new.replace("*", group, 1)
                    mapping[name] = new
        renamed = {name: mapping.get(name, name) for name in names}
        targets = {new for old, new in renamed.items() if new != old}
        selects: list[exp.Expression] = []
        columns: list[Column] = []
        for column in self.builder.columns:
            new_name = renamed[column.name]
            if new_name == column.name and column.name in targets:
                continue  # a rename onto an existing field replaces it, as in Splunk
            selects.append(_alias(_col(column.name), new_name) if new_name != column.name else _col(column.name))
            columns.append(Column(new_name, column.multivalue, column.is_time))
        self.builder.add(exp.select(*selects).from_(self.builder.current), columns)
        self.builder.sort_keys = [renamed.get(k, k) for k in self.builder.sort_keys]

    def _convert(self, command: ast.Convert) -> None:
        replace: dict[str, exp.Expression] = {}
        added: list[tuple[str, exp.Expression]] = []
        for conversion in command.conversions:
            column = self.builder.column(conversion.field)
            if column is None or not column.is_time:
                # Splunk leaves a field it cannot convert untouched
                continue
            formatted = exp.TimeToStr(this=_col(column.name), format=exp.Literal.string(command.timeformat))
            if conversion.alias and conversion.alias != column.name:
                added.append((conversion.alias, formatted))
            else:
                replace[column.name] = formatted
        if not replace and not added:
            return
        selects: list[exp.Expression] = []
        columns: list[Column] = []
        added_names = {name for name, _ in added}
        for column in self.builder.columns:
            if column.name in added_names:
                continue
            if column.name in replace:
                selects.append(_alias(replace[column.name], column.name))
                columns.append(Column(column.name))
            else:
                selects.append(_col(column.name))
                columns.append(column)
        for name, expression in added:
            selects.append(_alias(expression, name))
            columns.append(Column(name))
        self.builder.add(exp.select(*selects).from_(self.builder.current), columns)

    def _search(self, command: ast.Search) -> None:
        if isinstance(command.expression, ast.MatchAll):
            return

        def resolve(name: str) -> tuple[exp.Expression, Column]:
            column = self.builder.column(name)
            if column is None:
                return exp.Null(), Column(name)
            return _col(name), column

        predicate = self._predicate(command.expression, resolve)
        select = exp.select(*[_col(c.name) for c in self.builder.columns]).from_(self.builder.current).where(predicate)
        self.builder.add(select, list(self.builder.columns))

    # --- predicates ---------------------------------------------------------------------------------
    def _predicate(self, node: ast.SearchExpr, resolve: _Resolver) -> exp.Expression:
        if isinstance(node, ast.MatchAll):
            return exp.true()
        if isinstance(node, ast.And):
            return exp.and_(*[self._predicate(item, resolve) for item in node.items])
        if isinstance(node, ast.Or):
            return exp.or_(*[self._predicate(item, resolve) for item in node.items])
        if isinstance(node, ast.Not):
            return exp.Not(this=exp.paren(self._predicate(node.item, resolve)))
        if isinstance(node, ast.Compare):
            expression, column = resolve(node.field)
            if isinstance(expression, exp.Null):
                return exp.false()  # a missing field matches neither `=` nor `!=`
            return semantics.compare(expression, node.op, node.value, column.multivalue)
        if isinstance(node, ast.InList):
            expression, column = resolve(node.field)
            if isinstance(expression, exp.Null):
                return exp.false()
            return semantics.in_list(expression, node.values, column.multivalue)
        if isinstance(node, ast.FreeText):
            raise UnsupportedError(
                f"free-text search term '{node.value}' is not supported (use field=value)", node.position, node.value
            )
        raise SplError(f"unknown expression {node!r}")  # pragma: no cover


_Resolver = Callable[[str], tuple[exp.Expression, Column]]


def compile_search(search: str, window: TimeWindow | None = None) -> CompiledSearch:
    """Parse and compile an expanded search (macros already substituted)."""
    return Compiler(window).compile(parse(search))
