"""Sysmon for Linux: its `<Event>` XML inside syslog lines (`... sysmon: <Event>...</Event>`).

Each line's XML goes through the same safe parser as Windows event XML and yields the same
flattened shape, so the Windows mappings apply. Syslog lines from other programs are valid records
of kinds no data model covers: they are counted as unmapped, not quarantined.
"""

from __future__ import annotations

from collections.abc import Iterator

from tunnelhunt.readers.base import START, OffsetKind, Position, RawBatch, Reader
from tunnelhunt.readers.line_records import parsed_lines
from tunnelhunt.readers.sniffing import sysmon_linux, sysmon_linux_fits
from tunnelhunt.readers.sources import Source
from tunnelhunt.readers.sysmon_xml import parse_event

SOURCETYPE = "sysmon:linux"


class SysmonLinuxReader(Reader):
    """Reads syslog files carrying Sysmon for Linux events; `_offset` is the line number."""

    format_name = "sysmon-linux"
    offset_kind: OffsetKind = "line"
    sourcetype = SOURCETYPE

    def sniff(self, head: bytes) -> bool:
        return sysmon_linux(head)

    def fits(self, head: bytes) -> bool:
        return sysmon_linux_fits(head)

    def fingerprint_region(self, head: bytes) -> bytes:
        return head

    def read(self, source: Source, start: Position = START, final: bool = True) -> Iterator[RawBatch]:
        return parsed_lines(source, start, final, self.sourcetype, parse_syslog_line)


def parse_syslog_line(line: str) -> dict[str, str | None]:
    """The event's fields; no fields for another program's line (read, and unmapped); ValueError when bad."""
    begin = line.find("<Event")
    if begin < 0:
        return {}
    end = line.rfind("</Event>")
    if end < begin:
        raise ValueError("truncated <Event> element")
    return parse_event(line[begin : end + len("</Event>")].encode("utf-8"))
