"""`events ID`: the raw events behind a stored finding, risk event or detection result (drilldown).

Each stored result names its detection and the span it searched; the detection's search is expanded
with the same content it ran with, and `spl/drilldown.py` turns it into the query for the events that
result stands for, each with its source file and line or record number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import pyarrow as pa

from tunnelhunt.actions.common import OptionError, kept, load, open_store
from tunnelhunt.content.behaviours import load_behaviours
from tunnelhunt.content.loader import ContentSet
from tunnelhunt.detect.runner import expand_detection
from tunnelhunt.rba.queries import UnknownId, results_behind
from tunnelhunt.spl.drilldown import events_behind
from tunnelhunt.spl.window import TimeWindow
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore

#: What a terminal table shows of each event first (every field goes to jsonl/csv).
SHOWN = ("_time", "host", "dest", "src", "_source", "_offset", "EventCode", "_raw")
#: What a page shows first: also who and what ran (a page has the width for them).
READABLE = ("_time", "host", "dest", "src", "user", "process", "CommandLine", "query", "_source", "_offset",
            "EventCode", "_raw")  # fmt: skip


class NotFound(OptionError):
    """The id names nothing stored, or a result whose detection is not loaded."""


@dataclass
class ResultEvents:
    """One stored result and the events behind it."""

    result: dict[str, Any]
    detection: str
    events: pa.Table

    def shown(self, first: Sequence[str] = SHOWN, others: int = 4) -> list[str]:
        """The columns worth a table: those of `first` holding a value, then up to `others` more."""
        rows = self.events.to_pylist()
        present = [c for c in self.events.column_names if any(r.get(c) not in (None, [], "") for r in rows)]
        return [c for c in first if c in present] + [c for c in present if c not in first][:others]


def events(
    db: Path, ident: str, detections: Sequence[Path] = (), macros: Sequence[Path] = (), limit: int = 1000
) -> list[ResultEvents]:
    """The events behind each stored result `ident` leads to (see `rba.queries.results_behind`)."""
    if len(ident) < 8:
        raise OptionError("give at least 8 characters of the id")
    kept(db)
    content = load(detections, macros)
    with open_store(db) as store:
        return events_in(store, content, ident, limit)


def events_in(
    store: Store,
    content: ContentSet,
    ident: str,
    limit: int = 1000,
    max_results: int | None = None,
    cache: dict[str, ResultEvents] | None = None,
) -> list[ResultEvents]:
    """`events` on an open store with loaded content (the HTML report and the web pages call this);
    `max_results` bounds how many of the results behind `ident` are drilled into, and `cache` keeps
    each result's events for the next id leading to it (findings of several rules share results)."""
    by_id = {d.id: d for d in content.detections}
    analytics = {a.id for a in load_behaviours()}  # computed, not searched: no events query to drill into
    out: list[ResultEvents] = []
    try:
        results = results_behind(RbaStore(store), ident)
    except UnknownId as exc:
        raise NotFound(str(exc)) from None
    for stored in results:
        if max_results is not None and len(out) >= max_results:
            break
        detection = by_id.get(stored["detection_id"])
        if detection is None and stored["detection_id"] in analytics:
            continue
        if detection is None:
            raise NotFound(f"result {stored['result_id'][:12]} is of detection {stored['detection_id']}, "
                           "which is not loaded (give its --detections)")  # fmt: skip
        if cache is not None and stored["result_id"] in cache:
            out.append(cache[stored["result_id"]])
            continue
        row = json.loads(stored["result"])
        window = TimeWindow(_aware(stored.get("earliest")), _aware(stored.get("latest")))
        compiled = events_behind(expand_detection(detection, content.macros), row, window,
                                 content.lookups.resolve, limit)  # fmt: skip
        out.append(ResultEvents(stored, detection.name, store.run(compiled)))
        if cache is not None:
            cache[stored["result_id"]] = out[-1]
    return out


def _aware(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
