"""A disk spool: batches waiting for a network receiver, kept until it has accepted them.

Every item an HTTP sink takes is first written here (`<kind>-<first seq>-<last seq>.jsonl`, written to a
temporary name, fsynced, then renamed, so a batch is on disk whole or not at all). A batch file is removed
only after the receiver accepted it, and the highest delivered `seq` per kind is kept in `delivered.json`.
The sink's cursor is derived from the spool itself, so a crash between taking items from the store and
spooling them cannot skip or repeat anything. A batch the receiver rejects as malformed moves to
`rejected/` rather than being dropped.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunnelhunt.sinks.files import atomic_file, json_default

_BATCH = re.compile(r"^(?P<kind>[a-z_]+)-(?P<first>\d{12})-(?P<last>\d{12})\.jsonl$")


@dataclass(frozen=True)
class Batch:
    path: Path
    kind: str
    first: int
    last: int

    def items(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]


def _atomic_write(path: Path, data: bytes) -> None:
    with atomic_file(path, "wb") as stream:
        stream.write(data)


class Spool:
    """Batches on disk for one sink."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._delivered_path = directory / "delivered.json"

    def _delivered(self) -> dict[str, int]:
        if not self._delivered_path.exists():
            return {}
        data = json.loads(self._delivered_path.read_text(encoding="utf-8") or "{}")
        return {str(k): int(v) for k, v in data.items()}

    def batches(self, kind: str | None = None) -> list[Batch]:
        """Spooled batches, oldest first."""
        found = []
        for path in self.directory.iterdir():
            match = _BATCH.match(path.name)
            if match and (kind is None or match["kind"] == kind):
                found.append(Batch(path, match["kind"], int(match["first"]), int(match["last"])))
        return sorted(found, key=lambda b: (b.first, b.kind))

    def cursor(self, kind: str) -> int:
        """The last seq of this kind that is spooled or delivered."""
        spooled = max((b.last for b in self.batches(kind)), default=0)
        return max(spooled, self._delivered().get(kind, 0))

    def put(self, kind: str, items: list[dict[str, Any]], first: int, last: int) -> Batch:
        path = self.directory / f"{kind}-{first:012d}-{last:012d}.jsonl"
        text = "".join(json.dumps(item, default=json_default, ensure_ascii=False) + "\n" for item in items)
        _atomic_write(path, text.encode("utf-8"))
        return Batch(path, kind, first, last)

    def done(self, batch: Batch) -> None:
        """The receiver accepted this batch: record it, then forget it."""
        self._mark_delivered(batch)
        batch.path.unlink(missing_ok=True)

    def _mark_delivered(self, batch: Batch) -> None:
        delivered = self._delivered()
        delivered[batch.kind] = max(delivered.get(batch.kind, 0), batch.last)
        _atomic_write(self._delivered_path, json.dumps(delivered).encode("utf-8"))

    def reject(self, batch: Batch, reason: str) -> Path:
        """Keep a batch the receiver refused as malformed aside, with the reason."""
        rejected = self.directory / "rejected"
        rejected.mkdir(exist_ok=True)
        target = rejected / batch.path.name
        os.replace(batch.path, target)
        (rejected / (batch.path.name + ".reason")).write_text(reason + "\n", encoding="utf-8")
        self._mark_delivered(batch)
        return target

    @property
    def pending(self) -> int:
        return sum(len(b.items()) for b in self.batches())
