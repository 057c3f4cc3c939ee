"""The raw-event table's field lookup rule, as the Sigma stage uses it.

A name that is one of the `events` columns resolves to the column; any other name `X` is `fields['X']`
(NULL when the event lacks it, so every comparison on it is false). Names compare exactly: Sigma field
names are case-sensitive, and `Source` (an EventData field) is not the `source` column.
"""

from __future__ import annotations

from sqlglot import exp

EVENTS_TABLE = "events"

#: The columns of `events` (docs: raw-events contract); every other field lives in the `fields` map.
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


def field_sql(name: str) -> exp.Expr:
    """The expression that reads field `name` of an event."""
    if name in EVENT_COLUMNS:
        return exp.column(name, quoted=True)
    return exp.Bracket(this=exp.column("fields", quoted=True), expressions=[exp.Literal.string(name)])
