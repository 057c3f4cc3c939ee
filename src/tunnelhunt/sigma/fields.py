"""The raw-event table's field lookup rule, as the Sigma stage uses it.

A name that is one of the `events` columns resolves to the column; any other name `X` is `fields['X']`
(NULL when the event lacks it, so every comparison on it is false). Names compare exactly: Sigma field
names are case-sensitive, and `Source` (an EventData field) is not the `source` column.

The raw-event store (`tunnelhunt.store.events`) owns the rule and the column list; until it is present
on this branch the contract's default columns are used, so the Sigma stage works on either layout.
"""

from __future__ import annotations

from sqlglot import exp

try:
    from tunnelhunt.store.events import EVENT_COLUMNS, EVENTS_TABLE, field_sql
except ImportError:  # the store's module lands with the raw-event store work (branch h-rawstore)
    EVENTS_TABLE = "events"
    EVENT_COLUMNS = (
        "_time",
        "host",
        "source",
        "sourcetype",
        "index",
        "_raw",
        "_source",
        "_offset",
        "EventCode",
        "Channel",
    )

    def field_sql(name: str) -> exp.Expression:
        """The expression that reads field `name` of an event."""
        if name in EVENT_COLUMNS:
            return exp.column(name, quoted=True)
        return exp.Bracket(this=exp.column("fields", quoted=True), expressions=[exp.Literal.string(name)])


__all__ = ["EVENTS_TABLE", "EVENT_COLUMNS", "field_sql"]
