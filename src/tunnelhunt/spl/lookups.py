"""What the compiler knows of a CSV lookup, and how one lookup input matches a lookup row.

Matching follows Splunk's transforms.conf: exact, case-sensitive unless `case_sensitive_match`
is false; `WILDCARD(field)` lets `*` in that lookup column match anything. When several rows
match, the first `max_matches` of them in file order (100 unless the definition says otherwise) give
each output field a multivalue of their non-empty cells; with `max_matches=1` the first row's cell.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from tunnelhunt.spl import semantics
from tunnelhunt.spl.lookup_table import ROW_COLUMN, LookupTable

LookupResolver = Callable[[str], LookupTable | None]


def no_lookups(name: str) -> LookupTable | None:
    return None


def _like_pattern(value: exp.Expr) -> exp.Expr:
    """A lookup cell with `*` wildcards as a LIKE pattern (escaping %, _ and the escape character)."""
    escaped = value
    for char in (semantics.LIKE_ESCAPE, "%", "_"):
        escaped = exp.func(
            "REPLACE", escaped, exp.Literal.string(char), exp.Literal.string(semantics.LIKE_ESCAPE + char)
        )
    return exp.func("REPLACE", escaped, exp.Literal.string("*"), exp.Literal.string("%"))


def matched_values(lookup: LookupTable, column: str, row: str) -> exp.Expr:
    """Aggregate (over the matching rows `row` of a lookup) giving one output field's value.

    `max_matches=1`: the first matching row's cell. Otherwise the cells of the first `max_matches`
    matching rows in file order, empty ones left out, as a list (sorting (row, cell) pairs puts them in
    file order on every engine).
    """
    cell = exp.column(column, table=row, quoted=True)
    position = exp.column(ROW_COLUMN, table=row, quoted=True)
    if lookup.max_matches <= 1:
        return exp.ArgMin(this=cell, expression=position)
    pair = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier("r"), expression=position),
            exp.PropertyEQ(this=exp.to_identifier("v"), expression=cell),
        ]
    )
    ordered = exp.ArraySort(this=exp.ArrayAgg(this=pair))
    first = exp.ArraySlice(this=ordered, start=exp.Literal.number(1), end=exp.Literal.number(lookup.max_matches))
    cells = exp.Transform(
        this=first,
        expression=exp.Lambda(
            this=exp.Dot(this=exp.column("p"), expression=exp.to_identifier("v")), expressions=[exp.to_identifier("p")]
        ),
    )
    present = exp.Lambda(
        this=exp.Not(this=exp.Is(this=exp.column("c"), expression=exp.Null())), expressions=[exp.to_identifier("c")]
    )
    return exp.ArrayFilter(this=cells, expression=present)


def match_condition(lookup: LookupTable, lookup_column: exp.Expr, event_value: exp.Expr, wildcard: bool) -> exp.Expr:
    """True when an event value matches one lookup cell under the lookup's rules."""
    left, right = event_value, lookup_column
    if not lookup.case_sensitive:
        left, right = exp.Lower(this=left), exp.Lower(this=right)
    if wildcard:
        like = exp.Like(this=left, expression=_like_pattern(right))
        return exp.Escape(this=like, expression=exp.Literal.string(semantics.LIKE_ESCAPE))
    return exp.EQ(this=left, expression=right)
