"""Windows event XML as Splunk's `XmlWinEventLog` holds it: one `<Event>` per line (attack_data),
or a stream of multi-line `<Event>` elements, optionally wrapped in `<Events>` (wevtutil output).

Parsing is safe by construction: lxml with entity resolution, DTD loading and network access off,
and any document that declares a DTD or entity is quarantined before it reaches the parser.
Each event is located by its line and byte offset so a bad one is reported precisely and skipped.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from tunnelhunt.readers.base import QuarantinedRecord, RawBatch, excerpt, rows_to_table

SOURCETYPE = "XmlWinEventLog"
#: Largest single event accepted; a larger one is quarantined and skipped without being buffered whole.
MAX_EVENT_BYTES = 1 << 20
CHUNK_BYTES = 1 << 20

_EVENT_START = re.compile(rb"<Event[\s>]")
_EVENT_END = b"</Event>"
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")
_IGNORABLE = re.compile(rb"^(?:\s|<\?xml[^>]*\?>|</?Events\s*>|<Events\s[^>]*>)*$")

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


@dataclass(frozen=True)
class EventSlice:
    """The bytes of one `<Event>` element and where they started."""

    data: bytes
    line: int
    byte_offset: int


def _utf8_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """Yield the file as UTF-8 chunks, transcoding UTF-16 files (wevtutil's default) on the fly."""
    head = stream.read(CHUNK_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        chunk = head
        while chunk:
            yield decoder.decode(chunk).encode("utf-8")
            chunk = stream.read(CHUNK_BYTES)
        yield decoder.decode(b"", final=True).encode("utf-8")
        return
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    chunk = head
    while chunk:
        yield chunk
        chunk = stream.read(CHUNK_BYTES)


def split_events(
    stream: BinaryIO, source: str, max_event_bytes: int = MAX_EVENT_BYTES
) -> Iterator[EventSlice | QuarantinedRecord]:
    """Cut a byte stream into `<Event>` elements, quarantining stray text, oversized and truncated events."""
    buf = b""
    base = 0  # byte offset of buf[0] in the (UTF-8) stream
    line = 1  # line number of buf[0]
    skipping = False  # inside an oversized event: discard until its end
    for chunk in _utf8_chunks(stream):
        buf += chunk
        pos = 0
        while True:
            if skipping:
                end = buf.find(_EVENT_END, pos)
                if end < 0:
                    keep = max(pos, len(buf) - len(_EVENT_END))
                    line += buf.count(b"\n", 0, keep)
                    base += keep
                    buf, pos = buf[keep:], 0
                    break
                skipping = False
                pos = end + len(_EVENT_END)
                continue
            match = _EVENT_START.search(buf, pos)
            gap_end = match.start() if match else len(buf)
            gap = buf[pos:gap_end] if match else b""
            if match and gap and not _IGNORABLE.match(gap):
                first = pos + len(gap) - len(gap.lstrip())
                yield QuarantinedRecord(
                    source,
                    line + buf.count(b"\n", 0, first),
                    "line",
                    "text outside an <Event> element",
                    excerpt(gap.strip()),
                )
            if not match:
                # keep only a tail that might hold the start of a split "<Event"
                tail_start = max(pos, len(buf) - 7)
                if not _IGNORABLE.match(buf[pos:tail_start]):
                    # stray text before end of chunk: report once it is complete (at EOF) instead
                    tail_start = pos
                line += buf.count(b"\n", 0, tail_start)
                base += tail_start
                buf, pos = buf[tail_start:], 0
                break
            start = match.start()
            end = buf.find(_EVENT_END, start)
            following = _EVENT_START.search(buf, start + 1, end if end >= 0 else len(buf))
            if following:
                # a new <Event> begins before this one closed: this one is cut short, the next is intact
                event_line = line + buf.count(b"\n", 0, start)
                yield QuarantinedRecord(
                    source, event_line, "line", "unclosed <Event> element", excerpt(buf[start : following.start()])
                )
                pos = following.start()
                continue
            if end < 0:
                if len(buf) - start > max_event_bytes:
                    event_line = line + buf.count(b"\n", 0, start)
                    yield QuarantinedRecord(
                        source,
                        event_line,
                        "line",
                        f"event exceeds {max_event_bytes} bytes",
                        excerpt(buf[start : start + 200]),
                    )
                    skipping = True
                    pos = start + 1
                    continue
                line += buf.count(b"\n", 0, start)
                base += start
                buf, pos = buf[start:], 0
                break
            stop = end + len(_EVENT_END)
            event_line = line + buf.count(b"\n", 0, start)
            if stop - start > max_event_bytes:
                yield QuarantinedRecord(
                    source,
                    event_line,
                    "line",
                    f"event exceeds {max_event_bytes} bytes",
                    excerpt(buf[start : start + 200]),
                )
            else:
                yield EventSlice(buf[start:stop], event_line, base + start)
            pos = stop
    rest = buf.strip()
    if rest and not skipping and not _IGNORABLE.match(rest):
        reason = "truncated event at end of file" if _EVENT_START.match(rest) else "text outside an <Event> element"
        yield QuarantinedRecord(source, line + buf.count(b"\n", 0, buf.find(rest[:1])), "line", reason, excerpt(rest))


def _local(tag: object) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def parse_event(data: bytes) -> dict[str, str | None]:
    """Flatten one event: System fields under their Windows names, EventData `Data` by `Name`.

    Raises ValueError with a reason when the XML is not a well-formed, DTD-free event.
    """
    if any(marker in data for marker in _DTD_MARKERS):
        raise ValueError("DTD or entity declaration not allowed")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"malformed XML: {exc.msg}") from None
    if _local(root.tag) != "Event":
        raise ValueError(f"root element is <{_local(root.tag)}>, not <Event>")
    row: dict[str, str | None] = {}
    for section in root:
        kind = _local(section.tag)
        if kind == "System":
            _flatten_system(section, row)
        elif kind in ("EventData", "UserData"):
            _flatten_data(section, row)
    if "EventID" not in row:
        raise ValueError("event has no System/EventID")
    return row


def _flatten_system(system: etree._Element, row: dict[str, str | None]) -> None:
    for child in system:
        name = _local(child.tag)
        if name == "TimeCreated":
            row["TimeCreated"] = child.get("SystemTime")
        elif name == "Security":
            row["UserID"] = child.get("UserID")
        elif name == "Provider":
            row["Provider"] = child.get("Name")
        elif name == "Execution":
            row["ExecutionProcessID"] = child.get("ProcessID")
        elif name in ("EventID", "Computer", "Channel", "EventRecordID", "Level", "Task", "Version"):
            row[name] = (child.text or "").strip()


def _flatten_data(data: etree._Element, row: dict[str, str | None]) -> None:
    for index, item in enumerate(data.iter()):
        if item is data or not isinstance(item.tag, str):
            continue
        name = item.get("Name") or (_local(item.tag) if len(item) == 0 else None)
        if name is None:
            continue
        if name == "Data":
            name = f"Data{index}"
        row.setdefault(name, item.text if item.text is not None else "")


class SysmonXmlReader:
    """Reads Windows event XML (Sysmon, Security, ...) as Splunk's XmlWinEventLog sourcetype."""

    format_name = "xml"

    def sniff(self, head: bytes, path: Path) -> bool:
        sample = head.lstrip(codecs.BOM_UTF8)
        if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            sample = sample.decode("utf-16", "ignore").encode("utf-8", "ignore")
        return bool(_EVENT_START.search(sample[:4096])) and b"schemas.microsoft.com/win/2004/08/events" in sample

    def read(self, path: Path, batch_size: int = 10_000) -> Iterator[RawBatch]:
        source = str(path)
        rows: list[dict[str, str | None]] = []
        offsets: list[int] = []
        bad: list[QuarantinedRecord] = []
        with path.open("rb") as stream:
            for item in split_events(stream, source):
                if isinstance(item, QuarantinedRecord):
                    bad.append(item)
                    continue
                try:
                    rows.append(parse_event(item.data))
                    offsets.append(item.line)
                except ValueError as exc:
                    bad.append(QuarantinedRecord(source, item.line, "line", str(exc), excerpt(item.data)))
                if len(rows) >= batch_size:
                    yield RawBatch(SOURCETYPE, rows_to_table(rows, source, offsets), bad)
                    rows, offsets, bad = [], [], []
        if rows or bad:
            yield RawBatch(SOURCETYPE, rows_to_table(rows, source, offsets), bad)
