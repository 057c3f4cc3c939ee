"""Pick the reader for each input from its content (not its name), or check a forced one.

Sniffing looks at the first 64 KiB of the decompressed input, UTF-16 transcoded to UTF-8. Readers
are tried most specific first; user mappings add JSON and CSV layouts after the built-in ones.

Attackers write some of the values in these files, so the format is decided by structure, never by
a value: when most of the head's lines are JSON objects the JSON layouts are tried first, and among
them the layout most objects have wins; the other readers look for their markers where the format
puts them (a line's start, the header), not anywhere in the head.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tunnelhunt.errors import TunnelhuntError
from tunnelhunt.readers import sniffing
from tunnelhunt.readers.base import Reader, ReaderError
from tunnelhunt.readers.csv_file import CSV_LAYOUTS, CsvLayout, CsvReader
from tunnelhunt.readers.json_documents import is_document
from tunnelhunt.readers.jsonl import LAYOUTS, JsonDocumentReader, JsonLayout, JsonLinesReader, sample_objects
from tunnelhunt.readers.lazy import LazyReader
from tunnelhunt.readers.lines import head_lines, text_head
from tunnelhunt.readers.sources import DAMAGED_INPUT, Source


def mostly_json(head: bytes) -> bool:
    """True when most of the head's first lines are JSON objects (a tie goes to the first line), or the head
    is a JSON document."""
    if is_document(head):
        return True
    lines = head_lines(head)
    objects = sum(1 for line in lines if line.startswith(b"{"))
    return bool(lines) and (2 * objects > len(lines) or (2 * objects == len(lines) and lines[0].startswith(b"{")))


def all_readers(
    json_first: Iterable[JsonLayout] = (),
    json_last: Iterable[JsonLayout] = (),
    csv_first: Iterable[CsvLayout] = (),
    csv_last: Iterable[CsvLayout] = (),
) -> list[Reader]:
    """Every reader, most specific first; sniffing tries them in this order.

    User layouts that name the fields identifying them go before the built-in presets (`*_first`);
    catch-all ones after them (`*_last`).
    """
    readers: list[Reader] = [
        LazyReader("evtx", "record", "evtx_file:EvtxReader", sniffing.evtx),
        LazyReader("sysmon-linux", "line", "sysmon_linux:SysmonLinuxReader", sniffing.sysmon_linux,
                   sniffing.sysmon_linux_fits),
        LazyReader("xml", "line", "sysmon_xml:SysmonXmlReader", sniffing.windows_xml),
        LazyReader("zeek", "line", "zeek_tsv:ZeekTsvReader", sniffing.zeek, sniffing.zeek_fits),
        LazyReader("linux-audit", "line", "linux_audit:LinuxAuditReader", sniffing.linux_audit,
                   sniffing.linux_audit_fits),
    ]  # fmt: skip
    layouts = (*json_first, *LAYOUTS, *json_last)
    readers.extend(JsonLinesReader(layout) for layout in layouts)
    readers.extend(JsonDocumentReader(layout) for layout in layouts)
    readers.append(CsvReader((*csv_first, *CSV_LAYOUTS, *csv_last)))
    return readers


def format_names(readers: Iterable[Reader] | None = None) -> list[str]:
    return [reader.format_name for reader in (readers if readers is not None else all_readers())]


@dataclass(frozen=True)
class Choice:
    """The reader for an input and the head it was chosen from (kept for fingerprinting)."""

    reader: Reader
    head: bytes


class EmptyInput(TunnelhuntError):
    """An input with no content at all: nothing to read, and nothing wrong."""


class UnrecognisedFormat(ReaderError):
    """No reader accepts the input's content (a README, a JSON report): skipped inside a directory,
    an error when the file was named."""


class ReaderSet:
    """The readers of one ingest run (built-in plus the user's mapping layouts)."""

    def __init__(self, readers: list[Reader] | None = None) -> None:
        self.readers = readers if readers is not None else all_readers()

    def by_name(self, name: str) -> Reader:
        for reader in self.readers:
            if reader.format_name == name:
                return reader
        raise ValueError(f"unknown format {name!r} (known: {', '.join(format_names(self.readers))})")

    def choose(self, source: Source, forced: str | None = None) -> Choice:
        """The forced reader (checked against the content) or the first whose sniff accepts the head."""
        try:
            raw_head = source.head()
        except DAMAGED_INPUT as exc:
            raise ReaderError(source.name, f"cannot read: {exc}") from None
        is_evtx = sniffing.evtx(raw_head)
        head = raw_head if is_evtx else text_head(raw_head)
        if not head.strip():
            raise EmptyInput(source.name)
        if forced:
            reader = self.by_name(forced)
            if not (_sniffs(reader, head) or _fits(reader, head)):
                guess = next((r.format_name for r in self.sniff_order(head) if _sniffs(r, head)), None)
                hint = f" (it looks like '{guess}')" if guess else ""
                raise ReaderError(source.name, f"content does not fit the forced format '{forced}'{hint}")
            return Choice(reader, raw_head)
        # an EVTX head is binary: no JSON layout can read it, so none is ranked (that decoded 64 KiB each time)
        order = [r for r in self.readers if not isinstance(r, JsonLinesReader)] if is_evtx else self.sniff_order(head)
        for reader in order:
            if _sniffs(reader, head):
                return Choice(reader, raw_head)
        raise UnrecognisedFormat(
            source.name, "format not recognised (use --format to force one, or --mapping for JSON/CSV)"
        )

    def sniff_order(self, head: bytes) -> list[Reader]:
        """The readers in the order they are tried on this head: JSON layouts by how many of its
        objects have them (most first, ties in declared order), before the others when most lines
        are JSON objects and after them otherwise."""
        others = [r for r in self.readers if not isinstance(r, JsonLinesReader)]
        layouts = [r for r in self.readers if isinstance(r, JsonLinesReader)]
        objects = sample_objects(head)
        scores = {id(r): r.score(objects) for r in layouts}
        ranked: list[Reader] = sorted(layouts, key=lambda r: -scores[id(r)])
        return [*ranked, *others] if mostly_json(head) else [*others, *ranked]


def _sniffs(reader: Reader, head: bytes) -> bool:
    """A sniff that fails on damaged content is a no (the head decides nothing then)."""
    try:
        return bool(reader.sniff(head))
    except DAMAGED_INPUT:
        return False


def _fits(reader: Reader, head: bytes) -> bool:
    try:
        return bool(reader.fits(head))
    except DAMAGED_INPUT:
        return False
