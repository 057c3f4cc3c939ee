"""Eval functions: each Splunk function name maps to a small builder of typed SQL.

A function tunnelhunt does not implement fails compilation with its name and position.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import UTC

from sqlglot import exp

from tunnelhunt.spl import ast, regex, semantics, timemodifiers
from tunnelhunt.spl.errors import SplSyntaxError, UnsupportedError
from tunnelhunt.spl.evaluate import Evaluator, compare_scalars, like
from tunnelhunt.spl.values import (
    DOUBLE,
    TEXT_LIST,
    Kind,
    Typed,
    empty_list_is_null,
    format_time,
    null_of,
    to_list,
    to_number,
    to_text,
    to_time,
    unify,
)

Builder = Callable[[Evaluator, ast.Call], Typed]
FUNCTIONS: dict[str, Builder] = {}


def function(*names: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        for name in names:
            FUNCTIONS[name] = builder
        return builder

    return register


def call(ev: Evaluator, node: ast.Call) -> Typed:
    builder = FUNCTIONS.get(node.name)
    if builder is None:
        raise UnsupportedError(f"eval function '{node.name}' is not supported", node.position, node.name)
    return builder(ev, node)


def _arity(node: ast.Call, low: int, high: int | None = None) -> None:
    high = low if high is None else high
    count = len(node.args)
    if count < low or (high >= 0 and count > high):
        wanted = str(low) if low == high else f"{low} to {high}" if high >= 0 else f"at least {low}"
        raise SplSyntaxError(f"{node.name}() takes {wanted} argument(s), not {count}", node.position, node.name)


def _literal_text(node: ast.Call, index: int, what: str) -> str:
    arg = node.args[index]
    if not isinstance(arg, ast.Literal) or not isinstance(arg.value, str):
        raise UnsupportedError(f"{node.name}() needs a literal {what}", node.position, node.name)
    return arg.value


def _literal_int(node: ast.Call, index: int, what: str) -> int:
    arg = node.args[index]
    if not isinstance(arg, ast.Literal) or not isinstance(arg.value, int) or isinstance(arg.value, bool):
        raise UnsupportedError(f"{node.name}() needs a literal whole-number {what}", node.position, node.name)
    return arg.value


def _scalar(ev: Evaluator, node: ast.Call, index: int = 0) -> Typed:
    """An argument that must be one value (a multivalue with one value counts as that value)."""
    return ev.value(node.args[index])


def _text(ev: Evaluator, node: ast.Call, index: int = 0) -> exp.Expr:
    return to_text(_scalar(ev, node, index), node.position, f"{node.name}()")


# --- conditionals --------------------------------------------------------------------------------
@function("if")
def _if(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 3)
    condition = ev.condition(node.args[0], "if()")
    values, kind = unify([ev.value(node.args[1]), ev.value(node.args[2])], node.position, "if()")
    return Typed(exp.Case(ifs=[exp.If(this=condition, true=values[0])], default=values[1]), kind)


@function("case")
def _case(ev: Evaluator, node: ast.Call) -> Typed:
    if not node.args or len(node.args) % 2:
        raise SplSyntaxError("case() needs condition/value pairs", node.position, "case")
    conditions = [ev.condition(arg, "case()") for arg in node.args[0::2]]
    values, kind = unify([ev.value(arg) for arg in node.args[1::2]], node.position, "case()")
    ifs = [exp.If(this=c, true=v) for c, v in zip(conditions, values, strict=True)]
    return Typed(exp.Case(ifs=ifs, default=null_of(kind)), kind)


@function("coalesce")
def _coalesce(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1, -1)
    values, kind = unify([ev.value(arg) for arg in node.args], node.position, "coalesce()")
    return Typed(exp.Coalesce(this=values[0], expressions=values[1:]), kind)


@function("nullif")
def _nullif(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 2)
    values, kind = unify([_scalar(ev, node, 0), _scalar(ev, node, 1)], node.position, "nullif()")
    return Typed(exp.Nullif(this=values[0], expression=values[1]), kind)


@function("null")
def _null(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 0)
    return Typed(exp.Null(), Kind.NULL)


@function("true", "false")
def _boolean(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 0)
    return Typed(exp.Boolean(this=node.name == "true"), Kind.BOOL)


@function("isnull", "isnotnull")
def _isnull(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1)
    value = ev.value(node.args[0])
    if value.kind is Kind.NULL:
        missing: exp.Expr = exp.true()
    elif value.kind is Kind.MV:
        missing = exp.or_(
            exp.Is(this=value.sql.copy(), expression=exp.Null()),
            exp.EQ(this=exp.ArraySize(this=value.sql.copy()), expression=exp.Literal.number(0)),
        )
    else:
        missing = exp.Is(this=value.sql, expression=exp.Null())
    return Typed(missing if node.name == "isnull" else exp.Not(this=exp.paren(missing)), Kind.BOOL)


@function("isnum", "isint", "isstr")
def _istype(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1)
    value = ev.value(node.args[0])
    present = exp.Not(this=exp.Is(this=value.sql.copy(), expression=exp.Null()))
    if node.name == "isstr":
        return Typed(exp.and_(present, exp.Boolean(this=value.kind in (Kind.STR, Kind.MV))), Kind.BOOL)
    if value.kind is Kind.INT or (value.kind is Kind.NUM and node.name == "isnum"):
        return Typed(present, Kind.BOOL)
    if value.kind is not Kind.STR:
        return Typed(exp.false(), Kind.BOOL)
    number = exp.TryCast(this=value.sql, to=DOUBLE)
    check: exp.Expr = exp.Not(this=exp.Is(this=number.copy(), expression=exp.Null()))
    if node.name == "isint":
        check = exp.and_(check, exp.EQ(this=number.copy(), expression=exp.Floor(this=number.copy())))
    return Typed(exp.Coalesce(this=check, expressions=[exp.false()]), Kind.BOOL)


@function("in")
def _in(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 2, -1)
    subject = ev.value(node.args[0])
    options = [ev.value(arg) for arg in node.args[1:]]

    def build(value: Typed) -> exp.Expr:
        return exp.or_(*[compare_scalars("=", value, option, node.position) for option in options])

    return Typed(ev.any_value(subject, build, node.position), Kind.BOOL)


# --- text -------------------------------------------------------------------------------------------
@function("like")
def _like(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 2)
    pattern = ev.value(node.args[1])
    return Typed(
        ev.any_value(ev.value(node.args[0]), lambda v: like(v, pattern, node.position), node.position), Kind.BOOL
    )


@function("match")
def _match(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 2)
    argument = node.args[1]
    subject = ev.value(node.args[0])
    if isinstance(argument, ast.Literal) and isinstance(argument.value, str):
        pattern = exp.Literal.string(regex.translate(argument.value, node.position).pattern)

        def build(value: Typed) -> exp.Expr:
            return exp.RegexpLike(this=to_text(value, node.position, "match()"), expression=pattern.copy())

    else:  # a pattern built at run time cannot be checked here: a row whose pattern is invalid does not match
        runtime = to_text(ev.value(argument), node.position, "match()")

        def build(value: Typed) -> exp.Expr:
            return semantics.runtime_regex_match(to_text(value, node.position, "match()"), runtime.copy())

    return Typed(ev.any_value(subject, build, node.position), Kind.BOOL)


@function("lower", "upper")
def _case_change(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1)
    cls = exp.Lower if node.name == "lower" else exp.Upper
    return Typed(cls(this=_text(ev, node)), Kind.STR)


@function("len")
def _len(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1)
    return Typed(exp.Length(this=_text(ev, node)), Kind.INT)


@function("substr")
def _substr(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 2, 3)
    start = to_number(_scalar(ev, node, 1), node.position, "substr()")
    args: dict[str, exp.Expr] = {"this": _text(ev, node), "start": exp.cast(start, exp.DataType.build("BIGINT"))}
    if len(node.args) == 3:
        length = to_number(_scalar(ev, node, 2), node.position, "substr()")
        args["length"] = exp.cast(length, exp.DataType.build("BIGINT"))
    return Typed(exp.Substring(**args), Kind.STR)


@function("replace")
def _replace(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 3)
    pattern = regex.translate(_literal_text(node, 1, "regular expression"), node.position).pattern
    replacement = _literal_text(node, 2, "replacement")
    return Typed(
        exp.RegexpReplace(
            this=_text(ev, node),
            expression=exp.Literal.string(pattern),
            replacement=exp.Literal.string(replacement),
            modifiers=exp.Literal.string("g"),
        ),
        Kind.STR,
    )


@function("trim", "ltrim", "rtrim")
def _trim(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1, 2)
    chars = _literal_text(node, 1, "character list") if len(node.args) == 2 else " \t"
    position = {"trim": None, "ltrim": "LEADING", "rtrim": "TRAILING"}[node.name]
    trim = exp.Trim(this=_text(ev, node), expression=exp.Literal.string(chars))
    if position:
        trim.set("position", position)
    return Typed(trim, Kind.STR)


@function("tostring")
def _tostring(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1, 1)
    return Typed(_text(ev, node), Kind.STR)


@function("tonumber")
def _tonumber(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1, 2)
    if len(node.args) == 2 and _literal_int(node, 1, "base") != 10:
        raise UnsupportedError("tonumber() with a base other than 10 is not supported", node.position, "tonumber")
    value = _scalar(ev, node)
    if value.kind.numeric:
        return value
    return Typed(to_number(value, node.position, "tonumber()"), Kind.NUM)


# --- multivalue -------------------------------------------------------------------------------------
@function("mvcount")
def _mvcount(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1)
    value = ev.value(node.args[0])
    values = to_list(value, node.position, "mvcount()")
    size = exp.ArraySize(this=values)
    return Typed(
        exp.Case(
            ifs=[exp.If(this=exp.EQ(this=size.copy(), expression=exp.Literal.number(0)), true=exp.Null())], default=size
        ),
        Kind.INT,
    )


def _index(values: exp.Expr, position: int) -> exp.Expr:
    """0-based Splunk index (negative counts from the end) → the engine's own array access."""
    if position >= 0:
        index: exp.Expr = exp.Literal.number(position)
    else:
        index = exp.Add(this=exp.ArraySize(this=values.copy()), expression=exp.Literal.number(position))
    return exp.Bracket(this=values.copy(), expressions=[index], offset=0, safe=True)


@function("mvindex")
def _mvindex(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 2, 3)
    values = to_list(ev.value(node.args[0]), node.position, "mvindex()")
    start = _literal_int(node, 1, "start index")
    if len(node.args) == 2:
        return Typed(_index(values, start), Kind.STR)
    end = _literal_int(node, 2, "end index")
    if (start < 0) != (end < 0):
        raise UnsupportedError("mvindex() with mixed-sign indices is not supported", node.position, "mvindex")
    begin = start + 1 if start >= 0 else start  # 1-based, inclusive; negative counts from the end
    finish = end + 1 if end >= 0 else end
    sliced = exp.ArraySlice(this=values, start=exp.Literal.number(begin), end=exp.Literal.number(finish))
    return Typed(empty_list_is_null(sliced), Kind.MV)


@function("split")
def _split(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 2)
    separator = _literal_text(node, 1, "separator")
    if separator == "":
        raise UnsupportedError("split() with an empty separator is not supported", node.position, "split")
    return Typed(exp.Split(this=_text(ev, node), expression=exp.Literal.string(separator)), Kind.MV)


@function("mvjoin")
def _mvjoin(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 2)
    values = to_list(ev.value(node.args[0]), node.position, "mvjoin()")
    return Typed(
        exp.ArrayToString(this=values, expression=exp.Literal.string(_literal_text(node, 1, "separator"))), Kind.STR
    )


@function("mvdedup")
def _mvdedup(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1)
    values = to_list(ev.value(node.args[0]), node.position, "mvdedup()")
    return Typed(exp.ArrayDistinct(this=values), Kind.MV)


@function("mvsort")
def _mvsort(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1)
    values = to_list(ev.value(node.args[0]), node.position, "mvsort()")
    return Typed(exp.ArraySort(this=values), Kind.MV)


@function("mvappend")
def _mvappend(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1, -1)
    empty = exp.cast(exp.Array(expressions=[]), TEXT_LIST)
    lists = [
        exp.Coalesce(this=to_list(ev.value(a), node.position, "mvappend()"), expressions=[empty.copy()])
        for a in node.args
    ]
    joined = lists[0] if len(lists) == 1 else exp.ArrayConcat(this=lists[0], expressions=lists[1:])
    return Typed(empty_list_is_null(joined), Kind.MV)


@function("mvfilter")
def _mvfilter(ev: Evaluator, node: ast.Call) -> Typed:
    """mvfilter(predicate over one field): keep that field's values for which the predicate holds."""
    _arity(node, 1)
    fields = sorted(_field_names(node.args[0]))
    if len(fields) != 1:
        raise UnsupportedError("mvfilter() must refer to exactly one field", node.position, "mvfilter")
    name = fields[0]
    values = to_list(ev.field(name), node.position, "mvfilter()")
    variable = ev.lambda_name()
    ev.bound[name] = Typed(exp.column(variable), Kind.STR)
    try:
        predicate = ev.condition(node.args[0], "mvfilter()")
    finally:
        del ev.bound[name]
    lam = exp.Lambda(this=predicate, expressions=[exp.to_identifier(variable)])
    return Typed(empty_list_is_null(exp.ArrayFilter(this=values, expression=lam)), Kind.MV)


def _field_names(node: ast.EvalExpr) -> set[str]:
    if isinstance(node, ast.FieldRef):
        return {node.name}
    if isinstance(node, ast.Call):
        return set().union(*[_field_names(a) for a in node.args]) if node.args else set()
    if isinstance(node, ast.BinaryOp):
        return _field_names(node.left) | _field_names(node.right)
    if isinstance(node, ast.UnaryOp):
        return _field_names(node.operand)
    return set()


# --- numbers ----------------------------------------------------------------------------------------
def _numeric(ev: Evaluator, node: ast.Call, index: int = 0) -> exp.Expr:
    return to_number(_scalar(ev, node, index), node.position, f"{node.name}()")


@function("abs")
def _abs(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1)
    value = _scalar(ev, node)
    return Typed(
        exp.Abs(this=to_number(value, node.position, "abs()")), Kind.INT if value.kind is Kind.INT else Kind.NUM
    )


@function("round")
def _round(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1, 2)
    digits = _literal_int(node, 1, "precision") if len(node.args) == 2 else 0
    rounded = exp.Round(this=_numeric(ev, node), decimals=exp.Literal.number(digits))
    return Typed(rounded, Kind.NUM)


@function("floor", "ceil", "ceiling")
def _floor(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1)
    cls = exp.Floor if node.name == "floor" else exp.Ceil
    return Typed(cls(this=_numeric(ev, node)), Kind.NUM)


@function("sqrt", "ln", "exp")
def _unary_math(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1)
    cls = {"sqrt": exp.Sqrt, "ln": exp.Ln, "exp": exp.Exp}[node.name]
    return Typed(cls(this=_numeric(ev, node)), Kind.NUM)


@function("pow")
def _pow(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 2)
    return Typed(exp.Pow(this=_numeric(ev, node, 0), expression=_numeric(ev, node, 1)), Kind.NUM)


@function("log")
def _log(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1, 2)
    base = _numeric(ev, node, 1) if len(node.args) == 2 else exp.Literal.number(10)
    return Typed(exp.Log(this=base, expression=_numeric(ev, node, 0)), Kind.NUM)


@function("min", "max")
def _min_max(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 1, -1)
    values = [_scalar(ev, node, i) for i in range(len(node.args))]
    cls = exp.Least if node.name == "min" else exp.Greatest
    if all(v.kind.numeric for v in values):
        sql = [to_number(v, node.position, node.name) for v in values]
        kind = Kind.INT if all(v.kind is Kind.INT for v in values) else Kind.NUM
    else:
        sql = [to_text(v, node.position, f"{node.name}()") for v in values]
        kind = Kind.STR
    return Typed(cls(this=sql[0], expressions=sql[1:]), kind)


# --- network ----------------------------------------------------------------------------------------
@function("cidrmatch")
def _cidrmatch(ev: Evaluator, node: ast.Call) -> Typed:
    """cidrmatch("10.0.0.0/8", ip): IPv4 only; the CIDR must be a literal."""
    _arity(node, 2)
    cidr = _literal_text(node, 0, "CIDR")
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise SplSyntaxError(f"invalid CIDR {cidr!r}", node.position, cidr) from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise UnsupportedError("cidrmatch() over IPv6 is not supported", node.position, "cidrmatch")

    def build(value: Typed) -> exp.Expr:
        return semantics.ipv4_in_network(to_text(value, node.position, "cidrmatch()"), network)

    return Typed(ev.any_value(ev.value(node.args[1]), build, node.position), Kind.BOOL)


# --- time -------------------------------------------------------------------------------------------
def _now(ev: Evaluator) -> exp.Expr:
    text = ev.now.replace(tzinfo=None).isoformat(sep=" ")
    return exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMP"))


@function("now", "time")
def _now_function(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 0)
    return Typed(_now(ev), Kind.TIME)


@function("relative_time")
def _relative_time(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 2)
    modifier = _literal_text(node, 1, "time modifier")
    base = node.args[0]
    if isinstance(base, ast.Call) and base.name in ("now", "time") and not base.args:
        now = ev.now if ev.now.tzinfo else ev.now.replace(tzinfo=UTC)
        try:
            moment = timemodifiers.resolve(modifier, now, ev.tz, node.position)
        except timemodifiers.TimeRangeError:
            raise  # a time no engine can hold: a compile error at the call, not a wrong window
        except timemodifiers.TimeModifierError:
            return Typed(null_of(Kind.TIME), Kind.TIME)  # Splunk: an invalid modifier gives null
        text = moment.replace(tzinfo=None).isoformat(sep=" ")
        literal = exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMP"))
        return Typed(literal, Kind.TIME)
    raise UnsupportedError("relative_time() is only supported relative to now()", node.position, "relative_time")


@function("strftime")
def _strftime(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 2)
    fmt = _literal_text(node, 1, "time format")
    moment = to_time(_scalar(ev, node), node.position, "strftime()")
    return Typed(format_time(moment, fmt, ev.tz), Kind.STR)


@function("strptime")
def _strptime(ev: Evaluator, node: ast.Call) -> Typed:
    _arity(node, 2)
    fmt = _literal_text(node, 1, "time format")
    parsed = exp.StrToTime(this=_text(ev, node), format=exp.Literal.string(fmt), safe=True)
    return Typed(parsed, Kind.TIME)
