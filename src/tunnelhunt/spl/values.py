"""Value kinds and the conversions between them, as SQL.

Splunk is dynamically typed; SQL is not. The compiler therefore tracks the kind of every column and
eval result, and converts explicitly where Splunk converts implicitly: a number printed as text has
no trailing `.0`, `_time` compared with a number is compared as epoch seconds, a multivalue field is
a list of strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo

from sqlglot import exp

from tunnelhunt.spl.columns import Column as Column  # re-exported: the compilers import it from here
from tunnelhunt.spl.columns import Kind
from tunnelhunt.spl.errors import UnsupportedError


@dataclass(frozen=True)
class Typed:
    """A SQL expression and the kind of value it yields."""

    sql: exp.Expr
    kind: Kind


DOUBLE = exp.DataType.build("DOUBLE")
BIGINT = exp.DataType.build("BIGINT")
VARCHAR = exp.DataType.build("VARCHAR")
TEXT_LIST = exp.DataType.build("ARRAY<VARCHAR>")


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def table(name: str) -> exp.Table:
    """A table (or CTE) reference built directly, without parsing the name."""
    return exp.Table(this=exp.to_identifier(name))


def alias(expression: exp.Expr, name: str) -> exp.Expr:
    return exp.alias_(expression, name, quoted=True)


def null_of(kind: Kind) -> exp.Expr:
    """A typed NULL, so that a column that is always null still has a definite SQL type."""
    target = {Kind.INT: BIGINT, Kind.NUM: DOUBLE, Kind.MV: TEXT_LIST, Kind.TIME: exp.DataType.build("TIMESTAMP")}
    return exp.cast(exp.Null(), target.get(kind, VARCHAR))


_MICROS = 1_000_000


def epoch(time_value: exp.Expr) -> exp.Expr:
    """Seconds since 1970 of a TIMESTAMP, as Splunk's `_time` is, with its fraction.

    Built from microseconds: Spark's UNIX_TIMESTAMP would drop the fraction that DuckDB's EPOCH keeps.
    """
    micros = exp.cast(exp.UnixMicros(this=time_value), DOUBLE)
    return exp.Div(this=micros, expression=exp.Literal.number(_MICROS))


def epoch_text(time_value: exp.Expr) -> exp.Expr:
    """A TIMESTAMP printed as Splunk prints a time outside `_time`: epoch seconds, `.` and the fraction
    without trailing zeros when there is one (`1704103200`, `1704103200.25`). Built from whole numbers:
    engines print a large DOUBLE differently (Spark as `1.7E9`)."""
    micros = exp.UnixMicros(this=time_value)
    size = exp.Abs(this=micros.copy())
    seconds = exp.cast(
        exp.Floor(this=exp.Div(this=exp.cast(size.copy(), DOUBLE), expression=exp.Literal.number(_MICROS))), BIGINT
    )
    fraction = exp.Sub(this=size, expression=exp.Mul(this=seconds.copy(), expression=exp.Literal.number(_MICROS)))
    digits = exp.Pad(
        this=exp.cast(fraction.copy(), VARCHAR),
        expression=exp.Literal.number(6),
        fill_pattern=exp.Literal.string("0"),
        is_left=True,
    )
    trimmed = exp.Trim(this=digits, expression=exp.Literal.string("0"), position="TRAILING")
    sign = exp.Case(
        ifs=[exp.If(this=exp.LT(this=micros, expression=exp.Literal.number(0)), true=exp.Literal.string("-"))],
        default=exp.Literal.string(""),
    )
    whole = exp.DPipe(this=sign, expression=exp.cast(seconds, VARCHAR))
    with_fraction = exp.DPipe(this=exp.DPipe(this=whole.copy(), expression=exp.Literal.string(".")), expression=trimmed)
    zero = exp.EQ(this=fraction, expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=zero, true=whole)], default=with_fraction)


def from_epoch(seconds: exp.Expr) -> exp.Expr:
    """Epoch seconds as a TIMESTAMP without time zone (UTC), like the store's `_time`."""
    start = exp.cast(exp.Literal.string("1970-01-01 00:00:00"), exp.DataType.build("TIMESTAMP"))
    micros = exp.cast(exp.Round(this=exp.Mul(this=seconds, expression=exp.Literal.number(1000000))), BIGINT)
    return exp.TimestampAdd(this=start, expression=micros, unit=exp.var("MICROSECOND"))


def zone_name(tz: tzinfo) -> str:
    """The IANA name of a time zone (`UTC` for datetime's own)."""
    return "UTC" if tz is UTC else str(getattr(tz, "key", None) or tz)


def format_time(moment: exp.Expr, fmt: str, tz: tzinfo = UTC) -> exp.Expr:
    """A UTC TIMESTAMP as text in `fmt` (strftime directives), shown in time zone `tz`.

    Splunk formats times in the searching user's zone; tunnelhunt takes it from the compile call.
    """
    if zone_name(tz) != "UTC":
        moment = exp.ConvertTimezone(
            source_tz=exp.Literal.string("UTC"), target_tz=exp.Literal.string(zone_name(tz)), timestamp=moment
        )
    return exp.TimeToStr(this=moment, format=exp.Literal.string(fmt))


def format_number(value: exp.Expr) -> exp.Expr:
    """A number as Splunk prints it: whole numbers without a decimal part."""
    whole = exp.and_(
        exp.EQ(this=value.copy(), expression=exp.Floor(this=value.copy())),
        exp.LT(this=exp.Abs(this=value.copy()), expression=exp.Literal.number("1e15")),
    )
    return exp.Case(
        ifs=[exp.If(this=whole, true=exp.cast(exp.cast(value.copy(), BIGINT), VARCHAR))],
        default=exp.cast(value.copy(), VARCHAR),
    )


def single_value(values: exp.Expr) -> exp.Expr:
    """A multivalue used where one value is expected: its value when it has exactly one, else NULL.

    (In Splunk a field with one value is simply single-valued.)
    """
    one = exp.EQ(this=exp.ArraySize(this=values.copy()), expression=exp.Literal.number(1))
    first = exp.Bracket(this=values.copy(), expressions=[exp.Literal.number(0)], offset=0, safe=True)
    return exp.Case(ifs=[exp.If(this=one, true=first)], default=exp.cast(exp.Null(), VARCHAR))


def to_text(value: Typed, position: int | None = None, where: str = "this context") -> exp.Expr:
    """The value as a string (a multivalue only when it holds one value); a boolean has none."""
    kind = value.kind
    if kind is Kind.MV:
        return single_value(value.sql)
    if kind is Kind.STR:
        return value.sql
    if kind is Kind.NULL:
        return null_of(Kind.STR)
    if kind is Kind.INT:
        return exp.cast(value.sql, VARCHAR)
    if kind is Kind.NUM:
        return format_number(value.sql)
    if kind is Kind.TIME:
        return epoch_text(value.sql)
    raise UnsupportedError(f"a {kind.value} value cannot be used as text in {where}", position, kind.value)


def to_number(value: Typed, position: int | None = None, where: str = "this context") -> exp.Expr:
    """The value as a number (NULL when it is text that is not a number)."""
    kind = value.kind
    if kind is Kind.MV:
        return exp.TryCast(this=single_value(value.sql), to=DOUBLE)
    if kind.numeric:
        return value.sql
    if kind is Kind.STR:
        return exp.TryCast(this=value.sql, to=DOUBLE)
    if kind is Kind.NULL:
        return null_of(Kind.NUM)
    if kind is Kind.TIME:
        return epoch(value.sql)
    raise UnsupportedError(f"a {kind.value} value cannot be used as a number in {where}", position, kind.value)


def to_time(value: Typed, position: int | None = None, where: str = "this context") -> exp.Expr:
    """The value as a TIMESTAMP (numbers are epoch seconds)."""
    if value.kind is Kind.TIME:
        return value.sql
    return from_epoch(to_number(value, position, where))


def to_list(value: Typed, position: int | None = None, where: str = "this context") -> exp.Expr:
    """The value as a list of strings: a single value becomes a one-element list, NULL stays NULL."""
    if value.kind is Kind.MV:
        return value.sql
    if value.kind is Kind.NULL:
        return null_of(Kind.MV)
    text = to_text(value, position, where)
    return exp.Case(
        ifs=[exp.If(this=exp.Is(this=text.copy(), expression=exp.Null()), true=null_of(Kind.MV))],
        default=exp.Array(expressions=[text]),
    )


def empty_list_is_null(value: exp.Expr) -> exp.Expr:
    """A multivalue with no values is a missing field in Splunk."""
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(this=exp.ArraySize(this=value.copy()), expression=exp.Literal.number(0)),
                true=null_of(Kind.MV),
            )
        ],
        default=value,
    )


def unify(values: list[Typed], position: int | None = None, where: str = "this context") -> tuple[list[exp.Expr], Kind]:
    """Bring the branches of if/case/coalesce to one kind (text unless they already agree)."""
    kinds = {v.kind for v in values if v.kind is not Kind.NULL}
    if not kinds:
        return [v.sql for v in values], Kind.NULL
    if len(kinds) == 1:
        kind = kinds.pop()
        return [null_of(kind) if v.kind is Kind.NULL else v.sql for v in values], kind
    if kinds <= {Kind.INT, Kind.NUM}:
        return [exp.cast(v.sql, DOUBLE) if v.kind is not Kind.NULL else null_of(Kind.NUM) for v in values], Kind.NUM
    if Kind.MV in kinds:
        return [to_list(v, position, where) for v in values], Kind.MV
    return [to_text(v, position, where) for v in values], Kind.STR
