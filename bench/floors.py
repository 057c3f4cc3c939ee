"""Parse-only floors: the parser each format's reader uses, reading every record and doing nothing else.

- Sysmon XML: the reader itself (`split_events`, then `xml_batch.parse_batch` with its one-at-a-time
  fallback) building the same Arrow columns `hunt` builds, and nothing after it.
- JSON lines: `json.loads` on every line (CPython's C parser).
- EVTX: iterating `evtx.PyEvtxParser(...).records_json()` (the Rust parser the EVTX reader uses),
  with the package's defaults, as the project's guide measured its floor.

Each runs in this one process; the XML and JSON floors are single-threaded, so `hunt`'s ratio to
them also shows what the process pool and the vectorised normalisation buy. The EVTX parser
decodes chunks on its own threads by default (on 2 cores that made no measurable difference:
151k events/s with its default, 159k with one thread).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Floor:
    events: int
    seconds: float
    parser: str

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def xml_floor(path: Path) -> Floor:
    from tunnelhunt.readers.sources import Source
    from tunnelhunt.readers.sysmon_xml import SysmonXmlReader

    started = time.perf_counter()
    events = 0
    for batch in SysmonXmlReader().read(Source(path)):
        events += batch.records + len(batch.quarantined)
    return Floor(events, time.perf_counter() - started, "SysmonXmlReader (split_events + parse_batch)")


def jsonl_floor(path: Path) -> Floor:
    started = time.perf_counter()
    events = 0
    with path.open("rb") as stream:
        for line in stream:
            if line.strip():
                events += 1
                try:
                    json.loads(line)
                except ValueError:
                    continue  # a bad line costs the parser too: it stays counted
    return Floor(events, time.perf_counter() - started, "json.loads per line")


def evtx_floor(paths: list[Path]) -> Floor:
    import evtx

    started = time.perf_counter()
    events = 0
    for path in paths:
        for _record in evtx.PyEvtxParser(str(path)).records_json():
            events += 1
    return Floor(events, time.perf_counter() - started, "evtx records_json iteration")


FLOORS: dict[str, Callable[[list[Path]], Floor]] = {
    "sysmon_xml": lambda paths: _sum([xml_floor(p) for p in paths]),
    "jsonl": lambda paths: _sum([jsonl_floor(p) for p in paths]),
    "evtx": evtx_floor,
}


def _sum(floors: list[Floor]) -> Floor:
    return Floor(sum(f.events for f in floors), sum(f.seconds for f in floors), floors[0].parser if floors else "")
