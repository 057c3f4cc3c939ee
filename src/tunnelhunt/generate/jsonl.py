"""The generated Sysmon log as JSON lines: one flat object per event, as Windows JSON exports hold them.

Each object has the flattened fields the XML reader yields (System fields under their Windows names,
EventData fields by `Name`), so the same events can be hunted in either form and compared. Conversion
runs on every core (one XML range per worker) because it is a per-event Python step.
"""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tunnelhunt.readers.sysmon_xml import parse_event_fast

JSONL_NAME = "windows-sysmon.jsonl"
SECURITY_JSONL_NAME = "windows-security.jsonl"
_PIECE_BYTES = 64 << 20


def _convert_range(args: tuple[str, int, int, str]) -> int:
    """Convert lines [start, end) of the XML log (cut at line ends) into `part`; returns events written."""
    source, start, end, part = args
    written = 0
    with open(source, "rb") as xml, open(part, "w", encoding="utf-8") as out:
        xml.seek(start)
        lines = xml.read(end - start).splitlines()
        buffer: list[str] = []
        for line in lines:
            if not line.strip():
                continue
            buffer.append(json.dumps(parse_event_fast(line), ensure_ascii=False, separators=(",", ":")))
            written += 1
            if len(buffer) >= 4096:
                out.write("\n".join(buffer) + "\n")
                buffer.clear()
        if buffer:
            out.write("\n".join(buffer) + "\n")
    return written


def _line_cuts(path: Path, piece_bytes: int) -> list[int]:
    size = path.stat().st_size
    cuts = [0]
    with path.open("rb") as stream:
        while cuts[-1] + piece_bytes < size:
            stream.seek(cuts[-1] + piece_bytes)
            stream.readline()
            cuts.append(stream.tell())
    cuts.append(size)
    return sorted(set(cuts))


def xml_log_to_jsonl(xml_path: Path, jsonl_path: Path, workers: int | None = None) -> int:
    """Write `jsonl_path` from a one-event-per-line XML log; returns the events written."""
    cuts = _line_cuts(xml_path, _PIECE_BYTES)
    parts = [jsonl_path.with_name(f".{jsonl_path.name}.part{i}") for i in range(len(cuts) - 1)]
    jobs = [(str(xml_path), cuts[i], cuts[i + 1], str(parts[i])) for i in range(len(cuts) - 1)]
    workers = workers or os.cpu_count() or 1
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            counts = list(pool.map(_convert_range, jobs))
    else:
        counts = [_convert_range(job) for job in jobs]
    with jsonl_path.open("wb") as out:
        for part in parts:
            with part.open("rb") as piece:
                shutil.copyfileobj(piece, out, 1 << 20)
            part.unlink()
    return sum(counts)
