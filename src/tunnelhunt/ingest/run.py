"""Files → readers → normaliser → store, exactly once, with an account of every record.

`ingest(paths, store, ...)` walks the inputs (directories recursively, through include/exclude
globs, archives opened), picks a reader per input from its content, and streams batches into the
store. For each file: records read = ingested into a node + unmapped (valid, no node models it) +
quarantined. A file that cannot be read at all is reported and the others still go in.

Incremental by default: each batch is inserted together with its quarantined records and the
file's checkpoint in one transaction (`store/checkpoints.py`), so calling `ingest` again on the
same file adds nothing, on a grown file adds only the new part, and after a crash resumes exactly
where the last committed batch ended. `final=False` is for callers that poll growing files
(`tunnelhunt watch`): a last line still being written is left for the next call.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from tunnelhunt.crashpoint import crashpoint
from tunnelhunt.ingest.formats import build_readers
from tunnelhunt.ingest.plan import (
    READ_ERRORS,
    BatchResult,
    UnitResult,
    WorkUnit,
    choose_workers,
    plan_units,
    pool_bytes,
    unit_size,
)
from tunnelhunt.ingest.report import FileReport, IngestProgress, IngestReport, ProgressCallback, QuarantineSink
from tunnelhunt.ingest.workers import process_group, run_units
from tunnelhunt.normalize.custom import CustomMapping
from tunnelhunt.normalize.normalizer import Normalizer
from tunnelhunt.normalize.registry import MappingRegistry
from tunnelhunt.readers.base import START, Position, QuarantinedRecord, Reader, ReaderError
from tunnelhunt.readers.detect import EmptyInput, ReaderSet, UnrecognisedFormat
from tunnelhunt.readers.sources import MissingSource, Source, discover
from tunnelhunt.store.checkpoints import Checkpoint, FileIdentity
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.events import EVENTS_TABLE

if TYPE_CHECKING:  # pyarrow.dataset and parquet: imported by whoever opens a lake
    from tunnelhunt.store.lake import LakeWriter

#: Quarantined records kept in the report itself; all of them go to `on_quarantine` and the store.
QUARANTINE_SAMPLE = 1000
#: Units are stored in one transaction until it holds this many records (a DuckDB row group) or units
#: (see `_Transaction`), unless the input still to come would make a smaller one (`takes_the_rest`).
COMMIT_ROWS = 122_880
COMMIT_INPUTS = 4096
#: Rows of a table buffered before they are inserted into the open transaction.
BUFFER_ROWS = 8_192
#: Consecutive batches of one input are stored together up to this many records per transaction:
#: DuckDB writes a small transaction's rows to its write-ahead log and then again at the checkpoint,
#: which made storing raw events (100 k Sysmon events, 140 MB of text) cost 5.3 s of CPU in
#: transactions of one 4 k batch against 3.8 s in transactions of 32 k, and the file twice as large.
TX_RECORDS = 65_536
_READ_ERRORS = READ_ERRORS


class _StoreFailure(Exception):
    """A batch could not be written (its transaction was rolled back)."""


def _head_of(name: str) -> bytes | None:
    """The first bytes under a checkpointed name now, or None when nothing is there."""
    path, _, member = name.partition("!")
    source = Source(Path(path), member or None) if member and Path(path).is_file() else Source(Path(name))
    if not source.path.is_file():
        return None  # gone, or no regular file now (a FIFO there would block the read)
    try:
        return source.head(4096 + 512 + 1024)
    except (*_READ_ERRORS, KeyError):
        return None


def _still_being_written(source: Source) -> bool:
    """A text input without one complete line yet (a follower polled it as it was created)."""
    try:
        return b"\n" not in source.head()
    except (*_READ_ERRORS, KeyError):
        return False


def _start_from(checkpoint: Checkpoint | None, reader: Reader, source: Source) -> Position:
    """Resume point, unless the checkpoint cannot apply (another reader, or a file now shorter)."""
    if checkpoint is None or checkpoint.offset_kind != reader.offset_kind:
        return START
    if reader.offset_kind != "record" and not source.compressed:
        size = source.size
        if size is not None and size < checkpoint.position.offset:
            return START  # truncated in place: a new file under the old name
    return checkpoint.position


@dataclass
class _Options:
    forced_format: str | None
    incremental: bool
    final: bool
    on_progress: ProgressCallback | None
    on_quarantine: QuarantineSink | None


class _Run:
    """One call of `ingest`: the readers, the normaliser, the store and the report being built."""

    def __init__(
        self, store: Store | LakeWriter, readers: ReaderSet, normalizer: Normalizer, options: _Options
    ) -> None:
        self.store = store
        self.readers = readers
        self.normalizer = normalizer
        self.options = options
        self.report = IngestReport()
        self.inputs = 0
        self.read = 0
        self.quarantined = 0
        self.began = time.monotonic()
        self._open: _Transaction | None = None
        #: about how many bytes of the run's units are still to be staged (`input_bytes`)
        self.unstaged = 0
        #: units `_abandon` has read again to their end (by `id`: the run's units live as long as it)
        self._read_again: set[int] = set()

    def prepare(self, item: Source, named: bool = True) -> _Planned | None:
        """Choose the reader and the resume point of one input; None when there is nothing to read.

        An input found in a directory (or an archive) that no reader recognises is skipped and counted:
        folders hold READMEs and reports beside the logs. A file named on its own is an error."""
        file_report = FileReport(item.name)
        self.report.files.append(file_report)
        try:
            choice = self.readers.choose(item, self.options.forced_format)
        except EmptyInput:
            file_report.format = "empty"
            return None
        except ReaderError as exc:
            if not self.options.final and _still_being_written(item):
                self.report.files.pop()  # nothing complete to judge yet: the next call looks again
                return None
            if isinstance(exc, UnrecognisedFormat) and not named:
                file_report.skipped = "no known format"
                return None
            file_report.error = exc.reason
            return None
        reader = choice.reader
        file_report.format = reader.format_name
        region = reader.fingerprint_region(choice.head)
        identity = FileIdentity.of(item.name, region)
        try:
            checkpoint = (
                self.store.checkpoints.resume_point(item.name, region, _head_of) if self.options.incremental else None
            )
        except (duckdb.Error, OSError) as exc:
            file_report.error = f"could not read the checkpoint: {exc}"
            return None
        start = _start_from(checkpoint, reader, item)
        previous = checkpoint.identity if checkpoint and start != START else None
        file_report.resumed_from = start if start != START else None
        file_report.position = start
        return _Planned(item, reader, file_report, identity, previous, start)

    def stage(self, plan: _Planned, result: UnitResult) -> None:
        """Add a unit's batches to the open transaction (begun when none is), its checkpoint with them,
        committing whenever it holds `COMMIT_ROWS` records or `COMMIT_INPUTS` units (see `_Transaction`),
        so a large unit is committed in parts, as it was read."""
        if plan.failed:
            return  # an earlier range of this input failed: as in one pass, reading stopped there
        if id(result.unit) in self._read_again:
            return  # a later part of a unit `_abandon` has already read again to its end
        began = time.monotonic()
        unit = result.unit
        start = result.start if result.start is not None else unit.start
        # a whole unit's result (not a part of one read inline): what is left of the run is then known
        size = input_bytes(unit) if result.start is None else 0
        self.unstaged -= size
        try:
            for batch in result.batches:
                if self._open is None:
                    self._open = _Transaction(self.store)
                self._open.add(plan, unit, start, batch, self.options.incremental)
                self._open.bytes += size
                size = 0
                start = batch.end if batch.end is not None else start
                if self._open.full() and not (result.start is None and self._open.takes_the_rest(self.unstaged)):
                    self._commit_open()
            if result.error:
                if self._open is None:
                    self._open = _Transaction(self.store)
                self._open.part(plan, unit, start).error = result.error
                plan.failed = True
        except (duckdb.Error, OSError) as exc:
            self._abandon(exc, (plan, unit, start))
        finally:
            plan.seconds += time.monotonic() - began

    def flush(self) -> None:
        """Commit the open transaction, if any (a failure stores its units again, see `_abandon`)."""
        try:
            self._commit_open()
        except (duckdb.Error, OSError) as exc:
            self._abandon(exc, None)

    def _commit_open(self) -> None:
        """Commit the open transaction and account for what it held; raises when the commit fails."""
        opened = self._open
        if opened is None:
            return
        began = time.monotonic()
        opened.commit()
        self._open = None
        share = (time.monotonic() - began) / max(1, len(opened.staged))
        for staged in opened.staged:
            plan = staged.plan
            for batch, added in zip(staged.batches, staged.added, strict=True):
                self._count(batch, added, plan.report)
            if staged.error:
                plan.report.error = staged.error
            plan.seconds += share
            plan.report.seconds = round(plan.seconds, 3)

    def _abandon(self, exc: BaseException, current: tuple[_Planned, WorkUnit, Position] | None) -> None:
        """Roll the open transaction back and store each unit part it held alone, read again from where
        that part began (their tables were handed to the store); `current`, the unit being staged, is
        read again from where it stands when no part of it was staged. Only a failing input stops."""
        opened, self._open = self._open, None
        parts: list[tuple[_Planned, WorkUnit, Position, FileIdentity | None]] = []
        if opened is not None:
            opened.rollback(exc)
            parts = [(s.plan, s.unit, s.start, s.previous) for s in opened.staged]
        if current is not None and not any(unit is current[1] for _, unit, _, _ in parts):
            parts.append((*current, current[0].previous))
        for plan, _, _, previous in parts:  # nothing of the transaction was kept: back to where each input was
            plan.previous = previous
            plan.failed = False
        for plan, unit, start, _ in parts:
            # read again to its end: the parts of it still to come (`unit_parts`) are not staged again
            self._read_again.add(id(unit))
            again = WorkUnit(unit.index, unit.source, unit.format, start, unit.end, unit.final)
            for result in process_group([again], (self.readers, self.normalizer)):
                self.commit(plan, result)

    def commit(self, plan: _Planned, result: UnitResult) -> None:
        """Store a unit's batches in order, up to `TX_RECORDS` records per transaction with the
        checkpoint after the last of them; a failure ends the input."""
        if plan.failed:
            return  # an earlier range of this input failed: as in one pass, reading stopped there
        began = time.monotonic()
        try:
            for chunk in _chunks(result.batches):
                ends = [batch for batch in chunk if batch.end is not None]
                keep_position = self.options.incremental and bool(ends)
                checkpoint = (plan.previous, plan.identity, plan.reader, ends[-1]) if keep_position else None
                added = self._store(chunk, checkpoint)
                if keep_position:
                    plan.previous = plan.identity
                for batch, batch_added in zip(chunk, added, strict=True):
                    self._count(batch, batch_added, plan.report)
            if result.error:
                plan.report.error = result.error
                plan.failed = True
        except _StoreFailure as exc:
            plan.report.error = str(exc)
            plan.failed = True
        finally:
            plan.seconds += time.monotonic() - began
            plan.report.seconds = round(plan.seconds, 3)

    def _store(
        self,
        batches: list[BatchResult],
        checkpoint: tuple[FileIdentity | None, FileIdentity, Reader, BatchResult] | None,
    ) -> list[dict[str, int]]:
        """Rows and quarantined records of consecutive batches of one input, and its checkpoint after
        the last, in one transaction (one insert per table); the rows each batch added."""
        added = [{name: table.num_rows for name, table in batch.tables.items()} for batch in batches]
        tables: dict[str, list[pa.Table]] = {}
        for batch in batches:
            for table_name, table in batch.tables.items():
                tables.setdefault(table_name, []).append(table)
        try:
            with self.store.transaction():
                for table_name, parts in tables.items():
                    table = pa.concat_tables(parts)
                    self.store.append(table_name, table.combine_chunks() if len(parts) > 1 else table)
                for batch in batches:
                    self.store.record_quarantine(batch.quarantined)
                if checkpoint is not None:
                    previous, identity, reader, last = checkpoint
                    assert last.end is not None
                    self.store.checkpoints.advance(previous, identity, reader.format_name, last.offset_kind, last.end)
                crashpoint("ingest-before-commit")
        except (duckdb.Error, OSError) as exc:
            raise _StoreFailure(f"could not store a batch (nothing of it kept): {exc}") from exc
        return added

    def _count(self, batch: BatchResult, added: dict[str, int], file_report: FileReport) -> None:
        """Account for a committed batch, pass its quarantined records on, report progress."""
        for table_name, rows_added in added.items():
            if table_name == EVENTS_TABLE:
                file_report.events += rows_added  # the same records again, kept whole: not a data-model row
                continue
            file_report.ingested += rows_added
            file_report.per_table[table_name] = file_report.per_table.get(table_name, 0) + rows_added
        if batch.end is not None:
            file_report.position = batch.end
        file_report.sourcetype = file_report.sourcetype or batch.sourcetype
        file_report.read += batch.records
        file_report.unmapped += batch.unmapped
        file_report.quarantined += len(batch.quarantined)
        self.read += batch.records
        self.quarantined += len(batch.quarantined)
        room = QUARANTINE_SAMPLE - len(self.report.quarantine)
        if room > 0:
            self.report.quarantine.extend(batch.quarantined[:room])
        if self.options.on_quarantine and batch.quarantined:
            self.options.on_quarantine(batch.quarantined)
        if self.options.on_progress:
            elapsed = time.monotonic() - self.began
            done = len(self.report.files) - 1
            self.options.on_progress(
                IngestProgress(self.inputs, done, file_report.path, self.read, self.quarantined, elapsed)
            )


def ingest(
    paths: Iterable[Path],
    store: Store | LakeWriter,
    forced_format: str | None = None,
    *,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    mappings: Sequence[CustomMapping] = (),
    incremental: bool = True,
    final: bool = True,
    on_progress: ProgressCallback | None = None,
    on_quarantine: QuarantineSink | None = None,
    normalizer: Normalizer | None = None,
    workers: int | None = None,
    raw: bool = True,
) -> IngestReport:
    """Ingest every input below `paths` into `store`; see the module docstring for the guarantees.

    `mappings` are the user's compiled mapping files; `on_progress` is called after every committed
    batch and `on_quarantine` with every batch's quarantined records (the report keeps a sample);
    `normalizer` lets a caller that polls (a follower) keep one DuckDB connection across calls.
    Reading and normalising run on `workers` processes (`ingest/workers.py`; by default every core
    once the input is large enough); storing stays here, in input order, one transaction per batch.
    A Parquet lake (`LakeWriter`) keeps no checkpoints, so ingest into it is never incremental.
    `raw=False` skips the raw-event store (`events` table): only data-model rows are kept.
    """
    readers = build_readers(mappings)
    if forced_format:
        readers.by_name(forced_format)  # unknown names fail before any work
    if normalizer is None:
        normalizer = Normalizer(MappingRegistry([m.json for m in mappings] + [m.csv for m in mappings]), raw=raw)
    incremental = incremental and isinstance(store, Store)  # not a lake
    run = _Run(store, readers, normalizer, _Options(forced_format, incremental, final, on_progress, on_quarantine))
    paths = list(paths)
    named = {path for path in paths if not path.is_dir()}
    inputs = list(discover(paths, include, exclude))
    run.inputs = len(inputs)
    plans: list[_Planned] = []
    for item in inputs:
        if isinstance(item, MissingSource):
            run.report.files.append(FileReport(item.name, error=item.reason))
            continue
        plan = run.prepare(item, item.member is None and item.path in named)
        if plan is not None:
            plans.append(plan)
    sizes = [(plan.reader.format_name, max(0, (plan.source.size or 0) - plan.start.offset)) for plan in plans]
    total = sum(size for _, size in sizes)
    pool = choose_workers(pool_bytes(sizes), workers)
    unit_bytes = unit_size(total, pool) if pool > 1 else None
    units: list[WorkUnit] = []
    for index, plan in enumerate(plans):
        try:
            units.extend(plan_units(index, plan.source, plan.reader, plan.start, final, unit_bytes))
        except OSError:
            units.append(WorkUnit(index, plan.source, plan.reader.format_name, plan.start, None, final))
    run.unstaged = sum(map(input_bytes, units))
    with store.one_thread():
        _store_results(run, plans, run_units(units, pool, mappings, inline=(readers, normalizer), raw=raw))
    run.report.seconds = time.monotonic() - run.began
    return run.report


def input_bytes(unit: WorkUnit) -> int:
    """About how many bytes of input a unit reads: its range, or the rest of its input."""
    end = unit.end if unit.end is not None else (unit.source.size or 0)
    return max(0, end - unit.start.offset)


def _chunks(batches: list[BatchResult]) -> Iterator[list[BatchResult]]:
    """Consecutive batches, up to `TX_RECORDS` records a chunk (a larger batch alone)."""
    chunk: list[BatchResult] = []
    records = 0
    for batch in batches:
        if chunk and records + batch.records > TX_RECORDS:
            yield chunk
            chunk, records = [], 0
        chunk.append(batch)
        records += batch.records
    if chunk:
        yield chunk


def _store_results(run: _Run, plans: list[_Planned], results: Iterable[UnitResult]) -> None:
    """Store results as they come, in few large transactions (`_Run.stage`), the last at the end."""
    for result in results:
        run.stage(plans[result.unit.index], result)
    run.flush()


@dataclass
class _Staged:
    """A unit's batches in the open transaction, from `start` on (their tables handed to the store), the
    rows each added, the reader's error after them, and the identity the input resumed from before."""

    plan: _Planned
    unit: WorkUnit
    start: Position
    previous: FileIdentity | None
    batches: list[BatchResult] = field(default_factory=list)
    added: list[dict[str, int]] = field(default_factory=list)
    error: str | None = None


class _Transaction:
    """One open store transaction filled by many units.

    DuckDB commits a transaction into a table whose last row group is partly filled by copying and
    recompressing, at a cost that grows with the table and its columns: committing the raw events of
    the 70 k-record EVTX corpus in transactions of 20 k records cost 2.5 s of CPU against 0.002 s for one
    transaction. So batches are appended as they come and committed after `COMMIT_ROWS` records. Their
    tables are buffered (one insert per table per `BUFFER_ROWS` rows, as an insert costs about a
    millisecond whatever its size) and then dropped, so what waits for the commit is DuckDB's
    (spillable) storage, not Arrow tables in this process.
    """

    def __init__(self, store: Store | LakeWriter) -> None:
        self.store = store
        self.staged: list[_Staged] = []
        self.records = 0
        #: about how many bytes of input the units staged here read (`input_bytes`)
        self.bytes = 0
        self._tables: dict[str, list[pa.Table]] = {}
        self._rows = 0
        self._quarantined: list[QuarantinedRecord] = []
        self._advances: dict[str, tuple[FileIdentity | None, FileIdentity, str | None, str, Position]] = {}
        self._stack = ExitStack()
        self._stack.enter_context(store.transaction())

    def part(self, plan: _Planned, unit: WorkUnit, start: Position) -> _Staged:
        """The staged part of `unit` (begun at `start` when the unit has none yet)."""
        if not self.staged or self.staged[-1].unit is not unit:
            self.staged.append(_Staged(plan, unit, start, plan.previous))
        return self.staged[-1]

    def add(self, plan: _Planned, unit: WorkUnit, start: Position, batch: BatchResult, incremental: bool) -> None:
        staged = self.part(plan, unit, start)
        staged.batches.append(batch)
        staged.added.append({name: table.num_rows for name, table in batch.tables.items()})
        for name, table in batch.tables.items():
            if table.num_rows:
                self._tables.setdefault(name, []).append(table)
                self._rows += table.num_rows
        batch.tables = {}
        self._quarantined.extend(batch.quarantined)
        self.records += batch.records
        if incremental and batch.end is not None:
            key = plan.identity.source
            first = self._advances.get(key, (plan.previous,))[0]
            self._advances[key] = (first, plan.identity, plan.reader.format_name, batch.offset_kind, batch.end)
            plan.previous = plan.identity
        if self._rows >= BUFFER_ROWS:
            self._write()

    def full(self) -> bool:
        return self.records >= COMMIT_ROWS or len(self.staged) >= COMMIT_INPUTS

    def takes_the_rest(self, rest_bytes: int) -> bool:
        """Whether to go on past `full` with the rest of the run's input, `rest_bytes`, being less than this
        transaction has taken (so at most about twice as much in the last one): DuckDB commits a
        transaction of fewer rows than a row group into a table that has rows by appending them all again
        (the last 91 k of 214 k Sysmon events: 0.75-0.9 CPU s of a 3.3-3.9 s ingest), where one of a row
        group or more, or into an empty table, takes over the rows it wrote as they came."""
        return len(self.staged) < COMMIT_INPUTS and rest_bytes < self.bytes

    def _write(self) -> None:
        """The buffered tables into the store, one insert per table, in arrival order."""
        tables, self._tables, self._rows = self._tables, {}, 0
        for name, parts in tables.items():
            if len(parts) == 1:
                self.store.append(name, parts[0])
                continue
            table = pa.concat_tables(parts)  # one chunk: DuckDB scans many small chunks slowly
            self.store.append(name, table.combine_chunks())
        self.store.record_quarantine(self._quarantined)
        self._quarantined = []

    def commit(self) -> None:
        self._write()
        advances = list(self._advances.values())
        if len(advances) == 1:
            self.store.checkpoints.advance(*advances[0])
        elif advances:
            self.store.checkpoints.advance_many(advances)
        crashpoint("ingest-before-commit")
        self._stack.close()

    def rollback(self, exc: BaseException) -> None:
        self._tables, self._quarantined = {}, []
        with suppress(duckdb.Error, OSError):  # a commit that failed has already ended the transaction
            self._stack.__exit__(type(exc), exc, exc.__traceback__)


@dataclass
class _Planned:
    """An input about to be read: its reader, report, checkpoint identity and where to start."""

    source: Source
    reader: Reader
    report: FileReport
    identity: FileIdentity
    previous: FileIdentity | None
    start: Position
    failed: bool = False
    seconds: float = 0.0
