"""Embedded DuckDB store: in memory by default, a file with `--db` to keep events between runs."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import duckdb
import pyarrow as pa

from tunnelhunt.cim import NODES, Node

_SQL_TYPES = {"string": "VARCHAR", "int": "BIGINT", "timestamp": "TIMESTAMP"}


def create_table_sql(node: Node) -> str:
    columns = ", ".join(
        f'"{name}" {_SQL_TYPES[kind]}{"[]" if multivalue else ""}' for name, kind, multivalue in node.all_columns
    )
    return f"CREATE TABLE IF NOT EXISTS {node.table} ({columns})"


class Store:
    """Owns the DuckDB connection; appends node batches and runs read-only queries."""

    def __init__(self, path: Path | str | None = None, threads: int | None = None) -> None:
        self.path = str(path) if path else ":memory:"
        self.con = duckdb.connect(self.path)
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        for node in NODES:
            self.con.execute(create_table_sql(node))

    def append(self, table_name: str, rows: pa.Table) -> int:
        """Insert a whole Arrow batch by column name; returns the rows added."""
        if rows.num_rows == 0:
            return 0
        self.con.register("_incoming", rows)
        try:
            self.con.execute(f"INSERT INTO {table_name} BY NAME SELECT * FROM _incoming")
        finally:
            self.con.unregister("_incoming")
        return rows.num_rows

    def count(self, table_name: str) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {table_name}").fetchall()[0]
        return int(row[0]) if row else 0

    def query(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
