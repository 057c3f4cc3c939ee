"""What a query engine needs of a compiled search, whether just compiled (`compiler.CompiledSearch`) or
read from the compiled-content cache (`detect.precompiled.CachedSearch`): the lookups to load and its SQL."""

from __future__ import annotations

from typing import Protocol

from tunnelhunt.spl.lookup_table import LookupTable


class RunnableSearch(Protocol):
    @property
    def lookups(self) -> list[LookupTable]: ...

    def sql(self, dialect: str = "duckdb", pretty: bool = False, copy: bool = True) -> str: ...
