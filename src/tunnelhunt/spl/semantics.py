"""Splunk's matching rules, each as one small function the compiler calls.

- Field values compare case-insensitively; `*` is a wildcard over the whole value.
- A comparison on a missing (NULL) field is false, so `NOT field=x` is true for events without it.
- A multivalue field matches when any of its values matches.
"""

from __future__ import annotations

import re

from sqlglot import exp

#: LIKE escape character: `!` behaves the same in DuckDB and Spark (a backslash would not).
LIKE_ESCAPE = "!"
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def wildcard_to_like(value: str) -> str:
    """Turn a Splunk wildcard value into a LIKE pattern: `*` → `%`, literal `%`, `_`, `!` escaped."""
    out = []
    for char in value:
        if char == "*":
            out.append("%")
        elif char in ("%", "_", LIKE_ESCAPE):
            out.append(LIKE_ESCAPE + char)
        else:
            out.append(char)
    return "".join(out)


def _value_predicate(subject: exp.Expression, value: str) -> exp.Expression:
    """Case-insensitive equality, or LIKE when the value carries a wildcard."""
    lowered = exp.Lower(this=subject.copy())
    if "*" in value:
        like = exp.Like(this=lowered, expression=exp.Literal.string(wildcard_to_like(value.lower())))
        return exp.Escape(this=like, expression=exp.Literal.string(LIKE_ESCAPE))
    return exp.EQ(this=lowered, expression=exp.Literal.string(value.lower()))


def _any_element(column: exp.Expression, build: exp.Expression) -> exp.Expression:
    """True when some element `x` of an array column satisfies `build` (written over column `x`)."""
    lam = exp.Lambda(this=build, expressions=[exp.to_identifier("x")])
    filtered = exp.ArrayFilter(this=column.copy(), expression=lam)
    return exp.GT(this=exp.ArraySize(this=filtered), expression=exp.Literal.number(0))


def false_if_null(predicate: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=predicate, expressions=[exp.false()])


def exists(column: exp.Expression, multivalue: bool) -> exp.Expression:
    if multivalue:
        return false_if_null(exp.GT(this=exp.ArraySize(this=column.copy()), expression=exp.Literal.number(0)))
    return exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null()))


def matches(column: exp.Expression, value: str, multivalue: bool) -> exp.Expression:
    """`field=value` with Splunk semantics; never NULL."""
    if value == "*":
        return exists(column, multivalue)
    if multivalue:
        return false_if_null(_any_element(column, _value_predicate(exp.column("x"), value)))
    return false_if_null(_value_predicate(column, value))


def compare(column: exp.Expression, op: str, value: str, multivalue: bool) -> exp.Expression:
    """`field op value` for `=`, `!=`, `<`, `<=`, `>`, `>=`; never NULL."""
    if op == "=":
        return matches(column, value, multivalue)
    if op == "!=":
        return exp.and_(exists(column, multivalue), exp.Not(this=matches(column, value, multivalue)))
    operators: dict[str, type[exp.Binary]] = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
    binary = operators[op]
    if _NUMBER.match(value):
        subject: exp.Expression = exp.TryCast(
            this=exp.column("x") if multivalue else column.copy(), to=exp.DataType.build("DOUBLE")
        )
        literal: exp.Expression = exp.Literal.number(value)
    else:
        subject = exp.column("x") if multivalue else column.copy()
        literal = exp.Literal.string(value)
    predicate = binary(this=subject, expression=literal)
    if multivalue:
        return false_if_null(_any_element(column, predicate))
    return false_if_null(predicate)


def in_list(column: exp.Expression, values: tuple[str, ...], multivalue: bool) -> exp.Expression:
    """`field IN (...)`: any value matches, wildcards and case-insensitivity included."""
    predicates = [matches(column, value, multivalue) for value in values]
    if not predicates:
        return exp.false()
    return exp.or_(*predicates) if len(predicates) > 1 else predicates[0]


def fill_null(column: exp.Expression, fill: str) -> exp.Expression:
    """`fillnull_value`: a missing by-field becomes the given text instead of dropping the row."""
    return exp.Coalesce(this=column, expressions=[exp.Literal.string(fill)])


def explode_keep_empty(column: exp.Expression) -> exp.Expression:
    """One row per value of a multivalue field; an empty or missing field gives one NULL row."""
    empty = exp.or_(
        exp.Is(this=column.copy(), expression=exp.Null()),
        exp.EQ(this=exp.ArraySize(this=column.copy()), expression=exp.Literal.number(0)),
    )
    value = exp.Case(ifs=[exp.If(this=empty, true=exp.Array(expressions=[exp.Null()]))], default=column.copy())
    return exp.Explode(this=value)
