"""A search window: its own module so that what runs compiled searches needs no compiler (and no sqlglot)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TimeWindow:
    """A search window `[earliest, latest)` in UTC; None means unbounded."""

    earliest: datetime | None = None
    latest: datetime | None = None
