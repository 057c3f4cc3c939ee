"""How far each input file has been ingested, kept in the store so re-ingesting is exactly-once.

API (used by `ingest.run.ingest`, and by `tunnelhunt watch` through it):

- A file is identified by `FileIdentity`: its name (path, or `archive.zip!member`) plus a SHA-256
  fingerprint of its first bytes (up to `FINGERPRINT_BYTES` of the decompressed content; for EVTX
  the first records of its first chunk, which do not change as the log grows).
- `Checkpoints.resume_point(name, region, head_of)` returns the checkpoint to resume from:
  the row with the same name whose fingerprint still matches the first bytes it covered (a file
  that grew keeps its identity; a small file's fingerprint covers what it had and is widened as it
  grows), else a row with the same fingerprint under another name whose file is gone or now holds
  something else (a rotated, renamed file), else None: read from the start. A file replaced at
  the same path (different first bytes, or shorter than the offset reached) starts from zero.
- `Checkpoints.advance(previous, identity, format, offset_kind, position)` records the position
  reached. The caller runs it in the same transaction as the insert of the batch it covers, so a
  crash (even `kill -9`) leaves the store either before or after the batch, never half-way: a
  restart neither loses nor duplicates events.
- Positions are `readers.base.Position`: a byte offset (plus the line count there) in the
  decoded stream for text formats, the last record number for EVTX.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from tunnelhunt.readers.base import Position

#: Bytes of the start of a file fingerprinted (a file shorter than this is fingerprinted whole).
FINGERPRINT_BYTES = 1024
TABLE = "ingest_checkpoints"

_CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    source VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    fingerprint_bytes INTEGER NOT NULL,
    format VARCHAR,
    offset_kind VARCHAR,
    "offset" BIGINT NOT NULL,
    line BIGINT NOT NULL,
    updated TIMESTAMP NOT NULL
)
"""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class FileIdentity:
    """A file as checkpoints know it: its name and the fingerprint of its first bytes."""

    source: str
    fingerprint: str
    fingerprint_bytes: int

    @classmethod
    def of(cls, source: str, region: bytes) -> FileIdentity:
        covered = region[:FINGERPRINT_BYTES]
        return cls(source, _digest(covered), len(covered))


@dataclass(frozen=True)
class Checkpoint:
    """The position a file was ingested up to."""

    identity: FileIdentity
    format: str | None
    offset_kind: str | None
    position: Position
    updated: datetime


class Checkpoints:
    """The checkpoint table in a store's DuckDB database."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._con.execute(_CREATE)
        self._cache: list[Checkpoint] | None = None

    def _rows(self, where: str, params: list[object]) -> list[Checkpoint]:
        rows = self._con.execute(
            f'SELECT source, fingerprint, fingerprint_bytes, format, offset_kind, "offset", line, updated'
            f" FROM {TABLE} WHERE {where} ORDER BY updated DESC",
            params,
        ).fetchall()
        return [
            Checkpoint(FileIdentity(r[0], r[1], int(r[2])), r[3], r[4], Position(int(r[5]), int(r[6])), r[7])
            for r in rows
        ]

    def resume_point(
        self, source: str, region: bytes, head_of: Callable[[str], bytes | None] | None = None
    ) -> Checkpoint | None:
        """The checkpoint this file resumes from, or None to read it from the start (see module doc)."""
        rows = self._all_rows()
        for checkpoint in rows:
            if checkpoint.identity.source != source:
                continue
            covered = checkpoint.identity.fingerprint_bytes
            if len(region) >= covered and _digest(region[:covered]) == checkpoint.identity.fingerprint:
                return checkpoint
        lengths = sorted(
            {c.identity.fingerprint_bytes for c in rows if c.identity.source != source} & set(range(1, len(region) + 1))
        )
        for length in lengths:
            digest = _digest(region[:length])
            for checkpoint in rows:
                identity = checkpoint.identity
                if identity.source == source or identity.fingerprint != digest or identity.fingerprint_bytes != length:
                    continue
                other = head_of(identity.source) if head_of else None
                covered = identity.fingerprint_bytes
                if other is None or len(other) < covered or _digest(other[:covered]) != digest:
                    return checkpoint  # the file moved here from its old name (rotated)
        return None

    def _all_rows(self) -> list[Checkpoint]:
        """Every checkpoint, newest first, read once until the next change (an ingest asks per file)."""
        if self._cache is None:
            self._cache = self._rows("TRUE", [])
        return self._cache

    def advance(
        self,
        previous: FileIdentity | None,
        identity: FileIdentity,
        format: str | None,
        offset_kind: str,
        position: Position,
    ) -> None:
        """Record `position` for `identity` (replacing `previous`, the identity it resumed from)."""
        self.advance_many([(previous, identity, format, offset_kind, position)])

    def advance_many(self, items: list[tuple[FileIdentity | None, FileIdentity, str | None, str, Position]]) -> None:
        """Record many files' positions at once (one delete and one insert): each identity's row, and the
        row of the identity it resumed from under the same name, give way to its latest position."""
        if not items:
            return
        self._cache = None
        now = datetime.now(UTC).replace(tzinfo=None)
        gone: set[tuple[str, str]] = set()
        latest: dict[tuple[str, str], tuple[FileIdentity, str | None, str, Position]] = {}
        for previous, identity, format, offset_kind, position in items:
            key = (identity.source, identity.fingerprint)
            gone.add(key)
            if previous is not None and previous.source == identity.source:
                gone.add((previous.source, previous.fingerprint))
            latest[key] = (identity, format, offset_kind, position)
        deleted = pa.table({"source": [k[0] for k in gone], "fingerprint": [k[1] for k in gone]})
        rows = list(latest.values())
        added = pa.table(
            {
                "source": pa.array([r[0].source for r in rows], pa.string()),
                "fingerprint": pa.array([r[0].fingerprint for r in rows], pa.string()),
                "fingerprint_bytes": pa.array([r[0].fingerprint_bytes for r in rows], pa.int32()),
                "format": pa.array([r[1] for r in rows], pa.string()),
                "offset_kind": pa.array([r[2] for r in rows], pa.string()),
                "offset": pa.array([r[3].offset for r in rows], pa.int64()),
                "line": pa.array([r[3].line for r in rows], pa.int64()),
                "updated": pa.array([now] * len(rows), pa.timestamp("us")),
            }
        )
        self._con.register("_gone_checkpoints", deleted)
        self._con.register("_new_checkpoints", added)
        try:
            self._con.execute(
                f"DELETE FROM {TABLE} USING _gone_checkpoints AS gone"
                f" WHERE {TABLE}.source = gone.source AND {TABLE}.fingerprint = gone.fingerprint"
            )
            self._con.execute(f"INSERT INTO {TABLE} BY NAME SELECT * FROM _new_checkpoints")
        finally:
            self._con.unregister("_gone_checkpoints")
            self._con.unregister("_new_checkpoints")

    def all(self) -> list[Checkpoint]:
        return self._rows("TRUE", [])
