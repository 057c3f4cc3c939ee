"""JSON lines and CSV files that grow as risk events and findings are written, each item exactly once.

A directory holds `risk_events.<ext>` and `findings.<ext>`. After a batch is appended and fsynced, the
file size reached is recorded with the sink's cursor in the store. If the process dies between the two,
the next delivery first cuts the file back to the recorded size, then writes the batch again: no line is
lost and none is written twice.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from tunnelhunt.crashpoint import crashpoint
from tunnelhunt.sinks.files import csv_cell, json_default
from tunnelhunt.sinks.outbox import FIELDS, KINDS, pages
from tunnelhunt.store.rba_store import RbaStore

FILE_NAMES = {"risk_event": "risk_events", "finding": "findings"}


class FileSink:
    """Append risk events and findings to `<dir>/risk_events.<fmt>` and `<dir>/findings.<fmt>`."""

    def __init__(self, directory: Path, fmt: str = "jsonl") -> None:
        if fmt not in ("jsonl", "csv"):
            raise ValueError(f"file sink format must be jsonl or csv, not {fmt!r}")
        self.directory = directory
        self.fmt = fmt
        self.key = f"{fmt}:{directory.resolve()}"

    def path(self, kind: str) -> Path:
        return self.directory / f"{FILE_NAMES[kind]}.{self.fmt}"

    def deliver(self, rba: RbaStore) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        taken = 0
        for kind in KINDS:
            seq, size = rba.cursor(self.key, kind)
            path = self.path(kind)
            for _first, last_seq, items in pages(rba, kind, seq):
                size = self._append(path, kind, items, size)
                crashpoint("sink-after-write")
                rba.set_cursor(self.key, kind, last_seq, size)
                taken += len(items)
        return taken

    def _append(self, path: Path, kind: str, items: list[dict[str, Any]], committed: int) -> int:
        with path.open("a+b") as stream:
            stream.seek(0, os.SEEK_END)
            actual = stream.tell()
            if actual > committed:
                stream.truncate(committed)  # a batch written before a crash but never recorded
            stream.seek(0, os.SEEK_END)
            stream.write(self._encode(kind, items, header=stream.tell() == 0))
            stream.flush()
            os.fsync(stream.fileno())
            return stream.tell()

    def _encode(self, kind: str, items: list[dict[str, Any]], header: bool) -> bytes:
        if self.fmt == "jsonl":
            text = "".join(json.dumps(item, default=json_default, ensure_ascii=False) + "\n" for item in items)
            return text.encode("utf-8")
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(FIELDS[kind]), extrasaction="ignore")
        if header:
            writer.writeheader()
        for item in items:
            writer.writerow({k: csv_cell(v) for k, v in item.items()})
        return buffer.getvalue().encode("utf-8")
