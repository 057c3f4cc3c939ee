"""`search`: the Splunk search bar at the command line, over a kept database, a lake, or files read first.

Both kinds of search run: data-model searches (`| tstats … from datamodel=…`) and searches over the raw
events (`` `sysmon` EventCode=1 … ``). Macros are expanded from the shipped environment macros and the
user's `--macros`, exactly as detections' are.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from tunnelhunt.actions.common import OptionError, kept, load, open_store
from tunnelhunt.detect.runner import QueryEngine
from tunnelhunt.ingest.report import IngestReport
from tunnelhunt.ingest.run import ingest
from tunnelhunt.spl.compiler import CompiledSearch, TimeWindow, compile_search
from tunnelhunt.spl.macros import expand_macros


@dataclass
class SearchOptions:
    search: str
    db: Path | None = None
    lake: Path | None = None
    inputs: list[Path] = field(default_factory=list)
    macros: list[Path] = field(default_factory=list)
    earliest: datetime | None = None
    latest: datetime | None = None
    limit: int | None = 100


@dataclass
class SearchResult:
    compiled: CompiledSearch
    rows: pa.Table
    truncated: bool  # more rows than `limit` matched
    ingest: IngestReport | None = None


def check(options: SearchOptions) -> None:
    stores = sum(x is not None for x in (options.db, options.lake))
    if stores > 1:
        raise OptionError("give one of --db and --lake")
    if stores == 0 and not options.inputs:
        raise OptionError("search what? give --db FILE, --lake DIR or --in PATH")
    if options.lake is not None and options.inputs:
        raise OptionError("--in reads files into a database (--db or memory), not into a lake")
    if options.db is not None and not options.inputs:
        kept(options.db)
    if options.limit is not None and options.limit < 1:
        raise OptionError("--limit must be at least 1")


def compile_spl(text: str, macros: Sequence[Path] = (), window: TimeWindow | None = None) -> CompiledSearch:
    """Expand macros (shipped and the user's) and compile; raises SplError with the position."""
    content = load((), macros, filters=False)
    return compile_search(expand_macros(text, content.macros.lookup), window, content.lookups.resolve)


def search(options: SearchOptions) -> SearchResult:
    """Compile the search, read `--in` files if any, run it, return at most `limit` rows."""
    check(options)
    compiled = compile_spl(options.search, options.macros, TimeWindow(options.earliest, options.latest))
    with _engine(options) as (engine, report):
        return run_compiled(engine, compiled, options.limit, report)


def search_on(engine: QueryEngine, options: SearchOptions) -> SearchResult:
    """The search over an engine already open (a web request's cursor of the served database)."""
    if options.limit is not None and options.limit < 1:
        raise OptionError("--limit must be at least 1")
    compiled = compile_spl(options.search, options.macros, TimeWindow(options.earliest, options.latest))
    return run_compiled(engine, compiled, options.limit)


def run_compiled(
    engine: QueryEngine, compiled: CompiledSearch, limit: int | None, report: IngestReport | None = None
) -> SearchResult:
    runnable = compiled
    if limit is not None:  # one row more than shown tells whether there were more
        runnable = replace(compiled, query=compiled.query.limit(limit + 1, copy=True))
    table = engine.run(runnable)
    rows = table.slice(0, limit) if limit is not None else table
    return SearchResult(compiled, rows, table.num_rows > rows.num_rows, report)


@contextmanager
def _engine(options: SearchOptions) -> Iterator[tuple[QueryEngine, IngestReport | None]]:
    if options.lake is not None:
        from tunnelhunt.store.lake import LakeStore

        with LakeStore(options.lake) as lake:
            yield lake, None
        return
    with open_store(options.db) as store:
        report = ingest(options.inputs, store) if options.inputs else None
        yield store, report
