"""The contract every reader keeps: batches of raw records, plus the records it could not read.

A reader never drops a record silently. Each record it meets ends up either in a `RawBatch`
(columns `_source`, `_offset` and the format's own field names, all strings) or as a
`QuarantinedRecord` naming the file, the line or byte offset and the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import pyarrow as pa

OffsetKind = Literal["line", "byte", "record"]

#: How much of a bad record is kept in quarantine, so a hostile 50 MB line stays a short excerpt.
EXCERPT_CHARS = 240


def excerpt(raw: bytes | str) -> str:
    """A bounded, printable excerpt of a raw record for quarantine reports."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.replace("\x00", "\\x00")
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


@dataclass
class RawBatch:
    """Raw records of one source type, as columns; `sourcetype` selects the normaliser."""

    sourcetype: str
    table: pa.Table
    quarantined: list[QuarantinedRecord] = field(default_factory=list)

    @property
    def records(self) -> int:
        return self.table.num_rows


class ReaderError(Exception):
    """A whole file could not be read (missing, unreadable, wrong format)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class Reader(Protocol):
    """A log format: can it read this file, and the batches when it does."""

    format_name: str

    def sniff(self, head: bytes, path: Path) -> bool:
        """True when the first bytes of a file look like this format."""
        ...

    def read(self, path: Path, batch_size: int = 10_000) -> Iterator[RawBatch]:
        """Yield batches; raise `ReaderError` only when nothing of the file can be read."""
        ...


def rows_to_table(rows: list[dict[str, str | None]], source: str, offsets: list[int]) -> pa.Table:
    """Columnise dicts with differing keys into one all-string Arrow table (keys unioned)."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    columns: dict[str, pa.Array] = {
        "_source": pa.array([source] * len(rows), pa.string()),
        "_offset": pa.array(offsets, pa.int64()),
    }
    for key in keys:
        columns[key] = pa.array([row.get(key) for row in rows], pa.string())
    return pa.table(columns)
