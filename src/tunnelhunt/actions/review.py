"""`risk` and `findings`: read what hunts and scheduled runs stored, newest first."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from tunnelhunt.actions.common import kept, open_store
from tunnelhunt.rba.queries import findings_newest, risk_by_object, risk_events_newest
from tunnelhunt.store.rba_store import RbaStore


def risk(
    db: Path, since: datetime | None = None, risk_object: str | None = None, events: bool = False, limit: int = 100
) -> list[dict[str, Any]]:
    """Risk per entity (or the risk events themselves when `events`)."""
    with open_store(kept(db)) as store:
        rba = RbaStore(store)
        if events:
            return risk_events_newest(rba, since, risk_object, limit)
        return risk_by_object(rba, since, risk_object, limit)


def findings(
    db: Path, since: datetime | None = None, risk_object: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The findings the incident rules raised."""
    with open_store(kept(db)) as store:
        return findings_newest(RbaStore(store), since, risk_object, limit)
