"""The columnar store: one DuckDB table per data-model node, filled with Arrow batches."""
