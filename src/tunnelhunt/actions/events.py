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
from tunnelhunt.detect.runner import expand_detection
from tunnelhunt.rba.queries import UnknownId, results_behind
from tunnelhunt.spl.compiler import TimeWindow
from tunnelhunt.spl.drilldown import events_behind
from tunnelhunt.store.rba_store import RbaStore


class NotFound(OptionError):
    """The id names nothing stored, or a result whose detection is not loaded."""


@dataclass
class ResultEvents:
    """One stored result and the events behind it."""

    result: dict[str, Any]
    detection: str
    events: pa.Table


def events(
    db: Path, ident: str, detections: Sequence[Path] = (), macros: Sequence[Path] = (), limit: int = 1000
) -> list[ResultEvents]:
    """The events behind each stored result `ident` leads to (see `rba.queries.results_behind`)."""
    if len(ident) < 8:
        raise OptionError("give at least 8 characters of the id")
    kept(db)
    content = load(detections, macros)
    by_id = {d.id: d for d in content.detections}
    analytics = {a.id for a in load_behaviours()}  # computed, not searched: no events query to drill into
    out: list[ResultEvents] = []
    with open_store(db) as store:
        try:
            results = results_behind(RbaStore(store), ident)
        except UnknownId as exc:
            raise NotFound(str(exc)) from None
        for stored in results:
            detection = by_id.get(stored["detection_id"])
            if detection is None and stored["detection_id"] in analytics:
                continue
            if detection is None:
                raise NotFound(f"result {stored['result_id'][:12]} is of detection {stored['detection_id']}, "
                               "which is not loaded (give its --detections)")  # fmt: skip
            row = json.loads(stored["result"])
            window = TimeWindow(_aware(stored.get("earliest")), _aware(stored.get("latest")))
            compiled = events_behind(expand_detection(detection, content.macros), row, window,
                                     content.lookups.resolve, limit)  # fmt: skip
            out.append(ResultEvents(stored, detection.name, store.run(compiled)))
    return out


def _aware(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
