"""What the compiler knows of a CSV lookup, and how one lookup input matches a lookup row.

Matching follows Splunk's transforms.conf: exact, case-sensitive unless `case_sensitive_match`
is false; `WILDCARD(field)` lets `*` in that lookup column match anything. When several rows
match, the first one in file order wins (as with `max_matches=1`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp

from tunnelhunt.spl import semantics

_UNSAFE = re.compile(r"[^a-z0-9_]+")

#: The hidden column holding each lookup row's position in its file.
ROW_COLUMN = "_lookup_row"


def lookup_table_name(name: str) -> str:
    """The store table that holds a lookup's rows."""
    return "lookup_" + _UNSAFE.sub("_", name.lower()).strip("_")


@dataclass(frozen=True)
class LookupTable:
    """A lookup as the compiler sees it: its columns and matching rules, and the file to load."""

    name: str
    columns: tuple[str, ...]
    path: Path | None = None
    case_sensitive: bool = True
    wildcard_fields: frozenset[str] = field(default_factory=frozenset)
    cidr_fields: frozenset[str] = field(default_factory=frozenset)
    default_match: str | None = None

    @property
    def table(self) -> str:
        return lookup_table_name(self.name)


LookupResolver = Callable[[str], LookupTable | None]


def no_lookups(name: str) -> LookupTable | None:
    return None


def _like_pattern(value: exp.Expr) -> exp.Expr:
    """A lookup cell with `*` wildcards as a LIKE pattern (escaping %, _ and the escape character)."""
    escaped = value
    for char in (semantics.LIKE_ESCAPE, "%", "_"):
        escaped = exp.func(
            "REPLACE", escaped, exp.Literal.string(char), exp.Literal.string(semantics.LIKE_ESCAPE + char)
        )
    return exp.func("REPLACE", escaped, exp.Literal.string("*"), exp.Literal.string("%"))


def match_condition(lookup: LookupTable, lookup_column: exp.Expr, event_value: exp.Expr, wildcard: bool) -> exp.Expr:
    """True when an event value matches one lookup cell under the lookup's rules."""
    left, right = event_value, lookup_column
    if not lookup.case_sensitive:
        left, right = exp.Lower(this=left), exp.Lower(this=right)
    if wildcard:
        like = exp.Like(this=left, expression=_like_pattern(right))
        return exp.Escape(this=like, expression=exp.Literal.string(semantics.LIKE_ESCAPE))
    return exp.EQ(this=left, expression=right)
