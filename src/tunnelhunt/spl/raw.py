"""Searches over the raw events (`events` table), as Splunk's search bar runs them.

A search that starts with search terms (`` `sysmon` EventCode=1 ``, `index=main sourcetype=…`, bare words)
selects from `events`. Field names resolve to a column of the table when there is one, else to the
event's field map (`store/events.py`); the map travels through the stages as a hidden column, so a later
`eval`, `where` or `stats` can still use any field of the event until a transforming command (`stats`,
`table`, `fields` without it) drops it, exactly as fields disappear in Splunk after those commands.

Bare terms match `_raw` the way Splunk's index does, by whole tokens: `ngrok` matches `ngrok.exe http 80`
and `C:\\ngrok\\x`, not `myngrokapp`; a term with breakers (`1.2.3.4`, `a=b`) matches that text with
breakers or the event's edges around it; `*` is a wildcard inside a term. Case is ignored.
"""

from __future__ import annotations

from sqlglot import exp

from tunnelhunt.spl import semantics
from tunnelhunt.spl.builder import Builder
from tunnelhunt.spl.errors import UnsupportedError
from tunnelhunt.spl.values import Column, Kind, alias, col, table
from tunnelhunt.store.events import EVENT_COLUMNS, EVENTS_TABLE, FIELDS_COLUMN

#: The hidden name of the field map inside a compiled search (no SPL field can be named so).
MAP_COLUMN = "__event_fields"
_KINDS = {"_time": Kind.TIME, "_offset": Kind.INT}


def column_kind(name: str) -> Kind:
    return _KINDS.get(name, Kind.STR)


def event_field(name: str) -> tuple[exp.Expr, Column]:
    """A field of the events table in the first stage: its column, or the map's entry (NULL when absent)."""
    if name in EVENT_COLUMNS:
        return col(name), Column(name, column_kind(name))
    return map_entry(col(FIELDS_COLUMN), name), Column(name)


def map_entry(map_column: exp.Expr, name: str) -> exp.Expr:
    return exp.Bracket(this=map_column, expressions=[exp.Literal.string(name)])


def term_match(term: str) -> exp.Expr:
    """A bare search term over `_raw`, by whole tokens (see the module docstring)."""
    pattern = semantics.wildcard_to_regex(semantics.fold(term))
    regex = f"(?s)(^|[^a-z0-9]){pattern}([^a-z0-9]|$)"
    lowered = semantics.folded(col("_raw"), term)
    match = exp.RegexpLike(this=lowered, expression=exp.Literal.string(regex))
    literal = max(semantics.fold(term).split("*"), key=len)
    if not literal:
        return match
    # A plain substring test first: a few times cheaper than the regex, and most events fail it.
    contains = exp.GT(
        this=exp.StrPosition(this=lowered.copy(), substr=exp.Literal.string(literal)), expression=exp.Literal.number(0)
    )
    return exp.and_(contains, match)


def start(builder: Builder, predicate: exp.Expr | None) -> None:
    """The first stage: every event column and the hidden field map, filtered by the search terms."""
    columns = [Column(name, column_kind(name)) for name in EVENT_COLUMNS]
    select = exp.select(*[col(c.name) for c in columns], alias(col(FIELDS_COLUMN), MAP_COLUMN))
    select = select.from_(table(EVENTS_TABLE), copy=False)
    if predicate is not None:
        select = select.where(predicate, copy=False)
    builder.add(select, [*columns, Column(MAP_COLUMN)])
    builder.hidden.add(MAP_COLUMN)
    builder.maps = [MAP_COLUMN]
    builder.fallback = lambda name: from_map(builder, name)


def from_map(builder: Builder, name: str) -> Column | None:
    """Bring a field out of the event's map (maps, after a join: first the one that wins) into a column
    of its own, if a map is still there."""
    present = {c.name for c in builder.columns}
    if not name or not any(m in present for m in builder.maps):
        return None
    clash = next((c for c in builder.columns if c.name != name and c.name.lower() == name.lower()), None)
    if clash is not None:
        _into_map(builder, clash, name)
    maps = [col(m) for m in builder.maps if m in present]
    entries = [map_entry(m, name) for m in maps]
    value = entries[0] if len(entries) == 1 else exp.Coalesce(this=entries[0], expressions=entries[1:])
    select = builder.select_all().select(alias(value, name), copy=False)
    column = Column(name)
    builder.add(select, [*builder.columns, column])
    return column


def _into_map(builder: Builder, clash: Column, name: str) -> None:
    """Make room for field `name` where a column differing only in case (`ProcessId` for Sysmon's
    `ProcessID`, `user` for `User`) is: SQL engines resolve column names without case, Splunk does not.
    The event column moves into the field map(s), from where a later reference takes it back out."""
    if clash.name not in EVENT_COLUMNS or clash.kind is not Kind.STR or clash.name in builder.hidden:
        raise UnsupportedError(f"field {name!r} differs only in case from the field {clash.name!r}")
    entry = exp.VarMap(
        keys=exp.Array(expressions=[exp.Literal.string(clash.name)]), values=exp.Array(expressions=[col(clash.name)])
    )
    present = {c.name for c in builder.columns}
    maps = {m for m in builder.maps if m in present}
    kept = [c for c in builder.columns if c.name != clash.name]
    select = exp.select(
        *[
            alias(exp.func("MAP_CONCAT", col(c.name), entry.copy()), c.name) if c.name in maps else col(c.name)
            for c in kept
        ]
    ).from_(table(builder.current), copy=False)
    builder.add(select, kept)
