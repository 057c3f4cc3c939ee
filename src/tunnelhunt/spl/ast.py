"""The SPL abstract syntax tree: a pipeline of commands, and the expressions they hold.

Two expression languages live here: the search language (`tstats ... where`, `search`,
`inputlookup ... where`), with Splunk's wildcard and case-insensitive matching, and the eval
language (`eval`, `where`), with typed values, functions and operators.
"""

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


# --- eval-language expressions (eval, where) ---------------------------------------------------
@dataclass(frozen=True)
class Literal:
    """A string, number or boolean constant; `value` None is eval's null."""

    value: str | float | int | bool | None
    position: int = 0


@dataclass(frozen=True)
class FieldRef:
    name: str
    position: int = 0


@dataclass(frozen=True)
class Call:
    """`name(arg, ...)`; the name is lower-cased, as Splunk's function names are case-insensitive."""

    name: str
    args: tuple[EvalExpr, ...]
    position: int = 0


@dataclass(frozen=True)
class BinaryOp:
    """`left op right`; op is one of + - * / % . = != < <= > >= LIKE AND OR XOR."""

    op: str
    left: EvalExpr
    right: EvalExpr
    position: int = 0


@dataclass(frozen=True)
class UnaryOp:
    """`NOT x` or `-x`."""

    op: str
    operand: EvalExpr
    position: int = 0


EvalExpr = Literal | FieldRef | Call | BinaryOp | UnaryOp


# --- commands ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Aggregate:
    """`func(field) [as alias]`; `count` alone has no field."""

    function: str
    field: str | None
    alias: str | None
    position: int = 0
    #: `func(eval(expression))`: aggregate the expression's value per event (`field` holds its text)
    expression: EvalExpr | None = None

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
    span: str | None = None  # `by _time span=1h`


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
class Eval(Command):
    """`eval a=expr, b=expr`: assignments applied left to right (later ones see earlier ones)."""

    assignments: tuple[tuple[str, EvalExpr], ...]


@dataclass(frozen=True)
class Where(Command):
    expression: EvalExpr


@dataclass(frozen=True)
class Stats(Command):
    """`stats` (grouped rows) or `eventstats` (aggregates added to every row)."""

    aggregates: tuple[Aggregate, ...]
    by: tuple[str, ...]
    keep_events: bool = False  # True for eventstats


@dataclass(frozen=True)
class Table(Command):
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Fields(Command):
    fields: tuple[str, ...]
    remove: bool = False


@dataclass(frozen=True)
class Dedup(Command):
    fields: tuple[str, ...]
    count: int = 1
    keep_empty: bool = False


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False
    mode: str = "auto"  # auto, num or str


@dataclass(frozen=True)
class Sort(Command):
    keys: tuple[SortKey, ...]
    limit: int | None = 10000  # Splunk's default; `sort 0` means no limit


@dataclass(frozen=True)
class Head(Command):
    count: int = 10


@dataclass(frozen=True)
class Rex(Command):
    """`rex field=X "(?<name>...)"`: named groups become fields."""

    field: str
    pattern: str


@dataclass(frozen=True)
class Regex(Command):
    """`regex field="re"` keeps matching rows; `field!="re"` keeps the others."""

    field: str
    pattern: str
    negate: bool = False


@dataclass(frozen=True)
class Lookup(Command):
    """`lookup table in_field [AS event_field] ... OUTPUT|OUTPUTNEW out [AS new] ...`."""

    table: str
    inputs: tuple[tuple[str, str], ...]  # (lookup field, event field)
    outputs: tuple[tuple[str, str], ...]  # (lookup field, event field); empty = every other lookup field
    output_new: bool = False


@dataclass(frozen=True)
class InputLookup(Command):
    table: str
    where: SearchExpr | None = None


@dataclass(frozen=True)
class FillNull(Command):
    value: str = "0"
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bin(Command):
    """`bin _time span=1h [as name]` (also spelled `bucket`)."""

    field: str
    span: str
    alias: str | None = None


@dataclass(frozen=True)
class Pipeline:
    commands: tuple[Command, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Join(Command):
    """`join [type=inner|left|outer] [max=N] [overwrite=BOOL] field, ... [ subsearch ]`."""

    fields: tuple[str, ...]
    subsearch: Pipeline
    kind: str = "inner"
    max: int = 1
    overwrite: bool = True
