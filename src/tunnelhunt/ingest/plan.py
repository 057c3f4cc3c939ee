"""Work units: how the inputs of one ingest are cut (whole inputs, byte ranges of large files, groups
of small ones) and how many processes read them. Pure planning: nothing here reads events."""

from __future__ import annotations

import codecs
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa

from tunnelhunt.readers.base import OffsetKind, Position, QuarantinedRecord, Reader
from tunnelhunt.readers.sources import DAMAGED_INPUT, Source

#: Largest and smallest work unit cut from a large file; between them, about 4 units per worker so
#: the last units finish together. A unit's normalised tables (raw events included) weigh about three
#: times its bytes, held by its worker and then by the parent while up to two units per worker wait:
#: units of 32 MB made a hunt of 300 MB of Sysmon XML peak at 1.35 GB (PSS of the process tree).
UNIT_BYTES = 8 << 20
MIN_UNIT_BYTES = 2 << 20
#: Below this much input a process pool costs more (start-up, pickling) than it saves.
PARALLEL_MIN_BYTES = 24 << 20
#: Formats whose bytes do not count toward that: the EVTX parser already decodes chunks on every core
#: and its files hold few records per byte (2.9 kB each): on the 202 MB EVTX corpus the pool gained no
#: wall time and cost 55 % more CPU (issue 20).
POOL_FREE_FORMATS = frozenset({"evtx"})
#: Whole inputs up to this size are read and normalised together, up to this much and this many per
#: unit group: each normalisation costs a few DuckDB queries whatever its size, which dominated the
#: time of folders of small files (hundreds of EVTX samples of a few hundred kB).
GROUP_BYTES = 16 << 20
GROUP_INPUTS = 128
#: Errors that end the reading of one input (the others go on).
READ_ERRORS = DAMAGED_INPUT
_COUNT_BLOCK = 8 << 20


@dataclass(frozen=True)
class WorkUnit:
    """An input from `start`, up to byte `end` (the next unit's start) or its end when None."""

    index: int  # which input of the run
    source: Source
    format: str
    start: Position
    end: int | None
    final: bool


@dataclass
class BatchResult:
    """One normalised batch, ready to be stored with its checkpoint."""

    tables: dict[str, pa.Table]
    unmapped: int
    quarantined: list[QuarantinedRecord]
    records: int
    end: Position | None
    offset_kind: OffsetKind
    sourcetype: str | None


@dataclass
class UnitResult:
    unit: WorkUnit
    batches: list[BatchResult] = field(default_factory=list)
    error: str | None = None
    #: where these batches begin when they are a part of the unit (`workers.unit_parts`); None: its start
    start: Position | None = None


class _RangeStream:
    """A plain file's bytes up to `end`: seeks and tells like the file, reads stop at `end`."""

    is_plain_file = True

    def __init__(self, stream: Any, end: int) -> None:
        self._stream = stream
        self._end = end

    def read(self, size: int = -1) -> bytes:
        left = self._end - self._stream.tell()
        if left <= 0:
            return b""
        return bytes(self._stream.read(left if size is None or size < 0 else min(size, left)))

    def peek(self, size: int = 1) -> bytes:
        return bytes(self._stream.peek(size))[: max(0, self._end - self._stream.tell())]

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self._stream.seek(offset, whence))

    def tell(self) -> int:
        return int(self._stream.tell())

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> _RangeStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class RangeSource:
    """A plain input read only up to byte `end`; named like the whole input (reports, checkpoints)."""

    source: Source
    end: int

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def path(self) -> Path:
        return self.source.path

    @property
    def member(self) -> str | None:
        return None

    @property
    def compressed(self) -> bool:
        return False

    @property
    def size(self) -> int | None:
        return self.end

    def open(self) -> BinaryIO:
        return _RangeStream(self.source.open(), self.end)  # type: ignore[return-value]

    def head(self, size: int = 4096) -> bytes:
        with self.open() as stream:
            return stream.read(size)


def group_units(units: Sequence[WorkUnit], max_bytes: int = GROUP_BYTES) -> list[list[WorkUnit]]:
    """Consecutive whole inputs of one format, each smaller than `max_bytes`, travel together
    (up to `max_bytes` and `GROUP_INPUTS` per group); ranges of a large input stay alone.

    A group is read whole before it is normalised, so what counts is the bytes its readers get
    (`Source.expanded_size`), not the size on disk: a compressed input whose expanded size is unknown
    stays alone (two 3.4 MB zip members of 106 MB each, grouped, held ~2 GB)."""
    groups: list[list[WorkUnit]] = []
    current: list[WorkUnit] = []
    size = 0
    for unit in units:
        unit_bytes = unit.source.expanded_size
        if unit_bytes is None:
            unit_bytes = max_bytes
        small = unit.end is None and unit.start.offset == 0 and unit_bytes < max_bytes
        joins = (
            small
            and current
            and current[0].format == unit.format
            and size + unit_bytes <= max_bytes
            and len(current) < GROUP_INPUTS
            and all(u.source.name != unit.source.name for u in current)
        )
        if not joins:
            if current:
                groups.append(current)
            current, size = [], 0
        current.append(unit)
        size += unit_bytes
        if not small:
            groups.append(current)
            current, size = [], 0
    if current:
        groups.append(current)
    return groups


def _lines_before(path: Path, start: Position, cuts: list[int]) -> list[int]:
    """Lines before each cut (cuts ascending, after `start`), counting from the start position."""
    lines: list[int] = []
    with path.open("rb") as stream:
        stream.seek(start.offset)
        here, count = start.offset, start.line
        for cut in cuts:
            while here < cut:
                block = stream.read(min(_COUNT_BLOCK, cut - here))
                if not block:
                    break
                count += block.count(b"\n")
                here += len(block)
            lines.append(count)
    return lines


_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def plan_units(
    index: int, source: Source, reader: Reader, start: Position, final: bool, unit_bytes: int | None
) -> list[WorkUnit]:
    """The units of one input: ranges cut at event starts when its reader can cut it, else the whole."""
    whole = [WorkUnit(index, source, reader.format_name, start, None, final)]
    if unit_bytes is None or source.member or source.compressed:
        return whole
    size = source.size or 0
    if size - start.offset <= unit_bytes:
        return whole
    with source.path.open("rb") as stream:
        if stream.read(4).startswith(_BOMS):
            return whole  # resume offsets count the decoded text, not the file: keep such files whole
        cuts = [c for c in reader.cut_points(stream, size, unit_bytes) or [] if c > start.offset]
    if not cuts:
        return whole
    lines = _lines_before(source.path, start, cuts)
    starts = [start, *(Position(cut, line) for cut, line in zip(cuts, lines, strict=True))]
    ends: list[int | None] = [*cuts, None]
    return [
        WorkUnit(index, source, reader.format_name, begin, end, final if end is None else True)
        for begin, end in zip(starts, ends, strict=True)
    ]


def unit_size(total_bytes: int, workers: int) -> int:
    """Work unit size for an input of `total_bytes` on `workers` processes."""
    return max(MIN_UNIT_BYTES, min(UNIT_BYTES, total_bytes // max(1, workers * 4)))


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def choose_workers(total_bytes: int, requested: int | None) -> int:
    """The pool size: as asked, else every core when the input is large enough to pay for the pool
    (`total_bytes`: the bytes of inputs whose format gains from it, see `pool_bytes`)."""
    if requested is not None:
        return max(1, requested)
    return default_workers() if total_bytes >= PARALLEL_MIN_BYTES else 1


def pool_bytes(sizes: Sequence[tuple[str, int]]) -> int:
    """The bytes, of (format, bytes) inputs, that a process pool would speed up (not POOL_FREE_FORMATS)."""
    return sum(size for fmt, size in sizes if fmt not in POOL_FREE_FORMATS)
