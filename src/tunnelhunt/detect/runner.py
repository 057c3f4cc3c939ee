"""Compile detections (macros expanded, filters applied, lookups resolved) and run them on the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import duckdb
import pyarrow as pa

from tunnelhunt.content.cache import ContentCache
from tunnelhunt.content.loader import MacroLibrary
from tunnelhunt.content.lookups import LookupLibrary
from tunnelhunt.content.models import Detection
from tunnelhunt.detect.precompiled import CachedSearch, cached_compile, lookups_key
from tunnelhunt.errors import TunnelhuntError
from tunnelhunt.spl.errors import SplError
from tunnelhunt.spl.macros import expand_macros
from tunnelhunt.spl.searches import RunnableSearch
from tunnelhunt.spl.window import TimeWindow
from tunnelhunt.store.duckdb_store import Store

if TYPE_CHECKING:  # the compiler is imported when a search is compiled: a warm cache compiles nothing
    from tunnelhunt.spl.compiler import CompiledSearch


class QueryError(TunnelhuntError, RuntimeError):
    """A query engine other than DuckDB failed to run a compiled search (its message says why)."""


class QueryEngine(Protocol):
    """What detections run on: the DuckDB store (memory, file or lake views) or Spark over the lake."""

    def run(self, compiled: RunnableSearch) -> pa.Table:
        """Load the lookups the search uses, render it in the engine's dialect and run it."""
        ...


@dataclass
class DetectionRun:
    """One detection's outcome: its findings, or why it could not run."""

    detection: Detection
    #: a `CachedSearch` when it came from the compiled-content cache (DuckDB only)
    compiled: CompiledSearch | CachedSearch | None = None
    findings: pa.Table | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[dict[str, object]]:
        # most Sigma rules find nothing: an empty table of ~130 columns still cost ~0.7 ms to convert
        # (1.8 s over SigmaHQ's Windows rules)
        return self.findings.to_pylist() if self.findings is not None and self.findings.num_rows else []


def expand_detection(detection: Detection, macros: MacroLibrary) -> str:
    """The detection's search with every macro (user filter overrides included) expanded."""
    return expand_macros(detection.search, macros.lookup)


def compile_detection(
    detection: Detection,
    macros: MacroLibrary,
    window: TimeWindow | None = None,
    lookups: LookupLibrary | None = None,
    now: datetime | None = None,
) -> CompiledSearch:
    """Expand macros and compile; raises SplError."""
    from tunnelhunt.spl.compiler import compile_search

    library = lookups or LookupLibrary()
    return compile_search(expand_detection(detection, macros), window, library.resolve, now)


def compile_cached(
    detection: Detection,
    macros: MacroLibrary,
    window: TimeWindow | None,
    lookups: LookupLibrary | None,
    cache: ContentCache | None,
    lookup_key: str | None = None,
) -> CompiledSearch | CachedSearch:
    """`compile_detection`, through `cache` when there is one (see `precompiled`); raises SplError.
    `lookup_key` (`precompiled.lookups_key(lookups)`) saves hashing the lookups once per detection."""
    if cache is None:
        return compile_detection(detection, macros, window, lookups)
    library = lookups or LookupLibrary()
    found = cached_compile(
        expand_detection(detection, macros), window, lookup_key or lookups_key(library), cache,
        lambda now: compile_detection(detection, macros, window, library, now),
    )  # fmt: skip
    return found if found is not None else compile_detection(detection, macros, window, library)


def execute(store: QueryEngine, compiled: RunnableSearch) -> pa.Table:
    """Run a compiled search on an engine; raises duckdb.Error or QueryError."""
    return store.run(compiled)


def _compiled(
    run: DetectionRun,
    macros: MacroLibrary,
    window: TimeWindow | None,
    lookups: LookupLibrary | None,
    cache: ContentCache | None,
    lookup_key: str | None,
) -> CompiledSearch | CachedSearch | None:
    """Compile the run's detection, or record why it does not compile."""
    try:
        run.compiled = compile_cached(run.detection, macros, window, lookups, cache, lookup_key)
    except SplError as exc:
        run.error = f"does not compile: {exc}"
        return None
    run.warnings = list(run.compiled.warnings)
    return run.compiled


def _execute(store: QueryEngine, run: DetectionRun, search: RunnableSearch) -> DetectionRun:
    try:
        run.findings = execute(store, search)
    except (duckdb.Error, OSError, pa.ArrowException, QueryError) as exc:
        run.error = f"failed to run: {type(exc).__name__}: {exc}"
    return run


def run_detection(
    store: QueryEngine,
    detection: Detection,
    macros: MacroLibrary,
    window: TimeWindow | None = None,
    lookups: LookupLibrary | None = None,
    cache: ContentCache | None = None,
    lookup_key: str | None = None,
) -> DetectionRun:
    run = DetectionRun(detection)
    compiled = _compiled(run, macros, window, lookups, cache, lookup_key)
    return run if compiled is None else _execute(store, run, compiled)


#: Node rows from which detections share scans (`shared_scan`). Below, each detection's own pass takes
#: milliseconds, and a cached search would be parsed again for nothing (0.2 s for the shipped ones).
SHARE_FROM_ROWS = 500_000


def run_detections(
    store: QueryEngine,
    detections: Iterable[Detection],
    macros: MacroLibrary,
    window: TimeWindow | None = None,
    lookups: LookupLibrary | None = None,
    cache: ContentCache | None = None,
    lookup_key: str | None = None,
    share_from_rows: int = SHARE_FROM_ROWS,
) -> list[DetectionRun]:
    """`run_detection` for each; on a DuckDB store of `share_from_rows` node rows or more, detections reading
    the same table share its scan (`shared_scan`: the same findings, two passes over the table in all)."""
    runs = [DetectionRun(detection) for detection in detections]
    compiled = [(run, _compiled(run, macros, window, lookups, cache, lookup_key)) for run in runs]
    ready = [(run, search) for run, search in compiled if search is not None]
    if not isinstance(store, Store) or len(ready) < 2 or store.node_rows() < share_from_rows:
        for run, search in ready:
            _execute(store, run, search)
        return runs
    from tunnelhunt.detect.shared_scan import prepare, shared_tables

    shared = [(run, prepare(search)) for run, search in ready]
    with shared_tables(store, [query for _, query in shared]):
        for run, query in shared:
            _execute(store, run, query)
    return runs
