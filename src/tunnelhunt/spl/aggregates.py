"""Aggregate functions shared by tstats, stats and eventstats, with Splunk's meaning.

`values()` gives the sorted distinct values, `count(x)` counts values (each value of a multivalue
field counts), `earliest(x)`/`latest(x)` take x at the smallest/largest `_time`, `dc()` counts
distinct values. Every multivalue result is a list of strings.
"""

from __future__ import annotations

from sqlglot import exp

from tunnelhunt.spl import ast
from tunnelhunt.spl.errors import SplSyntaxError, UnsupportedError
from tunnelhunt.spl.parser import PERCENTILE
from tunnelhunt.spl.values import Column, Kind, Typed, col, empty_list_is_null, null_of, to_number, to_text

#: Spellings Splunk accepts for the same function.
SYNONYMS = {"distinct_count": "dc", "mean": "avg"}


def _values_of(column: Column, position: int) -> exp.Expr:
    """The column's values as text (lists stay lists), so every multivalue result holds strings."""
    if column.kind is Kind.MV:
        return col(column.name)
    return to_text(Typed(col(column.name), column.kind), position, "an aggregate")


def aggregate(aggregate: ast.Aggregate, column: Column | None, time_column: Column | None) -> tuple[exp.Expr, Kind]:
    """The SQL aggregate for one `func(field)` and the kind of value it yields.

    `column` is the field aggregated (None when absent from the results: the aggregate is then NULL
    or 0); `time_column` is `_time` when the results still carry it (for earliest/latest).
    """
    function = SYNONYMS.get(aggregate.function, aggregate.function)
    position = aggregate.position
    if function == "count" and aggregate.field is None:
        return exp.Count(this=exp.Star()), Kind.INT
    if aggregate.field is None:
        raise SplSyntaxError(f"{aggregate.function}() needs a field", position, aggregate.function)
    if column is None:
        return _absent(function)
    target = col(column.name)
    if column.kind is Kind.MV:
        return _multivalue(function, target, position)
    if function == "count":
        return exp.Count(this=target), Kind.INT
    if function == "dc":
        return exp.Count(this=exp.Distinct(expressions=[target])), Kind.INT
    if function in ("values", "list"):
        text = _values_of(column, position)
        if function == "list":
            return empty_list_is_null(exp.ArrayAgg(this=text)), Kind.MV
        return empty_list_is_null(exp.ArraySort(this=exp.ArrayUniqueAgg(this=text))), Kind.MV
    if function in ("min", "max"):
        cls = exp.Min if function == "min" else exp.Max
        return cls(this=target), column.kind
    if function in ("earliest", "latest"):
        if column.kind is Kind.TIME and column.name == "_time":
            return (exp.Min if function == "earliest" else exp.Max)(this=target), Kind.TIME
        if time_column is None:
            raise UnsupportedError(f"{function}() needs _time in the results", position, function)
        cls2 = exp.ArgMin if function == "earliest" else exp.ArgMax
        return cls2(this=target, expression=col(time_column.name)), column.kind
    number = to_number(Typed(target, column.kind), position, f"{function}()")
    if function == "sum":
        if column.kind is Kind.INT:
            return exp.cast(exp.Sum(this=number), exp.DataType.build("BIGINT")), Kind.INT
        return exp.Sum(this=number), Kind.NUM
    if function == "avg":
        return exp.Avg(this=number), Kind.NUM
    if function in ("stdev", "stdevp", "var", "varp"):
        cls3 = {"stdev": exp.Stddev, "stdevp": exp.StddevPop, "var": exp.Variance, "varp": exp.VariancePop}[function]
        return cls3(this=number), Kind.NUM
    if function == "range":
        return exp.Sub(this=exp.Max(this=number), expression=exp.Min(this=number.copy())), Kind.NUM
    if function == "median":
        return exp.Median(this=number), Kind.NUM
    percentile = PERCENTILE.match(function)
    if percentile:
        fraction = exp.Literal.number(float(percentile.group(2)) / 100)
        if percentile.group(1) == "exactperc":
            return exp.PercentileCont(this=number, expression=fraction), Kind.NUM
        return exp.ApproxQuantile(this=number, quantile=fraction), Kind.NUM
    raise UnsupportedError(f"aggregate function '{aggregate.function}' is not supported", position, aggregate.function)


def _absent(function: str) -> tuple[exp.Expr, Kind]:
    """An aggregate over a field no row has: counts are 0, everything else is missing."""
    if function in ("count", "dc"):
        return exp.Literal.number(0), Kind.INT
    kind = Kind.MV if function in ("values", "list") else Kind.STR
    return null_of(kind), kind


def _multivalue(function: str, target: exp.Expr, position: int) -> tuple[exp.Expr, Kind]:
    """Aggregates over a multivalue field work on all its values together."""
    flat = exp.Flatten(this=exp.ArrayAgg(this=target))
    if function == "count":
        return exp.Sum(
            this=exp.Coalesce(this=exp.ArraySize(this=target), expressions=[exp.Literal.number(0)])
        ), Kind.INT
    if function == "dc":
        return exp.ArraySize(this=exp.ArrayDistinct(this=flat)), Kind.INT
    if function == "values":
        return empty_list_is_null(exp.ArraySort(this=exp.ArrayDistinct(this=flat))), Kind.MV
    if function == "list":
        return empty_list_is_null(flat), Kind.MV
    raise UnsupportedError(f"{function}() over a multivalue field is not supported", position, function)
