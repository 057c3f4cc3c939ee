"""Binary Windows event logs (.evtx) through the `evtx` package (a Rust parser).

The parser renders each record as JSON; the reader only collects those strings and record
numbers into Arrow. The normaliser parses each record once (`normalize/raw_events.py`), taking
both the events-table fields and the raw columns `normalize/windows.py` maps from it. Chunk
checksums are verified: a corrupt chunk is skipped by the parser and each record number it held
is quarantined (read from the chunk header), as are the records a truncated file promised in its
header but no longer holds.
"""

from __future__ import annotations

import itertools
import re
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path

import evtx
import pyarrow as pa

from tunnelhunt.readers import sniffing
from tunnelhunt.readers.base import START, OffsetKind, Position, QuarantinedRecord, RawBatch, Reader, ReaderError
from tunnelhunt.readers.sources import Source

SOURCETYPE = "WinEventLog:evtx"
HEADER_BYTES = 4096
CHUNK_BYTES = 65536
CHUNK_HEADER_BYTES = 512
BATCH_RECORDS = 8192
#: Threads the Rust parser may use per file; 0 lets it use every core. A worker of a process pool
#: sets 1: the pool already keeps every core busy, and more threads than cores only add switching.
PARSER_THREADS = 0
#: The smallest record a chunk can hold (24-byte header, 4-byte trailing size): no header's claim
#: makes a chunk, or a missing part of a file, hold more records than its bytes can.
MIN_RECORD_BYTES = 28
#: A corrupt chunk header claiming more records than this is not trusted to enumerate them.
MAX_RECORDS_PER_CHUNK = (CHUNK_BYTES - CHUNK_HEADER_BYTES) // MIN_RECORD_BYTES

_RANGE = re.compile(r"record IDs (\d+)\.\.(\d+)")
_CHUNK = re.compile(r"chunk number (\d+)")
_RECORD = re.compile(r"record number (\d+)")


def _chunk_record_range(path: Path, chunk: int) -> tuple[int, int] | None:
    """First and last record number a chunk header declares, when the header looks sane."""
    try:
        with path.open("rb") as stream:
            stream.seek(HEADER_BYTES + chunk * CHUNK_BYTES)
            header = stream.read(40)
    except OSError:
        return None
    if len(header) < 40 or not header.startswith(b"ElfChnk\x00"):
        return None
    first, last = struct.unpack_from("<QQ", header, 24)
    if first < 1 or last < first or last - first >= MAX_RECORDS_PER_CHUNK or last >= 1 << 63:
        return None
    return first, last


def _file_header(path: Path) -> tuple[int, int]:
    """(next record number, chunk count) from the file header; (0, 0) when unreadable."""
    try:
        with path.open("rb") as stream:
            header = stream.read(HEADER_BYTES)
    except OSError:
        return 0, 0
    if len(header) < 44 or not header.startswith(sniffing.EVTX_MAGIC):
        return 0, 0
    (next_record,) = struct.unpack_from("<Q", header, 24)
    (chunks,) = struct.unpack_from("<H", header, 42)
    return next_record, chunks


class EvtxReader(Reader):
    """Reads .evtx files; `_offset` is the event record number (EventRecordID)."""

    format_name = "evtx"
    offset_kind: OffsetKind = "record"
    sourcetype = SOURCETYPE

    def sniff(self, head: bytes) -> bool:
        return sniffing.evtx(head)

    def fingerprint_region(self, head: bytes) -> bytes:
        """The first records of the first chunk: unlike the file header, they do not change as the log grows."""
        region = head[HEADER_BYTES + CHUNK_HEADER_BYTES : HEADER_BYTES + CHUNK_HEADER_BYTES + 1024]
        return region or head

    def read(self, source: Source, start: Position = START, final: bool = True) -> Iterator[RawBatch]:
        with source.local_file() as path:
            yield from self._read_file(path, source.name, start.offset)

    def _read_file(self, path: Path, name: str, after: int) -> Iterator[RawBatch]:
        try:
            parser = evtx.PyEvtxParser(str(path), PARSER_THREADS, validate_checksums=True, skip_errors=True)
            records = parser.records_json()
        except (RuntimeError, OSError, ValueError) as exc:
            raise ReaderError(name, f"not a readable EVTX file: {exc}") from None
        highest = after
        lost: set[int] = set()
        while True:
            data: list[str] = []
            ids: list[int] = []
            seen = 0
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", RuntimeWarning)
                try:
                    for record in itertools.islice(records, BATCH_RECORDS):
                        seen += 1
                        if record is None:
                            continue
                        number = record["event_record_id"]
                        if number <= after:
                            continue
                        data.append(record["data"])
                        ids.append(number)
                except RuntimeError as exc:  # an error the parser could not skip: the rest is lost
                    caught.append(warnings.WarningMessage(str(exc), RuntimeWarning, "", 0))
                    exhausted = True
                else:
                    exhausted = False
            bad = self._failures(caught, path, name, after, lost)
            if ids:
                highest = max(highest, max(ids))
            if bad:
                highest = max(highest, max(q.offset for q in bad))
            if not seen and not bad:
                break
            if not ids and not bad:
                continue  # a stretch of records already ingested
            table = pa.table(
                {
                    "_source": pa.array([name] * len(ids), pa.string()),
                    "_offset": pa.array(ids, pa.int64()),
                    "_json": pa.array(data, pa.string()),
                }
            )
            yield RawBatch(self.sourcetype, table, bad, "record", Position(highest), json_checked=True)
            if exhausted:
                break
        missing = self._truncated(path, name, highest, lost)
        if missing:
            end = Position(max(q.offset for q in missing))
            yield RawBatch(self.sourcetype, _empty(), missing, "record", end, json_checked=True)

    def _failures(
        self, caught: list[warnings.WarningMessage], path: Path, name: str, after: int, lost: set[int]
    ) -> list[QuarantinedRecord]:
        """One quarantined record per record number a skipped chunk held."""
        bad: list[QuarantinedRecord] = []
        for warning in caught:
            message = str(warning.message)
            span = _RANGE.search(message)
            chunk = _CHUNK.search(message)
            single = _RECORD.search(message)
            bounds = (int(span.group(1)), int(span.group(2))) if span else None
            if bounds is None and single:
                bounds = (int(single.group(1)), int(single.group(1)))
            if bounds is None and chunk:
                bounds = _chunk_record_range(path, int(chunk.group(1)))
            reason = f"unreadable EVTX data: {message.removeprefix('Skipping EVTX data: ')}"
            if bounds is None or bounds[1] - bounds[0] >= MAX_RECORDS_PER_CHUNK:
                bad.append(QuarantinedRecord(name, 0, "record", reason + " (record numbers unknown)"))
                continue
            for number in range(bounds[0], bounds[1] + 1):
                if number > after and number not in lost:
                    lost.add(number)
                    bad.append(QuarantinedRecord(name, number, "record", reason))
        return bad

    def _truncated(self, path: Path, name: str, highest: int, lost: set[int]) -> list[QuarantinedRecord]:
        """Records the header promises but a cut-short file no longer holds.

        The header is data like any other: a damaged or hostile one may promise billions of records.
        One quarantined record per missing number is kept only while that many could have fitted in
        a file of this size; a larger claim is one record saying so (memory stays bounded by the file).
        """
        next_record, chunks = _file_header(path)
        size = path.stat().st_size
        if not chunks or size >= HEADER_BYTES + chunks * CHUNK_BYTES or next_record - 1 <= highest:
            return []
        reason = f"EVTX file truncated: {size} of {HEADER_BYTES + chunks * CHUNK_BYTES} bytes present"
        if next_record - 1 - highest > max(1, size // MIN_RECORD_BYTES):
            claim = f" (its header promises records up to {next_record - 1}, more than a file this size holds)"
            return [QuarantinedRecord(name, highest + 1, "record", reason + claim)]
        return [QuarantinedRecord(name, n, "record", reason) for n in range(highest + 1, next_record) if n not in lost]


def _empty() -> pa.Table:
    return pa.table(
        {"_source": pa.array([], pa.string()), "_offset": pa.array([], pa.int64()), "_json": pa.array([], pa.string())}
    )
