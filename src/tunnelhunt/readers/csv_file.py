"""CSV exports with a header row, matched to a mapping preset by their column names.

Python's C `csv` module does the quoting rules (fields with commas, quotes and newlines); the
reader tracks the byte offset and line of every row so a resume lands on a row boundary and a bad
row is reported by line. A row with a different number of fields than the header, a field beyond
the size limit, or broken quoting is quarantined; empty cells become NULL.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from tunnelhunt.readers.base import (
    MAX_RECORD_BYTES,
    START,
    OffsetKind,
    Position,
    QuarantinedRecord,
    RawBatch,
    Reader,
    ReaderError,
    excerpt,
)
from tunnelhunt.readers.lines import BLOCK_BYTES, Utf8Stream, text_head
from tunnelhunt.readers.sources import Source

BATCH_ROWS = 10_000
csv.field_size_limit(MAX_RECORD_BYTES)


@dataclass(frozen=True)
class CsvLayout:
    """A kind of CSV export: its name, the source type it gets and how its header is recognised."""

    name: str
    sourcetype: str
    accepts: Callable[[list[str]], bool]


_ECS_ROOTS = ("event.", "process.", "dns.", "host.", "source.", "destination.", "file.", "winlog.")

#: Built-in CSV layouts, most specific first.
CSV_LAYOUTS: tuple[CsvLayout, ...] = (
    CsvLayout(
        "windows",
        "WinEventLog:csv",
        lambda h: "EventID" in h and any(c in h for c in ("Channel", "Computer", "Hostname", "Provider", "SourceName")),
    ),
    CsvLayout("ocsf", "ocsf:csv", lambda h: "class_uid" in h),
    CsvLayout("ecs", "ecs:csv", lambda h: "@timestamp" in h and any(c.startswith(_ECS_ROOTS) for c in h)),
)


def custom_csv_layout(name: str, sourcetype: str, required: tuple[str, ...]) -> CsvLayout:
    return CsvLayout(name, sourcetype, lambda header: all(f in header for f in required))


def parse_header(head: bytes) -> list[str] | None:
    """The header row of a CSV head, or None when the head does not start like a CSV file."""
    first = head.split(b"\n", 1)[0].rstrip(b"\r").removeprefix(codecs.BOM_UTF8)
    if not first or first[:1] in (b"{", b"[", b"<", b"#") or b"\x00" in first:
        return None
    try:
        row = next(csv.reader([first.decode("utf-8")]))
    except (csv.Error, UnicodeDecodeError, StopIteration):
        return None
    if len(row) < 2 or any(not cell.strip() or len(cell) > 200 for cell in row):
        return None
    return [cell.strip() for cell in row]


@dataclass
class _Cursor:
    """How far the physical-line feed has got, and the lines it had to quarantine."""

    offset: int
    line: int
    quarantined: list[QuarantinedRecord] = field(default_factory=list)


def _physical_lines(stream: Utf8Stream, cursor: _Cursor, source: str, final: bool) -> Iterator[str]:
    """Lines with their terminators, as the csv module wants them; advances `cursor` per line."""
    buf = b""
    while True:
        chunk = stream.read(BLOCK_BYTES)
        if not chunk:
            break
        buf += chunk
        start = 0
        while True:
            newline = buf.find(b"\n", start)
            if newline < 0:
                break
            raw = buf[start : newline + 1]
            start = newline + 1
            if len(raw) > MAX_RECORD_BYTES:
                cursor.offset += len(raw)
                cursor.line += 1
                reason = f"line of {len(raw)} bytes exceeds the {MAX_RECORD_BYTES}-byte limit"
                cursor.quarantined.append(QuarantinedRecord(source, cursor.line, "line", reason, excerpt(raw[:400])))
                continue
            cursor.offset += len(raw)
            cursor.line += 1
            yield raw.decode("utf-8", "replace")
        buf = buf[start:]
        if len(buf) > MAX_RECORD_BYTES:
            # an endless line: count it, keep nothing but its head
            reason = f"line exceeds the {MAX_RECORD_BYTES}-byte limit"
            head = buf[:400]
            skipped = len(buf)
            while True:
                chunk = stream.read(BLOCK_BYTES)
                newline = chunk.find(b"\n") if chunk else -1
                if not chunk or newline >= 0:
                    break
                skipped += len(chunk)
            if chunk and newline >= 0:
                skipped += newline + 1
                buf = chunk[newline + 1 :]
            else:
                buf = b""
                if not final:
                    return
            cursor.offset += skipped
            cursor.line += 1
            cursor.quarantined.append(QuarantinedRecord(source, cursor.line, "line", reason, excerpt(head)))
    if buf and final:
        cursor.offset += len(buf)
        cursor.line += 1
        yield buf.decode("utf-8", "replace")


class CsvReader(Reader):
    """Reads CSV files whose header matches a layout; `_offset` is the line a row starts on."""

    format_name = "csv"
    offset_kind: OffsetKind = "line"

    def __init__(self, layouts: tuple[CsvLayout, ...] = CSV_LAYOUTS) -> None:
        self.layouts = layouts

    def layout_for(self, header: list[str]) -> CsvLayout | None:
        for layout in self.layouts:
            if layout.accepts(header):
                return layout
        return None

    def sniff(self, head: bytes) -> bool:
        header = parse_header(head)
        return header is not None and self.layout_for(header) is not None

    def fits(self, head: bytes) -> bool:
        return parse_header(head) is not None or not head.strip()

    def fingerprint_region(self, head: bytes) -> bytes:
        return head

    def read(self, source: Source, start: Position = START, final: bool = True) -> Iterator[RawBatch]:
        name = source.name
        head = text_head(source.head())
        header = parse_header(head)
        if header is None:
            if not head.strip():
                return
            raise ReaderError(name, "no CSV header row")
        layout = self.layout_for(header)
        if layout is None:
            known = ", ".join(item.name for item in self.layouts)
            raise ReaderError(name, f"CSV columns match no mapping preset ({known}); give --mapping FILE")
        with source.open() as raw:
            stream = Utf8Stream(raw)
            stream.skip(start.offset)
            cursor = _Cursor(start.offset, start.line)
            consumed: list[str] = []
            feed = _recorded(_physical_lines(stream, cursor, name, final), consumed)
            if start.offset == 0:
                next(csv.reader(feed), None)  # the header row
            yield from self._rows(csv.reader(feed), cursor, header, layout.sourcetype, name, consumed)

    def _rows(
        self,
        rows: Iterator[list[str]],
        cursor: _Cursor,
        header: list[str],
        sourcetype: str,
        name: str,
        consumed: list[str],
    ) -> Iterator[RawBatch]:
        good: list[list[str]] = []
        lines: list[int] = []
        raws: list[str] = []
        bad: list[QuarantinedRecord] = []
        while True:
            first_line = cursor.line + 1
            consumed.clear()
            try:
                row = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                bad.append(QuarantinedRecord(name, first_line, "line", f"malformed CSV row: {exc}"))
                continue
            bad.extend(cursor.quarantined)
            cursor.quarantined.clear()
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(header):
                reason = f"row has {len(row)} fields, the header has {len(header)}"
                bad.append(QuarantinedRecord(name, first_line, "line", reason, excerpt(",".join(row))))
                continue
            good.append(row)
            lines.append(first_line)
            raws.append("".join(consumed).rstrip("\r\n"))
            if len(good) >= BATCH_ROWS:
                end = Position(cursor.offset, cursor.line)
                yield RawBatch(sourcetype, _table(good, lines, header, name, raws), bad, "line", end)
                good, lines, raws, bad = [], [], [], []
        bad.extend(cursor.quarantined)
        cursor.quarantined.clear()
        if good or bad or cursor.offset:
            end = Position(cursor.offset, cursor.line)
            yield RawBatch(sourcetype, _table(good, lines, header, name, raws), bad, "line", end)


def _recorded(lines: Iterator[str], consumed: list[str]) -> Iterator[str]:
    """The lines, each also noted in `consumed`, so a row's text as read (`_raw`) is known."""
    for line in lines:
        consumed.append(line)
        yield line


def _table(rows: list[list[str]], lines: list[int], header: list[str], name: str, raws: list[str]) -> pa.Table:
    columns: dict[str, pa.Array] = {
        "_source": pa.repeat(pa.scalar(name, pa.string()), len(rows)),
        "_offset": pa.array(lines, pa.int64()),
        "_raw": pa.array(raws, pa.string()),
    }
    values = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    empty = pa.scalar(None, pa.string())
    for column, cells in zip(header, values, strict=True):
        if column in columns:
            continue
        array = pa.array(cells, pa.string())
        columns[column] = pc.if_else(pc.equal(array, ""), empty, array)
    return pa.table(columns)
