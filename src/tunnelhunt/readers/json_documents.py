"""JSON documents: pretty-printed or concatenated JSON values, or arrays of records, instead of JSON lines.

Many exports are not one object per line: `evtx_dump -o json`, `Get-WinEvent | ConvertTo-Json`, jq's
default output, a SIEM's "export as JSON" (one array), SigmaHQ's regression samples. Each top-level
object is a record, and so is each element of a top-level array; anything else (a number, a string,
an array inside the array) is quarantined as "not an object". Records are numbered from 1 in file
order (`_offset`, offset kind `record`): several may start on one line, so a line number could not tell
them apart. The quarantine reason also names the line where the value starts.

The stream is decoded value by value with the standard library's `JSONDecoder.raw_decode`, holding at
most a block and one record (a value longer than `MAX_RECORD_BYTES` is refused), and each record is kept
as its original text, which the normaliser parses as it parses JSON lines. After a syntax error nothing
later in the file can be trusted to start a record, so the rest of the file is one quarantined record
that says so, and the counts still add up.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import pyarrow as pa

from tunnelhunt.readers.base import MAX_RECORD_BYTES, Position, QuarantinedRecord, excerpt
from tunnelhunt.readers.lines import Utf8Stream

#: Characters of text decoded per read; a batch is cut at about this many characters of records too.
BLOCK_CHARS = 4 << 20
#: Records per batch at most.
BATCH_RECORDS = 8192
_WHITESPACE = " \t\r\n"
_DECODER = json.JSONDecoder()
_KINDS = {dict: "object", list: "array", str: "varchar", bool: "boolean", type(None): "null"}


def _kind(value: object) -> str:
    """The JSON type of a decoded value, named as DuckDB's `json_type` names it in other reasons."""
    if isinstance(value, float):
        return "double"
    if isinstance(value, int) and not isinstance(value, bool):
        return "bigint"
    return _KINDS.get(type(value), "value")


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    return at


@lru_cache(maxsize=8)  # every JSON layout's reader asks of the same head (bytes cache their hash)
def is_document(head: bytes) -> bool:
    """True when the head holds JSON documents rather than JSON lines: an array whose first element is an
    object (however long the array), or a first object that decodes whole and spans several lines. A first
    line that is a JSON value on its own, other than an array of objects, keeps the file JSON lines (whose
    bad lines are quarantined one by one); so does a first object longer than the head."""
    text = head.decode("utf-8", "replace")
    at = _skip_space(text, 0)
    if at >= len(text) or text[at] not in "{[":
        return False
    if text[at] == "[":
        first = _skip_space(text, at + 1)
        if first >= len(text) or text[first] not in "{]":
            return False
        return text[first] == "{" and _decodes(text, first) is not None
    end = _decodes(text, at)
    return end is not None and "\n" in text[at:end]


def _decodes(text: str, at: int) -> int | None:
    """Where the JSON value at `at` ends, or None when it does not decode within `text`."""
    try:
        return _DECODER.raw_decode(text, at)[1]
    except (ValueError, RecursionError):
        return None


def document_objects(head: bytes, limit: int) -> list[dict[str, object]]:
    """The first records of a JSON document head that are objects (a value cut by the head's end is left out)."""
    text = head.decode("utf-8", "replace")
    found: list[dict[str, object]] = []
    splitter = _Splitter()
    splitter.feed(text, final=False)
    for item in splitter.items():
        if isinstance(item, _Broken):
            break
        if isinstance(item.value, dict):
            found.append(item.value)
            if len(found) >= limit:
                break
    return found


@dataclass
class _Record:
    text: str
    value: object
    line: int


@dataclass
class _Broken:
    """A syntax error, a value over the size limit, or nesting too deep: the rest of the input is lost."""

    reason: str
    line: int
    text: str


@dataclass
class _Splitter:
    """Cuts fed text into records. `line` counts the newlines consumed (a record's line is 1-based)."""

    buffer: str = ""
    at: int = 0
    line: int = 1
    in_array: bool = False
    final: bool = False
    done: bool = False
    _counted: int = field(default=0, repr=False)

    def feed(self, text: str, final: bool) -> None:
        self._line_at(self.at)  # count the consumed text's newlines before it is dropped
        self.buffer = self.buffer[self.at :] + text
        self._counted -= self.at
        self.at = 0
        self.final = final

    def _line_at(self, at: int) -> int:
        self.line += self.buffer.count("\n", self._counted, at)
        self._counted = at
        return self.line

    def items(self) -> Iterator[_Record | _Broken]:
        """The records the buffer holds whole; at the end of input, the reason the rest is unreadable."""
        while not self.done:
            at = _skip_space(self.buffer, self.at)
            if self.in_array and at < len(self.buffer) and self.buffer[at] in ",]":
                self.in_array = self.buffer[at] == ","
                self.at = at + 1
                continue
            if at >= len(self.buffer):
                self.at = at
                return
            if not self.in_array and self.buffer[at] == "[":
                self.in_array = True
                self.at = at + 1
                continue
            try:
                value, end = _DECODER.raw_decode(self.buffer, at)
            except RecursionError:
                yield self._broken(at, "JSON nested too deep")
                return
            except json.JSONDecodeError as exc:
                if not self.final and _cut_short(exc, len(self.buffer)):
                    if len(self.buffer) - at > MAX_RECORD_BYTES:
                        yield self._broken(at, f"a JSON value over the {MAX_RECORD_BYTES}-byte limit")
                        return
                    self.at = at
                    return  # more text may complete the value
                yield self._broken(at, f"invalid JSON: {exc.msg}")
                return
            if end - at > MAX_RECORD_BYTES:
                yield self._broken(at, f"a JSON value over the {MAX_RECORD_BYTES}-byte limit")
                return
            yield _Record(self.buffer[at:end], value, self._line_at(at))
            self.at = end
            if self.in_array:
                after = _skip_space(self.buffer, end)
                if after < len(self.buffer) and self.buffer[after] not in ",]":
                    yield self._broken(after, "invalid JSON: expected ',' or ']' after an array element")
                    return

    def _broken(self, at: int, reason: str) -> _Broken:
        self.done = True
        line = self._line_at(at)
        return _Broken(f"{reason} (line {line}); the rest of the file is not read", line, self.buffer[at:])


def _cut_short(error: json.JSONDecodeError, length: int) -> bool:
    """Whether a decoding error may only mean the text stops inside a value (a string, a literal or an
    escape cut by the end of what was read so far), not that the value is wrong."""
    return error.msg.startswith("Unterminated string") or error.pos >= length - 8


@dataclass
class DocumentBatch:
    """Records of one batch: their numbers and texts, the quarantined ones, and where reading stopped."""

    numbers: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    end: Position = field(default_factory=Position)

    def table(self, name: str) -> pa.Table:
        return pa.table(
            {
                "_source": pa.repeat(pa.scalar(name, pa.string()), len(self.numbers)),
                "_offset": pa.array(self.numbers, pa.int64()),
                "_json": pa.array(self.texts, pa.string()),
            }
        )


def document_batches(stream: Utf8Stream, name: str, start: Position, final: bool) -> Iterator[DocumentBatch]:
    """The records after record `start.offset`, in batches; an object keeps its text, any other value and
    the unreadable rest of the input are quarantined. With `final=False` a value cut by the end of the
    input waits for the next read."""
    splitter = _Splitter()
    number = 0
    batch = DocumentBatch(end=start)
    chars = 0
    eof = False
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    while not eof:
        data = stream.read(BLOCK_CHARS)
        eof = not data
        splitter.feed(decoder.decode(data, final=eof), final=eof and final)
        for item in splitter.items():
            number += 1
            if number <= start.offset:
                continue
            if isinstance(item, _Broken):
                batch.quarantined.append(QuarantinedRecord(name, number, "record", item.reason, excerpt(item.text)))
            else:
                value = item.value
                if isinstance(value, dict):
                    batch.numbers.append(number)
                    batch.texts.append(item.text)
                    chars += len(item.text)
                else:
                    reason = f"JSON {_kind(value)} where an object was expected (line {item.line})"
                    batch.quarantined.append(QuarantinedRecord(name, number, "record", reason, excerpt(item.text)))
            batch.end = Position(number, splitter.line)
            if len(batch.numbers) >= BATCH_RECORDS or chars >= BLOCK_CHARS:
                yield batch
                batch, chars = DocumentBatch(end=batch.end), 0
        if splitter.done:
            break
    if batch.numbers or batch.quarantined:
        yield batch
