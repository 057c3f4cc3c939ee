"""Helpers for tests: ingest files into an in-memory store and look at what landed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tunnelhunt.ingest.run import IngestReport, ingest
from tunnelhunt.normalize.custom import CustomMapping
from tunnelhunt.store.duckdb_store import Store


def ingest_into(
    store: Store, *paths: Path, fmt: str | None = None, mappings: Sequence[CustomMapping] = (), final: bool = True
) -> IngestReport:
    report = ingest(list(paths), store, fmt, mappings=mappings, final=final)
    for file in report.files:
        assert file.balanced, file
    return report


def rows(store: Store, table: str, where: str = "TRUE", order: str = "_offset") -> list[dict[str, Any]]:
    return store.query(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}").to_pylist()


def count(store: Store, table: str, where: str = "TRUE") -> int:
    return int(store.query(f"SELECT count(*) AS n FROM {table} WHERE {where}").column("n")[0].as_py())
