"""Files → readers → normaliser → store, with an account of every record.

For each file: records read = ingested into a node + unmapped (valid, no node models it) +
quarantined. A file that cannot be read at all is reported and the others still go in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tunnelhunt.normalize.normalizer import Normalizer
from tunnelhunt.readers.base import QuarantinedRecord, ReaderError
from tunnelhunt.readers.detect import choose_reader, walk
from tunnelhunt.store.duckdb_store import Store


@dataclass
class FileReport:
    path: str
    format: str | None = None
    read: int = 0
    ingested: int = 0
    unmapped: int = 0
    quarantined: int = 0
    error: str | None = None
    per_table: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.read == self.ingested + self.unmapped + self.quarantined


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    quarantine: list[QuarantinedRecord] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.files)

    @property
    def failed_files(self) -> list[FileReport]:
        return [f for f in self.files if f.error]


ProgressCallback = Callable[[FileReport], None]


def ingest(
    paths: Iterable[Path],
    store: Store,
    forced_format: str | None = None,
    on_batch: ProgressCallback | None = None,
) -> IngestReport:
    report = IngestReport()
    normalizer = Normalizer()
    for path in walk(paths):
        file_report = FileReport(str(path))
        report.files.append(file_report)
        if not path.exists():
            file_report.error = "no such file or directory"
            continue
        try:
            reader = choose_reader(path, forced_format)
            file_report.format = reader.format_name
            for batch in reader.read(path):
                normalized = normalizer.normalize(batch)
                file_report.read += batch.records + len(batch.quarantined)
                for table_name, table in normalized.tables.items():
                    added = store.append(table_name, table)
                    file_report.ingested += added
                    file_report.per_table[table_name] = file_report.per_table.get(table_name, 0) + added
                file_report.unmapped += normalized.unmapped
                file_report.quarantined += len(normalized.quarantined)
                report.quarantine.extend(normalized.quarantined)
                if on_batch:
                    on_batch(file_report)
        except ReaderError as exc:
            file_report.error = exc.reason
        except OSError as exc:
            file_report.error = f"read failed: {exc.strerror or exc}"
    return report
