"""Eval expressions (AST) → typed sqlglot expressions, with Splunk's eval semantics.

Unlike the search language, eval compares case-sensitively and without wildcards. Numbers compare
numerically (text that holds a number is converted), `_time` compares as epoch seconds, a
comparison with a multivalue field is true when any of its values satisfies it, and a missing field
is NULL, which makes a comparison neither true nor false (so `where` drops the row).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from sqlglot import exp

from tunnelhunt.spl import ast, semantics
from tunnelhunt.spl.errors import SplSyntaxError, UnsupportedError
from tunnelhunt.spl.values import (
    BIGINT,
    DOUBLE,
    Column,
    Kind,
    Typed,
    col,
    null_of,
    to_list,
    to_number,
    to_text,
)

ColumnLookup = Callable[[str], Column | None]
#: Compiles one function call; `functions.call` in the compiler. Passed in so that this module, which the
#: function builders use, does not import them back.
FunctionCall = Callable[["Evaluator", ast.Call], Typed]
_COMPARISONS: dict[str, type[exp.Binary]] = {
    "=": exp.EQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}


class Evaluator:
    """Compiles eval expressions against the columns present at one point of the pipeline."""

    def __init__(self, columns: ColumnLookup, call: FunctionCall, now: datetime, tz: tzinfo = UTC) -> None:
        self.columns = columns
        self.call = call
        self.now = now
        self.tz = tz  # where relative_time() snaps
        self.bound: dict[str, Typed] = {}  # lambda variables (mvfilter) shadow fields
        self._names = itertools.count(1)

    def lambda_name(self) -> str:
        return f"_v{next(self._names)}"

    # --- entry points -------------------------------------------------------------------------
    def value(self, node: ast.EvalExpr) -> Typed:
        if isinstance(node, ast.Literal):
            return self._literal(node)
        if isinstance(node, ast.FieldRef):
            return self.field(node.name)
        if isinstance(node, ast.Call):
            return self.call(self, node)
        if isinstance(node, ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, ast.BinaryOp):
            return self._binary(node)
        raise SplSyntaxError(f"unknown eval expression {node!r}")  # pragma: no cover

    def condition(self, node: ast.EvalExpr, what: str = "where") -> exp.Expr:
        """A boolean expression (raises when the expression is not a condition)."""
        result = self.value(node)
        if result.kind is not Kind.BOOL:
            raise SplSyntaxError(f"{what} needs a true/false expression, not a {result.kind.value}", _pos(node))
        return result.sql

    def field(self, name: str) -> Typed:
        if name in self.bound:
            return self.bound[name]
        column = self.columns(name)
        if column is None:
            return Typed(null_of(Kind.STR), Kind.NULL)
        return Typed(col(name), column.kind)

    # --- literals and operators -------------------------------------------------------------
    def _literal(self, node: ast.Literal) -> Typed:
        value = node.value
        if value is None:
            return Typed(exp.Null(), Kind.NULL)
        if isinstance(value, bool):
            return Typed(exp.Boolean(this=value), Kind.BOOL)
        if isinstance(value, int):
            return Typed(exp.Literal.number(value), Kind.INT)
        if isinstance(value, float):
            return Typed(exp.cast(exp.Literal.number(repr(value)), DOUBLE), Kind.NUM)
        return Typed(exp.Literal.string(value), Kind.STR)

    def _unary(self, node: ast.UnaryOp) -> Typed:
        operand = self.value(node.operand)
        if node.op == "NOT":
            return Typed(exp.Not(this=exp.paren(self._bool(operand, node.position, "NOT"))), Kind.BOOL)
        number = to_number(operand, node.position, "unary minus")
        return Typed(exp.Neg(this=exp.paren(number)), Kind.INT if operand.kind is Kind.INT else Kind.NUM)

    def _bool(self, value: Typed, position: int, what: str) -> exp.Expr:
        if value.kind is Kind.BOOL:
            return value.sql
        if value.kind is Kind.NULL:
            return exp.cast(exp.Null(), exp.DataType.build("BOOLEAN"))
        raise SplSyntaxError(f"{what} needs true/false operands, not a {value.kind.value}", position, what)

    def _binary(self, node: ast.BinaryOp) -> Typed:
        op = node.op
        left, right = self.value(node.left), self.value(node.right)
        if op in ("AND", "OR", "XOR"):
            a, b = self._bool(left, node.position, op), self._bool(right, node.position, op)
            if op == "AND":
                return Typed(exp.and_(exp.paren(a), exp.paren(b)), Kind.BOOL)
            if op == "OR":
                return Typed(exp.or_(exp.paren(a), exp.paren(b)), Kind.BOOL)
            return Typed(exp.NEQ(this=exp.paren(a), expression=exp.paren(b)), Kind.BOOL)
        if op in _COMPARISONS:
            return Typed(self.compare(op, left, right, node.position), Kind.BOOL)
        if op == "LIKE":
            return Typed(self.any_value(left, lambda v: like(v, right, node.position), node.position), Kind.BOOL)
        if op == ".":
            return Typed(concat(left, right, node.position), Kind.STR)
        return arithmetic(op, left, right, node.position)

    # --- comparisons --------------------------------------------------------------------------
    def any_value(self, value: Typed, build: Callable[[Typed], exp.Expr], position: int) -> exp.Expr:
        """`build` over a single value, or true when any value of a multivalue satisfies it."""
        if value.kind is not Kind.MV:
            return build(value)
        name = self.lambda_name()
        element = Typed(exp.column(name), Kind.STR)
        predicate = build(element)
        lam = exp.Lambda(this=predicate, expressions=[exp.to_identifier(name)])
        size = exp.ArraySize(this=exp.ArrayFilter(this=value.sql, expression=lam))
        return exp.GT(this=size, expression=exp.Literal.number(0))

    def compare(self, op: str, left: Typed, right: Typed, position: int) -> exp.Expr:
        if left.kind is Kind.MV and right.kind is Kind.MV:
            raise UnsupportedError("comparing two multivalue fields is not supported", position, op)
        if left.kind is Kind.MV:
            return self.any_value(left, lambda v: self.compare(op, v, right, position), position)
        if right.kind is Kind.MV:
            return self.any_value(right, lambda v: self.compare(op, left, v, position), position)
        return compare_scalars(op, left, right, position)


def _pos(node: ast.EvalExpr) -> int:
    return getattr(node, "position", 0)


def _is_literal_text(value: Typed) -> bool:
    return isinstance(value.sql, exp.Literal) and value.sql.is_string


def _looks_numeric(value: Typed) -> bool:
    if not _is_literal_text(value):
        return False
    try:
        float(value.sql.this)
    except ValueError:
        return False
    return True


def compare_scalars(op: str, left: Typed, right: Typed, position: int) -> exp.Expr:
    """Splunk's rule: numbers (and text holding numbers) compare numerically, other text as text."""
    binary = _COMPARISONS[op]
    kinds = {left.kind, right.kind}
    if Kind.BOOL in kinds:
        if left.kind is not right.kind or op not in ("=", "!="):
            raise SplSyntaxError("a true/false value can only be compared with = or !=", position, op)
        return binary(this=left.sql, expression=right.sql)
    if Kind.NULL in kinds:
        return exp.cast(exp.Null(), exp.DataType.build("BOOLEAN"))
    numeric_side = any(k.numeric or k is Kind.TIME for k in kinds)
    if numeric_side:
        return binary(
            this=to_number(left, position, "a comparison"), expression=to_number(right, position, "a comparison")
        )
    # both text: a literal that is not a number settles it; otherwise decide per row
    a, b = left.sql, right.sql
    if (_is_literal_text(left) and not _looks_numeric(left)) or (_is_literal_text(right) and not _looks_numeric(right)):
        return binary(this=a, expression=b)
    na, nb = exp.TryCast(this=a.copy(), to=DOUBLE), exp.TryCast(this=b.copy(), to=DOUBLE)
    both_numbers = exp.and_(
        exp.Not(this=exp.Is(this=na.copy(), expression=exp.Null())),
        exp.Not(this=exp.Is(this=nb.copy(), expression=exp.Null())),
    )
    return exp.Case(
        ifs=[exp.If(this=both_numbers, true=binary(this=na, expression=nb))],
        default=binary(this=a.copy(), expression=b.copy()),
    )


def like(value: Typed, pattern: Typed, position: int) -> exp.Expr:
    """SQL-style LIKE (`%` and `_`), case-sensitive, as eval's like() is."""
    return semantics.sql_like(to_text(value, position, "like"), to_text(pattern, position, "like"))


def concat(left: Typed, right: Typed, position: int) -> exp.Expr:
    """`a . b`: text concatenation; a missing operand makes the result missing."""
    return exp.DPipe(
        this=to_text(left, position, "concatenation"), expression=to_text(right, position, "concatenation"), safe=False
    )


def arithmetic(op: str, left: Typed, right: Typed, position: int) -> Typed:
    texts = (Kind.STR, Kind.NULL)
    if op == "+" and left.kind in texts and right.kind in texts and Kind.STR in (left.kind, right.kind):
        return Typed(concat(left, right, position), Kind.STR)
    a = to_number(left, position, f"'{op}'")
    b = to_number(right, position, f"'{op}'")
    integer = left.kind is Kind.INT and right.kind is Kind.INT
    if op == "+":
        result: exp.Expr = exp.Add(this=a, expression=b)
    elif op == "-":
        result = exp.Sub(this=a, expression=b)
    elif op == "*":
        result = exp.Mul(this=a, expression=b)
    elif op == "/":
        result = exp.Div(this=exp.cast(a, DOUBLE), expression=exp.Nullif(this=b, expression=exp.Literal.number(0)))
        integer = False
    elif op == "%":
        result = exp.Mod(this=a, expression=exp.Nullif(this=b, expression=exp.Literal.number(0)))
    else:  # pragma: no cover - the parser only builds the operators above
        raise SplSyntaxError(f"unknown operator {op}", position, op)
    if integer:
        return Typed(exp.cast(exp.paren(result), BIGINT), Kind.INT)
    return Typed(exp.paren(result), Kind.NUM)


def as_list(value: Typed, position: int, where: str) -> exp.Expr:
    return to_list(value, position, where)
