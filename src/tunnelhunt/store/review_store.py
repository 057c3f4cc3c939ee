"""Incident review state: each finding's status, owner and comment, and an audit log of every change.

As Splunk ES's incident review: the findings themselves stay as the incident rules wrote them; who
works on one, what they decided and what they wrote live beside them, and each change is a row of
`finding_audit` (who, when, which field, old and new value), written in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tunnelhunt.store.duckdb_store import Store

#: The statuses a finding moves through (Splunk ES's defaults).
STATUSES = ("new", "in progress", "pending", "resolved", "closed")
#: The fields a reviewer changes.
FIELDS = ("status", "owner", "comment")

_CREATE = [
    "CREATE TABLE IF NOT EXISTS finding_review (finding_id VARCHAR PRIMARY KEY, status VARCHAR, owner VARCHAR, "
    "comment VARCHAR, updated TIMESTAMP, updated_by VARCHAR)",
    "CREATE TABLE IF NOT EXISTS finding_audit (finding_id VARCHAR, _time TIMESTAMP, actor VARCHAR, "
    "field VARCHAR, old VARCHAR, new VARCHAR)",
]


class ReviewStore:
    """The review tables on a store's connection (created when missing)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.con = store.con
        for ddl in _CREATE:
            self.con.execute(ddl)

    def current(self, finding_id: str) -> dict[str, Any]:
        row = self.con.execute(
            "SELECT status, owner, comment FROM finding_review WHERE finding_id = ?", [finding_id]
        ).fetchall()
        values = row[0] if row else ("new", None, None)
        return dict(zip(FIELDS, values, strict=True))

    def change(self, finding_id: str, actor: str, changes: dict[str, str | None]) -> dict[str, tuple[Any, Any]]:
        """Apply the fields that differ, with one audit row each, in one transaction; returns what changed."""
        with self.store.transaction():
            before = self.current(finding_id)
            changed = {f: (before[f], v) for f, v in changes.items() if f in FIELDS and v != before[f]}
            if not changed:
                return {}
            now = datetime.now(UTC).replace(tzinfo=None)
            after = {**before, **{f: new for f, (_, new) in changed.items()}}
            self.con.execute(
                "INSERT INTO finding_review VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (finding_id) DO UPDATE SET "
                "status = excluded.status, owner = excluded.owner, comment = excluded.comment, "
                "updated = excluded.updated, updated_by = excluded.updated_by",
                [finding_id, after["status"], after["owner"], after["comment"], now, actor],
            )
            self.con.executemany(
                "INSERT INTO finding_audit VALUES (?, ?, ?, ?, ?, ?)",
                [[finding_id, now, actor, f, old, new] for f, (old, new) in changed.items()],
            )
        return changed
