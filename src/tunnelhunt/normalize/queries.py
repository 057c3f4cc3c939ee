"""Running the normaliser's queries: each one planned once.

A batch is normalised by a handful of DuckDB queries over Arrow (the node picker, one per node, the
raw events' defaults). `con.sql(...)` binds a statement to describe a lazy relation and tokenises it for
parameter markers before planning it again to run it, ~1 ms a query of a node's ~50 expressions and a
fifth of what normalising a small batch costs; `con.execute(...)` plans once. Its Arrow output copies
the rows once more, which for a batch's few thousand rows costs far less (DuckDB warns of the copy).
"""

from __future__ import annotations

import warnings

import duckdb
import pyarrow as pa


def arrow_of(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """The rows of one query as an Arrow table, the statement planned once (see the module docstring)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Arrow output on a DB-API result", UserWarning)
        return con.execute(sql).to_arrow_table()
