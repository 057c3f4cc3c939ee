"""JSON lines, whatever their layout: each line goes to Arrow untouched as `_json`.

The reader only cuts lines; DuckDB's JSON functions validate and flatten them in the normaliser
(a line that is not JSON, or not an object, is quarantined there with its line number). What a
file holds is recognised from its first objects: Windows events (flattened or as `evtx` renders
them), Zeek, Suricata EVE, OCSF, ECS, or a user mapping's required fields.

The same layouts also come as JSON documents (pretty-printed or concatenated values, arrays of
records: `json_documents.py`), read by each layout's `JsonDocumentReader`, format `<layout>-document`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pyarrow as pa

from tunnelhunt.readers.base import START, OffsetKind, Position, RawBatch, Reader
from tunnelhunt.readers.json_documents import document_batches, document_objects, is_document
from tunnelhunt.readers.lines import Utf8Stream, line_blocks, line_cut_points
from tunnelhunt.readers.sources import Source

#: Objects of the head inspected to recognise a layout.
SAMPLE_OBJECTS = 20


def sample_objects(head: bytes, limit: int = SAMPLE_OBJECTS) -> list[dict[str, object]]:
    """The JSON objects among the first complete lines of `head` (bad lines are skipped here), or the first
    records of a JSON document head."""
    if is_document(head):
        return document_objects(head, limit)
    lines = head.split(b"\n")
    if len(lines) > 1:
        lines = lines[:-1]  # the last one may be cut short by the head's size
    found: list[dict[str, object]] = []
    for raw in lines:
        raw = raw.strip()
        if not raw.startswith(b"{"):
            continue
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to judge: not a sample
            continue
        if isinstance(value, dict):
            found.append(value)
            if len(found) >= limit:
                break
    return found


def has_field(obj: dict[str, object], dotted: str) -> bool:
    """True when `a.b.c` is present nested (`{"a": {"b": {"c": ..}}}`) or as a flat dotted key."""
    if dotted in obj:
        return True
    node: object = obj
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def looks_like_json_lines(head: bytes) -> bool:
    """Loose test used when a JSON format is forced: the first non-blank byte opens a JSON value."""
    stripped = head.lstrip()
    return not stripped or stripped[:1] in (b"{", b"[")


@dataclass(frozen=True)
class JsonLayout:
    """A kind of JSON lines file: its format name, source type and how to recognise it."""

    format_name: str
    sourcetype: str
    accepts: Callable[[dict[str, object]], bool]


def _is_evtx_json(obj: dict[str, object]) -> bool:
    event = obj.get("Event")
    return isinstance(event, dict) and isinstance(event.get("System"), dict)


def _is_windows_json(obj: dict[str, object]) -> bool:
    return "EventID" in obj and any(k in obj for k in ("Channel", "SourceName", "Provider", "ProviderName"))


def _is_zeek_json(obj: dict[str, object]) -> bool:
    has_id = "id.orig_h" in obj or "id_orig_h" in obj or has_field(obj, "id.orig_h")
    return "_path" in obj or ("uid" in obj and "ts" in obj and has_id)


def _is_suricata(obj: dict[str, object]) -> bool:
    return "event_type" in obj and "timestamp" in obj


def _is_ocsf(obj: dict[str, object]) -> bool:
    return "class_uid" in obj and ("time" in obj or "category_uid" in obj)


_ECS_ROOTS = ("ecs", "event", "process", "dns", "host", "agent", "winlog", "source", "destination", "file")


def _is_ecs(obj: dict[str, object]) -> bool:
    if "@timestamp" not in obj:
        return False
    return any(isinstance(obj.get(root), dict) or any(k.startswith(root + ".") for k in obj) for root in _ECS_ROOTS)


#: Built-in layouts, most specific first.
LAYOUTS: tuple[JsonLayout, ...] = (
    JsonLayout("evtx-json", "WinEventLog:evtx", _is_evtx_json),
    JsonLayout("windows-json", "WinEventLog:json", _is_windows_json),
    JsonLayout("zeek-json", "zeek:json", _is_zeek_json),
    JsonLayout("suricata", "suricata", _is_suricata),
    JsonLayout("ocsf", "ocsf", _is_ocsf),
    JsonLayout("ecs", "ecs", _is_ecs),
)


def custom_layout(name: str, sourcetype: str, required: tuple[str, ...]) -> JsonLayout:
    """A layout for a user mapping: objects holding all `required` fields (any object when none)."""
    return JsonLayout(name, sourcetype, lambda obj: all(has_field(obj, f) for f in required))


class JsonLinesReader(Reader):
    """Reads JSON lines of one layout; `_offset` is the line number."""

    offset_kind: OffsetKind = "line"

    def __init__(self, layout: JsonLayout) -> None:
        self.layout = layout
        self.format_name = layout.format_name
        self.sourcetype = layout.sourcetype

    def sniff(self, head: bytes) -> bool:
        return not is_document(head) and self.score(sample_objects(head)) > 0

    def score(self, objects: list[dict[str, object]]) -> int:
        """How many of the head's objects have this layout: the layout most of them have wins, so
        one foreign line does not decide what the file is."""
        return sum(1 for obj in objects if self.layout.accepts(obj))

    def cut_points(self, stream: BinaryIO, size: int, unit_bytes: int) -> list[int] | None:
        """Any line end: JSON lines have no header to repeat in a range."""
        return line_cut_points(stream, size, unit_bytes)

    def fits(self, head: bytes) -> bool:
        """Forced onto JSON whose first lines cannot be judged (none parses as an object): allowed."""
        return looks_like_json_lines(head) and not is_document(head) and not sample_objects(head)

    def fingerprint_region(self, head: bytes) -> bytes:
        return head

    def read(self, source: Source, start: Position = START, final: bool = True) -> Iterator[RawBatch]:
        name = source.name
        with source.open() as raw:
            for block in line_blocks(Utf8Stream(raw), name, start, final):
                table = pa.table(
                    {
                        "_source": pa.repeat(pa.scalar(name, pa.string()), len(block.lines)),
                        "_offset": block.numbers,
                        "_json": block.lines,
                    }
                )
                yield RawBatch(self.sourcetype, table, block.quarantined, "line", block.end)


class JsonDocumentReader(JsonLinesReader):
    """Reads JSON documents of one layout (`json_documents.py`); `_offset` is the record's number."""

    offset_kind: OffsetKind = "record"

    def __init__(self, layout: JsonLayout) -> None:
        super().__init__(layout)
        self.format_name = f"{layout.format_name}-document"

    def sniff(self, head: bytes) -> bool:
        return is_document(head) and self.score(sample_objects(head)) > 0

    def fits(self, head: bytes) -> bool:
        """Forced onto a JSON document whose first records cannot be judged: allowed."""
        return is_document(head) and not sample_objects(head)

    def cut_points(self, stream: BinaryIO, size: int, unit_bytes: int) -> list[int] | None:
        """None: a record's number depends on every value before it, so the input is read whole."""
        return None

    def read(self, source: Source, start: Position = START, final: bool = True) -> Iterator[RawBatch]:
        name = source.name
        with source.open() as raw:
            for batch in document_batches(Utf8Stream(raw), name, start, final):
                yield RawBatch(self.sourcetype, batch.table(name), batch.quarantined, "record", batch.end, True)
