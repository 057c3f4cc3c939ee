"""Follow growing and rotated log files: ingest only what each file gained since the last poll.

STOP-GAP: issue #4 brings incremental ingest with checkpoints to `engine/ingest.py` and
`store/checkpoints.py`; `watch` and `run` only call `Follower.poll(paths) -> IngestReport`, so this module
is swapped for that API in one place.

A file is known by its device and inode (which survive a rename, so a rotated file is finished under
its new name) and verified by a fingerprint of its first bytes (so a reused inode or a truncated file
is read again from the start). Only complete lines are taken; a line still being written waits for the
next poll. The rows of a chunk and the checkpoint advance are committed in one transaction, so after
`kill -9` a restart neither loses nor repeats a record.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from tunnelhunt.crashpoint import crashpoint
from tunnelhunt.engine.ingest import FileReport, IngestReport
from tunnelhunt.normalize.normalizer import Normalizer
from tunnelhunt.readers.base import QuarantinedRecord, RawBatch, ReaderError
from tunnelhunt.readers.detect import choose_reader, walk
from tunnelhunt.store.duckdb_store import Store

FINGERPRINT_BYTES = 1024
#: Largest chunk read from one file in one poll; the rest waits for the next poll (bounded memory).
MAX_CHUNK_BYTES = 64 << 20

_DDL = (
    "CREATE TABLE IF NOT EXISTS follow_checkpoints (device BIGINT, inode BIGINT, path VARCHAR, "
    "fingerprint VARCHAR, fingerprint_len BIGINT, byte_offset BIGINT, line BIGINT, PRIMARY KEY (device, inode))"
)


@dataclass(frozen=True)
class Checkpoint:
    path: str
    fingerprint: str
    fingerprint_len: int
    byte_offset: int
    line: int


def _fingerprint(path: Path, length: int) -> str:
    with path.open("rb") as stream:
        return hashlib.sha256(stream.read(length)).hexdigest()


class Follower:
    """Incremental ingest of a set of paths into a store."""

    def __init__(self, store: Store, forced_format: str | None = None) -> None:
        self.store = store
        self.forced_format = forced_format
        self.normalizer = Normalizer()
        store.con.execute(_DDL)

    def checkpoint(self, device: int, inode: int) -> Checkpoint | None:
        row = self.store.con.execute(
            "SELECT path, fingerprint, fingerprint_len, byte_offset, line FROM follow_checkpoints "
            "WHERE device = ? AND inode = ?",
            [device, inode],
        ).fetchall()
        if not row:
            return None
        path, fingerprint, length, offset, line = row[0]  # fetchall: duckdb keeps a half-read result open
        return Checkpoint(path, fingerprint, int(length), int(offset), int(line))

    def poll(self, paths: Iterable[Path]) -> IngestReport:
        """Ingest what every file gained; files that do not exist (yet) are skipped."""
        report = IngestReport()
        for path in walk(paths):
            if path.is_file():
                self._poll_file(path, report)
        return report

    def _start(self, path: Path, stat: os.stat_result) -> tuple[int, int]:
        known = self.checkpoint(stat.st_dev, stat.st_ino)
        if known is None or stat.st_size < known.byte_offset:
            return 0, 0
        if _fingerprint(path, known.fingerprint_len) != known.fingerprint:
            return 0, 0  # same inode, different file (reused, or rewritten): read it anew
        return known.byte_offset, known.line

    def _poll_file(self, path: Path, report: IngestReport) -> None:
        try:
            stat = path.stat()
            start, line = self._start(path, stat)
            if stat.st_size <= start:
                return
            with path.open("rb") as stream:
                stream.seek(start)
                data = stream.read(min(stat.st_size - start, MAX_CHUNK_BYTES))
        except OSError:
            return  # rotated away between listing and reading: picked up under its new name
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            return  # no complete line yet
        chunk = data[:cut]
        file_report = FileReport(str(path))
        report.files.append(file_report)
        try:
            reader = choose_reader(path, self.forced_format)
        except ReaderError as exc:
            file_report.error = exc.reason
            return
        file_report.format = reader.format_name
        with tempfile.TemporaryDirectory(prefix="tunnelhunt-follow-") as scratch:
            piece = Path(scratch) / "chunk"
            piece.write_bytes(chunk)
            self.store.con.begin()
            try:
                for batch in reader.read(piece):
                    self._ingest(_relocate(batch, str(path), line, start), file_report, report)
                end = start + cut
                self._advance(path, stat, end, line + chunk.count(b"\n"))
                crashpoint("ingest-before-commit")
            except BaseException:
                self.store.con.rollback()
                raise
            self.store.con.commit()

    def _ingest(self, batch: RawBatch, file_report: FileReport, report: IngestReport) -> None:
        normalized = self.normalizer.normalize(batch)
        file_report.read += batch.records + len(batch.quarantined)
        for table_name, table in normalized.tables.items():
            added = self.store.append(table_name, table)
            file_report.ingested += added
            file_report.per_table[table_name] = file_report.per_table.get(table_name, 0) + added
        file_report.unmapped += normalized.unmapped
        file_report.quarantined += len(normalized.quarantined)
        report.quarantine.extend(normalized.quarantined)

    def _advance(self, path: Path, stat: os.stat_result, offset: int, line: int) -> None:
        length = min(FINGERPRINT_BYTES, offset)
        self.store.con.execute(
            "INSERT OR REPLACE INTO follow_checkpoints VALUES (?, ?, ?, ?, ?, ?, ?)",
            [stat.st_dev, stat.st_ino, str(path), _fingerprint(path, length), length, offset, line],
        )


def _relocate(batch: RawBatch, source: str, line: int, byte: int) -> RawBatch:
    """Give a chunk's records their real file and position."""
    table = batch.table
    if table.num_rows:
        table = table.set_column(
            table.column_names.index("_source"), "_source", pa.array([source] * table.num_rows, pa.string())
        )
        offsets = pc.add(table.column("_offset"), pa.scalar(line, pa.int64()))
        table = table.set_column(table.column_names.index("_offset"), "_offset", offsets)
    quarantined = [
        QuarantinedRecord(
            source,
            q.offset + (line if q.offset_kind == "line" else byte if q.offset_kind == "byte" else 0),
            q.offset_kind,
            q.reason,
            q.excerpt,
        )  # fmt: skip
        for q in batch.quarantined
    ]
    return RawBatch(batch.sourcetype, table, quarantined)
