"""AST → one sqlglot query (a chain of CTEs, one per command), independent of the engine.

The compiler tracks the columns each stage produces (name and kind) so that renames, evals,
lookups and filters resolve field names the way Splunk does at that point of the pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo

from sqlglot import exp

from tunnelhunt.cim import PROVENANCE_FIELDS, Node, UnknownNodeError, find_node
from tunnelhunt.spl import aggregates, ast, functions, raw, regex, scan_filters, semantics, timemodifiers
from tunnelhunt.spl.builder import Builder, OrderKey
from tunnelhunt.spl.errors import SplError, SplSyntaxError, UnsupportedError
from tunnelhunt.spl.evaluate import Evaluator
from tunnelhunt.spl.lookups import LookupResolver, LookupTable, match_condition, matched_values, no_lookups
from tunnelhunt.spl.parser import parse
from tunnelhunt.spl.searches import SearchColumns
from tunnelhunt.spl.values import (
    DOUBLE,
    Column,
    Kind,
    Typed,
    alias,
    col,
    empty_list_is_null,
    format_time,
    from_epoch,
    null_of,
    table,
    to_list,
    to_number,
    to_text,
    to_time,
)
from tunnelhunt.spl.window import TimeWindow as TimeWindow  # re-exported: where callers found it

#: Fields every event has besides its data-model fields (Splunk's default fields we keep).
_DEFAULT_FIELDS = {name for name, _ in PROVENANCE_FIELDS}
#: The hidden row number that keeps a sort order once `table`/`fields` drop the sorted field.
SEQUENCE = "__sequence"
#: The compiler's value kind of each stored field type (`cim.FieldType`).
_CIM_KINDS = {"string": Kind.STR, "int": Kind.INT, "timestamp": Kind.TIME}


@dataclass
class CompiledSearch(SearchColumns):
    """The compiled query and what a caller needs to know about its result."""

    query: exp.Select
    node: Node | None
    columns: list[Column]
    warnings: list[str] = field(default_factory=list)
    lookups: list[LookupTable] = field(default_factory=list)

    def sql(self, dialect: str = "duckdb", pretty: bool = False, copy: bool = True) -> str:
        """The query in `dialect`; `copy=False` renders the tree in place (faster, but rendering may rewrite it)."""
        return self.query.sql(dialect=dialect, pretty=pretty, copy=copy)


def _timestamp(value: datetime) -> exp.Expr:
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ") if value.tzinfo else value.isoformat(sep=" ")
    return exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMP"))


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + "(.*)".join(re.escape(part) for part in pattern.split("*")) + "$")


def _not_null(name: str) -> exp.Expr:
    return exp.Not(this=exp.Is(this=col(name), expression=exp.Null()))


def bucket_time(value: exp.Expr, seconds: int) -> exp.Expr:
    """`_time` floored to a span of `seconds` (aligned on the epoch, so days start at 00:00 UTC)."""
    epoch = exp.TimeToUnix(this=value)
    floored = exp.Mul(
        this=exp.Floor(this=exp.Div(this=exp.cast(epoch, DOUBLE), expression=exp.Literal.number(seconds))),
        expression=exp.Literal.number(seconds),
    )
    return from_epoch(floored)


_Resolver = Callable[[str], tuple[exp.Expr, Column]]


class Compiler:
    """Compiles one parsed pipeline; create one per search."""

    def __init__(
        self,
        window: TimeWindow | None = None,
        lookups: LookupResolver = no_lookups,
        now: datetime | None = None,
        tz: tzinfo = UTC,
        prefix: str = "",
    ) -> None:
        self.window = window or TimeWindow()
        self.resolve_lookup = lookups
        self.now = now or datetime.now(UTC)
        self.tz = tz
        self.builder = Builder(prefix)
        self.warnings: list[str] = []
        self.node: Node | None = None
        self.lookups: dict[str, LookupTable] = {}

    def compile(self, pipeline: ast.Pipeline) -> CompiledSearch:
        self.compile_commands(pipeline)
        query, columns = self.builder.finish()
        return CompiledSearch(query, self.node, columns, self.warnings, list(self.lookups.values()))

    def compile_commands(self, pipeline: ast.Pipeline) -> None:
        """Every command's stages into the builder (a subsearch's builder is merged into its parent's)."""
        first, *rest = pipeline.commands
        if isinstance(first, ast.Search):
            self._raw_search(first)  # search terms first: the events themselves
        elif isinstance(first, ast.Tstats | ast.InputLookup):
            rest = list(pipeline.commands)
        else:
            name = type(first).__name__.lower()
            raise UnsupportedError(
                f"a search starts with search terms, tstats or inputlookup, not '{name}'", first.position, name
            )
        for command in rest:
            self._compile_command(command)

    def _raw_search(self, command: ast.Search) -> None:
        conditions = self._window_conditions()
        if not isinstance(command.expression, ast.MatchAll):
            conditions.insert(0, self._predicate(command.expression, raw.event_field))
        raw.start(self.builder, exp.and_(*conditions) if conditions else None)

    def _window_conditions(self) -> list[exp.Expr]:
        conditions: list[exp.Expr] = []
        if self.window.earliest is not None:
            conditions.append(exp.GTE(this=col("_time"), expression=_timestamp(self.window.earliest)))
        if self.window.latest is not None:
            conditions.append(exp.LT(this=col("_time"), expression=_timestamp(self.window.latest)))
        return conditions

    def _compile_command(self, command: ast.Command) -> None:
        if self.builder.stages and isinstance(command, ast.Tstats | ast.InputLookup):
            name = type(command).__name__.lower()
            raise UnsupportedError(f"{name} is only supported as the first command", command.position, name)
        handler = _HANDLERS.get(type(command))
        if handler is None:  # pragma: no cover - the parser only builds commands listed in _HANDLERS
            raise UnsupportedError(f"command {type(command).__name__} is not supported", command.position)
        handler(self, command)

    def _evaluator(self) -> Evaluator:
        return Evaluator(self.builder.column, functions.call, self.now, self.tz)

    # --- tstats ----------------------------------------------------------------------------------
    def _tstats(self, command: ast.Tstats) -> None:
        for aggregate in command.aggregates:
            if aggregate.expression is not None:  # tstats reads indexed fields only, as in Splunk
                raise UnsupportedError("tstats cannot aggregate eval(...)", aggregate.position, aggregate.function)
        where, nodename = _split_nodename(command.where)
        node = self._resolve_node(command, nodename)
        self.node = node
        resolve = self.node_resolver(node)

        time_value: exp.Expr = col("_time")
        if command.span is not None:
            time_value = bucket_time(col("_time"), timemodifiers.span_seconds(command.span, command.position))
        base = exp.select(alias(time_value, "_time")).from_(table(node.table), copy=False)
        conditions: list[exp.Expr] = []
        if where is not None:
            predicate = self._predicate(where, resolve)
            conditions.append(predicate)
            conditions.extend(scan_filters.scan_filters(predicate))
        conditions.extend(self._window_conditions())
        if conditions:
            base = base.where(exp.and_(*conditions), copy=False)

        time_column = Column("_time", Kind.TIME)
        by_columns: list[Column] = []
        for name in dict.fromkeys(command.by):
            if name == "_time":
                by_columns.append(time_column)
                continue
            expression, column = resolve(name)
            base = base.select(alias(expression, name), copy=False)
            by_columns.append(column)
        value_fields: dict[str, Column] = {}
        for aggregate in command.aggregates:
            source = aggregate.field
            if source is None or source == "_time" or source in command.by or source in value_fields:
                continue
            expression, column = resolve(source)
            base = base.select(alias(expression, source), copy=False)
            value_fields[source] = column
        others = [c for c in by_columns if c.name != "_time"]
        self.builder.add(base, [time_column, *others, *value_fields.values()])
        self._group(command.aggregates, by_columns, command.options.get("fillnull_value"))

    def node_resolver(self, node: Node) -> _Resolver:
        """How `Node.field` names (and the default fields) of a data model resolve to its table's columns."""
        prefix = f"{node.name}."

        def resolve(name: str) -> tuple[exp.Expr, Column]:
            if name.startswith(prefix):
                cim = node.field(name[len(prefix) :])
                if cim is not None:
                    kind = Kind.MV if cim.multivalue else _CIM_KINDS[cim.type]
                    return col(cim.name), Column(name, kind)
            elif name in _DEFAULT_FIELDS:
                return col(name), Column(name, Kind.TIME if name == "_time" else Kind.STR)
            self.warnings.append(f"field '{name}' is not in data model {node.qualified_name}; it is always null")
            return exp.Null(), Column(name)

        return resolve

    def _resolve_node(self, command: ast.Tstats, nodename: str | None) -> Node:
        if command.datamodel is None:
            raise UnsupportedError("tstats without 'from datamodel=' is not supported", command.position, "tstats")
        wanted = command.datamodel
        try:
            if nodename and "." not in command.datamodel:
                wanted = f"{command.datamodel}.{nodename}"
                return find_node(command.datamodel, nodename)
            return find_node(command.datamodel)
        except UnknownNodeError:
            raise UnsupportedError(f"data model '{wanted}' is not modelled", command.position, wanted) from None

    def _group(self, aggregate_list: tuple[ast.Aggregate, ...], by_columns: list[Column], fill: str | None) -> None:
        """Explode multivalue by-fields, fill or drop rows with missing by-fields, then aggregate."""
        for column in by_columns:
            if column.multivalue:
                self._explode(column.name)
        by_columns = [self.builder.column(c.name) or c for c in by_columns]
        if by_columns:
            self._fill_or_drop(by_columns, fill)
            by_columns = [self.builder.column(c.name) or c for c in by_columns]
        time_column = self.builder.column("_time")
        selects: list[exp.Expr] = [col(c.name) for c in by_columns]
        outputs: list[Column] = list(by_columns)
        for aggregate in aggregate_list:
            source = self.builder.column(aggregate.field) if aggregate.field else None
            expression, kind = aggregates.aggregate(aggregate, source, time_column)
            name = aggregate.output_name
            selects = [s for s, o in zip(selects, outputs, strict=True) if o.name != name]
            outputs = [o for o in outputs if o.name != name]
            selects.append(alias(expression, name))
            outputs.append(Column(name, kind))
        select = exp.select(*selects).from_(table(self.builder.current), copy=False)
        if by_columns:
            select = select.group_by(*[col(c.name) for c in by_columns], copy=False)
        self.builder.add(select, outputs)
        self.builder.order = [OrderKey(c.name, mode="str") for c in by_columns]

    def _explode(self, name: str) -> None:
        selects: list[exp.Expr] = []
        columns: list[Column] = []
        for column in self.builder.columns:
            if column.name == name:
                selects.append(alias(semantics.explode_keep_empty(col(name)), name))
                columns.append(Column(name, Kind.STR))
            else:
                selects.append(col(column.name))
                columns.append(column)
        self.builder.add(exp.select(*selects).from_(table(self.builder.current), copy=False), columns)

    def _fill_or_drop(self, by_columns: list[Column], fill: str | None) -> None:
        by_names = {c.name for c in by_columns}
        selects: list[exp.Expr] = []
        columns: list[Column] = []
        for column in self.builder.columns:
            if fill is not None and column.name in by_names and column.kind is not Kind.TIME:
                text = to_text(Typed(col(column.name), column.kind), None, "fillnull_value")
                selects.append(alias(semantics.fill_null(text, fill), column.name))
                columns.append(Column(column.name, Kind.STR))
            else:
                selects.append(col(column.name))
                columns.append(column)
        select = exp.select(*selects).from_(table(self.builder.current), copy=False)
        required = [c.name for c in by_columns if fill is None or c.kind is Kind.TIME]
        if required:
            select = select.where(exp.and_(*[_not_null(name) for name in required]), copy=False)
        self.builder.add(select, columns)

    # --- inputlookup -------------------------------------------------------------------------------
    def _inputlookup(self, command: ast.InputLookup) -> None:
        lookup = self._lookuptable(command.table, command.position)
        columns = [Column(name) for name in lookup.columns]
        select = exp.select(*[col(c.name) for c in columns]).from_(table(lookup.table), copy=False)
        if command.where is not None:

            def resolve(name: str) -> tuple[exp.Expr, Column]:
                if name in lookup.columns:
                    return col(name), Column(name)
                return exp.Null(), Column(name)

            select = select.where(self._predicate(command.where, resolve), copy=False)
        self.builder.add(select, columns)

    def _lookuptable(self, name: str, position: int) -> LookupTable:
        lookup = self.resolve_lookup(name)
        if lookup is None:
            raise UnsupportedError(f"lookup '{name}' is not defined", position, name)
        if lookup.cidr_fields:
            raise UnsupportedError(f"lookup '{name}' uses CIDR matching, which is not supported", position, name)
        self.lookups[lookup.name] = lookup
        return lookup

    # --- rename, convert, search -----------------------------------------------------------------------
    def _rename(self, command: ast.Rename) -> None:
        for source, _ in command.pairs:
            if "*" not in source:
                self.builder.column(source)  # a raw event's field is brought out of its map first
        names = [c.name for c in self.builder.visible]
        mapping: dict[str, str] = {}
        for source, target in command.pairs:
            if not target.strip() or not source.strip():
                raise SplSyntaxError("rename needs a non-empty field name on both sides of AS", command.position, "")
            pattern = _wildcard_regex(source)
            for name in names:
                match = pattern.match(mapping.get(name, name))
                if match:
                    new = target
                    for group in match.groups():
                        new = new.replace("*", group, 1)
                    mapping[name] = new
        renamed = {name: mapping.get(name, name) for name in names} | {name: name for name in self.builder.hidden}
        targets = {new for old, new in renamed.items() if new != old}
        selects: list[exp.Expr] = []
        columns: list[Column] = []
        for column in self.builder.columns:
            new_name = renamed[column.name]
            if new_name == column.name and column.name in targets:
                continue  # a rename onto an existing field replaces it, as in Splunk
            selects.append(alias(col(column.name), new_name) if new_name != column.name else col(column.name))
            columns.append(Column(new_name, column.kind))
        order = [OrderKey(renamed.get(k.name, k.name), k.descending, k.mode) for k in self.builder.order]
        self.builder.add(exp.select(*selects).from_(table(self.builder.current), copy=False), columns)
        self.builder.order = order

    def _convert(self, command: ast.Convert) -> None:
        replace: dict[str, exp.Expr] = {}
        added: list[tuple[str, exp.Expr]] = []
        for conversion in command.conversions:
            column = self.builder.column(conversion.field)
            if column is None or column.kind in (Kind.MV, Kind.BOOL):
                continue  # Splunk leaves a field it cannot convert untouched
            value = Typed(col(column.name), column.kind)
            formatted: exp.Expr = format_time(to_time(value), command.timeformat, self.tz)
            if column.kind is Kind.STR:  # text that is not epoch seconds stays as it is
                formatted = exp.Coalesce(this=formatted, expressions=[col(column.name)])
            if conversion.alias and conversion.alias != column.name:
                added.append((conversion.alias, formatted))
            else:
                replace[column.name] = formatted
        if not replace and not added:
            return
        added_names = {name for name, _ in added}
        selects: list[exp.Expr] = []
        columns: list[Column] = []
        for column in self.builder.columns:
            if column.name in added_names:
                continue
            if column.name in replace:
                selects.append(alias(replace[column.name], column.name))
                columns.append(Column(column.name, Kind.STR))
            else:
                selects.append(col(column.name))
                columns.append(column)
        for name, expression in added:
            selects.append(alias(expression, name))
            columns.append(Column(name, Kind.STR))
        self.builder.add(exp.select(*selects).from_(table(self.builder.current), copy=False), columns)

    def _search(self, command: ast.Search) -> None:
        if isinstance(command.expression, ast.MatchAll):
            return
        self._filter(self._predicate(command.expression, self._result_field))

    def _result_field(self, name: str) -> tuple[exp.Expr, Column]:
        column = self.builder.column(name)
        if column is None:
            return exp.Null(), Column(name)
        return col(name), column

    def _filter(self, predicate: exp.Expr) -> None:
        select = self.builder.select_all().where(exp.Coalesce(this=predicate, expressions=[exp.false()]), copy=False)
        self.builder.add(select, list(self.builder.columns))

    # --- eval, where -----------------------------------------------------------------------------------
    def _eval(self, command: ast.Eval) -> None:
        for name, expression in command.assignments:
            value = self._evaluator().value(expression)
            if value.kind is Kind.BOOL:
                raise SplSyntaxError(
                    f"eval cannot assign a true/false value to '{name}' (use if())", command.position, name
                )
            kind = Kind.STR if value.kind is Kind.NULL else value.kind
            sql = null_of(Kind.STR) if value.kind is Kind.NULL else value.sql
            self._set_column(name, sql, kind)

    def _set_column(self, name: str, sql: exp.Expr, kind: Kind) -> None:
        self._set_columns([(name, sql, kind)])

    def _set_columns(self, assignments: list[tuple[str, exp.Expr, Kind]]) -> None:
        """Replace columns in place, or append them, in one stage (as eval, rex and lookup do)."""
        new = {name: (sql, kind) for name, sql, kind in assignments}
        selects: list[exp.Expr] = []
        columns: list[Column] = []
        for column in self.builder.columns:
            if column.name in new:
                sql, kind = new.pop(column.name)
                selects.append(alias(sql, column.name))
                columns.append(Column(column.name, kind))
            else:
                selects.append(col(column.name))
                columns.append(column)
        for name, (sql, kind) in new.items():
            selects.append(alias(sql, name))
            columns.append(Column(name, kind))
        changed = {name for name, _, _ in assignments}
        order = list(self.builder.order)
        self.builder.add(exp.select(*selects).from_(table(self.builder.current), copy=False), columns)
        self.builder.order = [k for k in order if k.name not in changed]

    def _where(self, command: ast.Where) -> None:
        self._filter(self._evaluator().condition(command.expression))

    # --- stats, eventstats -----------------------------------------------------------------------------
    def _stats(self, command: ast.Stats) -> None:
        command = self._evaluated_aggregates(command)
        if command.keep_events:
            self._eventstats(command)
            return
        by_columns = [self._require_column(name, command.position) for name in dict.fromkeys(command.by)]
        self._group(command.aggregates, by_columns, None)

    def _evaluated_aggregates(self, command: ast.Stats) -> ast.Stats:
        """`func(eval(x))`: x becomes a column of each event first (a true/false value counts as the event
        when true and not at all otherwise, as Splunk's `count(eval(status==404))`), then `func` of it."""
        if not any(a.expression is not None for a in command.aggregates):
            return command
        assignments: list[tuple[str, exp.Expr, Kind]] = []
        rewritten: list[ast.Aggregate] = []
        for index, aggregate in enumerate(command.aggregates):
            if aggregate.expression is None:
                rewritten.append(aggregate)
                continue
            value = self._evaluator().value(aggregate.expression)
            name = f"__aggregate_{index}"
            if value.kind is Kind.BOOL:
                sql: exp.Expr = exp.If(this=value.sql, true=exp.Literal.number(1), false=exp.Null())
                kind = Kind.INT
            else:
                sql, kind = value.sql, (Kind.STR if value.kind is Kind.NULL else value.kind)
            assignments.append((name, sql, kind))
            output = aggregate.alias or f"{aggregate.function}({aggregate.field})"
            rewritten.append(ast.Aggregate(aggregate.function, name, output, aggregate.position))
        self._set_columns(assignments)
        self.builder.hidden.update(name for name, _, _ in assignments)
        return replace(command, aggregates=tuple(rewritten))

    def _require_column(self, name: str, position: int) -> Column:
        column = self.builder.column(name)
        if column is None:
            # a by-field no row has: Splunk drops every row, which a NULL column reproduces
            self._set_column(name, null_of(Kind.STR), Kind.STR)
            column = Column(name)
        return column

    def _eventstats(self, command: ast.Stats) -> None:
        """Aggregate per group in a side stage and join it back onto every row of the group."""
        by_columns = [self._require_column(name, command.position) for name in dict.fromkeys(command.by)]
        if any(c.multivalue for c in by_columns):
            raise UnsupportedError("eventstats by a multivalue field is not supported", command.position, "eventstats")
        rows = self.builder.current
        columns = list(self.builder.columns)
        order = list(self.builder.order)
        time_column = self.builder.column("_time")
        selects: list[exp.Expr] = [col(c.name) for c in by_columns]
        outputs: list[Column] = []
        for aggregate in command.aggregates:
            source = self.builder.column(aggregate.field) if aggregate.field else None
            expression, kind = aggregates.aggregate(aggregate, source, time_column)
            selects.append(alias(expression, aggregate.output_name))
            outputs.append(Column(aggregate.output_name, kind))
        groups = exp.select(*selects).from_(table(rows), copy=False)
        if by_columns:
            groups = groups.where(exp.and_(*[_not_null(c.name) for c in by_columns]), copy=False).group_by(
                *[col(c.name) for c in by_columns], copy=False
            )
        self.builder.add(groups, [*by_columns, *outputs])
        groups_name = self.builder.current
        new_names = {c.name for c in outputs}
        kept = [c for c in columns if c.name not in new_names]
        joined = exp.select(*[col(c.name, "r") for c in kept], *[col(c.name, "g") for c in outputs]).from_(
            exp.alias_(table(rows), "r"), copy=False
        )
        if by_columns:
            on = exp.and_(*[exp.EQ(this=col(c.name, "r"), expression=col(c.name, "g")) for c in by_columns])
            joined = joined.join(exp.alias_(table(groups_name), "g"), on=on, join_type="LEFT", copy=False)
        else:
            joined = joined.join(exp.alias_(table(groups_name), "g"), join_type="CROSS", copy=False)
        self.builder.add(joined, [*kept, *outputs])
        self.builder.order = [k for k in order if k.name not in new_names]

    # --- table, fields, dedup, sort, head ---------------------------------------------------------------
    def _matching(self, patterns: tuple[str, ...]) -> list[str]:
        names: list[str] = []
        for pattern in patterns:
            if "*" in pattern:
                regex_ = _wildcard_regex(pattern)
                names.extend(c.name for c in self.builder.visible if regex_.match(c.name))
            else:
                names.append(pattern)
        return list(dict.fromkeys(names))

    def _project(self, names: list[str]) -> None:
        self._keep_order(names)
        selects: list[exp.Expr] = []
        columns: list[Column] = []
        carried = [c.name for c in self.builder.columns if c.name == SEQUENCE and c.name not in names]
        for name in [*names, *carried]:
            column = self.builder.column(name)
            if column is None:
                selects.append(alias(null_of(Kind.STR), name))
                columns.append(Column(name))
            else:
                selects.append(col(name))
                columns.append(column)
        order = list(self.builder.order)
        self.builder.add(exp.select(*selects).from_(table(self.builder.current), copy=False), columns)
        self.builder.order = [k for k in order if k.name in names or k.name == SEQUENCE]

    def _keep_order(self, names: list[str]) -> None:
        """Before `table`/`fields` drops a field the results are ordered by, number the rows in that
        order (a hidden column), so the order survives as it does in Splunk (`sort x | table y | head 1`)."""
        terms = self.builder.order_expressions()
        if not terms or all(key.name in names for key in self.builder.order):
            return
        numbered = self.builder.select_all().select(
            alias(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=terms)), SEQUENCE), copy=False
        )
        self.builder.add(
            numbered, [*[c for c in self.builder.columns if c.name != SEQUENCE], Column(SEQUENCE, Kind.INT)]
        )
        self.builder.hidden.add(SEQUENCE)
        self.builder.order = [OrderKey(SEQUENCE, mode="num")]

    def _table(self, command: ast.Table) -> None:
        self._project(self._matching(command.fields))

    def _fields(self, command: ast.Fields) -> None:
        chosen = self._matching(command.fields)
        if command.remove:
            self._project([c.name for c in self.builder.columns if c.name not in chosen])
            return
        keep = [name for name in chosen if self.builder.column(name) is not None]
        if self.builder.column("_time") is not None and "_time" not in keep:
            keep.insert(0, "_time")  # `fields` keeps internal fields unless they are removed explicitly
        self._project(keep)

    def _dedup(self, command: ast.Dedup) -> None:
        names = [name for name in command.fields]
        missing = [name for name in names if self.builder.column(name) is None]
        if missing and not command.keep_empty:
            self._filter(exp.false())  # no row has the field: Splunk removes every row
            return
        present = [name for name in names if name not in missing]
        rank = exp.Window(
            this=exp.RowNumber(),
            partition_by=[col(name) for name in present],
            order=exp.Order(expressions=self.builder.order_expressions()) if self.builder.order else None,
        )
        ranked = self.builder.select_all().select(alias(rank, "_dedup_rank"), copy=False)
        columns = list(self.builder.columns)
        order = list(self.builder.order)
        self.builder.add(ranked, [*columns, Column("_dedup_rank", Kind.INT)])
        keep: exp.Expr = exp.LTE(this=col("_dedup_rank"), expression=exp.Literal.number(command.count))
        if command.keep_empty and present:
            keep = exp.or_(keep, *[exp.Is(this=col(name), expression=exp.Null()) for name in present])
        elif present:
            keep = exp.and_(keep, *[_not_null(name) for name in present])
        select = (
            exp.select(*[col(c.name) for c in columns])
            .from_(table(self.builder.current), copy=False)
            .where(keep, copy=False)
        )
        self.builder.add(select, columns)
        self.builder.order = order

    def _sort(self, command: ast.Sort) -> None:
        """Splunk's sort is stable: rows equal on the keys keep the order they had (the previous order
        becomes the tie-breaker), so both engines return ties in the same order."""
        keys = [OrderKey(key.field, key.descending, key.mode) for key in command.keys if self.builder.column(key.field)]
        named = {key.name for key in keys}
        self.builder.order = keys + [key for key in self.builder.order if key.name not in named]
        self._limit(command.limit)

    def _head(self, command: ast.Head) -> None:
        self._limit(command.count)

    def _limit(self, count: int | None) -> None:
        if count is None:
            return
        select = self.builder.select_all()
        terms = self.builder.order_expressions()
        if terms:
            select = select.order_by(*terms, copy=False)
        order = list(self.builder.order)
        self.builder.add(select.limit(count, copy=False), list(self.builder.columns))
        self.builder.order = order

    # --- rex, regex -------------------------------------------------------------------------------------
    def _rex(self, command: ast.Rex) -> None:
        translated = regex.translate(command.pattern, command.position)
        if not translated.groups:
            raise SplSyntaxError("rex needs at least one named group (?<name>...)", command.position, "rex")
        column = self.builder.column(command.field)
        if column is not None and column.kind is Kind.MV:
            raise UnsupportedError("rex over a multivalue field is not supported", command.position, "rex")
        if column is None:
            subject: exp.Expr = null_of(Kind.STR)
        else:
            subject = to_text(Typed(col(column.name), column.kind), command.position, "rex")
        pattern = exp.Literal.string(translated.pattern)
        matched = exp.RegexpLike(this=subject.copy(), expression=pattern.copy())
        assignments: list[tuple[str, exp.Expr, Kind]] = []
        for name, group in translated.groups.items():
            extracted = exp.RegexpExtract(
                this=subject.copy(), expression=pattern.copy(), group=exp.Literal.number(group)
            )
            value = exp.Nullif(this=extracted, expression=exp.Literal.string(""))
            existing = self.builder.column(name)
            otherwise: exp.Expr = null_of(Kind.STR)
            if existing is not None:  # a failed match leaves an existing field as it was
                otherwise = to_text(Typed(col(name), existing.kind), command.position, "rex")
            sql = exp.Case(ifs=[exp.If(this=matched.copy(), true=value)], default=otherwise)
            assignments.append((name, sql, Kind.STR))
        self._set_columns(assignments)

    def _regex(self, command: ast.Regex) -> None:
        pattern = exp.Literal.string(regex.translate(command.pattern, command.position).pattern)
        column = self.builder.column(command.field)
        if column is None:
            matched: exp.Expr = exp.false()
        else:
            evaluator = self._evaluator()
            value = Typed(col(column.name), column.kind)

            def build(v: Typed) -> exp.Expr:
                return exp.RegexpLike(this=to_text(v, command.position, "regex"), expression=pattern.copy())

            matched = exp.Coalesce(this=evaluator.any_value(value, build, command.position), expressions=[exp.false()])
        self._filter(exp.Not(this=exp.paren(matched)) if command.negate else matched)

    # --- lookup -----------------------------------------------------------------------------------------
    def _lookup(self, command: ast.Lookup) -> None:
        lookup = self._lookuptable(command.table, command.position)
        for _, event_field in (*command.inputs, *command.outputs):
            self.builder.column(event_field)  # raw events: out of the field map before the stage is built
        for lookup_field, _ in (*command.inputs, *command.outputs):
            if lookup_field not in lookup.columns:
                raise SplSyntaxError(
                    f"lookup '{lookup.name}' has no field '{lookup_field}'", command.position, lookup_field
                )
        outputs = list(command.outputs) or [
            (name, name) for name in lookup.columns if name not in {f for f, _ in command.inputs}
        ]
        row = "lk"
        events = self.builder.current
        conditions: list[exp.Expr] = []
        for lookup_field, event_field in command.inputs:
            column = self.builder.column(event_field)
            if column is None:
                conditions.append(exp.false())
                continue
            if column.kind is Kind.MV:
                raise UnsupportedError(
                    f"lookup input '{event_field}' is multivalue, which is not supported", command.position, event_field
                )
            event_value = to_text(Typed(col(event_field, events), column.kind), command.position, "lookup")
            wildcard = lookup_field in lookup.wildcard_fields
            conditions.append(match_condition(lookup, col(lookup_field, row), event_value, wildcard))
        assignments: list[tuple[str, exp.Expr, Kind]] = []
        kind = Kind.STR if lookup.max_matches <= 1 else Kind.MV
        for lookup_field, event_field in outputs:
            matched = matched_values(lookup, lookup_field, row)
            subquery = (
                exp.select(empty_list_is_null(matched) if kind is Kind.MV else matched)
                .from_(exp.alias_(table(lookup.table), row), copy=False)
                .where(exp.and_(*conditions), copy=False)
            )
            value: exp.Expr = exp.Subquery(this=subquery)
            existing = self.builder.column(event_field)
            if command.output_new and existing is not None:
                current = Typed(col(event_field), existing.kind)
                keep = to_list(current) if kind is Kind.MV else to_text(current, command.position, "lookup")
                value = exp.Coalesce(this=keep, expressions=[value])
            elif lookup.default_match is not None:
                default = to_list(Typed(exp.Literal.string(lookup.default_match), Kind.STR))
                value = exp.Coalesce(
                    this=value,
                    expressions=[default if kind is Kind.MV else exp.Literal.string(lookup.default_match)],
                )
            assignments.append((event_field, value, kind))
        self._set_columns(assignments)

    # --- fillnull, bin -----------------------------------------------------------------------------------
    def _fillnull(self, command: ast.FillNull) -> None:
        value = command.value
        targets = list(command.fields) or [c.name for c in self.builder.visible if c.name != "_time"]
        try:
            number: float | None = float(value)
        except ValueError:
            number = None
        for name in targets:
            column = self.builder.column(name)
            literal: Typed
            if number is not None and (column is None or column.kind.numeric):
                literal = Typed(
                    exp.Literal.number(value), Kind.INT if number.is_integer() and "." not in value else Kind.NUM
                )
            else:
                literal = Typed(exp.Literal.string(value), Kind.STR)
            if column is None:
                self._set_column(name, literal.sql, literal.kind)
                continue
            current = Typed(col(name), column.kind)
            if column.kind is Kind.MV:
                filled, kind = exp.Coalesce(this=current.sql, expressions=[to_list(literal)]), Kind.MV
            elif column.kind.numeric and literal.kind.numeric:
                kind = Kind.NUM if Kind.NUM in (column.kind, literal.kind) else Kind.INT
                filled = exp.Coalesce(this=to_number(current), expressions=[literal.sql])
            elif column.kind is Kind.TIME:
                continue
            else:
                filled, kind = exp.Coalesce(this=to_text(current), expressions=[to_text(literal)]), Kind.STR
            self._set_column(name, filled, kind)

    def _bin(self, command: ast.Bin) -> None:
        column = self.builder.column(command.field)
        if column is None:
            return
        if column.kind is not Kind.TIME:
            raise UnsupportedError("bin is only supported on _time", command.position, "bin")
        seconds = timemodifiers.span_seconds(command.span, command.position)
        self._set_column(command.alias or command.field, bucket_time(col(command.field), seconds), Kind.TIME)

    # --- predicates ---------------------------------------------------------------------------------
    def _join(self, command: ast.Join) -> None:
        """Splunk's join: each row with the subsearch rows sharing its join fields (the first `max` of
        them in the subsearch's order; 0 = all), inner or left; subsearch values overwrite by default."""
        sub = Compiler(self.window, self.resolve_lookup, self.now, self.tz, prefix=f"{self.builder.next_name()}_")
        sub.compile_commands(command.subsearch)
        self.warnings.extend(w for w in sub.warnings if w not in self.warnings)
        self.lookups.update(sub.lookups)
        for name in command.fields:
            self.builder.column(name)  # raw events: bring join fields out of the map
        left, left_columns = self.builder.current, list(self.builder.columns)
        right_columns = sub.builder.visible
        rows = sub.builder.order_expressions("r") or [exp.Ordered(this=col(c.name, "r")) for c in right_columns]
        on_right = {c.name for c in right_columns}  # a join field the subsearch lacks matches nothing
        numbered = exp.select(exp.Star(), alias(exp.Window(this=exp.RowNumber(), partition_by=[
            col(name, "r") for name in command.fields if name in on_right], order=exp.Order(expressions=rows)),
            "__row"))  # fmt: skip
        numbered = numbered.from_(exp.alias_(table(sub.builder.current), "r", table=True), copy=False)
        self.builder.stages.extend(sub.builder.stages)
        self.builder.add(numbered, [*right_columns, Column("__row", Kind.INT)])
        matches = [self._join_key(name, left_columns, right_columns) for name in command.fields]
        if command.max > 0:
            matches.append(exp.LTE(this=col("__row", "r"), expression=exp.Literal.number(command.max)))
        by_name = {c.name: c for c in right_columns}
        right_map = raw.MAP_COLUMN if raw.MAP_COLUMN in {c.name for c in sub.builder.columns} else None
        selects: list[exp.Expr] = []
        columns: list[Column] = []
        for column in left_columns:
            other = by_name.pop(column.name, None)
            if column.name in command.fields or column.name in self.builder.hidden:
                selects.append(col(column.name, "l"))
                columns.append(column)
            elif other is None:
                mine = col(column.name, "l")
                theirs = raw.map_entry(col(raw.MAP_COLUMN, "r"), column.name) if right_map else None
                pair = [theirs, mine] if command.overwrite else [mine, theirs]
                present = [p for p in pair if p is not None]
                value = present[0] if len(present) == 1 else exp.Coalesce(this=present[0], expressions=present[1:])
                selects.append(alias(self._as_kind(value, column, column.kind), column.name))
                columns.append(column)
            else:
                kind = column.kind if column.kind is other.kind else Kind.STR
                left_value = self._as_kind(col(column.name, "l"), column, kind)
                right_value = self._as_kind(col(column.name, "r"), other, kind)
                first, second = (right_value, left_value) if command.overwrite else (left_value, right_value)
                selects.append(alias(exp.Coalesce(this=first, expressions=[second]), column.name))
                columns.append(Column(column.name, kind))
        for column in by_name.values():
            selects.append(col(column.name, "r"))
            columns.append(column)
        if right_map:  # the subsearch's events keep their fields for what follows the join
            joined_map = f"{raw.MAP_COLUMN}_{len(self.builder.stages)}"
            selects.append(alias(col(raw.MAP_COLUMN, "r"), joined_map))
            columns.append(Column(joined_map))
            self.builder.hidden.add(joined_map)
            self.builder.maps = (
                [joined_map, *self.builder.maps] if command.overwrite else [*self.builder.maps, joined_map]
            )
            if self.builder.fallback is None:
                self.builder.fallback = lambda name: raw.from_map(self.builder, name)
        joined = exp.select(*selects).from_(exp.alias_(table(left), "l", table=True), copy=False)
        joined = joined.join(
            exp.alias_(table(self.builder.current), "r", table=True),
            on=exp.and_(*matches),
            join_type="LEFT" if command.kind == "left" else "INNER",
            copy=False,
        )
        order = list(self.builder.order)
        self.builder.add(joined, columns)
        self.builder.order = [k for k in order if any(c.name == k.name for c in left_columns)]

    def _join_key(self, name: str, left: list[Column], right: list[Column]) -> exp.Expr:
        """`l.f = r.f`, compared as text when the two sides differ in kind; a missing side never matches."""
        mine = next((c for c in left if c.name == name), None)
        theirs = next((c for c in right if c.name == name), None)
        if mine is None or theirs is None:
            return exp.false()
        if mine.kind is theirs.kind:
            return exp.EQ(this=col(name, "l"), expression=col(name, "r"))
        return exp.EQ(
            this=self._as_kind(col(name, "l"), mine, Kind.STR),
            expression=self._as_kind(col(name, "r"), theirs, Kind.STR),
        )

    def _as_kind(self, sql: exp.Expr, column: Column, kind: Kind) -> exp.Expr:
        return sql if column.kind is kind else to_text(Typed(sql, column.kind), 0, "join")

    def _predicate(self, node: ast.SearchExpr, resolve: _Resolver) -> exp.Expr:
        if isinstance(node, ast.MatchAll):
            return exp.true()
        if isinstance(node, ast.And):
            return exp.and_(*[self._predicate(item, resolve) for item in node.items])
        if isinstance(node, ast.Or):
            return exp.or_(*[self._predicate(item, resolve) for item in node.items])
        if isinstance(node, ast.Not):
            return exp.Not(this=exp.paren(self._predicate(node.item, resolve)))
        if isinstance(node, ast.Compare | ast.InList):
            expression, column = resolve(node.field)
            if isinstance(expression, exp.Null):
                return exp.false()  # a missing field matches neither `=` nor `!=`
            if column.kind not in (Kind.STR, Kind.MV):  # the search language compares text
                expression = to_text(Typed(expression, column.kind), node.position, "a search")
            if isinstance(node, ast.InList):
                return semantics.in_list(expression, node.values, column.multivalue)
            return semantics.compare(expression, node.op, node.value, column.multivalue)
        if isinstance(node, ast.FreeText):
            if resolve is raw.event_field or self.builder.column("_raw") is not None:
                return raw.term_match(node.value)  # a bare term is matched against the event text
            raise UnsupportedError(
                f"free-text search term '{node.value}' is not supported (use field=value)", node.position, node.value
            )
        raise SplError(f"unknown expression {node!r}")  # pragma: no cover


def _split_nodename(where: ast.SearchExpr | None) -> tuple[ast.SearchExpr | None, str | None]:
    """Take a top-level `nodename=X` out of a tstats WHERE clause: it selects the dataset, not rows."""
    if where is None:
        return None, None
    items = list(where.items) if isinstance(where, ast.And) else [where]
    nodename: str | None = None
    rest: list[ast.SearchExpr] = []
    for item in items:
        if isinstance(item, ast.And):
            inner, found = _split_nodename(item)
            nodename = nodename or found
            if inner is not None:
                rest.append(inner)
        elif isinstance(item, ast.Compare) and item.field.lower() == "nodename" and item.op == "=":
            nodename = item.value
        else:
            rest.append(item)
    if not rest:
        return None, nodename
    return (rest[0] if len(rest) == 1 else ast.And(tuple(rest))), nodename


_HANDLERS: dict[type, Callable[[Compiler, ast.Command], None]] = {
    ast.Tstats: Compiler._tstats,  # type: ignore[dict-item]
    ast.InputLookup: Compiler._inputlookup,  # type: ignore[dict-item]
    ast.Rename: Compiler._rename,  # type: ignore[dict-item]
    ast.Convert: Compiler._convert,  # type: ignore[dict-item]
    ast.Search: Compiler._search,  # type: ignore[dict-item]
    ast.Eval: Compiler._eval,  # type: ignore[dict-item]
    ast.Where: Compiler._where,  # type: ignore[dict-item]
    ast.Stats: Compiler._stats,  # type: ignore[dict-item]
    ast.Table: Compiler._table,  # type: ignore[dict-item]
    ast.Fields: Compiler._fields,  # type: ignore[dict-item]
    ast.Dedup: Compiler._dedup,  # type: ignore[dict-item]
    ast.Sort: Compiler._sort,  # type: ignore[dict-item]
    ast.Head: Compiler._head,  # type: ignore[dict-item]
    ast.Rex: Compiler._rex,  # type: ignore[dict-item]
    ast.Regex: Compiler._regex,  # type: ignore[dict-item]
    ast.Lookup: Compiler._lookup,  # type: ignore[dict-item]
    ast.FillNull: Compiler._fillnull,  # type: ignore[dict-item]
    ast.Bin: Compiler._bin,  # type: ignore[dict-item]
    ast.Join: Compiler._join,  # type: ignore[dict-item]
}


def compile_search(
    search: str,
    window: TimeWindow | None = None,
    lookups: LookupResolver = no_lookups,
    now: datetime | None = None,
    tz: tzinfo = UTC,
) -> CompiledSearch:
    """Parse and compile an expanded search (macros already substituted).

    `tz` is the time zone Splunk would take from the searching user: relative_time() snaps (`@d`) and
    `convert ctime` prints in it (tunnelhunt's default is UTC; see docs/spl-semantics.md).
    """
    try:
        compiled = Compiler(window, lookups, now, tz).compile(parse(search))
        compiled.sql("duckdb")  # rendering recurses over the whole query: fail here, not when it runs
    except RecursionError:
        raise SplSyntaxError("the search is nested too deeply to compile", 0, search[:30]) from None
    return compiled
