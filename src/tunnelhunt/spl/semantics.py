"""Splunk's matching rules, each as one small function the compiler calls.

- Field values compare case-insensitively (`fold`, `folded`: letter by letter, the same in DuckDB and
  Spark); `*` is a wildcard over the whole value.
- A comparison on a missing (NULL) field is false, so `NOT field=x` is true for events without it.
- A multivalue field matches when any of its values matches.
- A value written as an IPv4 CIDR (`10.0.0.0/8`) matches the addresses inside it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from sqlglot import exp

from tunnelhunt.spl.like import LIKE_ESCAPE as LIKE_ESCAPE  # re-exported: the compilers read it here
from tunnelhunt.spl.like import Pattern as Pattern
from tunnelhunt.spl.like import Shape, pattern_shape, simplified, wildcard_parts
from tunnelhunt.spl.like import Wildcard as Wildcard
from tunnelhunt.spl.like import wildcard_to_like as wildcard_to_like

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_CIDR = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/\d{1,2}$")
_IPV4 = r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$"


def _octet(text: exp.Expr, group: int) -> exp.Expr:
    extracted = exp.RegexpExtract(
        this=text.copy(), expression=exp.Literal.string(_IPV4), group=exp.Literal.number(group)
    )
    return exp.TryCast(this=extracted, to=exp.DataType.build("BIGINT"))


def ipv4_in_network(text: exp.Expr, network: ipaddress.IPv4Network) -> exp.Expr:
    """True when `text` is a dotted IPv4 address inside `network`; never NULL."""
    number: exp.Expr = _octet(text, 1)
    for group in (2, 3, 4):
        number = exp.Add(
            this=exp.Mul(this=exp.paren(number), expression=exp.Literal.number(256)), expression=_octet(text, group)
        )
    valid = exp.and_(*[exp.LTE(this=_octet(text, g), expression=exp.Literal.number(255)) for g in (1, 2, 3, 4)])
    low, high = int(network.network_address), int(network.broadcast_address)
    inside = exp.Between(this=number, low=exp.Literal.number(low), high=exp.Literal.number(high))
    return exp.Coalesce(this=exp.and_(valid, inside), expressions=[exp.false()])


def cidr_network(value: str) -> ipaddress.IPv4Network | None:
    """The network a search value such as `10.0.0.0/8` names, or None when it is not a CIDR."""
    if not _CIDR.match(value):
        return None
    try:
        return ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        return None


#: Folded alike: the final sigma is a σ (Spark's Java lowercasing writes `ς` at a word's end, DuckDB `σ`).
_FOLD_SAME = {"ς": "σ"}


def fold(value: str) -> str:
    """A search value as field values are compared to it, case-insensitively: each letter lowered alone
    by Unicode's simple mapping (what DuckDB's LOWER does), so a letter stays one letter (`İ` → `i`,
    `ẞ` → `ß`, never `ß` → `ss`), and `ς` as `σ`. Python's `str.lower` would turn `İ` into two letters
    and `İstanbul` would not even match itself (issue 19). docs/spl-semantics.md says why."""
    # a letter's full lowercase is longer than one letter only for U+0130 (İ → i + U+0307): its
    # simple mapping is the first letter
    return "".join(_FOLD_SAME.get(low := char.lower()[:1], low) for char in value)


def folded(subject: exp.Expr, *values: str) -> exp.Expr:
    """`subject` lowered for comparison with `fold(value)` of each of `values`: LOWER (Spark's is made
    letter by letter in detect/spark.py), and `ς` as `σ` only when a value holds a σ (a column rewrite
    costs; a value without σ cannot tell the two apart)."""
    lowered: exp.Expr = exp.Lower(this=subject.copy())
    if any("σ" in fold(value) for value in values):
        lowered = exp.Replace(this=lowered, expression=exp.Literal.string("ς"), replacement=exp.Literal.string("σ"))
    return lowered


def _value_predicate(subject: exp.Expr, value: str) -> exp.Expr:
    """Case-insensitive equality, LIKE when the value carries a wildcard, CIDR when it is a network."""
    network = cidr_network(value)
    if network is not None:
        return ipv4_in_network(subject, network)
    lowered = folded(subject, value)
    if "*" in value:
        return wildcard_match(lowered, fold(value))
    return exp.EQ(this=lowered, expression=exp.Literal.string(fold(value)))


#: The sqlglot node of each shape but LIKE: `=`, and the suffix, prefix and substring tests.
_BUILDERS: dict[Shape, type[exp.Expr]] = {
    Shape.EQUALS: exp.EQ,
    Shape.SUFFIX: exp.EndsWith,
    Shape.PREFIX: exp.StartsWith,
    Shape.CONTAINS: exp.Contains,
}


def pattern_match(text: exp.Expr, parts: Pattern) -> exp.Expr:
    """`text` matches the whole pattern `parts` (both already in the case to compare); NULL for NULL.

    The cheapest form with the same matches (`like.pattern_shape`): text without wildcards is `=`;
    `*text`, `text*` and `*text*` are ENDS_WITH, STARTS_WITH and CONTAINS, which DuckDB runs on a
    column's dictionary; other shapes are LIKE, with the escape named only when the text needs it.
    Spark runs the same forms (STARTSWITH, ENDSWITH, CONTAINS, LIKE).
    """
    shape, operand = pattern_shape(parts)
    literal = exp.Literal.string(operand)
    if shape in _BUILDERS:
        return _BUILDERS[shape](this=text, expression=literal)
    like = exp.Like(this=text, expression=literal)
    if shape is Shape.LIKE:
        return like
    return exp.Escape(this=like, expression=exp.Literal.string(LIKE_ESCAPE))


def wildcard_match(text: exp.Expr, value: str) -> exp.Expr:
    """`text` matches the Splunk wildcard `value` (both already in the case to compare): `pattern_match`
    with every `*` a wildcard."""
    return pattern_match(text, wildcard_parts(value))


def _any_element(column: exp.Expr, build: exp.Expr, first: exp.Expr | None = None) -> exp.Expr:
    """True when some element `x` of an array column satisfies `build` (written over column `x`); `first`,
    a cheaper condition every element satisfying `build` satisfies, keeps the elements `build` is run on."""
    values: exp.Expr = column.copy()
    for condition in (first, build):
        if condition is not None:
            lam = exp.Lambda(this=condition, expressions=[exp.to_identifier("x")])
            values = exp.ArrayFilter(this=values, expression=lam)
    return exp.GT(this=exp.ArraySize(this=values), expression=exp.Literal.number(0))


#: ASCII characters other than letters: no character lowers to one of them but itself (the tests check
#: DuckDB's LOWER on every code point), so a run of them in a lowered value is in the value as written.
_CASELESS = re.compile(r"[\x00-\x40\x5b-\x60\x7b-\x7f]+")


def caseless_run(value: str) -> str:
    """The longest run of caseless characters in the literal text of the wildcard value `value`, dots alone
    aside (host names and addresses all have them), or '' when there is none: every value matching
    `value` case-insensitively holds that run as it is written."""
    runs = [run for piece in fold(value).split("*") for run in _CASELESS.findall(piece) if run.strip(".")]
    return max(runs, key=len, default="")


def _element_first(value: str) -> exp.Expr | None:
    """For a multivalue `field=value`: `CONTAINS(x, run)` on the element as written, with the value's
    caseless run, or None. Lowering costs per element (a multivalue list is not dictionary-encoded, so
    DuckDB lowers every DNS answer: 0.27 CPU s over 8 M answers against 0.16 with `CONTAINS(x, '-')`
    first for `*.ngrok-cname.com`); a substring test is a byte search, and an address has no `-`."""
    run = caseless_run(value) if cidr_network(value) is None else ""
    return exp.Contains(this=exp.column("x"), expression=exp.Literal.string(run)) if run else None


def false_if_null(predicate: exp.Expr) -> exp.Expr:
    return exp.Coalesce(this=predicate, expressions=[exp.false()])


def exists(column: exp.Expr, multivalue: bool) -> exp.Expr:
    if multivalue:
        return false_if_null(exp.GT(this=exp.ArraySize(this=column.copy()), expression=exp.Literal.number(0)))
    return exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null()))


def matches(column: exp.Expr, value: str, multivalue: bool) -> exp.Expr:
    """`field=value` with Splunk semantics; never NULL."""
    if value == "*":
        return exists(column, multivalue)
    if multivalue:
        return false_if_null(_any_element(column, _value_predicate(exp.column("x"), value), _element_first(value)))
    return false_if_null(_value_predicate(column, value))


def compare(column: exp.Expr, op: str, value: str, multivalue: bool) -> exp.Expr:
    """`field op value` for `=`, `!=`, `<`, `<=`, `>`, `>=`; never NULL."""
    if op == "=":
        return matches(column, value, multivalue)
    if op == "!=":
        return exp.and_(exists(column, multivalue), exp.Not(this=matches(column, value, multivalue)))
    operators: dict[str, type[exp.Binary]] = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
    binary = operators[op]
    if _NUMBER.match(value):
        subject: exp.Expr = exp.TryCast(
            this=exp.column("x") if multivalue else column.copy(), to=exp.DataType.build("DOUBLE")
        )
        literal: exp.Expr = exp.Literal.number(value)
    else:
        subject = exp.column("x") if multivalue else column.copy()
        literal = exp.Literal.string(value)
    predicate = binary(this=subject, expression=literal)
    if multivalue:
        return false_if_null(_any_element(column, predicate))
    return false_if_null(predicate)


#: An IN list with at least this many wildcard values is matched by one regex over the lowered value
#: (one DFA pass per row) instead of one LIKE per value. Short lists stay LIKEs: DuckDB evaluates those
#: once per dictionary entry of a compressed column, which a regex does not get.
WILDCARD_REGEX_MIN = 8
#: Characters with a meaning in RE2 and Java regex; every other character stands for itself.
_REGEX_SPECIAL = frozenset("\\.^$|?*+()[]{}")


def _regex_literal(text: str) -> str:
    return "".join("\\" + char if char in _REGEX_SPECIAL else char for char in text)


def wildcard_to_regex(value: str) -> str:
    """A Splunk wildcard value as a regex body: `*` → `.*`, every other character literal."""
    return ".*".join(_regex_literal(piece) for piece in value.split("*"))


def patterns_regex(patterns: Sequence[Pattern]) -> str:
    """One regex that finds a whole (folded) value when any of `patterns` (texts and `*`, no `?`) matches it.

    Each alternative is anchored (`\\A`, `\\z`: the same in RE2 and Java) only at an end without `*`, so
    a substring test stays a search, not a `.*` scan; `(?s)` lets `.` cross newlines as LIKE's `%` does."""
    alternatives = []
    for pattern in patterns:
        parts = simplified(pattern)
        if Wildcard.ONE in parts:
            raise ValueError("a `?` wildcard has no regex here: LIKE's `_` and a regex `.` differ on Spark")
        start = "" if parts[:1] == [Wildcard.ANY] else "\\A"
        end = "" if parts[-1:] == [Wildcard.ANY] else "\\z"
        core = parts[bool(not start) : len(parts) - bool(not end)]
        body = "".join(".*" if part is Wildcard.ANY else _regex_literal(str(part)) for part in core)
        alternatives.append(start + body + end)
    return f"(?s)(?:{'|'.join(alternatives)})"


def wildcards_regex(values: tuple[str, ...], mark: str = "") -> str:
    """One regex matching a whole (lowered) value when any of the wildcard `values` does, after `mark`.

    `(?s)` lets `.` cross newlines as LIKE's `%` does; `\\A`/`\\z` anchor the whole text in RE2 and in
    Java alike (Java's `$` would also match before a final newline).
    """
    body = "|".join(wildcard_to_regex(fold(value)) for value in values)
    return f"(?s)\\A{wildcard_to_regex(mark)}(?:{body})\\z"


#: Put before the value a wildcard list's regex is run on, so that a match is never empty.
_MATCH_MARK = "#"


def wildcards_match(text: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
    """`text` (already lowered) matches one of the wildcard `values`: one anchored regex, one pass.

    Written `REGEXP_EXTRACT('#' || text, '\\A#(?:...)\\z') <> ''`, not `REGEXP_MATCHES`: DuckDB runs a
    function that cannot fail once per entry of a compressed column's dictionary, and it counts
    REGEXP_MATCHES as able to fail (an invalid pattern) but not REGEXP_EXTRACT, so the same regex ran
    once per row (2.0 s of CPU against 0.5 s for a 150-pattern list over 6 M stored command lines). The
    mark makes a match non-empty when the value is empty; a NULL value stays NULL (`||` and the
    comparison keep it); Spark's REGEXP_EXTRACT also gives '' when nothing matches.
    """
    marked = exp.DPipe(this=exp.Literal.string(_MATCH_MARK), expression=text)
    pattern = exp.Literal.string(wildcards_regex(values, _MATCH_MARK))
    extracted = exp.RegexpExtract(this=marked, expression=pattern, group=exp.Literal.number(0))
    return exp.NEQ(this=extracted, expression=exp.Literal.string(""))


def _list_predicates(subject: exp.Expr, values: tuple[str, ...]) -> list[exp.Expr]:
    """The predicates whose OR is `subject IN (values)`, for one (non-array) value."""
    networks = {v: network for v in values if (network := cidr_network(v)) is not None}
    wildcards = tuple(dict.fromkeys(fold(v) for v in values if "*" in v and v not in networks))
    plain = tuple(dict.fromkeys(fold(v) for v in values if "*" not in v and v not in networks))
    lowered = folded(subject, *plain)
    predicates: list[exp.Expr] = []
    if len(plain) == 1:
        predicates.append(exp.EQ(this=lowered, expression=exp.Literal.string(plain[0])))
    elif plain:
        predicates.append(exp.In(this=lowered, expressions=[exp.Literal.string(v) for v in plain]))
    if len(wildcards) >= WILDCARD_REGEX_MIN:
        predicates.append(wildcards_match(folded(subject, *wildcards), wildcards))
    else:
        predicates.extend(_value_predicate(subject, value) for value in wildcards)
    predicates.extend(ipv4_in_network(subject, network) for network in networks.values())
    return predicates


def in_list(column: exp.Expr, values: tuple[str, ...], multivalue: bool) -> exp.Expr:
    """`field IN (...)`: any value matches, wildcards and case-insensitivity included; never NULL.

    Plain values become one `LOWER(field) IN (...)`; a long run of wildcard values becomes one regex,
    so a list of a hundred patterns costs one scan of the column, not a hundred.
    """
    if not values:
        return exp.false()
    if "*" in values:
        return exists(column, multivalue)
    predicates = _list_predicates(exp.column("x") if multivalue else column, values)
    combined = exp.or_(*predicates) if len(predicates) > 1 else predicates[0]
    if multivalue:
        return false_if_null(_any_element(column, combined))
    return false_if_null(combined)


def escape_like_escapes(pattern: exp.Expr) -> exp.Expr:
    """A LIKE pattern whose own `%` and `_` stay wildcards, with LIKE_ESCAPE doubled so it stays literal.

    For a pattern written in the search the doubling happens here, otherwise in SQL at run time.
    """
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        return exp.Literal.string(pattern.this.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2))
    return exp.func("REPLACE", pattern, exp.Literal.string(LIKE_ESCAPE), exp.Literal.string(LIKE_ESCAPE * 2))


def sql_like(text: exp.Expr, pattern: exp.Expr) -> exp.Expr:
    """eval's like(): `%` and `_` are wildcards and nothing else is special (a backslash is a backslash).

    Spark's LIKE treats `\\` as its default escape and DuckDB has none, so the escape is named
    explicitly (LIKE_ESCAPE, doubled inside the pattern): the same meaning on both engines.
    """
    like = exp.Like(this=text, expression=escape_like_escapes(pattern))
    return exp.Escape(this=like, expression=exp.Literal.string(LIKE_ESCAPE))


def runtime_regex_match(text: exp.Expr, pattern: exp.Expr) -> exp.Expr:
    """`match(text, pattern)` for a pattern only known per row (built from a field value).

    Splunk does not fail a search when such a pattern is invalid; that row just does not match. The
    regex is wrapped in `TRY(...)`: NULL for a row whose pattern the engine rejects, so neither `where
    match(...)` nor `where NOT match(...)` keeps it. DuckDB runs TRY itself; Spark has none, and
    `detect/spark.py` renders it as a check that Java can compile the pattern first.
    """
    return exp.Try(this=exp.RegexpLike(this=text, expression=pattern))


def fill_null(column: exp.Expr, fill: str) -> exp.Expr:
    """`fillnull_value`: a missing by-field becomes the given text instead of dropping the row."""
    return exp.Coalesce(this=column, expressions=[exp.Literal.string(fill)])


def explode_keep_empty(column: exp.Expr) -> exp.Expr:
    """One row per value of a multivalue field; an empty or missing field gives one NULL row."""
    empty = exp.or_(
        exp.Is(this=column.copy(), expression=exp.Null()),
        exp.EQ(this=exp.ArraySize(this=column.copy()), expression=exp.Literal.number(0)),
    )
    value = exp.Case(ifs=[exp.If(this=empty, true=exp.Array(expressions=[exp.Null()]))], default=column.copy())
    return exp.Explode(this=value)
