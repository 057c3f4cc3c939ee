"""The contract every reader keeps: batches of raw records, plus the records it could not read.

A reader never drops a record silently. Each record it meets ends up either in a `RawBatch`
(columns `_source`, `_offset` and the format's own fields, all strings, or one `_json` column
holding the record's JSON text) or as a `QuarantinedRecord` naming the file, the line, byte
offset or record number, and the reason.

Readers are resumable: `read(source, start)` begins at a `Position` a previous read reported, and
every batch carries `end`, the position just after the last record it accounts for. Storing a
batch together with its `end` (one transaction) is what makes ingest exactly-once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, Literal

import pyarrow as pa

from tunnelhunt.errors import Location, TunnelhuntError

if TYPE_CHECKING:
    from tunnelhunt.readers.sources import Source

OffsetKind = Literal["line", "byte", "record"]

#: How much of a bad record is kept in quarantine, so a hostile 50 MB line stays a short excerpt.
EXCERPT_CHARS = 240
#: Longest line (or event) a reader accepts; a longer one is quarantined without being buffered whole.
MAX_RECORD_BYTES = 1 << 20


def excerpt(raw: bytes | str) -> str:
    """A bounded, printable excerpt of a raw record for quarantine reports."""
    if isinstance(raw, bytes):
        raw = raw[: EXCERPT_CHARS * 4].decode("utf-8", "replace")
    text = raw[: EXCERPT_CHARS + 1].replace("\x00", "\\x00")
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


@dataclass(frozen=True)
class QuarantinedRecord:
    """A record that could not be read, with where it was and why."""

    source: str
    offset: int
    offset_kind: OffsetKind
    reason: str
    excerpt: str = ""

    def location(self) -> str:
        return f"{self.source}:{self.offset_kind} {self.offset}"

    def to_dict(self) -> dict[str, object]:
        """The quarantine JSON line: file, `line`/`byte`/`record` offset, reason, excerpt."""
        return {"file": self.source, self.offset_kind: self.offset, "reason": self.reason, "excerpt": self.excerpt}


@dataclass(frozen=True)
class Position:
    """Where a reader stopped, so the next read resumes there.

    `offset` is a byte offset in the decoded (decompressed, UTF-8) stream for text formats, or the
    last record number read for EVTX; `line` is the number of lines before `offset`, so line numbers
    in quarantine reports stay true after a resume.
    """

    offset: int = 0
    line: int = 0


START = Position()


@dataclass
class RawBatch:
    """Raw records of one source type, as columns; `sourcetype` selects the CIM mapping."""

    sourcetype: str
    table: pa.Table
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    offset_kind: OffsetKind = "line"
    end: Position | None = None
    #: The `_json` column was produced by a parser (EVTX), so every value is known to be a JSON object.
    json_checked: bool = False

    @property
    def records(self) -> int:
        return self.table.num_rows


class ReaderError(TunnelhuntError):
    """A whole file could not be read (missing, unreadable, wrong format)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason

    @property
    def location(self) -> Location:
        return Location(file=self.source)


class Reader(ABC):
    """A log format: can it read this input, and its batches when it does.

    Every reader subclasses this. `sniff`, `read` and `fingerprint_region` are required; `fits` and
    `cut_points` are optional abilities with defaults (none), so callers never probe with `getattr`.
    """

    format_name: str
    #: What `_offset` and quarantine offsets count: lines, bytes or record numbers.
    offset_kind: OffsetKind

    @abstractmethod
    def sniff(self, head: bytes) -> bool:
        """True when the first (decoded) bytes of an input look like this format."""

    @abstractmethod
    def read(self, source: Source, start: Position = START, final: bool = True) -> Iterator[RawBatch]:
        """Yield batches from `start` on; raise `ReaderError` only when nothing of the input can be read.

        `final=False` means the input may still grow: a last line or event without its terminator is
        left for the next read instead of being read (or quarantined) now.
        """

    @abstractmethod
    def fingerprint_region(self, head: bytes) -> bytes:
        """The bytes that identify this input across growth (the head for text, first records for EVTX)."""

    def fits(self, head: bytes) -> bool:
        """A looser test than `sniff`, for checking a forced `--format` against the content (default: no)."""
        return False

    def cut_points(self, stream: BinaryIO, size: int, unit_bytes: int) -> list[int] | None:
        """Byte offsets, about `unit_bytes` apart, where this input can be cut into independently read
        ranges for parallel ingest; None when the format cannot be cut (the default)."""
        return None


def rows_to_table(
    rows: list[dict[str, str | None]], source: str, offsets: list[int], columns: frozenset[str] | None = None
) -> pa.Table:
    """Columnise dicts with differing keys into one all-string Arrow table (keys unioned).

    With `columns`, only those keys become columns (the others are not needed downstream).
    """
    keys: dict[str, None] = {}
    if columns is None:
        for row in rows:
            keys.update(dict.fromkeys(row))
    else:
        keys = dict.fromkeys(sorted(columns))
    columns_out: dict[str, pa.Array] = {
        "_source": pa.array([source] * len(rows), pa.string()),
        "_offset": pa.array(offsets, pa.int64()),
    }
    for key in keys:
        columns_out[key] = pa.array([row.get(key) for row in rows], pa.string())
    return pa.table(columns_out)


def empty_table(source: str) -> pa.Table:
    """A batch with no records (it may still carry quarantined ones and an end position)."""
    return rows_to_table([], source, [])
