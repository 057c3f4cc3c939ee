"""Ingest on every core: reading and normalising run in worker processes, the parent only stores.

Reading events is Python work bound to one core by the GIL, so the inputs are cut into work units
(whole inputs, and large plain Sysmon XML files cut at `<Event` boundaries into byte ranges) that a
process pool reads and normalises. Each worker returns, batch by batch, the Arrow tables per
data-model node with the batch's end position; the parent stores them in input order, each batch in
its own transaction with the file's checkpoint, exactly as a one-process ingest does. So the
exactly-once guarantee, line numbers and the quarantine are unchanged, and at most two units per
worker are in flight, which bounds memory whatever the input size.

Tables cross from a worker to the parent as Arrow IPC streams (`pack`/`unpack`): pickling Arrow
tables cost 0.10-0.27 s per group of 48 tables where the IPC stream took 0.007 s. A worker imports
only this module and what it runs (readers, normalisation): never the command line.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
import types
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc

from tunnelhunt.ingest.formats import build_readers
from tunnelhunt.ingest.plan import READ_ERRORS, BatchResult, RangeSource, UnitResult, WorkUnit, group_units
from tunnelhunt.normalize.normalizer import Normalizer, unnormalised
from tunnelhunt.normalize.registry import MappingRegistry
from tunnelhunt.readers.base import OffsetKind, Position, QuarantinedRecord, RawBatch, Reader, ReaderError

if TYPE_CHECKING:
    from concurrent.futures import Future

_context: tuple[Any, Normalizer] | None = None
_mappings: Sequence[Any] = ()
_raw = True


def lean_arrow_memory() -> None:
    """Use the system allocator for Arrow: the default one keeps freed batches mapped, which made each
    worker hold about 100 MB more than it uses (measured with the bench's process-tree sampler)."""
    pa.set_memory_pool(pa.system_memory_pool())


def _init_worker(mappings: Sequence[Any], raw: bool = True) -> None:
    global _mappings, _context, _raw
    _mappings, _context, _raw = mappings, None, raw
    lean_arrow_memory()
    from tunnelhunt.readers import evtx_file  # a worker reads EVTX, if at all, with one parser thread

    evtx_file.PARSER_THREADS = 1


def _worker_context() -> tuple[Any, Normalizer]:
    """The reader set and normaliser of this process, built once (user mappings included)."""
    global _context
    if _context is None:
        threads = 1 if multiprocessing.parent_process() is not None else None
        registry = MappingRegistry([m.json for m in _mappings] + [m.csv for m in _mappings])
        _context = (build_readers(_mappings), Normalizer(registry, threads=threads, raw=_raw))
    return _context


def process_unit(unit: WorkUnit, context: tuple[Any, Normalizer] | None = None) -> UnitResult:
    """Read and normalise one unit whole (in a worker process, whose result crosses back at once)."""
    result = UnitResult(unit)
    for part in unit_parts(unit, context):
        result.batches.extend(part.batches)
        result.error = part.error
    return result


def unit_parts(unit: WorkUnit, context: tuple[Any, Normalizer] | None = None) -> Iterator[UnitResult]:
    """Read and normalise one unit, a result per batch as it is read, each with where it begins.

    Inline, the caller stores each part before the next is read: what waits in memory is one batch,
    whatever the input's size. A whole unit held every normalised batch of it (a 300 MB JSON-lines
    file with `--workers 1`: 1.1 GB; a compressed input, never cut into ranges, without bound).
    """
    readers, normalizer = context or _worker_context()
    position = unit.start
    try:
        for batch in _read(readers, unit):
            try:
                normalized = normalizer.normalize(batch)
            except duckdb.Error as exc:
                normalized = unnormalised(batch, _failure(exc))
            part = BatchResult(
                normalized.tables,
                normalized.unmapped,
                normalized.quarantined,
                batch.records + len(batch.quarantined),
                batch.end,
                batch.offset_kind,
                batch.sourcetype if batch.records else None,
            )
            yield UnitResult(unit, [part], start=position)
            position = batch.end if batch.end is not None else position
    except (ReaderError, *READ_ERRORS, duckdb.Error) as exc:
        yield UnitResult(unit, [], _failure(exc), start=position)


def _read(readers: Any, unit: WorkUnit) -> Iterator[RawBatch]:
    reader: Reader = readers.by_name(unit.format)
    source: Any = RangeSource(unit.source, unit.end) if unit.end is not None else unit.source
    return reader.read(source, unit.start, unit.final)


def _failure(exc: BaseException) -> str:
    """Why an input stopped: the reader's reason, a read error, or a mapping that cannot run on it."""
    if isinstance(exc, ReaderError):
        return exc.reason
    if isinstance(exc, duckdb.Error):
        return f"could not normalise: {type(exc).__name__}: {exc}"
    return f"read failed: {exc}"


def process_group(units: Sequence[WorkUnit], context: tuple[Any, Normalizer] | None = None) -> list[UnitResult]:
    """Read several small inputs, normalise their records together, give each input its own result.

    Each input's result is one batch holding all of its rows (split back by `_source`), so its
    accounting and checkpoint are exactly what reading it alone would give.
    """
    if len(units) == 1:
        return [process_unit(units[0], context)]
    readers, normalizer = context or _worker_context()
    results = [UnitResult(unit) for unit in units]
    raw: list[list[RawBatch]] = [[] for _ in units]
    for index, unit in enumerate(units):
        try:
            raw[index].extend(_read(readers, unit))
        except (ReaderError, *READ_ERRORS) as exc:
            results[index].error = _failure(exc)
    parts = [_GroupPart(unit.source.name) for unit in units]
    # batches that can be normalised as one: same source type, offset kind, JSON check and columns
    by_kind: dict[tuple[Any, ...], list[tuple[int, RawBatch]]] = {}
    for index, batches in enumerate(raw):
        for batch in batches:
            parts[index].add_raw(batch)
            if batch.table.num_rows:
                key = (batch.sourcetype, batch.offset_kind, batch.json_checked, batch.table.schema)
                by_kind.setdefault(key, []).append((index, batch))
    try:
        for (sourcetype, offset_kind, checked, _schema), items in by_kind.items():
            # one chunk: every DuckDB scan of a batch's columns (the walk, node picking, node rows, event
            # defaults) went record batch by record batch, one per small file (3x slower at 127 files)
            table = pa.concat_tables([b.table for _, b in items]).combine_chunks()
            merged = RawBatch(sourcetype, table, [], offset_kind, None, checked)
            members = dict.fromkeys(index for index, _ in items)
            _distribute(normalizer.normalize(merged), [parts[i] for i in members])
    except duckdb.Error:  # a mapping that cannot run on some input: read each alone, to name it
        return [process_unit(unit, context) for unit in units]
    for index, result in enumerate(results):
        if raw[index]:
            result.batches.append(parts[index].batch())
    return results


@dataclass
class _GroupPart:
    """What one input of a group has gathered: its rows per table, counts and end position."""

    name: str
    tables: dict[str, list[pa.Table]] = field(default_factory=dict)
    unmapped: int = 0
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    normalizer_quarantined: list[QuarantinedRecord] = field(default_factory=list)
    records: int = 0
    end: Position | None = None
    offset_kind: OffsetKind = "line"
    sourcetype: str | None = None

    def add_raw(self, batch: RawBatch) -> None:
        self.records += batch.records + len(batch.quarantined)
        self.quarantined.extend(batch.quarantined)
        self.end = batch.end if batch.end is not None else self.end
        self.offset_kind = batch.offset_kind
        if batch.records and self.sourcetype is None:
            self.sourcetype = batch.sourcetype

    def batch(self) -> BatchResult:
        tables = {name: pa.concat_tables(parts) for name, parts in self.tables.items()}
        quarantined = self.quarantined + self.normalizer_quarantined
        return BatchResult(
            tables, self.unmapped, quarantined, self.records, self.end, self.offset_kind, self.sourcetype
        )


def _distribute(normalized: Any, parts: list[_GroupPart]) -> None:
    """Hand each input of a group its rows, unmapped count and quarantined records.

    Node tables come sorted by `_source` then `_offset`, so each input's rows are one slice.
    """
    by_name = {part.name: part for part in parts}
    for part in parts:
        part.unmapped += normalized.unmapped_by_source.get(part.name, 0)
    for record in normalized.quarantined:
        by_name[record.source].normalizer_quarantined.append(record)
    for table_name, table in normalized.tables.items():
        for name, rows in _runs_by_source(table):
            by_name[name].tables.setdefault(table_name, []).append(rows)


def _runs_by_source(table: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    """The rows of each source name, from a table sorted by `_source`.

    Each part is a slice (free): the Arrow IPC stream a worker sends writes only a slice's own rows,
    where a pickled slice carried its whole parent's buffers (so parts used to be copied with `take`,
    which cost a quarter of the time of a folder of small EVTX files).
    """
    sources = table.column("_source").combine_chunks()
    if table.num_rows == 0:
        return
    changes = pc.not_equal(sources.slice(1), sources.slice(0, len(sources) - 1))
    starts = [0, *(int(i) + 1 for i in pc.indices_nonzero(changes).to_pylist()), table.num_rows]
    if len(starts) == 2:
        yield str(sources[0].as_py()), table
        return
    for begin, end in itertools.pairwise(starts):
        yield str(sources[begin].as_py()), table.slice(begin, end - begin)


def pack(results: list[UnitResult]) -> list[UnitResult]:
    """Each batch's tables as Arrow IPC stream bytes, to cross to the parent (see the module docstring)."""
    for result in results:
        for batch in result.batches:
            batch.tables = {name: _ipc_bytes(table) for name, table in batch.tables.items()}
    return results


def unpack(results: list[UnitResult]) -> list[UnitResult]:
    """The inverse of `pack`, in the parent: the tables read from the stream bytes without copying."""
    for result in results:
        for batch in result.batches:
            batch.tables = {name: pyarrow.ipc.open_stream(data).read_all() for name, data in batch.tables.items()}
    return results


def _ipc_bytes(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pyarrow.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def process_group_packed(units: Sequence[WorkUnit]) -> list[UnitResult]:
    """`process_group` in a worker: its tables packed as IPC streams for the trip to the parent."""
    return pack(process_group(units))


def loaded_modules() -> list[str]:
    """The modules a worker has imported (to check that it imports only what it runs)."""
    return sorted(sys.modules)


def pool_context() -> Any:
    """The forkserver context, its server started now: it imports this module (readers, normalisation)
    once and forks each worker from itself ready to work (a worker spawned afresh spent about a second
    importing the command line again before its first unit).

    The server and the resource tracker are started as `python -c ...`, which puts the working
    directory first on the import path: a `concurrent.py` or `threading.py` in the evidence folder an
    analyst runs from would be executed. They start with `PYTHONSAFEPATH` set, so they (and every
    worker forked from them) import only the installed program and the standard library.
    """
    import multiprocessing.forkserver  # the pool's machinery: only a run that starts a pool (not one small file)
    import multiprocessing.resource_tracker

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with _safe_import_path():
        multiprocessing.resource_tracker.ensure_running()
        multiprocessing.forkserver.ensure_running()
    return context


@contextmanager
def _no_main_module() -> Iterator[None]:
    """Start workers without the parent's `__main__`: multiprocessing has each new worker import the
    parent's main module (the whole command line under `python -m tunnelhunt.cli.app`, a console
    script's module otherwise), which the functions a worker runs never need. A bare module stands in
    for it while processes start; nothing in a worker is looked up in `__main__`."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


@contextmanager
def worker_pool(workers: int, mappings: Sequence[Any] = (), raw: bool = True) -> Iterator[Any]:
    """A process pool of `workers` forkserver workers; yields `submit(fn, *args) -> Future`, which starts
    workers without the parent's main module (`_no_main_module`)."""
    from concurrent.futures import ProcessPoolExecutor  # as `pool_context`: only when a pool starts

    context = pool_context()
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(mappings, raw)) as pool:

        def submit(fn: Any, *args: Any) -> Future[Any]:
            with _no_main_module():  # a worker is started (if one is due) inside submit
                return pool.submit(fn, *args)

        yield submit


@contextmanager
def _safe_import_path() -> Iterator[None]:
    """`PYTHONSAFEPATH=1` for the interpreters started inside (no working directory on their path)."""
    before = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYTHONSAFEPATH"]
        else:
            os.environ["PYTHONSAFEPATH"] = before


def run_units(
    units: list[WorkUnit],
    workers: int,
    mappings: Sequence[Any] = (),
    inline: tuple[Any, Normalizer] | None = None,
    raw: bool = True,
) -> Iterator[UnitResult]:
    """Results in the order of `units`: small whole inputs are read in groups (`group_units`), in a
    process pool when `workers > 1` (at most 2 groups per worker pending), else here, with the
    caller's readers and normaliser (`inline`) when given."""
    groups = group_units(units)
    if workers <= 1 or len(groups) <= 1:
        for group in groups:  # an input alone is stored as it is read (`unit_parts`)
            yield from unit_parts(group[0], inline) if len(group) == 1 else process_group(group, inline)
        return
    lean_arrow_memory()
    with worker_pool(workers, mappings, raw) as submit:
        # (group, its future) in order; a compressed input alone is read here instead (no future): a worker
        # returns its unit whole, and a compressed input, never cut into ranges, has no bound on its size
        pending: deque[tuple[list[WorkUnit], Future[list[UnitResult]] | None]] = deque()
        queue = iter(groups)
        in_flight = 0

        def fill() -> None:
            nonlocal in_flight
            while in_flight < 2 * workers:
                group = next(queue, None)
                if group is None:
                    return
                here = len(group) == 1 and group[0].end is None and group[0].source.expanded_size is None
                pending.append((group, None if here else submit(process_group_packed, group)))
                in_flight += 0 if here else 1

        fill()
        while pending:
            group, future = pending.popleft()
            if future is None:
                yield from unit_parts(group[0], inline)  # stored as it is read, while the workers go on
                continue
            in_flight -= 1
            results = unpack(future.result())
            fill()
            yield from results
