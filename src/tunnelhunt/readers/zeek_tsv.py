"""Zeek's native TSV logs (`#separator`, `#fields` header, `#close` trailer), any log path.

Lines are split into fields in Arrow, not in Python. Unset fields (`-`) become NULL and empty sets
(`(empty)`) an empty string; a line whose field count does not match the `#fields` header is
quarantined. The log's `#path` (dns, conn, ...) travels as the `_path` column so the mapping can
pick the records it models. Files concatenated from several logs (several headers) are handled.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from tunnelhunt.readers.base import START, OffsetKind, Position, QuarantinedRecord, RawBatch, Reader, excerpt
from tunnelhunt.readers.lines import Utf8Stream, line_blocks
from tunnelhunt.readers.sniffing import zeek, zeek_fits
from tunnelhunt.readers.sources import Source

SOURCETYPE = "zeek"
#: Most fields a `#fields` header may declare (Zeek's logs have a few dozen); a header declaring more
#: would make one Arrow column per field of every batch, so its data lines are quarantined instead.
MAX_FIELDS = 1024


@dataclass
class ZeekHeader:
    """The directives of a Zeek TSV header."""

    separator: str = "\t"
    set_separator: str = ","
    empty_field: str = "(empty)"
    unset_field: str = "-"
    path: str | None = None
    fields: list[str] = field(default_factory=list)

    def apply(self, line: str) -> None:
        """Take one `#directive value` line into account."""
        if line.startswith("#separator"):
            value = line[len("#separator") :].strip()
            self.separator = value.encode("ascii", "replace").decode("unicode_escape") or "\t"
            return
        name, _, value = line.partition(self.separator)
        if name == "#fields":
            self.fields = value.split(self.separator)
        elif name == "#set_separator":
            # an empty one would make every character a set boundary (Arrow's replace loops, unbounded)
            self.set_separator = value or ","
        elif name == "#empty_field":
            self.empty_field = value
        elif name == "#unset_field":
            self.unset_field = value
        elif name == "#path":
            self.path = value


def read_header(head: bytes) -> ZeekHeader:
    """The header at the top of a file (used when resuming past it)."""
    header = ZeekHeader()
    for raw in head.split(b"\n"):
        if not raw.startswith(b"#"):
            break
        header.apply(raw.decode("utf-8", "replace").rstrip("\r"))
    return header


class ZeekTsvReader(Reader):
    """Reads Zeek TSV logs; `_offset` is the line number."""

    format_name = "zeek"
    offset_kind: OffsetKind = "line"
    sourcetype = SOURCETYPE

    def sniff(self, head: bytes) -> bool:
        return zeek(head)

    def fits(self, head: bytes) -> bool:
        return zeek_fits(head)

    def fingerprint_region(self, head: bytes) -> bytes:
        return head

    def read(self, source: Source, start: Position = START, final: bool = True) -> Iterator[RawBatch]:
        name = source.name
        header = read_header(source.head()) if start.offset else ZeekHeader()
        with source.open() as raw:
            for block in line_blocks(Utf8Stream(raw), name, start, final):
                tables, bad = self._block(block.lines, block.numbers, header, name)
                table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
                yield RawBatch(self.sourcetype, table, block.quarantined + bad, "line", block.end)

    def _block(
        self, lines: pa.Array, numbers: pa.Array, header: ZeekHeader, name: str
    ) -> tuple[list[pa.Table], list[QuarantinedRecord]]:
        tables: list[pa.Table] = []
        bad: list[QuarantinedRecord] = []
        meta = pc.starts_with(lines, "#")
        cuts = pc.indices_nonzero(meta).to_pylist() if pc.any(meta).as_py() else []
        begin = 0
        for cut in [*cuts, len(lines)]:
            if cut > begin:
                size = cut - begin
                table, rejected = _data(lines.slice(begin, size), numbers.slice(begin, size), header, name)
                tables.append(table)
                bad.extend(rejected)
            if cut < len(lines):
                header.apply(lines[cut].as_py())
            begin = cut + 1
        return tables or [_empty(name)], bad


def _empty(name: str) -> pa.Table:
    return pa.table({"_source": pa.array([], pa.string()), "_offset": pa.array([], pa.int64())})


def _data(
    lines: pa.Array, numbers: pa.Array, header: ZeekHeader, name: str
) -> tuple[pa.Table, list[QuarantinedRecord]]:
    """Columns of the data lines under `header`; lines with the wrong field count quarantined."""
    expected = len(header.fields)
    if not expected or expected > MAX_FIELDS:
        reason = (
            "data line before a #fields header"
            if not expected
            else f"the #fields header declares {expected} fields, more than the {MAX_FIELDS} accepted"
        )
        bad = [
            QuarantinedRecord(name, n, "line", reason, excerpt(text))
            for n, text in zip(numbers.to_pylist(), lines.to_pylist(), strict=True)
        ]
        return _empty(name), bad
    parts = pc.split_pattern(lines, header.separator)
    counts = pc.list_value_length(parts)
    fits = pc.equal(counts, expected)
    rejected: list[QuarantinedRecord] = []
    if not pc.all(fits).as_py():
        misfit = pc.invert(fits)
        for n, count, text in zip(
            numbers.filter(misfit).to_pylist(),
            counts.filter(misfit).to_pylist(),
            lines.filter(misfit).to_pylist(),
            strict=True,
        ):
            reason = f"{count} fields where the #fields header declares {expected}"
            rejected.append(QuarantinedRecord(name, n, "line", reason, excerpt(text)))
        parts, numbers, lines = parts.filter(fits), numbers.filter(fits), lines.filter(fits)
    columns: dict[str, pa.Array] = {
        "_source": pa.repeat(pa.scalar(name, pa.string()), len(parts)),
        "_offset": numbers,
        "_path": pa.repeat(pa.scalar(header.path, pa.string()), len(parts)),
        "_raw": lines.cast(pa.string()),
    }
    unset = pa.scalar(None, pa.string())
    for index, field_name in enumerate(header.fields):
        values = pc.list_element(parts, index)
        values = pc.if_else(pc.equal(values, header.unset_field), unset, values)
        values = pc.if_else(pc.equal(values, header.empty_field), pa.scalar("", pa.string()), values)
        if header.set_separator != ",":
            values = pc.replace_substring(values, header.set_separator, ",")
        columns.setdefault(field_name, values)
    return pa.table(columns), rejected
