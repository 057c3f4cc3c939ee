"""Follow growing and rotated log files: ingest only what each file gained since the last poll.

A thin layer over `ingest.run.ingest` (incremental by default): every poll ingests each file
from its checkpoint with `final=False`, so a line still being written waits for the next poll. The
checkpoints (`store/checkpoints.py`) know a file by its name and a fingerprint of its first bytes,
recognise a rotated file under its new name, and read a truncated or rewritten file from the start;
the rows of a batch and its checkpoint commit in one transaction, so after `kill -9` a restart
neither loses nor repeats a record.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tunnelhunt.ingest.run import IngestReport, ingest
from tunnelhunt.normalize.normalizer import Normalizer
from tunnelhunt.store.duckdb_store import Store


class Follower:
    """Incremental ingest of a set of paths into a store."""

    def __init__(self, store: Store, forced_format: str | None = None) -> None:
        self.store = store
        self.forced_format = forced_format
        self.normalizer = Normalizer()

    def poll(self, paths: Iterable[Path]) -> IngestReport:
        """Ingest what every file gained; paths that do not exist (yet) are skipped quietly."""
        present = [path for path in paths if path.exists()]
        report = ingest(present, self.store, self.forced_format, final=False, normalizer=self.normalizer)
        report.files = [f for f in report.files if f.read or f.error]
        return report
