"""Apply a source mapping to a raw batch, in DuckDB, and account for every record.

Each raw record ends in exactly one place: a data-model node, `unmapped` (a valid event of a kind no
node models, such as Sysmon image loads or Suricata flow records), or quarantine (a JSON line that
is not a JSON object, or a record that belongs to a node but has no valid time). Quarantine offsets
keep the reader's offset kind (line, byte or record number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from tunnelhunt.cim import PROVENANCE_FIELDS, Node, arrow_type
from tunnelhunt.normalize.json_columns import json_types, not_objects
from tunnelhunt.normalize.mapping import DEFAULT_INDEX, NodeMapping, SourceMapping, quote_identifier, sql_string
from tunnelhunt.normalize.queries import arrow_of
from tunnelhunt.normalize.raw_events import RawEventBuilder, WalkedJson
from tunnelhunt.normalize.registry import MappingRegistry
from tunnelhunt.readers.base import OffsetKind, QuarantinedRecord, RawBatch, excerpt
from tunnelhunt.store.events import EVENTS_TABLE


def node_schema(node: Node) -> pa.Schema:
    """The Arrow schema of a node's store table (provenance columns, then CIM fields)."""
    return pa.schema([pa.field(name, arrow_type(kind, multivalue)) for name, kind, multivalue in node.all_columns])


@dataclass
class NormalizedBatch:
    """Rows per node table, plus what was valid but unmodelled and what was quarantined.

    With the raw store on, `tables` also holds `events`: every ingested or unmapped record (not a
    data-model row, so not counted in `normalized`).
    """

    tables: dict[str, pa.Table] = field(default_factory=dict)
    unmapped: int = 0
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    #: `unmapped` per input (`_source`): a batch may hold the records of several small files.
    unmapped_by_source: dict[str, int] = field(default_factory=dict)

    @property
    def normalized(self) -> int:
        return sum(table.num_rows for name, table in self.tables.items() if name != EVENTS_TABLE)


def unnormalised(batch: RawBatch, reason: str) -> NormalizedBatch:
    """A batch the mapping could not run on: every record of it quarantined with the reason, so a
    value that breaks the SQL loses nothing silently and the records after it are still read."""
    table = batch.table
    offsets = table.column("_offset").to_pylist()
    sources = table.column("_source").to_pylist()
    raw = table.column("_json").to_pylist() if "_json" in table.column_names else [""] * len(offsets)
    records = [
        QuarantinedRecord(str(source), int(offset), batch.offset_kind, reason, excerpt(text or ""))
        for source, offset, text in zip(sources, offsets, raw, strict=True)
    ]
    return NormalizedBatch(quarantined=[*batch.quarantined, *records])


def _references(expression: str, column: str) -> bool:
    """Whether a SQL expression reads raw column `column` (quoted, or as a bare identifier)."""
    if quote_identifier(column) in expression:
        return True
    return bool(re.search(rf'(?<![\w."]){re.escape(column)}(?![\w"])', expression))


_PLANS: dict[int, tuple[SourceMapping, tuple[tuple[str, ...], tuple[str, ...], str]]] = {}


def _plan(mapping: SourceMapping) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """Key columns (read by some node's predicate), the other raw columns, and the node selector.

    The selector gives each record the index of the first node whose predicate holds (NULL: none),
    so a record lands in one node at most and is counted exactly once.
    """
    cached = _PLANS.get(id(mapping))
    if cached is not None and cached[0] is mapping:
        return cached[1]
    keys = tuple(c for c in mapping.raw_columns if any(_references(m.where, c) for m in mapping.nodes))
    rest = tuple(c for c in mapping.raw_columns if c not in keys)
    cases = " ".join(f"WHEN coalesce({m.where}, FALSE) THEN {i}" for i, m in enumerate(mapping.nodes))
    plan = (keys, rest, f"CASE {cases} END")
    _PLANS[id(mapping)] = (mapping, plan)
    return plan


def _json_columns(mapping: SourceMapping, columns: tuple[str, ...]) -> tuple[str, list[str]]:
    """One `json_extract_string` call over every candidate path, and a select item per column."""
    paths: list[str] = []
    selects: list[str] = []
    for column in columns:
        indexes = []
        for path in mapping.candidates(column, json=True):
            if path not in paths:
                paths.append(path)
            indexes.append(paths.index(path) + 1)
        values = [f"_v[{i}]" for i in indexes]
        expression = values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"
        selects.append(f"{expression} AS {quote_identifier(column)}")
    extract = f"json_extract_string(_json, [{', '.join(sql_string(p) for p in paths)}])" if paths else "[]"
    return extract, selects


class Normalizer:
    """Runs mappings over Arrow batches with a private in-memory DuckDB connection (UTC session).

    JSON records are parsed once, by the raw-event walk, which also picks the mapping's raw columns
    (`json_columns.py`); with the raw store off, or for a batch the walk refuses, DuckDB extracts them
    in two stages that keep the work proportional to what is modelled: the columns node predicates
    read for every record, the others only for records some node takes (most of a Windows log is
    event kinds no node models).
    """

    def __init__(self, registry: MappingRegistry | None = None, threads: int | None = None, raw: bool = True) -> None:
        self._registry = registry or MappingRegistry()
        self._con = duckdb.connect()
        self._con.execute("SET TimeZone = 'UTC'")
        if threads:
            self._con.execute(f"SET threads = {int(threads)}")
        self._con.execute("SET enable_progress_bar = false")  # it would print on stdout
        #: Builds the `events` rows (every record kept, `store/events.py`); None when the raw store is off.
        self._events = RawEventBuilder(self._con) if raw else None

    def normalize(self, batch: RawBatch) -> NormalizedBatch:
        mapping = self._registry.get(batch.sourcetype)
        walked = None
        if self._events is not None and batch.table.num_rows and "_json" in batch.table.column_names:
            # one parse per record: the raw-event walk also picks the mapping's raw columns
            walked = self._events.walk(batch, mapping)
        result = self._normalize_nodes(batch, walked)
        if self._events is not None and batch.table.num_rows:
            own = result.quarantined[len(batch.quarantined) :]  # quarantined here, so not stored as events
            events = self._events.build(batch, mapping, own, walked)
            if events.num_rows:
                result.tables[EVENTS_TABLE] = events
        return result

    def _normalize_nodes(self, batch: RawBatch, walked: WalkedJson | None = None) -> NormalizedBatch:
        """Rows per node; a JSON batch's raw columns from the raw-event walk when it took them."""
        result = NormalizedBatch(quarantined=list(batch.quarantined))
        if batch.table.num_rows == 0:
            return result
        mapping = self._registry.get(batch.sourcetype)
        if mapping is None:
            result.unmapped = batch.table.num_rows
            sources = pc.value_counts(batch.table.column("_source").combine_chunks()).to_pylist()
            result.unmapped_by_source = {item["values"]: item["counts"] for item in sources}
            return result
        try:
            if walked is not None:  # the walk has set aside the records that are not JSON objects
                result.quarantined.extend(walked.rejected)
                if walked.columns is not None:
                    self._stage(walked.columns, mapping)
                else:  # a batch the walk refused: DuckDB extracts the raw columns
                    self._stage_json(walked.table, mapping, batch.offset_kind, checked=True)
            elif "_json" in batch.table.column_names:
                result.quarantined.extend(self._stage_json(batch.table, mapping, batch.offset_kind, batch.json_checked))
            else:
                self._stage_columns(batch.table, mapping)
            counts: dict[int, int] = {}
            for source, node, count in self._con.execute(
                "SELECT _source, _node, count(*) FROM mapped GROUP BY ALL"
            ).fetchall():
                if node is None:
                    result.unmapped_by_source[source] = int(count)
                else:
                    counts[node] = counts.get(node, 0) + int(count)
            result.unmapped = sum(result.unmapped_by_source.values())
            for index, node_mapping in enumerate(mapping.nodes):
                if not counts.get(index):
                    continue
                table, bad = self._map_node(index, node_mapping, mapping, batch.offset_kind)
                result.quarantined.extend(bad)
                if table.num_rows:
                    existing = result.tables.get(node_mapping.node.table)
                    result.tables[node_mapping.node.table] = (
                        table if existing is None else pa.concat_tables([existing, table])
                    )
        finally:
            self._con.unregister("mapped")
        return result

    def _stage_columns(self, table: pa.Table, mapping: SourceMapping) -> None:
        """Tabular records: raw columns by name (or alternative names), node picked per record."""
        self._stage(_from_columns(table, mapping), mapping)

    def _stage(self, raw: pa.Table, mapping: SourceMapping) -> None:
        """`mapped`: the raw columns (`_source`, `_offset`, then the mapping's) with each record's node."""
        _keys, _rest, selector = _plan(mapping)
        self._con.register("incoming", raw)
        try:
            # Only the node column comes back from DuckDB (rows keep their order: preserve_insertion_order is
            # on); materialising ~80 raw columns into a temp table cost 50-150 ms a batch whatever its size.
            nodes = arrow_of(self._con, f"SELECT {selector} AS _node FROM incoming").column(0)
        finally:
            self._con.unregister("incoming")
        self._con.register("mapped", raw.append_column("_node", nodes))

    def _stage_json(
        self, table: pa.Table, mapping: SourceMapping, offset_kind: OffsetKind, checked: bool
    ) -> list[QuarantinedRecord]:
        """JSON records: quarantine what is not a JSON object, pick each record's node from its key
        columns, then extract the remaining columns for the records a node takes."""
        keys, rest, selector = _plan(mapping)
        key_extract, key_selects = _json_columns(mapping, keys)
        rest_extract, rest_selects = _json_columns(mapping, rest)
        bad: list[QuarantinedRecord] = []
        if not checked:
            table, bad = not_objects(table, json_types(self._con, table.column("_json")), offset_kind)
        self._con.register("incoming", table.select(["_source", "_offset", "_json"]))
        try:
            key_names = "".join(", " + quote_identifier(k) for k in keys)
            query = (
                f"WITH keyed AS (SELECT _source, _offset, _json{''.join(', ' + k for k in key_selects)}"
                f" FROM (SELECT *, {key_extract} AS _v FROM incoming)),"
                f" picked AS (SELECT *, {selector} AS _node FROM keyed)"
                f" SELECT _source, _offset, _node{key_names}{''.join(', ' + r for r in rest_selects)}"
                f" FROM (SELECT *, CASE WHEN _node IS NOT NULL THEN {rest_extract} END AS _v FROM picked)"
            )
            # an Arrow table, not a temp table: see `_stage`
            self._con.register("mapped", self._con.sql(query).to_arrow_table())
        finally:
            self._con.unregister("incoming")
        return bad

    def _map_node(
        self, index: int, mapping: NodeMapping, family: SourceMapping, offset_kind: OffsetKind
    ) -> tuple[pa.Table, list[QuarantinedRecord]]:
        schema = node_schema(mapping.node)
        selects = [
            f"{mapping.time} AS _time",
            "_source",
            "_offset",
            f"{sql_string(family.sourcetype)} AS sourcetype",
            f"{family.host} AS host",
            f"{family.source} AS source",
            f'{sql_string(DEFAULT_INDEX)} AS "index"',
        ]
        for name, _kind, _multi in mapping.node.all_columns[len(PROVENANCE_FIELDS) :]:
            expression = mapping.fields.get(name, "NULL")
            selects.append(f"{expression} AS {quote_identifier(name)}")
        sql = f"SELECT {', '.join(selects)} FROM mapped WHERE _node = {index} ORDER BY _source, _offset"
        table = _conform(arrow_of(self._con, sql), schema)
        bad: list[QuarantinedRecord] = []
        times = table.column("_time")
        if times.null_count:
            valid = pc.is_valid(times)
            invalid = table.filter(pc.invert(valid))
            for source, offset in zip(
                invalid.column("_source").to_pylist(), invalid.column("_offset").to_pylist(), strict=True
            ):
                bad.append(QuarantinedRecord(source, offset, offset_kind, "missing or invalid event time"))
            table = table.filter(valid)
        return table, bad


def _from_columns(table: pa.Table, mapping: SourceMapping) -> pa.Table:
    """The raw columns a mapping reads, from the first present candidate column (NULL when none is)."""
    present = set(table.column_names)
    columns: dict[str, pa.ChunkedArray | pa.Array] = {
        "_source": table.column("_source"),
        "_offset": table.column("_offset"),
    }
    for column in mapping.raw_columns:
        found = [table.column(c) for c in mapping.candidates(column, json=False) if c in present]
        if not found:
            columns[column] = pa.nulls(table.num_rows, pa.string())
        elif len(found) == 1:
            columns[column] = found[0].cast(pa.string())
        else:
            columns[column] = pc.coalesce(*[f.cast(pa.string()) for f in found])
    return pa.table(columns)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Cast DuckDB's result to the node schema so every batch of a node stacks and stores alike."""
    columns = []
    for target in schema:
        column = table.column(target.name)
        columns.append(column if column.type == target.type else column.cast(target.type))
    return pa.Table.from_arrays(columns, schema=schema)
