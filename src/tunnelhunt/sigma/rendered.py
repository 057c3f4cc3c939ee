"""Sigma's shared scans (`sigma.scan`) as DuckDB SQL text, kept in the content cache between runs.

Why: with every rule's conversion cached, a run of SigmaHQ's Windows rules still spent ~4 CPU s in Python
before DuckDB saw a query: building the cached predicates (~860,000 sqlglot nodes, then collecting them),
grouping the rules and lowering their fields (`scan.plan`), and rendering the ~75 batch queries. None of
that depends on the events or the window, only on the rules, the compiler and the batch size: the plan
(which rules share which query, which do not convert and why) and each query's text are one cache entry
for the rule set, and a warm run reads one JSON document and hands DuckDB the text.

The window is the part that varies: each query is rendered with a placeholder column where the window's
conditions go and kept as the text before and after it; a run renders its window (sqlglot) between them.
A rendering where the placeholder's name does not occur exactly once is not used (a rule's string can
hold any text). The result is the query `scan.batch_query` gives for that window.

A group whose filter selects no event in the window is not run: one query asks every group's filter first
(`bool_or`), and the rules of a group without events get the empty result running them would give. A
batch the engine refuses runs again through `scan.run_batch` (the rules' predicates built from their
cached conversions), which splits it down to the failing rule, as an uncached run does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sigma.rule import SigmaRule
from sqlglot import exp

from tunnelhunt.sigma.compiler import SigmaCompiler, window_predicate
from tunnelhunt.spl.compiler import TimeWindow

KIND = "sigma-scan"
#: Where a query's window conditions go: its text is cut there.
_SLOT = "_tunnelhunt_window_slot"

#: A query's text before and after its window conditions.
Text = tuple[str, str]


@dataclass
class RenderedBatch:
    """One batch query: the positions of its rules in the rule list, and its text."""

    members: list[int]
    sql: Text


@dataclass
class RenderedPlan:
    """The shared scans of a rule list: rules that do not convert (position, error), each group's batches,
    the query telling which groups have events, and one selecting no event (the result's columns)."""

    failed: list[tuple[int, str]]
    groups: list[list[RenderedBatch]]
    probe: Text
    empty: Text

    def to_json(self) -> dict[str, Any]:
        return {
            "failed": [[i, error] for i, error in self.failed],
            "groups": [[[b.members, list(b.sql)] for b in batches] for batches in self.groups],
            "probe": list(self.probe),
            "empty": list(self.empty),
        }

    @classmethod
    def from_json(cls, data: Any, rules: int) -> RenderedPlan | None:
        """The plan of a cache entry, None when the entry is not one for `rules` rules."""
        try:
            failed = [(int(i), str(error)) for i, error in data["failed"]]
            groups = [[RenderedBatch([int(i) for i in m], _text(sql)) for m, sql in group] for group in data["groups"]]
            plan = cls(failed, groups, _text(data["probe"]), _text(data["empty"]))
        except (KeyError, TypeError, ValueError):
            return None
        members = [i for i, _ in failed] + [i for g in groups for b in g for i in b.members]
        return plan if sorted(members) == list(range(rules)) else None


def _text(value: Any) -> Text:
    before, after = value
    if not (isinstance(before, str) and isinstance(after, str)):
        raise ValueError("not a query text")
    return before, after


def slot() -> exp.Expr:
    """The placeholder of a query's window conditions."""
    return exp.column(_SLOT, quoted=True)


def cut(query: exp.Expr) -> Text | None:
    """The query's DuckDB text before and after its placeholder (rendered in place: not reused)."""
    parts = query.sql("duckdb", copy=False).split(exp.to_identifier(_SLOT, quoted=True).sql("duckdb"))
    return (parts[0], parts[1]) if len(parts) == 2 else None


def fill(text: Text, window: TimeWindow | None) -> str:
    """The query's text with the window's conditions (TRUE without a window) in place of its placeholder."""
    bounds = window_predicate(window)
    condition = exp.and_(*bounds, copy=False) if bounds else exp.true()
    return text[0] + exp.Paren(this=condition).sql("duckdb") + text[1]


def plan_key(rules: Sequence[SigmaRule], compiler: SigmaCompiler, batch: int) -> str | None:
    """The cache key of the rules' plan: their conversion keys in order and the batch size (None when the
    compiler keeps no cache or a rule has no key)."""
    keys = [compiler.rule_cache_key(rule) for rule in rules]
    if compiler.cache is None or any(key is None for key in keys):
        return None
    return compiler.entry_key("scan", str(batch), *[k for k in keys if k is not None])
