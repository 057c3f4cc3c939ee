"""DuckDB must never draw its progress bar: stdout carries findings (`-o jsonl`)."""

from __future__ import annotations

from tunnelhunt.normalize.normalizer import Normalizer
from tunnelhunt.store.duckdb_store import Store


def test_store_and_normalizer_connections_have_the_progress_bar_off() -> None:
    with Store() as store:
        assert store.con.execute("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]
    normalizer = Normalizer()
    assert normalizer._con.execute("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]
