"""Text inputs as blocks of lines: UTF-8 always, bounded line length, exact resume positions.

Every line-oriented reader (JSON lines, Zeek TSV, syslog) goes through `line_blocks`. It reads
large blocks, splits them in Arrow (no Python object per line), drops blank lines, and quarantines
a line longer than the limit without ever holding it whole. Text is decoded as UTF-8 with invalid
bytes replaced (the record is kept, the damage is visible as U+FFFD); UTF-16 files with a byte-order
mark are transcoded on the fly.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from tunnelhunt.readers.base import MAX_RECORD_BYTES, START, Position, QuarantinedRecord, excerpt

#: Bytes read per block; a block of JSON lines becomes one Arrow batch of a few thousand records.
BLOCK_BYTES = 8 << 20


class Utf8Stream:
    """A byte stream read as UTF-8: UTF-16 (with BOM) transcoded, a UTF-8 BOM dropped.

    Offsets used for resuming count bytes of this UTF-8 view, so they stay valid for any encoding.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        head = stream.peek(4)[:4] if hasattr(stream, "peek") else b""
        self._decoder: codecs.IncrementalDecoder | None = None
        self._pending = b""
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self._decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        elif head.startswith(codecs.BOM_UTF8):
            stream.read(len(codecs.BOM_UTF8))
        self._eof = False

    def read(self, size: int) -> bytes:
        if self._decoder is None:
            return self._stream.read(size)
        while len(self._pending) < size and not self._eof:
            raw = self._stream.read(size)
            if not raw:
                self._pending += self._decoder.decode(b"", final=True).encode("utf-8")
                self._eof = True
                break
            self._pending += self._decoder.decode(raw).encode("utf-8")
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def skip(self, count: int) -> int:
        """Advance `count` bytes (seeking when the stream allows it); returns the bytes skipped."""
        if count <= 0:
            return 0
        if self._decoder is None and _seekable(self._stream):
            here = self._stream.tell()
            end = self._stream.seek(0, 2)
            target = min(here + count, end)
            self._stream.seek(target)
            return target - here
        skipped = 0
        while skipped < count:
            chunk = self.read(min(count - skipped, BLOCK_BYTES))
            if not chunk:
                break
            skipped += len(chunk)
        return skipped


def text_head(head: bytes) -> bytes:
    """A head as UTF-8 text readers see it: UTF-16 transcoded, byte-order marks dropped."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        usable = head[: len(head) - (len(head) % 2)]
        return usable.decode("utf-16", "replace").encode("utf-8")
    return head.removeprefix(codecs.BOM_UTF8)


def head_lines(head: bytes, limit: int = 100) -> list[bytes]:
    """The first `limit` non-blank lines of a head, stripped (the last one only when it is the only one:
    it may be cut short by the head's size)."""
    lines = head.split(b"\n")
    if len(lines) > 1:
        lines = lines[:-1]
    found: list[bytes] = []
    for line in lines:
        line = line.strip()
        if line:
            found.append(line)
            if len(found) >= limit:
                break
    return found


def _seekable(stream: BinaryIO) -> bool:
    """Plain files seek in O(1); decompressors 'seek' by decompressing, which `skip` does itself."""
    return bool(getattr(stream, "is_plain_file", False))


@dataclass
class LineBlock:
    """Non-blank lines of one block with their line numbers, and the lines quarantined in it."""

    lines: pa.Array
    numbers: pa.Array
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    end: Position = field(default_factory=Position)


def _too_long(source: str, line: int, head: bytes, length: int, limit: int) -> QuarantinedRecord:
    reason = f"line of {length} bytes exceeds the {limit}-byte limit"
    return QuarantinedRecord(source, line, "line", reason, excerpt(head))


def split_block(
    data: bytes, first_line: int, source: str, max_line: int = MAX_RECORD_BYTES
) -> tuple[pa.Array, pa.Array, list[QuarantinedRecord]]:
    """Lines of `data` (newline-terminated) numbered from `first_line`; blank lines dropped.

    The block is wrapped as one Arrow string without copying and split in Arrow, so a block costs
    about twice its size in memory whatever the number of lines.
    """
    whole = _as_arrow_text(data)
    parts = pc.split_pattern(whole, "\n").flatten()
    if len(parts) and data.endswith(b"\n"):
        parts = parts.slice(0, len(parts) - 1)
    lines = pc.utf8_rtrim(parts, characters="\r") if b"\r" in data else parts
    numbers = pa.array(range(first_line, first_line + len(lines)), pa.int64())
    keep = pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(lines)), 0)
    bad: list[QuarantinedRecord] = []
    if len(data) > max_line:
        oversized = pc.greater(pc.binary_length(lines), max_line)
        if pc.any(oversized).as_py():
            for index in pc.indices_nonzero(oversized).to_pylist():
                value = lines[index].as_py()
                size = len(value.encode("utf-8"))
                bad.append(_too_long(source, first_line + index, value[:400].encode(), size, max_line))
            keep = pc.and_(keep, pc.invert(oversized))
    if pc.all(keep).as_py():
        return lines, numbers, bad
    return lines.filter(keep), numbers.filter(keep), bad


def _as_arrow_text(data: bytes) -> pa.Array:
    """`data` as a one-element Arrow string, zero-copy when it is valid UTF-8 (replaced otherwise)."""
    offsets = pa.py_buffer(struct.pack("<qq", 0, len(data)))
    whole = pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data))
    try:
        whole.validate(full=True)
    except pa.ArrowInvalid:
        return pa.array([data.decode("utf-8", "replace")], pa.large_string())
    return whole


def line_blocks(
    stream: Utf8Stream,
    source: str,
    start: Position = START,
    final: bool = True,
    block_bytes: int = BLOCK_BYTES,
    max_line: int = MAX_RECORD_BYTES,
) -> Iterator[LineBlock]:
    """Blocks of lines from `start` on; each block's `end` is where the next read may resume.

    A line longer than `max_line` is quarantined while being skipped, never buffered. With
    `final=False` an unterminated last line (a writer mid-line) is left for the next read.
    """
    stream.skip(start.offset)
    committed, line = start.offset, start.line
    carry = b""
    oversized: list[int | bytes] | None = None  # [first line number, head bytes, length so far]
    pending: list[QuarantinedRecord] = []
    empty = pa.array([], pa.string()), pa.array([], pa.int64())
    while True:
        chunk = stream.read(block_bytes)
        if not chunk:
            break
        if oversized is not None:
            newline = chunk.find(b"\n")
            if newline < 0:
                oversized[2] = int(oversized[2]) + len(chunk)
                continue
            length = int(oversized[2]) + newline
            pending.append(_too_long(source, int(oversized[0]), bytes(oversized[1]), length, max_line))
            committed += length + 1
            line += 1
            oversized = None
            chunk = chunk[newline + 1 :]
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = b""
            if len(data) > max_line:
                oversized = [line + 1, data[:400], len(data)]
            else:
                carry = data
            if pending:
                yield LineBlock(*empty, pending, Position(committed, line))
                pending = []
            continue
        complete, carry = data[: cut + 1], data[cut + 1 :]
        lines, numbers, bad = split_block(complete, line + 1, source, max_line)
        committed += len(complete)
        line += complete.count(b"\n")
        if len(carry) > max_line:
            oversized, carry = [line + 1, carry[:400], len(carry)], b""
        yield LineBlock(lines, numbers, pending + bad, Position(committed, line))
        pending = []
    if not final:
        if pending:
            yield LineBlock(*empty, pending, Position(committed, line))
        return
    if oversized is not None:
        pending.append(_too_long(source, int(oversized[0]), bytes(oversized[1]), int(oversized[2]), max_line))
        committed += int(oversized[2])
        line += 1
    elif carry:
        lines, numbers, bad = split_block(carry, line + 1, source, max_line)
        committed += len(carry)
        line += 1
        yield LineBlock(lines, numbers, pending + bad, Position(committed, line))
        return
    if pending:
        yield LineBlock(*empty, pending, Position(committed, line))


def line_cut_points(stream: BinaryIO, size: int, unit_bytes: int) -> list[int]:
    """Byte offsets just after a newline, about `unit_bytes` apart (for JSON lines: no header to repeat)."""
    cuts: list[int] = []
    target = unit_bytes
    while target < size:
        stream.seek(target)
        stream.readline()
        cut = stream.tell()
        if cut >= size:
            break
        cuts.append(cut)
        target = cut + unit_bytes
    return cuts
