"""Apply a source mapping to a raw batch, in DuckDB, and account for every record.

Each raw record ends in exactly one place: a data-model node, `unmapped` (a valid event of a kind no
node models, such as Sysmon image loads), or quarantine (it belongs to a node but has no valid time).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from tunnelhunt.cim import Node
from tunnelhunt.normalize.mapping import NodeMapping, SourceMapping
from tunnelhunt.normalize.registry import mapping_for
from tunnelhunt.readers.base import QuarantinedRecord, RawBatch, excerpt

_ARROW_TYPES = {"string": pa.string(), "int": pa.int64(), "timestamp": pa.timestamp("us")}


def node_schema(node: Node) -> pa.Schema:
    """The Arrow schema of a node's store table (provenance columns, then CIM fields)."""
    return pa.schema(
        [
            pa.field(name, pa.list_(_ARROW_TYPES[kind]) if multivalue else _ARROW_TYPES[kind])
            for name, kind, multivalue in node.all_columns
        ]
    )


@dataclass
class NormalizedBatch:
    """Rows per node table, plus what was valid but unmodelled and what was quarantined."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    unmapped: int = 0
    quarantined: list[QuarantinedRecord] = field(default_factory=list)

    @property
    def normalized(self) -> int:
        return sum(table.num_rows for table in self.tables.values())


class Normalizer:
    """Runs mappings over Arrow batches with a private in-memory DuckDB connection."""

    def __init__(self) -> None:
        self._con = duckdb.connect()

    def normalize(self, batch: RawBatch) -> NormalizedBatch:
        result = NormalizedBatch(quarantined=list(batch.quarantined))
        if batch.table.num_rows == 0:
            return result
        mapping = mapping_for(batch.sourcetype)
        raw = _with_columns(batch.table, mapping)
        self._con.register("raw", raw)
        try:
            for node_mapping in mapping.nodes:
                table, bad = self._map_node(node_mapping, mapping.sourcetype)
                result.quarantined.extend(bad)
                if table.num_rows:
                    existing = result.tables.get(node_mapping.node.table)
                    result.tables[node_mapping.node.table] = (
                        table if existing is None else pa.concat_tables([existing, table])
                    )
            any_node = " OR ".join(f"coalesce({m.where}, FALSE)" for m in mapping.nodes)
            row = self._con.execute(f"SELECT count(*) FROM raw WHERE NOT ({any_node})").fetchall()[0]
            result.unmapped = int(row[0]) if row else 0
        finally:
            self._con.unregister("raw")
        return result

    def _map_node(self, mapping: NodeMapping, sourcetype: str) -> tuple[pa.Table, list[QuarantinedRecord]]:
        schema = node_schema(mapping.node)
        selects = [f"{mapping.time} AS _time", "_source", "_offset", f"'{sourcetype}' AS sourcetype"]
        for name, _kind, _multi in mapping.node.all_columns[4:]:
            expression = mapping.fields.get(name, "NULL")
            selects.append(f'{expression} AS "{name}"')
        sql = f"SELECT {', '.join(selects)} FROM raw WHERE coalesce({mapping.where}, FALSE)"
        table = self._con.sql(sql).to_arrow_table()
        table = _conform(table, schema)
        bad: list[QuarantinedRecord] = []
        times = table.column("_time")
        if times.null_count:
            valid = pc.is_valid(times)
            for source, offset in zip(
                table.filter(pc.invert(valid)).column("_source").to_pylist(),
                table.filter(pc.invert(valid)).column("_offset").to_pylist(),
                strict=True,
            ):
                bad.append(QuarantinedRecord(source, offset, "line", "missing or invalid event time", excerpt("")))
            table = table.filter(valid)
        return table, bad


def _with_columns(table: pa.Table, mapping: SourceMapping) -> pa.Table:
    """Add the raw columns a mapping reads but this batch lacks, as NULL strings."""
    for column in mapping.raw_columns:
        if column not in table.column_names:
            table = table.append_column(column, pa.nulls(table.num_rows, pa.string()))
    return table


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Cast DuckDB's result to the node schema so every batch of a node stacks and stores alike."""
    columns = []
    for target in schema:
        column = table.column(target.name)
        columns.append(column if column.type == target.type else column.cast(target.type))
    return pa.Table.from_arrays(columns, schema=schema)
