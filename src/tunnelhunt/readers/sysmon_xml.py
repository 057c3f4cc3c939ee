"""Windows event XML as Splunk's `XmlWinEventLog` holds it: one `<Event>` per line (attack_data),
or a stream of multi-line `<Event>` elements, optionally wrapped in `<Events>` (wevtutil output).

Parsing is safe by construction: lxml with entity resolution, DTD loading and network access off,
and any document that declares a DTD or entity is quarantined before it reaches the parser.
Each event is located by its line (and byte offset) so a bad one is reported precisely and skipped;
the stream is cut into events with bounded buffering, so a huge or endless non-event stays bounded.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, BinaryIO

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
    excerpt,
    rows_to_table,
)
from tunnelhunt.readers.lines import Utf8Stream
from tunnelhunt.readers.sniffing import EVENT_START as _EVENT_START
from tunnelhunt.readers.sniffing import windows_xml
from tunnelhunt.readers.sources import Source
from tunnelhunt.readers.xml_batch import parse_batch
from tunnelhunt.readers.xml_fast import SYSTEM_TEXT, canonical_fields, well_formed

if TYPE_CHECKING:
    from lxml import etree

SOURCETYPE = "XmlWinEventLog"
#: Largest single event accepted; a larger one is quarantined and skipped without being buffered whole.
MAX_EVENT_BYTES = MAX_RECORD_BYTES
CHUNK_BYTES = 1 << 20
#: Events per batch: big enough to amortise the vectorised work, small enough to keep workers lean.
#: Normalising a batch costs ~50 ms whatever its size (a handful of DuckDB queries, each planned anew)
#: plus ~5 us an event, so at 4096 a pooled hunt's 8 MB work unit (~6 k events) was two batches, the
#: second small: 8192 makes it one, and cut normalising 43 k Sysmon events from 0.71 to 0.46 CPU s.
BATCH_EVENTS = 8192

_EVENT_END = b"</Event>"
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")
_IGNORABLE = re.compile(rb"^(?:\s|<\?xml[^>]*\?>|</?Events\s*>|<Events\s[^>]*>)*$")


@cache
def _lxml() -> tuple[Any, Any]:
    """lxml's etree and the safe parser, on the first event the fast paths leave to lxml: a file of canonical
    events (most) never imports lxml (issue 20)."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    return etree, parser


@dataclass(frozen=True)
class EventSlice:
    """The bytes of one `<Event>` element and where it started (line number, byte offset)."""

    data: bytes
    line: int
    byte_offset: int


class _Lines:
    """Newlines counted once, forward only, over a sliding buffer (O(n) for the whole stream)."""

    def __init__(self, before: int) -> None:
        self.before_pos = before  # newlines in the stream before buffer index `pos`
        self.pos = 0

    def at(self, buf: bytes, index: int) -> int:
        """Newlines in the stream before buffer index `index` (index never moves backwards)."""
        if index > self.pos:
            self.before_pos += buf.count(b"\n", self.pos, index)
            self.pos = index
        return self.before_pos

    def drop(self, buf: bytes, keep_from: int) -> None:
        """The buffer loses its first `keep_from` bytes."""
        self.at(buf, keep_from)
        self.pos -= keep_from


def split_events(
    stream: Utf8Stream,
    source: str,
    start: Position = START,
    final: bool = True,
    max_event_bytes: int = MAX_EVENT_BYTES,
) -> Iterator[tuple[EventSlice | QuarantinedRecord, Position]]:
    """Cut a UTF-8 stream into `<Event>` elements, each with the position just after it.

    Stray text, oversized events and (when `final`) a truncated last event are quarantined.
    """
    stream.skip(start.offset)
    buf = b""
    base = start.offset  # stream offset of buf[0]
    lines = _Lines(start.line)
    skipping: tuple[int, bytes] | None = None  # inside an oversized event: (its line, its head)

    def position(index: int) -> Position:
        return Position(base + index, lines.at(buf, index))

    def outside(text: bytes, index: int) -> QuarantinedRecord:
        first = index + len(text) - len(text.lstrip())
        return QuarantinedRecord(
            source, lines.at(buf, first) + 1, "line", "text outside an <Event> element", excerpt(text.strip())
        )

    while True:
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            break
        buf += chunk
        pos = 0
        while True:
            if skipping is not None:
                end = buf.find(_EVENT_END, pos)
                if end < 0:
                    keep = max(pos, len(buf) - len(_EVENT_END))
                    lines.drop(buf, keep)
                    base, buf, pos = base + keep, buf[keep:], 0
                    break
                stop = end + len(_EVENT_END)
                bad = QuarantinedRecord(
                    source, skipping[0], "line", f"event exceeds {max_event_bytes} bytes", excerpt(skipping[1])
                )
                yield bad, position(stop)
                skipping, pos = None, stop
                continue
            match = _EVENT_START.search(buf, pos)
            if not match:
                tail_start = max(pos, len(buf) - 7)  # might hold the start of a split "<Event"
                if not _IGNORABLE.match(buf[pos:tail_start]):
                    if len(buf) - pos <= max_event_bytes:
                        tail_start = pos  # stray text: report it whole once complete
                    else:
                        yield outside(buf[pos:tail_start], pos), position(tail_start)
                lines.drop(buf, tail_start)
                base, buf, pos = base + tail_start, buf[tail_start:], 0
                break
            begin = match.start()
            gap = buf[pos:begin]
            if gap and not _IGNORABLE.match(gap):
                yield outside(gap, pos), position(begin)
            end = buf.find(_EVENT_END, begin)
            following = _EVENT_START.search(buf, begin + 1, end if end >= 0 else len(buf))
            if following:
                # a new <Event> begins before this one closed: this one is cut short, the next is intact
                reason = "unclosed <Event> element"
                cut = QuarantinedRecord(
                    source, lines.at(buf, begin) + 1, "line", reason, excerpt(buf[begin : following.start()])
                )
                yield cut, position(following.start())
                pos = following.start()
                continue
            if end < 0:
                if len(buf) - begin > max_event_bytes:
                    skipping = (lines.at(buf, begin) + 1, buf[begin : begin + 200])
                    pos = begin + 1
                    continue
                lines.drop(buf, begin)
                base, buf, pos = base + begin, buf[begin:], 0
                break
            stop = end + len(_EVENT_END)
            event_line = lines.at(buf, begin) + 1
            if stop - begin > max_event_bytes:
                reason = f"event exceeds {max_event_bytes} bytes"
                bad = QuarantinedRecord(source, event_line, "line", reason, excerpt(buf[begin : begin + 200]))
                yield bad, position(stop)
            else:
                yield EventSlice(buf[begin:stop], event_line, base + begin), position(stop)
            pos = stop
    if not final:
        return
    if skipping is not None:
        bad = QuarantinedRecord(source, skipping[0], "line", "truncated event at end of file", excerpt(skipping[1]))
        yield bad, position(len(buf))
        return
    rest = buf.strip()
    if rest and not _IGNORABLE.match(rest):
        reason = "truncated event at end of file" if _EVENT_START.match(rest) else "text outside an <Event> element"
        first = buf.find(rest[:1])
        yield QuarantinedRecord(source, lines.at(buf, first) + 1, "line", reason, excerpt(rest)), position(len(buf))


def _local(tag: object) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def parse_event(data: bytes) -> dict[str, str | None]:
    """Flatten one event: System fields under their Windows names, EventData `Data` by `Name`.

    Raises ValueError with a reason when the XML is not a well-formed, DTD-free event.
    """
    if any(marker in data for marker in _DTD_MARKERS):
        raise ValueError("DTD or entity declaration not allowed")
    etree, parser = _lxml()
    try:
        root = etree.fromstring(data, parser)
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
            row["UserID"] = child.get("UserID") or child.get("UserId")
        elif name == "Provider":
            row["Provider"] = child.get("Name")
        elif name == "Execution":
            row["ExecutionProcessID"] = child.get("ProcessID")
        elif name in SYSTEM_TEXT:
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


class SysmonXmlReader(Reader):
    """Reads Windows event XML (Sysmon, Security, ...) as Splunk's XmlWinEventLog sourcetype."""

    format_name = "xml"
    offset_kind: OffsetKind = "line"
    sourcetype = SOURCETYPE

    def sniff(self, head: bytes) -> bool:
        return windows_xml(head)

    def fingerprint_region(self, head: bytes) -> bytes:
        return head

    def read(self, source: Source, start: Position = START, final: bool = True) -> Iterator[RawBatch]:
        name = source.name
        slices: list[EventSlice] = []
        bad: list[QuarantinedRecord] = []
        end = start
        with source.open() as raw:
            for item, end in split_events(Utf8Stream(raw), name, start, final):
                if isinstance(item, QuarantinedRecord):
                    bad.append(item)
                    continue
                slices.append(item)
                if len(slices) >= BATCH_EVENTS:
                    yield RawBatch(self.sourcetype, _slices_table(slices, name, bad), bad, "line", end)
                    slices, bad = [], []
        if slices or bad or end != start:
            yield RawBatch(self.sourcetype, _slices_table(slices, name, bad), bad, "line", end)

    def parse(self, data: bytes) -> dict[str, str | None]:
        return parse_event_fast(data)

    def cut_points(self, stream: BinaryIO, size: int, unit_bytes: int) -> list[int]:
        """Byte offsets where an `<Event` starts, about `unit_bytes` apart, so ranges can be read apart.

        UTF-16 files are not cut (their bytes are transcoded as one stream).
        """
        head = stream.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return []
        cuts: list[int] = []
        target = unit_bytes
        while target < size:
            stream.seek(target)
            window = stream.read(CHUNK_BYTES)
            match = _EVENT_START.search(window)
            while match is None and len(window) >= CHUNK_BYTES:
                # no event starts in this window (an oversized event?): look further
                target += CHUNK_BYTES - 8
                stream.seek(target)
                window = stream.read(CHUNK_BYTES)
                match = _EVENT_START.search(window)
            if match is None:
                break
            cut = target + match.start()
            if not cuts or cut > cuts[-1]:
                cuts.append(cut)
            target = cut + unit_bytes
        return cuts


def _slices_table(slices: list[EventSlice], source: str, bad: list[QuarantinedRecord]) -> pa.Table:
    """One batch's rows: canonical events vectorised (`xml_batch`), the others one at a time, in order.

    Events the one-at-a-time parser rejects are added to `bad`.
    """
    fast, fallback = parse_batch([item.data for item in slices])
    lines = pa.array([item.line for item in slices], pa.int64())
    fast = fast.add_column(0, "_offset", pc.take(lines, fast.column("_index")))
    fast = fast.add_column(0, "_source", pa.array([source] * fast.num_rows, pa.string()))
    fast = fast.append_column("_raw", pc.take(_raw_texts(slices), fast.column("_index")))
    rows: list[dict[str, str | None]] = []
    offsets: list[int] = []
    indices: list[int] = []
    for index in fallback:
        item = slices[index]
        try:
            rows.append(parse_event_fast(item.data))
        except ValueError as exc:
            bad.append(QuarantinedRecord(source, item.line, "line", str(exc), excerpt(item.data)))
            continue
        offsets.append(item.line)
        indices.append(index)
    if not rows:
        return fast.drop_columns("_index")
    slow = rows_to_table(rows, source, offsets).append_column("_index", pa.array(indices, pa.int64()))
    slow = slow.append_column("_raw", pc.take(_raw_texts(slices), slow.column("_index")))
    table = pa.concat_tables([fast, slow], promote_options="default")
    return table.take(pc.sort_indices(table.column("_index"))).drop_columns("_index")


def _raw_texts(slices: list[EventSlice]) -> pa.Array:
    """Each event's text as read (`_raw`), invalid UTF-8 replaced."""
    try:
        return pa.array([item.data for item in slices], pa.binary()).cast(pa.string())
    except pa.ArrowInvalid:
        return pa.array([item.data.decode("utf-8", "replace") for item in slices], pa.string())


def parse_event_fast(data: bytes) -> dict[str, str | None]:
    """`parse_event` with the same result and errors, faster for canonical events (`xml_fast`)."""
    if b"<!" in data and any(marker in data for marker in _DTD_MARKERS):
        raise ValueError("DTD or entity declaration not allowed")
    complaint = well_formed(data)
    if complaint is not None:
        raise ValueError(f"malformed XML: {complaint}")
    row = canonical_fields(data)
    return row if row is not None else parse_event(data)
