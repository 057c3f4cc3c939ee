"""The account of one ingest: per input, records read = ingested + unmapped + quarantined."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from tunnelhunt.readers.base import Position, QuarantinedRecord


@dataclass
class FileReport:
    """What happened to one input."""

    path: str
    format: str | None = None
    sourcetype: str | None = None
    read: int = 0
    ingested: int = 0
    unmapped: int = 0
    quarantined: int = 0
    #: Rows written to the raw-event store (`events`): ingested + unmapped when it is on, else 0.
    events: int = 0
    error: str | None = None
    #: Why a file found in a directory was passed over (no known format); not an error.
    skipped: str | None = None
    per_table: dict[str, int] = field(default_factory=dict)
    resumed_from: Position | None = None
    position: Position | None = None
    seconds: float = 0.0

    @property
    def balanced(self) -> bool:
        return self.read == self.ingested + self.unmapped + self.quarantined

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"file": data.pop("path"), **data, "balanced": self.balanced}


@dataclass
class IngestReport:
    """Every file's account, totals, and a bounded sample of the quarantined records."""

    files: list[FileReport] = field(default_factory=list)
    quarantine: list[QuarantinedRecord] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.files)

    @property
    def failed_files(self) -> list[FileReport]:
        return [f for f in self.files if f.error]

    @property
    def skipped_files(self) -> list[FileReport]:
        return [f for f in self.files if f.skipped]

    @property
    def balanced(self) -> bool:
        return all(f.balanced for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        """The JSON ingest report: per file and in total, records read = ingested + unmapped + quarantined."""
        totals = {name: self.total(name) for name in ("read", "ingested", "unmapped", "quarantined")}
        return {
            "files": [f.to_dict() for f in self.files],
            "totals": {
                "files": len(self.files),
                "files_failed": len(self.failed_files),
                "files_skipped": len(self.skipped_files),
                **totals,
                "balanced": self.balanced
                and totals["read"] == totals["ingested"] + totals["unmapped"] + totals["quarantined"],
            },
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class IngestProgress:
    """Where a running ingest is, for progress displays."""

    files_total: int
    files_done: int
    current: str
    read: int
    quarantined: int
    elapsed: float


ProgressCallback = Callable[[IngestProgress], None]
QuarantineSink = Callable[[list[QuarantinedRecord]], None]
