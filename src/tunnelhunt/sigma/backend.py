"""A pySigma backend whose output is a sqlglot predicate over the `events` table, not text.

pySigma parses the rule, applies the modifiers and the processing pipelines; this backend only turns
the resulting condition tree into one boolean sqlglot expression, so every value reaches SQL as a
literal and the same predicate renders for DuckDB and Spark. Semantics follow the Sigma specification:

- strings match case-insensitively (`LOWER(field)` against the lowered value); `|cased` does not;
  `*` and `?` are wildcards (`=`, STARTS_WITH, ENDS_WITH, CONTAINS when the shape allows, else LIKE
  `%`/`_` with `!` as escape, so `%` and `_` in values stay literal);
- `|re` is case-sensitive unless its `i` flag is set; `m`/`s` become inline flags; it searches (unanchored);
- a comparison on a missing field is false, and `not` of it is true (`NOT COALESCE(x, FALSE)`);
- `|cidr` is an exact IPv4 range test; IPv6 networks are matched on their textual prefixes (pySigma's expansion);
- `|gt`/`|gte`/`|lt`/`|lte` compare numbers (`TRY_CAST(field AS DOUBLE)`; text that is no number is false);
- `|fieldref` compares two fields case-insensitively (with `|startswith`/`|endswith` when given);
- `field: null` is a missing field; `|exists` tests presence; keywords search `_raw`, case-insensitively.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeGuard, TypeVar

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.conversion.base import Backend
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError, SigmaValueError
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaFieldReference,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
    TimestampPart,
)
from sqlglot import exp

from tunnelhunt.spl import regex as spl_regex
from tunnelhunt.spl.errors import UnsupportedError
from tunnelhunt.spl.semantics import (
    Wildcard,
    false_if_null,
    fold,
    folded,
    ipv4_in_network,
    pattern_match,
    patterns_regex,
)
from tunnelhunt.store.events import field_sql

_DOUBLE = exp.DataType.build("DOUBLE")
_TIMESTAMP = exp.DataType.build("TIMESTAMP")
_RAW = "_raw"
_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}
_COMPARE = {
    CompareOperators.LT: exp.LT,
    CompareOperators.LTE: exp.LTE,
    CompareOperators.GT: exp.GT,
    CompareOperators.GTE: exp.GTE,
    CompareOperators.NEQ: exp.NEQ,
}
_PARTS = {
    TimestampPart.MINUTE: "MINUTE",
    TimestampPart.HOUR: "HOUR",
    TimestampPart.DAY: "DAY",
    TimestampPart.WEEK: "WEEK",
    TimestampPart.MONTH: "MONTH",
    TimestampPart.YEAR: "YEAR",
}


_T = TypeVar("_T", bound=SigmaType)


def _value(value: SigmaType, kind: type[_T]) -> _T:
    """The condition's value as the type pySigma's dispatch guarantees for the method at hand."""
    assert isinstance(value, kind), f"expected {kind.__name__}, got {type(value).__name__}"
    return value


def pattern_parts(value: SigmaString) -> list[str | Wildcard]:
    """A Sigma string as literal text and wildcards (`*` any run, `?` one character; escaped ones are text);
    placeholders must be resolved."""
    parts: list[str | Wildcard] = []
    for part in value.iter_parts():
        if isinstance(part, str):
            parts.append(part)
        elif part is SpecialChars.WILDCARD_MULTI:
            parts.append(Wildcard.ANY)
        elif part is SpecialChars.WILDCARD_SINGLE:
            parts.append(Wildcard.ONE)
        elif isinstance(part, Placeholder):
            raise SigmaValueError(f"placeholder %{part.name}% has no values (give them with placeholders=...)")
    return parts


def string_match(subject: exp.Expr, value: SigmaString, cased: bool) -> exp.Expr:
    """`subject` equals / matches the wildcard string `value` (case-insensitive unless `cased`), in the
    cheapest form with the same matches (`semantics.pattern_match`: `=`, STARTS_WITH, ... or LIKE)."""
    parts = pattern_parts(value)
    if not cased:  # SPL's fold: the same in both engines
        subject = folded(subject, *[part for part in parts if isinstance(part, str)])
        parts = [fold(part) if isinstance(part, str) else part for part in parts]
    return pattern_match(subject, parts)


#: An OR of at least this many case-insensitive wildcard strings on one field (`Image|endswith: [...]`,
#: `CommandLine|contains: [...]`) is one regex over the lowered field: one RE2 pass per event and one
#: expression to plan, instead of one STARTS_WITH/ENDS_WITH/CONTAINS each.
REGEX_LIST_MIN = 4


def _regex_listable(value: object) -> TypeGuard[SigmaString]:
    """A case-insensitive Sigma string with a `*` wildcard and no `?` or placeholder."""
    if type(value) is not SigmaString or value.contains_placeholder():
        return False
    parts = list(value.iter_parts())
    return SpecialChars.WILDCARD_MULTI in parts and SpecialChars.WILDCARD_SINGLE not in parts


def strings_regex(subject: exp.Expr, values: list[SigmaString]) -> exp.Expr:
    """`subject` matches any of the case-insensitive wildcard strings `values` (`_regex_listable`)."""
    patterns = [[fold(p) if isinstance(p, str) else p for p in pattern_parts(value)] for value in values]
    texts = [part for pattern in patterns for part in pattern if isinstance(part, str)]
    return exp.RegexpLike(this=folded(subject, *texts), expression=exp.Literal.string(patterns_regex(patterns)))


def regex_match(subject: exp.Expr, value: SigmaRegularExpression) -> exp.Expr:
    """An unanchored search for the Sigma regular expression, its flags written inline."""
    pattern = str(value.regexp)
    try:
        pattern = spl_regex.translate(pattern).pattern
    except UnsupportedError as exc:
        raise SigmaFeatureNotSupportedByBackendError(f"regular expression: {exc}") from exc
    flags = "".join(sorted(_FLAGS[flag] for flag in value.flags))
    if flags:
        pattern = f"(?{flags}){pattern}"
    return exp.RegexpLike(this=subject, expression=exp.Literal.string(pattern))


class SqlglotBackend(Backend):
    """Converts a Sigma rule's condition into one sqlglot boolean expression over `events`."""

    name: ClassVar[str] = "tunnelhunt sqlglot backend"
    formats: ClassVar[dict[str, str]] = {"default": "sqlglot boolean expression over the events table"}
    convert_or_as_in: ClassVar[bool] = True
    convert_and_as_in: ClassVar[bool] = False
    in_expressions_allow_wildcards: ClassVar[bool] = False

    # --- boolean structure ---------------------------------------------------------------------------
    def convert_condition_or(self, cond: ConditionOR, state: ConversionState) -> Any:
        """The OR of the arguments; a field's many case-insensitive wildcard strings become one regex."""
        lists: dict[str, list[SigmaString]] = {}
        others = []
        for arg in cond.args:
            value = getattr(arg, "value", None)
            if (
                isinstance(arg, ConditionFieldEqualsValueExpression)
                and _regex_listable(value)
                and self.listable_field(arg.field, state)
            ):
                lists.setdefault(arg.field, []).append(value)
            else:
                others.append(arg)
        converted = [self.convert_condition(arg, state) for arg in others]
        for name, values in lists.items():
            if len(values) >= REGEX_LIST_MIN:
                converted.append(strings_regex(field_sql(name), values))
            else:
                converted += [string_match(field_sql(name), value, cased=False) for value in values]
        return exp.or_(*converted, copy=False)

    def listable_field(self, name: str | None, state: ConversionState) -> bool:
        """Whether `convert_condition_or` may compare this field's strings directly (as one regex or one by
        one) instead of through `convert_condition_field_eq_val` (a subclass that wraps comparisons says no)."""
        return name is not None

    def convert_condition_and(self, cond: ConditionAND, state: ConversionState) -> Any:
        return exp.and_(*[self.convert_condition(arg, state) for arg in cond.args], copy=False)

    def convert_condition_not(self, cond: ConditionNOT, state: ConversionState) -> Any:
        inner = self.convert_condition(cond.args[0], state)
        return exp.Not(this=false_if_null(inner))

    def decide_convert_condition_as_in_expression(
        self, cond: ConditionOR | ConditionAND, state: ConversionState
    ) -> bool:
        """Only plain, case-insensitive strings of one field become `LOWER(f) IN (...)`."""
        if not isinstance(cond, ConditionOR) or len(cond.args) < 2:
            return False
        fields = set()
        for arg in cond.args:
            if not isinstance(arg, ConditionFieldEqualsValueExpression):
                return False
            value = arg.value
            if type(value) is not SigmaString or value.contains_special() or value.contains_placeholder():
                return False
            fields.add(arg.field)
        return len(fields) == 1

    def convert_condition_as_in_expression(self, cond: ConditionOR | ConditionAND, state: ConversionState) -> Any:
        first = cond.args[0]
        assert isinstance(first, ConditionFieldEqualsValueExpression)
        # the text of the parts, not `to_plain()`: that writes an escaped wildcard back with its backslash
        values = sorted({fold("".join(map(str, arg.value.iter_parts()))) for arg in cond.args})  # type: ignore[union-attr]
        subject = folded(field_sql(first.field), *values)
        return exp.In(this=subject, expressions=[exp.Literal.string(v) for v in values])

    # --- field = value ------------------------------------------------------------------------------
    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        return string_match(field_sql(cond.field), _value(cond.value, SigmaString), cased=False)

    def convert_condition_field_eq_val_str_case_sensitive(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        value = _value(cond.value, SigmaCasedString)
        return string_match(field_sql(cond.field), value, cased=True)

    def convert_condition_field_eq_val_num(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        value = _value(cond.value, SigmaNumber)
        return exp.EQ(this=field_sql(cond.field), expression=exp.Literal.string(str(value.number)))

    def convert_condition_field_eq_val_timestamp_part(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        value = _value(cond.value, SigmaTimestampPart)
        moment = exp.TryCast(this=field_sql(cond.field), to=_TIMESTAMP)
        part = exp.Extract(this=exp.var(_PARTS[value.timestamp_part]), expression=moment)
        return exp.EQ(this=part, expression=exp.Literal.number(value.number))

    def convert_condition_field_eq_val_bool(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        value = _value(cond.value, SigmaBool)
        spelled = ("true", "1") if value.boolean else ("false", "0")
        subject = exp.Lower(this=field_sql(cond.field))
        return exp.In(this=subject, expressions=[exp.Literal.string(s) for s in spelled])

    def convert_condition_field_eq_val_re(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        return regex_match(field_sql(cond.field), _value(cond.value, SigmaRegularExpression))

    def convert_condition_field_eq_val_cidr(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        value = _value(cond.value, SigmaCIDRExpression)
        if value.network.version == 4:
            return ipv4_in_network(field_sql(cond.field), value.network)
        subject = exp.Lower(this=field_sql(cond.field))
        matches = [string_match(subject.copy(), SigmaString(p.lower()), cased=True) for p in value.expand("*")]
        return exp.or_(*matches, copy=False)

    def convert_condition_field_compare_op_val(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        value = _value(cond.value, SigmaCompareExpression)
        number = exp.TryCast(this=field_sql(cond.field), to=_DOUBLE)
        return _COMPARE[value.op](this=number, expression=exp.Literal.number(value.number.number))

    def convert_condition_field_eq_field(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        value = _value(cond.value, SigmaFieldReference)
        left, right = exp.Lower(this=field_sql(cond.field)), exp.Lower(this=field_sql(value.field))
        if value.starts_with and value.ends_with:
            return exp.GT(this=exp.StrPosition(this=left, substr=right), expression=exp.Literal.number(0))
        if value.starts_with:
            return exp.StartsWith(this=left, expression=right)
        if value.ends_with:
            return exp.EndsWith(this=left, expression=right)
        return exp.EQ(this=left, expression=right)

    def convert_condition_field_eq_val_null(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        return exp.Is(this=field_sql(cond.field), expression=exp.Null())

    def convert_condition_field_exists(self, cond: ConditionFieldEqualsValueExpression, state: ConversionState) -> Any:
        return exp.Not(this=exp.Is(this=field_sql(cond.field), expression=exp.Null()))

    def convert_condition_field_not_exists(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        return exp.Is(this=field_sql(cond.field), expression=exp.Null())

    def convert_condition_field_eq_query_expr(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        raise SigmaFeatureNotSupportedByBackendError("query expressions (backend-specific placeholders)")

    # --- keywords: search the whole event ----------------------------------------------------------
    def convert_condition_val_str(self, cond: ConditionValueExpression, state: ConversionState) -> Any:
        value = _value(cond.value, SigmaString)
        contained = SigmaString("*") + value + SigmaString("*")
        return string_match(field_sql(_RAW), contained, cased=isinstance(value, SigmaCasedString))

    def convert_condition_val_num(self, cond: ConditionValueExpression, state: ConversionState) -> Any:
        contained = SigmaString("*" + str(_value(cond.value, SigmaNumber).number) + "*")
        return string_match(field_sql(_RAW), contained, cased=True)

    def convert_condition_val_re(self, cond: ConditionValueExpression, state: ConversionState) -> Any:
        return regex_match(field_sql(_RAW), _value(cond.value, SigmaRegularExpression))

    def convert_condition_query_expr(self, cond: ConditionValueExpression, state: ConversionState) -> Any:
        raise SigmaFeatureNotSupportedByBackendError("query expressions (backend-specific placeholders)")

    def finalize_query_default(self, rule: SigmaRule, query: Any, index: int, state: ConversionState) -> Any:
        return query

    # --- correlations are compiled from the referenced rules' predicates (sigma/correlation.py) ------
    def _correlation(self, *args: Any, **kwargs: Any) -> Any:
        raise SigmaFeatureNotSupportedByBackendError("correlation rules compile through tunnelhunt.sigma.correlation")

    convert_correlation_event_count_rule = _correlation
    convert_correlation_value_count_rule = _correlation
    convert_correlation_temporal_rule = _correlation
    convert_correlation_temporal_ordered_rule = _correlation
    convert_correlation_extended_temporal_rule = _correlation
    convert_correlation_extended_temporal_ordered_rule = _correlation
    convert_correlation_value_sum_rule = _correlation
    convert_correlation_value_avg_rule = _correlation
    convert_correlation_value_percentile_rule = _correlation
    convert_correlation_value_median_rule = _correlation
