"""Sigma correlation rules (v2) → one query over `events`: the referenced rules' hits, joined in time.

`hits` holds every event of every referenced rule (its reference, time, provenance, group-by values and
the aggregated field). A window is anchored at each hit `e` and holds the hits `f` of the same group
with `e._time - timespan <= f._time <= e._time`, so a group matches when SOME window of length
`timespan` satisfies the condition (the timespan is enforced exactly, not by fixed buckets). One result
row per matching group: first and last time of its matching windows and the largest aggregate.

- event_count: hits in the window; value_count: distinct values of `condition.field`;
- value_sum / value_avg: sum / mean of the field as a number (non-numbers ignored);
- value_percentile, as the specification defines it ("when a certain percentage of observed values
  occur"; its example: processes a computer spawned in under 1 % of its process events in 24 h): per
  anchor hit, the percentage of the window's hits whose field has the anchor's value; the result is per
  group and value (the value is a column named after the field). With pySigma's `percentile: P` in the
  condition, the P-th percentile of the field as a number instead (continuous: linear interpolation
  between the nearest values, DuckDB's `quantile_cont`, Spark's `percentile`); value_median (pySigma) is
  that with P = 50;
- temporal: the distinct referenced rules hit in the window, compared by the condition (the specification:
  "the count of different event types"; without one, pySigma's default, all of them); temporal_ordered:
  hits of all the rules in the listed order, all within `timespan` of the first (another condition is
  refused: which rules may be left out of an order, the specification does not say).
A group-by field missing from an event is its own group (NULL compares as not distinct).

Correlations chain (the specification's "failed logins followed by a successful login" is a
temporal_ordered over an event_count correlation and a rule): a referenced correlation's hits are its
occurrences, one per window in which its condition holds, at the time of the hit that ends that window,
with the values of its own group-by fields; the chaining correlation's group-by and value fields must be
among those (by name or alias). Each level reads the same events (the run's time window).
"""

from __future__ import annotations

from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
    SigmaRuleReference,
)
from sigma.rule import SigmaRule
from sqlglot import exp

from tunnelhunt.sigma.compiler import (
    EVENTS_TABLE,
    SigmaCompileError,
    SigmaCompiler,
    TimeWindow,
    default_compiler,
    rule_columns,
    window_predicate,
)
from tunnelhunt.sigma.logsources import HOT_FIELDS
from tunnelhunt.spl.compiler import CompiledSearch
from tunnelhunt.spl.values import Column, Kind
from tunnelhunt.store.events import field_sql

_OPS = {
    SigmaCorrelationConditionOperator.LT: exp.LT,
    SigmaCorrelationConditionOperator.LTE: exp.LTE,
    SigmaCorrelationConditionOperator.GT: exp.GT,
    SigmaCorrelationConditionOperator.GTE: exp.GTE,
    SigmaCorrelationConditionOperator.EQ: exp.EQ,
    SigmaCorrelationConditionOperator.NEQ: exp.NEQ,
}
_DOUBLE = exp.DataType.build("DOUBLE")
_VALUE = "_value"
_REF = "_rule"
#: How many correlations deep a chain may go (a reference circle would go on for ever).
MAX_CHAIN = 4


def _group_name(index: int) -> str:
    return f"_g{index}"


def _field(name: str) -> exp.Expr:
    """A field as the detection side reads it (`EventID` is the hot `EventCode` column)."""
    mapped = HOT_FIELDS.get(name, name)
    return field_sql(mapped if isinstance(mapped, str) else name)


def _rule_field_name(correlation: SigmaCorrelationRule, reference: SigmaRuleReference, name: str) -> str:
    """A group-by or value field's name in one referenced rule: an alias resolves per rule, a plain name as it is."""
    alias = correlation.aliases.aliases.get(name)
    if alias is not None:
        for ref, field in alias.mapping.items():
            if ref.reference == reference.reference:
                return str(field)
    return name


def _value_field(correlation: SigmaCorrelationRule) -> str | None:
    value_field = getattr(correlation.condition, "fieldref", None)
    if isinstance(value_field, list):
        return value_field[0] if value_field else None
    return value_field


def _hits(
    correlation: SigmaCorrelationRule, compiler: SigmaCompiler, window: TimeWindow | None, depth: int = 0
) -> exp.Expr:
    """Every hit of every referenced rule; a referenced correlation's hits are its occurrences (`_occurrences`)."""
    value_field = _value_field(correlation)
    selects: list[exp.Select] = []
    for reference in correlation.rules or []:
        rule = reference.rule
        if isinstance(rule, SigmaCorrelationRule):
            selects.append(_chained(correlation, reference, rule, compiler, window, depth))
            continue
        if not isinstance(rule, SigmaRule):
            raise SigmaCompileError(f"correlation references {reference.reference!r}, which is no rule")
        columns: list[exp.Expr] = [
            exp.alias_(exp.Literal.string(reference.reference), _REF),
            exp.alias_(field_sql("_time"), "_time"),
            exp.alias_(field_sql("_source"), "_source"),
            exp.alias_(field_sql("_offset"), "_offset"),
        ]
        for index, name in enumerate(correlation.group_by or []):
            columns.append(exp.alias_(_field(_rule_field_name(correlation, reference, name)), _group_name(index)))
        value = _field(_rule_field_name(correlation, reference, value_field)) if value_field else exp.Null()
        columns.append(exp.alias_(value, _VALUE))
        predicate = exp.and_(compiler.predicate(rule), *window_predicate(window), copy=False)
        selects.append(exp.select(*columns).from_(exp.to_table(EVENTS_TABLE)).where(predicate, copy=False))
    if not selects:
        raise SigmaCompileError("correlation references no rules")
    union: exp.Expr = selects[0]
    for select in selects[1:]:
        union = exp.union(union, select, distinct=False)
    return union


def _chained(
    correlation: SigmaCorrelationRule,
    reference: SigmaRuleReference,
    inner: SigmaCorrelationRule,
    compiler: SigmaCompiler,
    window: TimeWindow | None,
    depth: int,
) -> exp.Select:
    """A referenced correlation as hits: one per occurrence, at the time its condition held, with the values of
    its own group-by fields; the outer group-by and value fields must be among them (by name or alias)."""
    if depth >= MAX_CHAIN:
        raise SigmaCompileError(f"correlations chained deeper than {MAX_CHAIN} (or in a circle)")
    inner_names = list(inner.group_by or [])

    def column(name: str) -> exp.Expr:
        resolved = _rule_field_name(correlation, reference, name)
        if resolved not in inner_names:
            raise SigmaCompileError(
                f"{name!r} is not a group-by field of the correlation {reference.reference!r} it chains"
            )
        return exp.column(_group_name(inner_names.index(resolved)), "o")

    columns: list[exp.Expr] = [
        exp.alias_(exp.Literal.string(reference.reference), _REF),
        exp.alias_(exp.column("_time", "o"), "_time"),
        exp.alias_(exp.column("_source", "o"), "_source"),
        exp.alias_(exp.column("_offset", "o"), "_offset"),
        *[exp.alias_(column(name), _group_name(i)) for i, name in enumerate(correlation.group_by or [])],
    ]
    value_field = _value_field(correlation)
    columns.append(exp.alias_(column(value_field) if value_field else exp.Null(), _VALUE))
    occurrences = _occurrences(inner, compiler, window, depth + 1).subquery("o")
    return exp.select(*columns).from_(occurrences)


def _occurrences(
    correlation: SigmaCorrelationRule, compiler: SigmaCompiler, window: TimeWindow | None, depth: int
) -> exp.Select:
    """Each window in which `correlation`'s condition holds: its end (`_time`), the hit that ends it
    (`_source`, `_offset`) and its group values (`_g0`...)."""
    condition = _plain_condition(correlation)
    hits, windows = f"hits_{depth}", f"windows_{depth}"
    groups = len(correlation.group_by or [])
    return (
        exp.select(
            exp.alias_(exp.column("window_end"), "_time"),
            exp.column("_source"),
            exp.column("_offset"),
            *[exp.column(_group_name(i)) for i in range(groups)],
        )
        .from_(windows)
        .where(_matching(correlation, condition))
        .with_(hits, as_=_hits(correlation, compiler, window, depth))
        .with_(windows, as_=_found(correlation, groups, hits))
    )


def _same_group(left: str, right: str, groups: int) -> list[exp.Expr]:
    return [
        exp.NullSafeEQ(this=exp.column(_group_name(i), left), expression=exp.column(_group_name(i), right))
        for i in range(groups)
    ]


def _within(later: str, first: str, seconds: int) -> exp.Expr:
    """`first._time <= later._time <= first._time + seconds`."""
    start = exp.column("_time", first)
    end = exp.Add(
        this=start.copy(), expression=exp.Interval(this=exp.Literal.string(str(seconds)), unit=exp.var("SECOND"))
    )
    return exp.Between(this=exp.column("_time", later), low=start, high=end)


def _threshold(correlation: SigmaCorrelationRule, condition: SigmaCorrelationCondition) -> int | float:
    """The condition's limit as the rule writes it: pySigma keeps it as an `int`, so `gt: 2.5` became 2, where
    the specification allows an integer or a float (value_avg, value_sum, value_percentile). The rule's own
    mapping, which pySigma keeps, has the number."""
    raw = (correlation.custom_attributes or {}).get("correlation")
    written = raw.get("condition") if isinstance(raw, dict) else None
    value = written.get(condition.op.name.lower()) if isinstance(written, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and int(value) == condition.count:
        return value
    return condition.count


def _value_share(correlation: SigmaCorrelationRule) -> bool:
    """A value_percentile as the specification states it: the share of the window's hits per value."""
    percentile = getattr(correlation.condition, "percentile", None)
    return correlation.type is SigmaCorrelationType.VALUE_PERCENTILE and percentile is None


def _aggregate(correlation: SigmaCorrelationRule) -> exp.Expr:
    kind = correlation.type
    value = exp.column(_VALUE, "f")
    if kind is SigmaCorrelationType.EVENT_COUNT:
        return exp.Count(this=exp.Star())
    if kind is SigmaCorrelationType.VALUE_COUNT:
        return exp.Count(this=exp.Distinct(expressions=[value]))
    if kind is SigmaCorrelationType.TEMPORAL:
        return exp.Count(this=exp.Distinct(expressions=[exp.column(_REF, "f")]))
    if kind is SigmaCorrelationType.VALUE_SUM:
        return exp.Sum(this=exp.TryCast(this=value, to=_DOUBLE))
    if kind is SigmaCorrelationType.VALUE_AVG:
        return exp.Avg(this=exp.TryCast(this=value, to=_DOUBLE))
    if kind is SigmaCorrelationType.VALUE_MEDIAN:
        return exp.Median(this=exp.TryCast(this=value, to=_DOUBLE))
    if kind is SigmaCorrelationType.VALUE_PERCENTILE:
        percentile = getattr(correlation.condition, "percentile", None)
        if percentile is None:  # the share of the window's hits with the anchor's value, in percent
            same = exp.NullSafeEQ(this=value, expression=exp.column(_VALUE, "e"))
            hits = exp.Sum(this=exp.If(this=same, true=exp.Literal.number(1), false=exp.Literal.number(0)))
            share = exp.Mul(this=exp.cast(hits, _DOUBLE), expression=exp.Literal.number(100))  # doubles everywhere
            return exp.Div(this=share, expression=exp.cast(exp.Count(this=exp.Star()), _DOUBLE))
        if not 0 <= percentile <= 100:
            raise SigmaCompileError(f"value_percentile: percentile {percentile} is not between 0 and 100")
        fraction = exp.Literal.number(percentile / 100)
        return exp.PercentileCont(this=exp.TryCast(this=value, to=_DOUBLE), expression=fraction)
    raise SigmaCompileError(f"correlation type {kind.name.lower()} is not supported")


def _windows(correlation: SigmaCorrelationRule, groups: int, hits: str = "hits") -> exp.Select:
    """Per anchor hit `e`: the aggregate over the hits of its group in `[e._time - timespan, e._time]`."""
    seconds = correlation.timespan.seconds
    keys = [exp.column(_group_name(i), "e") for i in range(groups)]
    if _value_share(correlation):
        keys.append(exp.column(_VALUE, "e"))  # the result is per group and value
    joined = exp.and_(*_same_group("e", "f", groups), _within("e", "f", seconds), copy=False)
    return (
        exp.select(
            *[exp.alias_(k, k.name if k.name == _VALUE else _group_name(i)) for i, k in enumerate(keys)],
            exp.alias_(exp.column("_time", "e"), "window_end"),
            exp.alias_(exp.Min(this=exp.column("_time", "f")), "window_start"),
            exp.alias_(_aggregate(correlation), "value"),
            exp.alias_(exp.column("_source", "e"), "_source"),
            exp.alias_(exp.column("_offset", "e"), "_offset"),
        )
        .from_(exp.alias_(exp.to_table(hits), "e"))
        .join(exp.alias_(exp.to_table(hits), "f"), on=joined)
        .group_by(
            *keys,
            exp.column("_time", "e"),
            exp.column("_source", "e"),
            exp.column("_offset", "e"),
            exp.column(_REF, "e"),
        )
    )


def _ordered(correlation: SigmaCorrelationRule, groups: int, hits: str = "hits") -> exp.Select:
    """Chains of hits of the referenced rules in order, all within the timespan of the first."""
    references = correlation.rules or []
    seconds = correlation.timespan.seconds
    last = f"h{len(references) - 1}"
    select = exp.select(
        *[exp.alias_(exp.column(_group_name(i), "h0"), _group_name(i)) for i in range(groups)],
        exp.alias_(exp.column("_time", last), "window_end"),
        exp.alias_(exp.column("_time", "h0"), "window_start"),
        exp.alias_(exp.Literal.number(len(references)), "value"),
        exp.alias_(exp.column("_source", last), "_source"),
        exp.alias_(exp.column("_offset", last), "_offset"),
    ).from_(exp.alias_(exp.to_table(hits), "h0"))
    first = exp.EQ(this=exp.column(_REF, "h0"), expression=exp.Literal.string(references[0].reference))
    for index, reference in enumerate(references[1:], start=1):
        this, previous = f"h{index}", f"h{index - 1}"
        on = exp.and_(
            exp.EQ(this=exp.column(_REF, this), expression=exp.Literal.string(reference.reference)),
            *_same_group(this, "h0", groups),
            exp.GTE(this=exp.column("_time", this), expression=exp.column("_time", previous)),
            _within(this, "h0", seconds),
            copy=False,
        )
        select = select.join(exp.alias_(exp.to_table(hits), this), on=on)
    return select.where(first)


def _found(correlation: SigmaCorrelationRule, groups: int, hits: str = "hits") -> exp.Select:
    """The windows (or, for temporal_ordered, the chains) of a correlation over the hits in `hits`."""
    if correlation.type is SigmaCorrelationType.TEMPORAL_ORDERED:
        return _ordered(correlation, groups, hits)
    return _windows(correlation, groups, hits)


def _plain_condition(correlation: SigmaCorrelationRule) -> SigmaCorrelationCondition:
    condition = correlation.condition
    if not isinstance(condition, SigmaCorrelationCondition):
        raise SigmaCompileError("extended correlation conditions are not supported")
    return condition


def _matching(correlation: SigmaCorrelationRule, condition: SigmaCorrelationCondition) -> exp.Expr:
    """Which windows satisfy the condition (`value` of `_windows`; every chain of `_ordered`)."""
    if correlation.type is SigmaCorrelationType.TEMPORAL_ORDERED:
        every = len(correlation.rules or [])
        if (condition.op, condition.count) != (SigmaCorrelationConditionOperator.GTE, every):
            raise SigmaCompileError(f"temporal_ordered over a condition other than all {every} rules is not supported")
        return exp.true()
    # temporal: the condition counts the distinct rules hit in the window (pySigma's default: all of them)
    limit = exp.Literal.number(_threshold(correlation, condition))
    return _OPS[condition.op](this=exp.column("value"), expression=limit)


def compile_correlation(
    correlation: SigmaCorrelationRule, window: TimeWindow | None = None, compiler: SigmaCompiler | None = None
) -> CompiledSearch:
    """One row per group that satisfies the correlation in some window of `timespan`."""
    compiler = compiler or default_compiler()
    condition = _plain_condition(correlation)
    groups = len(correlation.group_by or [])
    windows = _found(correlation, groups)
    matching = _matching(correlation, condition)
    names = list(correlation.group_by or [])
    identity = rule_columns(correlation)  # type: ignore[arg-type]
    outputs: list[tuple[str, exp.Expr, Kind]] = [
        *identity,
        ("_time", exp.Min(this=exp.column("window_start")), Kind.TIME),
        ("last_time", exp.Max(this=exp.column("window_end")), Kind.TIME),
        ("count", exp.Max(this=exp.column("value")), Kind.NUM),
        *[(name, exp.column(_group_name(i)), Kind.STR) for i, name in enumerate(names)],
    ]
    group_keys = [exp.column(_group_name(i)) for i in range(groups)]
    if _value_share(correlation):
        field = _value_field(correlation)
        if not field:
            raise SigmaCompileError("value_percentile needs a field in its condition")
        if field not in names and field not in {n for n, _, _ in outputs}:
            outputs.append((field, exp.column(_VALUE), Kind.STR))
        group_keys.append(exp.column(_VALUE))
    query = (
        exp.select(*[exp.alias_(e, n, quoted=True) for n, e, _ in outputs])
        .from_("windows")
        .where(matching)
        .with_("hits", as_=_hits(correlation, compiler, window))
        .with_("windows", as_=windows)
    )
    if group_keys:
        query = query.group_by(*group_keys)
    else:  # an aggregate without groups returns a row even when no window matched
        query = query.having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(0)))
    query = query.order_by(exp.Ordered(this=exp.column("_time", quoted=True)))
    return CompiledSearch(query=query, node=None, columns=[Column(n, k) for n, _, k in outputs])
