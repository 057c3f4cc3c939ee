"""Declarative source-type → CIM mappings.

A mapping is data: for each data-model node, a SQL predicate choosing the raw records that belong
to it and one SQL expression per CIM field. DuckDB evaluates them over a whole Arrow batch at once,
so normalisation does no per-record Python work. A record belongs to at most one node of a mapping
(the predicates are disjoint), which keeps `read = ingested + unmapped + quarantined` exact.

Raw columns come straight from the reader's table, or, when `sources` says so, from other columns
or JSON paths: a reader that hands over JSON text (`_json`) gets every raw column extracted by one
`json_extract_string` call per record, first non-NULL candidate winning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tunnelhunt.cim import Node


@dataclass(frozen=True)
class NodeMapping:
    """How raw records of one source type become rows of one data-model node."""

    node: Node
    where: str
    time: str
    fields: dict[str, str]


#: Splunk's `index` of every event (one store, so one index, as the events table names it too).
DEFAULT_INDEX = "main"


@dataclass(frozen=True)
class SourceMapping:
    """All node mappings of a source type, the raw columns they read, and where those come from.

    `sources` maps a raw column to candidate JSON paths (starting with `$`) for JSON readers, or to
    candidate column names for tabular readers; a raw column not listed is read from `$."name"`
    (JSON) or the column of that name (tabular).

    `host` and `source` are Splunk's default fields of every node row, SQL over the raw columns like
    a node field: the host the event is about (the Windows add-on's `Computer`) and its source (the
    Windows channel as `XmlWinEventLog:<Channel>`, else the file, `_source`). They equal the `host`
    and `source` of the record's row in the events table, so data model and raw search agree.
    """

    sourcetype: str
    raw_columns: tuple[str, ...]
    nodes: tuple[NodeMapping, ...]
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    host: str = "NULL"
    source: str = "_source"

    def candidates(self, column: str, json: bool) -> tuple[str, ...]:
        listed = self.sources.get(column)
        if listed:
            return listed
        return (json_path(column, nested=False),) if json else (column,)


def channel_source(prefix: str, channel: str) -> str:
    """Splunk's `source` of a Windows event: `XmlWinEventLog:Security` (the channel after the input's
    prefix), or the file (`_source`) when the event names no channel."""
    return f"coalesce({sql_string(prefix)} || {channel}, _source)"


def sql_string(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def json_path(dotted: str, nested: bool = True) -> str:
    """`a.b.c` as a JSON path: nested keys (`$."a"."b"."c"`) or one flat key holding dots (`$."a.b.c"`)."""
    parts = dotted.split(".") if nested else [dotted]
    return "$" + "".join('."' + part.replace('"', '\\"') + '"' for part in parts)


def dotted_sources(columns: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """JSON candidates for dotted field names (ECS, OCSF): nested first, then a flat dotted key."""
    out: dict[str, tuple[str, ...]] = {}
    for column in columns:
        nested = json_path(column)
        flat = json_path(column, nested=False)
        out[column] = (nested,) if nested == flat else (nested, flat)
    return out


#: SQL helpers shared by mappings (plain string templates over a raw column expression).
def col(name: str) -> str:
    """A raw column reference (names with dots or `@` need quoting)."""
    return quote_identifier(name)


def basename(column: str) -> str:
    """File name of a Windows or POSIX path, as the Splunk add-ons derive `process_name`."""
    return rf"nullif(regexp_extract({column}, '[^\\/]+$'), '')"


def windows_system_time(column: str) -> str:
    """`TimeCreated/@SystemTime` (7 fractional digits, `Z`) as a UTC TIMESTAMP, NULL when invalid."""
    return rf"TRY_CAST(regexp_replace(regexp_replace({column}, '(\.\d{{1,6}})\d*', '\1'), '[Zz]$', '') AS TIMESTAMP)"


def event_time(column: str) -> str:
    """Any common event time as a UTC TIMESTAMP: ISO-8601 (any offset), epoch seconds or milliseconds.

    Never raises on a value: epoch milliseconds have at most 15 digits (up to year 33658), so the
    microseconds stay inside BIGINT and `make_timestamp`; a longer number is no valid time (NULL,
    and its record quarantined) instead of an overflow that ended the whole file.
    """
    return (
        f"CASE WHEN regexp_full_match({column}, '\\d{{12,15}}')"
        f" THEN make_timestamp(TRY_CAST({column} AS BIGINT) * 1000)"
        f" WHEN regexp_full_match({column}, '\\d{{1,11}}(\\.\\d+)?')"
        f" THEN make_timestamp(CAST(TRY_CAST({column} AS DOUBLE) * 1000000 AS BIGINT))"
        f" WHEN regexp_full_match({column}, '\\d+(\\.\\d+)?') THEN NULL"
        f" ELSE timezone('UTC', TRY_CAST({column} AS TIMESTAMPTZ)) END"
    )


def as_list(column: str) -> str:
    """A raw value as a multivalue field: a JSON array's elements, or the single value."""
    return (
        f"CASE WHEN {column} IS NULL THEN NULL"
        f" WHEN json_valid({column}) AND json_type({column}) = 'ARRAY' THEN json_extract_string({column}, '$[*]')"
        f" ELSE [{column}] END"
    )


def split_list(column: str, separator: str = ",") -> str:
    """A delimited string (Zeek sets, comma lists) as a multivalue field; empty parts dropped."""
    return f"list_filter(string_split({column}, {sql_string(separator)}), LAMBDA v : v <> '')"


def lower_in(column: str, *values: str) -> str:
    """Case-insensitive membership, NULL-safe (false for NULL)."""
    return f"coalesce(lower({column}) IN ({', '.join(sql_string(v.lower()) for v in values)}), FALSE)"


def list_has(column: str, value: str) -> str:
    """True when raw column `column` (a JSON array or a single value) holds `value`, case-insensitively."""
    lowered = f"list_transform({as_list(col(column))}, LAMBDA v : lower(v))"
    return f"coalesce(list_contains({lowered}, {sql_string(value.lower())}), FALSE)"
