"""Accumulates the CTE stages of one compiled search and the columns each stage yields.

Every command adds one stage (a SELECT over the previous stage). The builder also remembers the
order Splunk would show results in (the by-fields of the last stats, or the last sort), which the
final SELECT applies and which `head` and `dedup` use to decide what "first" means.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from tunnelhunt.spl.values import DOUBLE, Column, Kind, Typed, alias, col, table, to_text


@dataclass(frozen=True)
class OrderKey:
    name: str
    descending: bool = False
    mode: str = "auto"  # auto, num or str


class Builder:
    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix  # a subsearch's stages are named apart from its parent's
        self.stages: list[tuple[str, exp.Select]] = []
        self.columns: list[Column] = []
        self.order: list[OrderKey] = []
        #: columns carried between stages but never shown (the raw events' field map)
        self.hidden: set[str] = set()
        #: the hidden field maps of raw events, the one whose value wins first (two after a join)
        self.maps: list[str] = []
        #: called for a field no current column has (raw events: take it from the field map)
        self.fallback: Callable[[str], Column | None] | None = None

    @property
    def current(self) -> str:
        return self.stages[-1][0]

    def next_name(self) -> str:
        return f"{self.prefix}stage{len(self.stages)}"

    def add(self, select: exp.Select, columns: list[Column]) -> None:
        self.stages.append((self.next_name(), select))
        self.columns = columns
        names = {c.name for c in columns}
        self.order = [key for key in self.order if key.name in names]

    def column(self, name: str) -> Column | None:
        found = next((c for c in self.columns if c.name == name), None)
        if found is None and self.fallback is not None and name not in self.hidden:
            return self.fallback(name)
        return found

    @property
    def visible(self) -> list[Column]:
        return [c for c in self.columns if c.name not in self.hidden]

    def select_all(self) -> exp.Select:
        """SELECT every current column FROM the current stage (to extend with WHERE, LIMIT, ...)."""
        return exp.select(*[col(c.name) for c in self.columns]).from_(table(self.current), copy=False)

    def order_expressions(self, table: str | None = None) -> list[exp.Ordered]:
        """ORDER BY terms for the current order; text sorts numbers first, numerically, as Splunk does."""
        terms: list[exp.Ordered] = []
        for key in self.order:
            column = self.column(key.name)
            if column is None or column.kind is Kind.MV:
                continue
            subject = col(key.name, table)
            if column.kind is Kind.STR and key.mode != "str":
                number = exp.TryCast(this=subject.copy(), to=DOUBLE)
                if key.mode == "auto":
                    terms.append(
                        exp.Ordered(this=exp.Is(this=number.copy(), expression=exp.Null()), desc=key.descending)
                    )
                terms.append(exp.Ordered(this=number, desc=key.descending, nulls_first=key.descending))
                if key.mode == "num":
                    continue
            terms.append(exp.Ordered(this=subject, desc=key.descending, nulls_first=key.descending))
        return terms

    def finish(self) -> tuple[exp.Select, list[Column]]:
        """The whole query and the columns it returns.

        Splunk prints a time held in any field but `_time` (an unconverted `min(_time)`, a
        `relative_time()`) as epoch seconds, so those columns leave as that text.
        """
        shown = self.visible
        printed = [Column(c.name, Kind.STR) if _as_epoch(c) else c for c in shown]
        selects = [alias(to_text(Typed(col(c.name), c.kind)), c.name) if _as_epoch(c) else col(c.name) for c in shown]
        final = exp.select(*selects).from_(table(self.current), copy=False)
        # order by the stage's own values (a time, not its text) when a column was converted
        terms = self.order_expressions(self.current if printed != shown else None)
        if terms:
            final = final.order_by(*terms, copy=False)
        for name, select in self.stages:
            final = final.with_(name, as_=select, copy=False)
        return final, printed


def _as_epoch(column: Column) -> bool:
    return column.kind is Kind.TIME and column.name != "_time"
