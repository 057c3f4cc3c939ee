"""What a query engine needs of a compiled search, whether just compiled (`compiler.CompiledSearch`) or
read from the compiled-content cache (`detect.precompiled.CachedSearch`): the lookups to load and its SQL."""

from __future__ import annotations

from typing import Protocol

from tunnelhunt.spl.columns import Column
from tunnelhunt.spl.lookup_table import LookupTable


class RunnableSearch(Protocol):
    @property
    def lookups(self) -> list[LookupTable]: ...

    def sql(self, dialect: str = "duckdb", pretty: bool = False, copy: bool = True) -> str: ...


class SearchColumns:
    """What both forms of a compiled search say of their output (each declares `columns` as a field)."""

    columns: list[Column]

    @property
    def output_fields(self) -> list[str]:
        return [column.name for column in self.columns]
