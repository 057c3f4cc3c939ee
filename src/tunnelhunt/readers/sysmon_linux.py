"""Sysmon for Linux: its `<Event>` XML inside syslog lines (`... sysmon: <Event>...</Event>`).

Each line's XML goes through the same safe parser as Windows event XML and yields the same
flattened shape, so the Windows mappings apply. Syslog lines from other programs are valid records
of kinds no data model covers: they are counted as unmapped, not quarantined.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyarrow as pa

from tunnelhunt.readers.base import (
    START,
    OffsetKind,
    Position,
    QuarantinedRecord,
    RawBatch,
    Reader,
    excerpt,
    rows_to_table,
)
from tunnelhunt.readers.lines import Utf8Stream, line_blocks
from tunnelhunt.readers.sources import Source
from tunnelhunt.readers.sysmon_xml import parse_event

SOURCETYPE = "sysmon:linux"
#: A Sysmon for Linux line: a bare `<Event>` (no Windows namespace) that starts the line or follows a
#: syslog prefix, which holds no quote, brace, comma, tab or tag. So the same text inside a JSON value,
#: a CSV cell or a Windows event's data never makes its file look like Sysmon for Linux.
_EVENT_LINE = re.compile(rb"^[^\"'{},<\t\n]{0,200}<Event>[^\n]*Linux-Sysmon", re.MULTILINE)


class SysmonLinuxReader(Reader):
    """Reads syslog files carrying Sysmon for Linux events; `_offset` is the line number."""

    format_name = "sysmon-linux"
    offset_kind: OffsetKind = "line"
    sourcetype = SOURCETYPE

    def sniff(self, head: bytes) -> bool:
        return _EVENT_LINE.search(head) is not None

    def fits(self, head: bytes) -> bool:
        return b"<Event" in head or not head.strip()

    def fingerprint_region(self, head: bytes) -> bytes:
        return head

    def read(self, source: Source, start: Position = START, final: bool = True) -> Iterator[RawBatch]:
        name = source.name
        with source.open() as raw:
            for block in line_blocks(Utf8Stream(raw), name, start, final):
                rows: list[dict[str, str | None]] = []
                offsets: list[int] = []
                texts: list[str] = []
                bad = list(block.quarantined)
                for number, line in zip(block.numbers.to_pylist(), block.lines.to_pylist(), strict=True):
                    begin = line.find("<Event")
                    if begin < 0:
                        rows.append({})  # another program's syslog line: read, and unmapped
                        offsets.append(number)
                        texts.append(line)
                        continue
                    end = line.rfind("</Event>")
                    if end < begin:
                        bad.append(QuarantinedRecord(name, number, "line", "truncated <Event> element", excerpt(line)))
                        continue
                    try:
                        rows.append(parse_event(line[begin : end + len("</Event>")].encode("utf-8")))
                        offsets.append(number)
                        texts.append(line)
                    except ValueError as exc:
                        bad.append(QuarantinedRecord(name, number, "line", str(exc), excerpt(line)))
                table = rows_to_table(rows, name, offsets).append_column("_raw", pa.array(texts, pa.string()))
                yield RawBatch(self.sourcetype, table, bad, "line", block.end)
