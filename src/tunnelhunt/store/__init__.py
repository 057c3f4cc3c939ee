"""The columnar store: one DuckDB table per data-model node, filled with Arrow batches.

- `duckdb_store.py`: `Store` (memory or `--db FILE`; memory-capped, spilling to disk), node tables
  built from `cim.py`, Arrow appends, lazily loaded CSV lookups; it is also the default query engine.
- `checkpoints.py`: how far each input has been ingested, committed with its rows (exactly-once).
- `rba_store.py`: the engine's own tables (detection results, risk events, findings, searched spans,
  schedule state, sink cursors), keyed by stable ids.
- `lake.py`: the Parquet lake (`LakeWriter`, and `LakeStore`, DuckDB views over it).

Anything with `append(table_name, arrow_table)` can receive ingested node tables (the `Store`, the
`LakeWriter`). A new table of the engine's own goes in `rba_store.py` (or beside the analytics' `state_*`
tables in `detect/`), never in `cim.py`, which declares data models only.
"""
