"""The SPL abstract syntax tree: a pipeline of commands, and the search-language expressions they hold."""

from __future__ import annotations

from dataclasses import dataclass, field


# --- search-language expressions (tstats WHERE, search) ---------------------------------------
@dataclass(frozen=True)
class Compare:
    """`field op value`; with `=`/`!=` the value may hold `*` wildcards."""

    field: str
    op: str
    value: str
    position: int = 0


@dataclass(frozen=True)
class InList:
    """`field IN (v1, v2, ...)`: true when the field matches any value (wildcards allowed)."""

    field: str
    values: tuple[str, ...]
    position: int = 0


@dataclass(frozen=True)
class And:
    items: tuple[SearchExpr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[SearchExpr, ...]


@dataclass(frozen=True)
class Not:
    item: SearchExpr


@dataclass(frozen=True)
class MatchAll:
    """A bare `*`: every result matches."""


@dataclass(frozen=True)
class FreeText:
    """A bare search term (matched against raw text in Splunk)."""

    value: str
    position: int = 0


SearchExpr = Compare | InList | And | Or | Not | MatchAll | FreeText


# --- commands ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Aggregate:
    """`func(field) [as alias]`; `count` alone has no field."""

    function: str
    field: str | None
    alias: str | None
    position: int = 0

    @property
    def output_name(self) -> str:
        if self.alias:
            return self.alias
        return f"{self.function}({self.field})" if self.field else self.function


@dataclass(frozen=True)
class Command:
    position: int


@dataclass(frozen=True)
class Tstats(Command):
    options: dict[str, str]
    aggregates: tuple[Aggregate, ...]
    datamodel: str | None
    where: SearchExpr | None
    by: tuple[str, ...]


@dataclass(frozen=True)
class Rename(Command):
    """`rename a AS b, x.* AS *`: pairs of (source, target), wildcards allowed."""

    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Conversion:
    function: str
    field: str
    alias: str | None


@dataclass(frozen=True)
class Convert(Command):
    timeformat: str
    conversions: tuple[Conversion, ...]


@dataclass(frozen=True)
class Search(Command):
    expression: SearchExpr


@dataclass(frozen=True)
class Pipeline:
    commands: tuple[Command, ...] = field(default_factory=tuple)
