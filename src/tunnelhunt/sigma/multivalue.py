"""List-valued fields: a comparison holds when any element of the list holds it (Sigma's rule for lists).

The events table stores a list as one text: a Zeek set comma-joined (TSV), a JSON array's elements
newline-joined under `name{}`. The pipelines of those formats declare such fields with their separator
in the pipeline state (`netsources.MULTIVALUE_STATE`); `MultivalueBackend` converts each comparison on
one of them as usual, then applies it to every element instead of the joined text:

    ARRAY_SIZE(FILTER(SPLIT(<field>, <separator>), v -> <comparison on v>)) > 0

(a missing field stays NULL, so the comparison is false and its `not` true, as for any missing field).
The lambda's variable is a bare identifier rather than a column, so the shared scan's once-per-event
lowering (`scan.ScanGroup.lower_once`, which hoists `LOWER(<column>)`) leaves it inside the lambda.
"""

from __future__ import annotations

from typing import Any

from sigma.conditions import ConditionAND, ConditionFieldEqualsValueExpression, ConditionOR
from sigma.conversion.state import ConversionState
from sigma.types import SigmaExists, SigmaExpansion, SigmaNull
from sqlglot import exp

from tunnelhunt.sigma.backend import SqlglotBackend
from tunnelhunt.sigma.netsources import MULTIVALUE_STATE
from tunnelhunt.store.events import field_sql

#: The lambda's variable: an element of the list.
ELEMENT = "sigma_element"


def any_element(subject: exp.Expr, separator: str, comparison: exp.Expr) -> exp.Expr:
    """`comparison` (written over `subject`) applied to each `separator`-joined element of `subject`."""
    key = subject.sql()
    element = exp.to_identifier(ELEMENT)

    def swap(node: exp.Expr) -> exp.Expr:
        return element.copy() if type(node) is type(subject) and node.sql() == key else node

    body = comparison.transform(swap)
    lam = exp.Lambda(this=body, expressions=[exp.to_identifier(ELEMENT)])
    elements = exp.Split(this=subject.copy(), expression=exp.Literal.string(separator))
    return exp.GT(
        this=exp.ArraySize(this=exp.ArrayFilter(this=elements, expression=lam)), expression=exp.Literal.number(0)
    )


def separator(state: ConversionState, name: str | None) -> str | None:
    """The separator of a field the pipeline declared multivalue, else None."""
    declared = state.processing_state.get(MULTIVALUE_STATE) or {}
    return declared.get(name) if name is not None else None


class MultivalueBackend(SqlglotBackend):
    """`SqlglotBackend` that compares the fields the pipeline declares multivalue element by element."""

    def convert_condition_field_eq_val(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Any:
        converted = super().convert_condition_field_eq_val(cond, state)
        joined_by = separator(state, cond.field)
        if joined_by is None or isinstance(cond.value, SigmaNull | SigmaExists | SigmaExpansion):
            return converted  # presence is the same for the list as for its text; an expansion's values come
            # back through this method one by one
        return any_element(field_sql(cond.field), joined_by, converted)

    def listable_field(self, name: str | None, state: ConversionState) -> bool:
        """A list field's strings go through `convert_condition_field_eq_val`, compared element by element."""
        return super().listable_field(name, state) and separator(state, name) is None

    def convert_condition_as_in_expression(self, cond: ConditionOR | ConditionAND, state: ConversionState) -> Any:
        converted = super().convert_condition_as_in_expression(cond, state)
        first = cond.args[0]
        name = first.field if isinstance(first, ConditionFieldEqualsValueExpression) else None
        joined_by = separator(state, name)
        if joined_by is None or name is None:
            return converted
        return any_element(field_sql(name), joined_by, converted)
