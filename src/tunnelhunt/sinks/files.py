"""JSON lines and CSV writers for findings and risk events, and the one way an output file is replaced."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any


def json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def write_jsonl(rows: Iterable[dict[str, Any]], stream: IO[str]) -> int:
    count = 0
    for row in rows:
        stream.write(json.dumps(row, default=json_default, ensure_ascii=False) + "\n")
        count += 1
    return count


#: A cell starting with one of these is a formula to spreadsheet programs (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A value as a CSV cell; text that a spreadsheet would run as a formula gets a leading `'`
    (OWASP's rule), so an attacker's `=HYPERLINK(...)` command line stays text. Numbers and times
    are never formulas and are written as they are; JSON output stays exact."""
    if isinstance(value, str | list | tuple):
        text = _cell_text(value)
        return "'" + text if text.startswith(FORMULA_STARTS) else text
    return _cell_text(value)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        # one line per cell: a multivalue field is its JSON array (exact, and a row stays one line;
        # Splunk's one-value-per-line cells break line-oriented tools and hide values in spreadsheets)
        return json.dumps(list(value), default=json_default, ensure_ascii=False)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def write_csv(rows: list[dict[str, Any]], stream: IO[str]) -> int:
    """Rows as CSV with a header of every key; no rows write nothing (no columns are known, and a
    header of none would be a bare line end): callers say so."""
    if not rows:
        return 0
    fields: dict[str, None] = {}
    for row in rows:
        fields.update(dict.fromkeys(row))
    writer = csv.DictWriter(stream, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return len(rows)


@contextmanager
def atomic_file(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A file that appears whole or not at all: written under a temporary name beside `path`, fsynced,
    renamed over it, the folder fsynced. If writing fails, `path` keeps what it held before. This is
    what lets a caller commit its state only once its output is durable (`hunt --out`, the spool)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        text = "b" not in mode
        with temporary.open(mode, encoding="utf-8" if text else None, newline="" if text else None) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_rows(rows: list[dict[str, Any]], path: Path, fmt: str) -> int:
    """Replace `path` with the rows as JSON lines or CSV, atomically and durably (see `atomic_file`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as stream:
        return write_jsonl(rows, stream) if fmt == "jsonl" else write_csv(rows, stream)
