"""A store file written before Splunk's default fields joined the node tables still opens and takes rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from tunnelhunt.cim import PROCESSES
from tunnelhunt.normalize.normalizer import node_schema
from tunnelhunt.store.duckdb_store import Store, create_table_sql
from tunnelhunt.store.events import EVENTS_TABLE, events_schema


def test_an_older_store_gets_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(create_table_sql(PROCESSES))
    con.execute(f"ALTER TABLE {PROCESSES.table} DROP COLUMN host")
    con.execute(f'ALTER TABLE {PROCESSES.table} DROP COLUMN "index"')
    con.execute(f"INSERT INTO {PROCESSES.table} (_time, dest) VALUES (TIMESTAMP '2024-01-01 00:00:00', 'old')")
    con.close()
    row = {"_time": datetime(2024, 1, 2), "dest": "new", "host": "h", "index": "main", "source": "s"}
    with Store(path) as store:
        store.append(PROCESSES.table, pa.Table.from_pylist([row], schema=node_schema(PROCESSES)))
        got = store.query(f'SELECT dest, host, "index" FROM {PROCESSES.table} ORDER BY _time').to_pylist()
    assert got == [{"dest": "old", "host": None, "index": None}, {"dest": "new", "host": "h", "index": "main"}]


def test_an_appended_batch_is_not_held_until_the_transaction_ends() -> None:
    """An ingest transaction takes ~122 k events: the Arrow batches already inserted must be freed."""
    pool = pa.system_memory_pool()
    with Store() as store, store.transaction():
        for batch in range(3):
            images = pa.array([f"C:\\{batch}\\{i}\\" + "x" * 500 for i in range(5000)], pa.string(), memory_pool=pool)
            times = pa.array([datetime(2024, 1, 2)] * 5000, pa.timestamp("us"), memory_pool=pool)
            store.append(PROCESSES.table, pa.table({"_time": times, "process_path": images}))
            del images, times
        assert pool.bytes_allocated() < 1 << 20  # three batches of 2.5 MB were inserted and dropped
        assert store.count(PROCESSES.table) == 15_000


def test_events_and_their_fields_maps_are_stored_as_given() -> None:
    """Every map entry comes back under its exact key, in order: odd keys, NULL values, empty and NULL maps."""
    maps = [
        [("Data[1]", "a"), ("key with space", "b"), ("x'y", "c"), ('q"z', None), ("ünï.cödé", "d"), ("", "e")],
        [],
        None,
        [("back\\slash", "f\ng"), ("semi;colon", "")],
    ]
    rows = [
        {"_source": "s", "_offset": offset, "_raw": f"<Event>{offset}</Event>", "fields": fields}
        for offset, fields in enumerate(maps)
    ]
    schema = events_schema()
    batch = pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema=schema)
    with Store() as store, store.transaction():
        assert store.append(EVENTS_TABLE, batch) == len(rows)
        got = store.query(f"SELECT _offset, _raw, fields FROM {EVENTS_TABLE} ORDER BY _offset").to_pylist()
        lookups = store.query(
            f"SELECT fields['x''y'] AS quoted, fields['back\\slash'] AS slash, fields['q\"z'] AS null_value"
            f" FROM {EVENTS_TABLE} WHERE _offset IN (0, 3) ORDER BY _offset"
        ).to_pylist()
    assert got == [{"_offset": r["_offset"], "_raw": r["_raw"], "fields": r["fields"]} for r in rows]
    assert lookups == [
        {"quoted": "c", "slash": None, "null_value": None},
        {"quoted": None, "slash": "f\ng", "null_value": None},
    ]
