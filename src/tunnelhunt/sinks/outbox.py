"""What sinks deliver and in which order: risk events and findings from the store, by `seq`.

Each sink keeps a cursor (the last `seq` it has durably taken) so every item reaches every sink once,
in the order it was written, whatever restarts happen in between.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

from tunnelhunt.rba.risk import RISK_EVENT_FIELDS
from tunnelhunt.store.rba_store import FINDING_COLUMNS, RbaStore

KINDS = ("risk_event", "finding")
#: Output columns per kind (the store's `seq` is bookkeeping, not part of an item).
FIELDS: dict[str, tuple[str, ...]] = {
    "risk_event": RISK_EVENT_FIELDS,
    "finding": tuple(name for name in FINDING_COLUMNS if name != "seq"),
}
PAGE = 500


class Sink(Protocol):
    """A destination for risk events and findings."""

    key: str

    def deliver(self, rba: RbaStore) -> int:
        """Take everything new from the store; return how many items were taken."""
        ...


def plain(item: dict[str, Any], kind: str) -> dict[str, Any]:
    """An item as sinks write it: its kind's fields in order, times as ISO 8601 text."""
    out: dict[str, Any] = {}
    for name in FIELDS[kind]:
        value = item.get(name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    if isinstance(out.get("risk_score"), float) and out["risk_score"].is_integer():
        out["risk_score"] = int(out["risk_score"])
    return out


def pages(rba: RbaStore, kind: str, after: int, size: int = PAGE) -> Iterator[tuple[int, int, list[dict[str, Any]]]]:
    """(first seq, last seq, plain items) pages of everything written after `after`."""
    while True:
        rows = rba.items_after(kind, after, size)
        if not rows:
            return
        after = int(rows[-1]["seq"])
        yield int(rows[0]["seq"]), after, [plain(row, kind) for row in rows]
