"""A minimal EVTX writer for tests: real binary .evtx files the `evtx` parser reads.

Events are written as plain BinXML elements (no templates), names inline, values as strings, with
the file, chunk and record-data checksums Windows writes. Enough to build synthetic Sysmon and
Security logs, and to corrupt them on purpose.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

HEADER_BYTES = 4096
CHUNK_BYTES = 65536
CHUNK_HEADER_BYTES = 512
EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"


@dataclass
class Element:
    """An XML element: name, attributes, text or children."""

    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    children: list[Element] = field(default_factory=list)


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


class _Encoder:
    """BinXML for one record; offsets are relative to the chunk (names are written inline)."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.out = bytearray()

    def here(self) -> int:
        return self.base + len(self.out)

    def _name(self, text: str) -> bytes:
        """A name written inline: its offset field points right after itself."""
        return struct.pack("<IHH", 0, 0, len(text)) + _utf16(text) + b"\x00\x00"

    def _value(self, text: str) -> bytes:
        return b"\x05\x01" + struct.pack("<H", len(text)) + _utf16(text)

    def element(self, element: Element) -> None:
        token = 0x41 if element.attributes else 0x01
        self.out += bytes([token]) + b"\x00\x00\x00\x00"  # records carry no dependency identifier
        size_at = len(self.out) - 4
        self.out += struct.pack("<I", self.here() + 4)
        self.out += self._name(element.name)
        if element.attributes:
            list_at = len(self.out)
            self.out += b"\x00\x00\x00\x00"
            items = list(element.attributes.items())
            for index, (key, value) in enumerate(items):
                more = index < len(items) - 1
                self.out += bytes([0x46 if more else 0x06])
                self.out += struct.pack("<I", self.here() + 4)
                self.out += self._name(key)
                self.out += self._value(value)
            struct.pack_into("<I", self.out, list_at, len(self.out) - list_at - 4)
        if element.text is None and not element.children:
            self.out += b"\x03"
        else:
            self.out += b"\x02"
            if element.text is not None:
                self.out += self._value(element.text)
            for child in element.children:
                self.element(child)
            self.out += b"\x04"
        struct.pack_into("<I", self.out, size_at, len(self.out) - size_at - 4)

    def document(self, root: Element) -> bytes:
        self.out += b"\x0f\x01\x01\x00"
        self.element(root)
        self.out += b"\x00"
        return bytes(self.out)


def windows_event(
    event_id: int,
    time: str,
    computer: str,
    channel: str,
    provider: str,
    data: dict[str, str],
    record_id: int,
    user_id: str | None = None,
) -> Element:
    """An `<Event>` as Windows writes it, with `EventData/Data[@Name]` items."""
    system = Element(
        "System",
        children=[
            Element("Provider", {"Name": provider}),
            Element("EventID", text=str(event_id)),
            Element("TimeCreated", {"SystemTime": time}),
            Element("EventRecordID", text=str(record_id)),
            Element("Channel", text=channel),
            Element("Computer", text=computer),
            Element("Security", {"UserID": user_id} if user_id else {}),
        ],
    )
    event_data = Element("EventData", children=[Element("Data", {"Name": k}, text=v) for k, v in data.items()])
    return Element("Event", {"xmlns": EVENT_NS}, children=[system, event_data])


def _record(encoder_base: int, record_id: int, root: Element) -> bytes:
    body = _Encoder(encoder_base + 24).document(root)
    size = 24 + len(body) + 4
    size += (-size) % 8
    padding = size - 24 - len(body) - 4
    head = b"\x2a\x2a\x00\x00" + struct.pack("<IQQ", size, record_id, 132_000_000_000_000_000)
    return head + body + b"\x00" * padding + struct.pack("<I", size)


def _chunk(records: list[tuple[int, Element]]) -> bytes:
    data = bytearray()
    offsets = []
    for record_id, root in records:
        offset = CHUNK_HEADER_BYTES + len(data)
        offsets.append(offset)
        data += _record(offset, record_id, root)
    if CHUNK_HEADER_BYTES + len(data) > CHUNK_BYTES:
        raise ValueError("too many records for one chunk")
    first, last = records[0][0], records[-1][0]
    header = bytearray(CHUNK_HEADER_BYTES)
    header[0:8] = b"ElfChnk\x00"
    struct.pack_into("<QQQQ", header, 8, first, last, first, last)
    struct.pack_into("<III", header, 40, 128, offsets[-1], CHUNK_HEADER_BYTES + len(data))
    struct.pack_into("<I", header, 52, zlib.crc32(bytes(data)))
    struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120]) + bytes(header[128:512])))
    chunk = bytes(header) + bytes(data)
    return chunk + b"\x00" * (CHUNK_BYTES - len(chunk))


def write_evtx(path: Path, events: list[Element], per_chunk: int = 40) -> Path:
    """Write `events` (record numbers 1..n) into an .evtx file, `per_chunk` records per chunk."""
    numbered = list(enumerate(events, start=1))
    chunks = [numbered[i : i + per_chunk] for i in range(0, len(numbered), per_chunk)]
    header = bytearray(HEADER_BYTES)
    header[0:8] = b"ElfFile\x00"
    struct.pack_into("<QQQIHHHH", header, 8, 0, max(len(chunks) - 1, 0), len(events) + 1, 128, 1, 3, 4096, len(chunks))
    struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])))
    with path.open("wb") as stream:
        stream.write(header)
        for chunk in chunks:
            stream.write(_chunk(chunk))
    return path
