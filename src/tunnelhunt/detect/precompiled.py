"""Compiled detections kept between runs (`content/cache.py`), so that a hunt with a warm cache neither
compiles nor imports the SPL compiler (its parser, functions and sqlglot: most of a small hunt's start-up).

An entry is found by the expanded search text (macros and filter overrides in it), the window, every
lookup the search could resolve, tunnelhunt's sources and sqlglot's version. It holds the DuckDB SQL,
the output columns, the warnings and the lookups to load, or the message of the error compiling gave
(raised again as a `SplError` with that message, so a run reports it as before). A search whose SQL
depends on the time it is compiled at (`now()`, `relative_time`) is marked so and compiled on every run:
it is compiled at two different times and the two renderings compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunnelhunt.content.cache import ContentCache, code_fingerprint, digest
from tunnelhunt.content.lookups import LookupLibrary
from tunnelhunt.spl.columns import Column, Kind
from tunnelhunt.spl.errors import SplError
from tunnelhunt.spl.lookup_table import LookupTable
from tunnelhunt.spl.searches import SearchColumns
from tunnelhunt.spl.window import TimeWindow

if TYPE_CHECKING:
    from tunnelhunt.spl.compiler import CompiledSearch

KIND = "spl"
#: Two moments far apart: a search that renders the same SQL at both does not depend on the time.
_PROBE_TIMES = (datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC), datetime(2019, 8, 7, 6, 5, 4, tzinfo=UTC))


@dataclass
class CachedSearch(SearchColumns):
    """A compiled search read from the cache: what running it on DuckDB and reading its results need."""

    duckdb_sql: str
    columns: list[Column]
    warnings: list[str] = field(default_factory=list)
    lookups: list[LookupTable] = field(default_factory=list)

    def sql(self, dialect: str = "duckdb", pretty: bool = False, copy: bool = True) -> str:
        """The DuckDB query (the only rendering kept: the cache is used with the DuckDB engine)."""
        if dialect != "duckdb" or pretty:
            raise ValueError("a cached search holds its DuckDB query only")
        return self.duckdb_sql


def _lookup_data(table: LookupTable) -> dict[str, Any]:
    return {
        "name": table.name,
        "columns": list(table.columns),
        "path": str(table.path) if table.path is not None else None,
        "case_sensitive": table.case_sensitive,
        "wildcard_fields": sorted(table.wildcard_fields),
        "cidr_fields": sorted(table.cidr_fields),
        "default_match": table.default_match,
        "max_matches": table.max_matches,
    }


def _lookup_table(data: dict[str, Any]) -> LookupTable:
    return LookupTable(
        name=str(data["name"]),
        columns=tuple(str(c) for c in data["columns"]),
        path=Path(data["path"]) if data["path"] is not None else None,
        case_sensitive=bool(data["case_sensitive"]),
        wildcard_fields=frozenset(str(f) for f in data["wildcard_fields"]),
        cidr_fields=frozenset(str(f) for f in data["cidr_fields"]),
        default_match=None if data["default_match"] is None else str(data["default_match"]),
        max_matches=int(data["max_matches"]),
    )


def lookups_key(lookups: LookupLibrary) -> str:
    """Every lookup a search could resolve, as the compiler would see it (by name or by file name)."""
    seen = []
    for name, definition in sorted(lookups.definitions.items()):
        table = definition.table() if definition.csv_path is not None else None
        seen.append([name, definition.model.filename, _lookup_data(table) if table else None])
    return digest(json.dumps(seen, sort_keys=True))


def search_key(search: str, window: TimeWindow | None, lookups: str) -> str:
    bounds = [b.isoformat() if b else "" for b in ((window.earliest, window.latest) if window else (None, None))]
    return digest(code_fingerprint("sqlglot"), search, *bounds, lookups)


def _entry(compile_at: Callable[[datetime], CompiledSearch]) -> dict[str, Any]:
    """Compile (at two times) and describe the outcome as a cache entry."""
    try:
        first, second = (compile_at(now) for now in _PROBE_TIMES)
    except SplError as exc:
        return {"error": str(exc)}
    sql = first.sql("duckdb")
    if sql != second.sql("duckdb"):
        return {"live": True}
    return {
        "sql": sql,
        "columns": [[c.name, c.kind.value] for c in first.columns],
        "warnings": list(first.warnings),
        "lookups": [_lookup_data(t) for t in first.lookups],
    }


def _search(entry: Any) -> CachedSearch | str | bool | None:
    """The cached search, the compile error's message, True for a search compiled on every run, or None
    (no entry, or not of an entry's shape)."""
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("error"), str):
        return str(entry["error"])
    if entry.get("live") is True:
        return True
    try:
        if not isinstance(entry["sql"], str):
            return None
        return CachedSearch(
            duckdb_sql=entry["sql"],
            columns=[Column(str(name), Kind(kind)) for name, kind in entry["columns"]],
            warnings=[str(w) for w in entry["warnings"]],
            lookups=[_lookup_table(t) for t in entry["lookups"]],
        )
    except (KeyError, TypeError, ValueError):
        return None


def cached_compile(
    search: str,
    window: TimeWindow | None,
    lookups: str,
    cache: ContentCache,
    compile_at: Callable[[datetime], CompiledSearch],
) -> CachedSearch | None:
    """The compiled form of `search` (expanded) from the cache, made by `compile_at(now)` and kept there
    when missing; None for a search to compile on every run. Raises SplError as compiling does.
    `lookups` is `lookups_key` of the lookups the search compiles with."""
    key = search_key(search, window, lookups)
    found = _search(cache.get(KIND, key))
    if found is None:
        entry = _entry(compile_at)
        cache.put(KIND, key, entry)
        found = _search(entry)
    if isinstance(found, str):
        raise SplError(found)
    return found if isinstance(found, CachedSearch) else None
