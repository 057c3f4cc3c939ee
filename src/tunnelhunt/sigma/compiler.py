"""Sigma rule → one `CompiledSearch` over `events`, the same form the SPL compiler returns.

The query selects one row per matching event: the rule's identity (`detection` = title, `rule_id`,
`level`, `status`, `tags`), the event's provenance (`_time`, `host`, `source`, `sourcetype`, `_source`,
`_offset`, `EventCode`, `Channel`), `user` (the first of the usual Windows user fields) and the event's
`fields` map. Rule metadata reaches SQL as literals.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sigma.exceptions import SigmaError
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import ValueListPlaceholderTransformation
from sigma.rule import SigmaLogSource, SigmaRule
from sqlglot import exp

from tunnelhunt.collector import no_collection
from tunnelhunt.content.cache import ContentCache, code_fingerprint, digest, dump_expression, load_expression
from tunnelhunt.errors import TunnelhuntError
from tunnelhunt.sigma.backend import SqlglotBackend
from tunnelhunt.sigma.keys import rule_key
from tunnelhunt.sigma.logsources import MAPPINGS, LogsourceMapping, hot_columns_pipeline
from tunnelhunt.sigma.multivalue import MultivalueBackend
from tunnelhunt.sigma.netsources import PROBE_FIELD
from tunnelhunt.spl.compiler import CompiledSearch, TimeWindow
from tunnelhunt.spl.values import Column, Kind
from tunnelhunt.store.events import EVENT_COLUMNS, EVENTS_TABLE, field_sql

#: Windows fields that name the acting account, most specific first (Sysmon, then Security events).
USER_FIELDS = ("User", "SubjectUserName", "TargetUserName", "AccountName", "UserName")

#: Result columns taken from the event as they are.
EVENT_OUTPUT = ("_time", "host", "source", "sourcetype", "_source", "_offset", "EventCode", "Channel")


class SigmaCompileError(TunnelhuntError, ValueError):
    """A rule that does not convert: its logsource maps to no events, or pySigma/the backend refused it."""


@dataclass(frozen=True)
class CompileOptions:
    """What conversion may vary: the logsource mappings and the values of `|expand` placeholders."""

    mappings: Sequence[LogsourceMapping] = field(default_factory=lambda: tuple(MAPPINGS))
    placeholders: dict[str, list[str]] = field(default_factory=dict)


def attack_ids(tags: Sequence[object]) -> list[str]:
    """ATT&CK technique ids of a rule's tags (`attack.t1059.001` → `T1059.001`)."""
    ids = []
    for tag in tags:
        namespace, name = getattr(tag, "namespace", ""), str(getattr(tag, "name", ""))
        if namespace == "attack" and name[:1].lower() == "t" and name[1:2].isdigit():
            ids.append(name.upper())
    return ids


def _placeholders(values: dict[str, list[str]]) -> ProcessingPipeline:
    if not values:
        return ProcessingPipeline()
    item = ProcessingItem(identifier="tunnelhunt_placeholders", transformation=ValueListPlaceholderTransformation())
    return ProcessingPipeline(name="tunnelhunt placeholders", priority=5, items=[item], vars=dict(values))


class SigmaCompiler:
    """Converts rules under every logsource mapping; one pySigma backend per mapping, reused across rules.

    With a `cache`, what `mapped` and `logsource_filters` give for a loaded rule is kept there (a rule that
    does not convert is kept with its message, raised again as it was); only with the shipped mappings,
    whose definition is in tunnelhunt's sources and so in the key."""

    def __init__(self, options: CompileOptions | None = None, cache: ContentCache | None = None) -> None:
        self.options = options or CompileOptions()
        shipped = len(self.options.mappings) == len(MAPPINGS) and all(
            a is b for a, b in zip(self.options.mappings, MAPPINGS, strict=False)
        )
        self.cache = cache if shipped else None
        self._fingerprint = ""
        self._backends: list[tuple[LogsourceMapping, SqlglotBackend]] = []
        for mapping in self.options.mappings:
            pipeline = _placeholders(self.options.placeholders) + mapping.pipeline() + hot_columns_pipeline()
            backend = MultivalueBackend(pipeline)
            backend.init_processing_pipeline()
            self._backends.append((mapping, backend))
        self._filters: dict[str, dict[str, exp.Expr]] = {}

    def entry_key(self, *parts: str) -> str:
        """A cache key of `parts` under this compiler: its sources, libraries and placeholder values."""
        if not self._fingerprint:
            libraries = ("pysigma", "sqlglot", "pysigma-pipeline-windows", "pysigma-pipeline-sysmon")
            placeholders = repr(sorted(self.options.placeholders.items()))
            self._fingerprint = digest(code_fingerprint(*libraries), placeholders)
        return digest(self._fingerprint, *parts)

    def mapped(self, rule: SigmaRule) -> list[tuple[str, exp.Expr]]:
        """The rule's detection under each mapping that selects events for it: (mapping name, predicate).

        Raises SigmaCompileError when no mapping selects events for the rule or no mapping converts it.
        """
        key = self.rule_cache_key(rule)
        if self.cache is None or key is None:
            return self._convert(rule)
        with no_collection():
            cached = _predicates(self.cache.get("sigma", key))
        if isinstance(cached, str):
            raise SigmaCompileError(cached)
        if cached:
            return cached
        try:
            predicates = self._convert(rule)
        except SigmaCompileError as exc:
            self.cache.put("sigma", key, {"error": str(exc)})
            raise
        dumped = [[name, dump_expression(p)] for name, p in predicates]
        if all(data is not None for _, data in dumped):
            self.cache.put("sigma", key, {"predicates": dumped})
        return predicates

    def rule_cache_key(self, rule: SigmaRule) -> str | None:
        """The key of the rule's conversion (None for a rule built in memory, whose content has no key)."""
        content = rule_key(rule)
        return None if content is None else self.entry_key("rule", content, str(getattr(rule, "_output", True)))

    def _convert(self, rule: SigmaRule) -> list[tuple[str, exp.Expr]]:
        predicates: list[tuple[str, exp.Expr]] = []
        errors: list[str] = []
        for mapping, backend in self._backends:
            if not mapping.may_apply(rule.logsource.category, rule.logsource.product):
                continue
            candidate = copy.deepcopy(rule)
            try:
                backend.convert_rule(candidate)  # returns nothing for rules only correlations use
                queries = candidate.get_conversion_result()
            except SigmaError as exc:
                if mapping.applied(backend.last_processing_pipeline.applied_ids):
                    errors.append(f"{mapping.name}: {exc}")
                continue
            if mapping.applied(backend.last_processing_pipeline.applied_ids):
                predicates.extend((mapping.name, query) for query in queries)
        if not predicates:
            logsource = rule.logsource
            reason = "; ".join(errors) or (
                f"logsource product={logsource.product} category={logsource.category} "
                f"service={logsource.service} maps to no events"
            )
            raise SigmaCompileError(reason)
        return predicates

    def predicate(self, rule: SigmaRule) -> exp.Expr:
        """The rule's detection as one predicate over `events`: its condition under every mapping that applies."""
        predicates = [predicate for _, predicate in self.mapped(rule)]
        return exp.or_(*predicates, copy=False) if len(predicates) > 1 else predicates[0]

    def logsource_filters(self, logsource: SigmaLogSource) -> dict[str, exp.Expr]:
        """Mapping name → the events that mapping selects for this logsource, whatever the detection.

        Found by converting a probe rule of the same logsource whose only condition compares a value no
        event holds, then putting TRUE in place of that comparison: what remains is exactly the event
        conditions the mapping adds. A rule's predicate under a mapping therefore implies the mapping's
        filter, so scanning only the filtered events finds the same matches (see `sigma.scan`).
        """
        key = logsource_key(logsource)
        if key not in self._filters and self.cache is not None:
            cached = _predicates(self.cache.get("sigma", self.entry_key("logsource", key)))
            if isinstance(cached, list):
                self._filters[key] = dict(cached)
        if key not in self._filters:
            probe = SigmaRule.from_dict(
                {
                    "title": "tunnelhunt logsource probe",
                    "logsource": logsource_fields(logsource),
                    "detection": {"probe": {_PROBE_FIELD: _PROBE_VALUE}, "condition": "probe"},
                }
            )
            try:
                mapped = self.mapped(probe)
            except SigmaCompileError:
                mapped = []
            self._filters[key] = {name: f for name, predicate in mapped if (f := _without_probe(predicate))}
            if self.cache is not None:
                entry = [[name, dump_expression(f)] for name, f in self._filters[key].items()]
                if all(data is not None for _, data in entry):
                    self.cache.put("sigma", self.entry_key("logsource", key), {"predicates": entry})
        return self._filters[key]

    def compile(self, rule: SigmaRule, window: TimeWindow | None = None) -> CompiledSearch:
        """One row per event the rule matches, in `_time`, `_source`, `_offset` order."""
        predicate = self.predicate(rule)
        outputs = rule_columns(rule) + event_columns()
        query = (
            exp.select(*[exp.alias_(expression, name, quoted=True) for name, expression, _ in outputs])
            .from_(exp.to_table(EVENTS_TABLE))
            .where(exp.and_(predicate, *window_predicate(window), copy=False), copy=False)
            .order_by(*[exp.Ordered(this=field_sql(n)) for n in ("_time", "_source", "_offset")])
        )
        return CompiledSearch(query=query, node=None, columns=[Column(name, kind) for name, _, kind in outputs])


def _predicates(entry: object) -> list[tuple[str, exp.Expr]] | str | None:
    """A cache entry of `mapped`: its predicates, or the message of the error it raised; None when the
    entry is missing or not of that shape."""
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("error"), str):
        return str(entry["error"])
    pairs = entry.get("predicates")
    if not isinstance(pairs, list):
        return None
    predicates: list[tuple[str, exp.Expr]] = []
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            return None
        predicate = load_expression(pair[1])
        if predicate is None:
            return None
        predicates.append((pair[0], predicate))
    return predicates


_PROBE_FIELD = PROBE_FIELD
_PROBE_VALUE = "tunnelhunt-logsource-probe-0c1f6b"


def logsource_fields(logsource: SigmaLogSource) -> dict[str, object]:
    """What pipelines may select on: product, category, service, custom attributes (not where it was written)."""
    return {k: v for k, v in logsource.to_dict().items() if k not in ("source", "definition")}


def logsource_key(logsource: SigmaLogSource) -> str:
    """A logsource's identity for grouping rules (`logsource_fields`)."""
    return repr(sorted(logsource_fields(logsource).items()))


def _without_probe(predicate: exp.Expr) -> exp.Expr | None:
    """The probe rule's predicate with its probe comparison replaced by TRUE (None if it is not found once)."""
    tree = predicate.copy()
    found = [
        node
        for node in tree.find_all(exp.EQ)
        if isinstance(node.expression, exp.Literal) and node.expression.this == _PROBE_VALUE
    ]
    if len(found) != 1:
        return None
    if found[0] is tree:
        return exp.true()
    found[0].replace(exp.true())
    return tree


@functools.cache
def default_compiler() -> SigmaCompiler:
    """The compiler with the shipped mappings and no placeholder values (built once)."""
    return SigmaCompiler()


def rule_predicate(rule: SigmaRule, options: CompileOptions | None = None) -> exp.Expr:
    """`SigmaCompiler(options).predicate(rule)`, reusing the default compiler when no options are given."""
    return (SigmaCompiler(options) if options else default_compiler()).predicate(rule)


def compile_rule(
    rule: SigmaRule, window: TimeWindow | None = None, options: CompileOptions | None = None
) -> CompiledSearch:
    """`SigmaCompiler(options).compile(rule, window)`, reusing the default compiler when no options are given."""
    return (SigmaCompiler(options) if options else default_compiler()).compile(rule, window)


def _timestamp(value: datetime) -> exp.Expr:
    moment = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return exp.cast(exp.Literal.string(moment.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))


def window_predicate(window: TimeWindow | None) -> list[exp.Expr]:
    """`_time` inside `[earliest, latest)`."""
    if window is None:
        return []
    time = field_sql("_time")
    bounds: list[exp.Expr] = []
    if window.earliest is not None:
        bounds.append(exp.GTE(this=time.copy(), expression=_timestamp(window.earliest)))
    if window.latest is not None:
        bounds.append(exp.LT(this=time.copy(), expression=_timestamp(window.latest)))
    return bounds


def _text(value: object) -> exp.Expr:
    """A text literal; a missing one is a NULL typed as text (Spark cannot hand an untyped NULL column to Arrow)."""
    return exp.cast(exp.Null(), exp.DataType.build("VARCHAR")) if value is None else exp.Literal.string(str(value))


def rule_columns(rule: SigmaRule) -> list[tuple[str, exp.Expr, Kind]]:
    """The rule's identity as result columns (literals)."""
    tags = [exp.Literal.string(t) for t in attack_ids(rule.tags)]
    level = rule.level.name.lower() if rule.level else None
    status = rule.status.name.lower() if rule.status else None
    return [
        ("detection", _text(rule.title), Kind.STR),
        ("rule_id", _text(rule.id), Kind.STR),
        ("level", _text(level), Kind.STR),
        ("status", _text(status), Kind.STR),
        ("tags", exp.cast(exp.Array(expressions=tags), exp.DataType.build("ARRAY<VARCHAR>")), Kind.MV),
    ]


def event_columns() -> list[tuple[str, exp.Expr, Kind]]:
    """The matching event's provenance, its extracted columns, its user and its `fields` map."""
    skip = {"_raw", "index", "user", *EVENT_OUTPUT}
    names = [*EVENT_OUTPUT, *[c for c in EVENT_COLUMNS if c not in skip]]
    columns: list[tuple[str, exp.Expr, Kind]] = [
        (name, field_sql(name), Kind.TIME if name == "_time" else Kind.STR) for name in names
    ]
    # the store's `user` alias when it has one, else the Windows account fields, most specific first
    candidates = (["user"] if "user" in EVENT_COLUMNS else []) + list(USER_FIELDS)
    user = exp.Coalesce(this=field_sql(candidates[0]), expressions=[field_sql(f) for f in candidates[1:]])
    columns.append(("user", user, Kind.STR))
    columns.append(("fields", exp.column("fields", quoted=True), Kind.STR))
    return columns
