"""A lookup as the compiler sees it and the store loads it: its own module so that loading a compiled search's
lookups needs no compiler (and no sqlglot)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_UNSAFE = re.compile(r"[^a-z0-9_]+")

#: The hidden column holding each lookup row's position in its file.
ROW_COLUMN = "_lookup_row"
#: transforms.conf's default for a lookup without a time field, and the largest value it accepts.
DEFAULT_MAX_MATCHES = 100
MAX_MATCHES_LIMIT = 1000


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
    max_matches: int = DEFAULT_MAX_MATCHES

    @property
    def table(self) -> str:
        return lookup_table_name(self.name)
