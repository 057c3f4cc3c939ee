"""The Parquet lake: normalised events as Parquet files, partitioned hive-style by data model and date.

Layout: `DIR/datamodel=Endpoint/node=Processes/date=2026-11-20/part-<run>-<n>.parquet`, and the raw
events (`store/events.py`) under `DIR/datamodel=raw/sourcetype=<st>/date=<day>/` (the source type
URL-quoted, so a name from the data can never leave its directory). Any engine that
reads Parquet can query it; tunnelhunt reads it with DuckDB (`LakeStore`, the default) or Spark
(`detect/spark.py`) without ingesting again. Columns and types are those of the node's store table
(`cim.py`), so the same compiled detections run on either.

Writing is buffered per node so files hold many rows (small files make every later query slower),
and the buffer is bounded, so memory stays flat however much is ingested.
"""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from tunnelhunt.cim import NODES, Node, node_by_table
from tunnelhunt.normalize.normalizer import node_schema
from tunnelhunt.readers.base import QuarantinedRecord
from tunnelhunt.store.checkpoints import Checkpoints
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.events import EVENTS_TABLE, events_schema

#: Rows buffered per node before a write: files of a useful size, while writing (which partitions and
#: encodes a copy of the buffer) stays within a few tens of MB. 250k rows made the 5 GB bench peak at 1.4 GB.
FLUSH_ROWS = 50_000
_DATE = pa.schema([("date", pa.string())])


def node_dir(root: Path, node: Node) -> Path:
    """Where one node's partitions live."""
    return root / f"datamodel={node.datamodel}" / f"node={node.name}"


def node_files(root: Path, node: Node) -> list[Path]:
    return sorted(node_dir(root, node).glob("date=*/*.parquet"))


def events_dir(root: Path) -> Path:
    """Where the raw events' partitions live."""
    return root / "datamodel=raw"


def events_files(root: Path) -> list[Path]:
    return sorted(events_dir(root).glob("sourcetype=*/date=*/*.parquet"))


class LakeWriter:
    """Appends node tables to the lake; call `close()` (or use `with`) to write what is buffered."""

    def __init__(self, root: Path, flush_rows: int = FLUSH_ROWS) -> None:
        self.root = root
        self.flush_rows = flush_rows
        self._run = uuid.uuid4().hex[:12]
        self._buffers: dict[str, list[pa.Table]] = {}
        self._buffered: dict[str, int] = {}
        self._written = 0
        root.mkdir(parents=True, exist_ok=True)

    def append(self, table_name: str, rows: pa.Table) -> int:
        """Buffer a node batch (written when the buffer is full); returns the rows accepted."""
        if rows.num_rows == 0:
            return 0
        if table_name != EVENTS_TABLE:
            node_by_table(table_name)  # an unknown table is a programming error: fail before buffering
        self._buffers.setdefault(table_name, []).append(rows)
        self._buffered[table_name] = self._buffered.get(table_name, 0) + rows.num_rows
        if self._buffered[table_name] >= self.flush_rows:
            self._flush(table_name)
        return rows.num_rows

    def _flush(self, table_name: str) -> None:
        parts = self._buffers.pop(table_name, [])
        self._buffered.pop(table_name, None)
        if not parts:
            return
        if table_name == EVENTS_TABLE:
            self._flush_events(pa.concat_tables(parts).cast(events_schema()))
            return
        node = node_by_table(table_name)
        table = pa.concat_tables(parts).cast(node_schema(node))
        dates = pc.strftime(table.column("_time"), format="%Y-%m-%d")
        table = table.append_column("date", pc.fill_null(dates, "unknown"))
        ds.write_dataset(
            table,
            node_dir(self.root, node),
            format="parquet",
            partitioning=ds.partitioning(_DATE, flavor="hive"),
            basename_template=f"part-{self._run}-{self._written}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
            max_rows_per_group=128 * 1024,
        )
        self._written += 1

    def _flush_events(self, table: pa.Table) -> None:
        """One file per source type and day, the `sourcetype` column kept inside the file too."""
        dates = pc.fill_null(pc.strftime(table.column("_time"), format="%Y-%m-%d"), "unknown")
        keys = pa.table({"st": pc.fill_null(table.column("sourcetype"), "unknown"), "date": dates})
        groups = keys.append_column("_i", pa.array(range(table.num_rows), pa.int64()))
        for group in groups.group_by(["st", "date"]).aggregate([("_i", "list")]).to_pylist():
            folder = events_dir(self.root) / f"sourcetype={urllib.parse.quote(group['st'], safe='')}"
            folder = folder / f"date={group['date']}"
            folder.mkdir(parents=True, exist_ok=True)
            rows = table.take(pa.array(group["_i_list"], pa.int64()))
            target = folder / f"part-{self._run}-{self._written}.parquet"
            pq.write_table(rows, target, row_group_size=128 * 1024, compression="zstd")
            self._written += 1

    def close(self) -> None:
        for table_name in list(self._buffers):
            self._flush(table_name)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Ingest stores each batch "in a transaction": the lake has none (a run's files simply add up)."""
        yield

    @contextmanager
    def one_thread(self) -> Iterator[None]:
        """Nothing to change: Parquet files are written on the caller's thread (see `Store.one_thread`)."""
        yield

    def record_quarantine(self, records: list[QuarantinedRecord]) -> None:
        """The lake holds events only: quarantined records go to the ingest report and --quarantine."""

    @property
    def checkpoints(self) -> Checkpoints:
        raise TypeError("the lake keeps no checkpoints: ingest into it with incremental=False")

    def __enter__(self) -> LakeWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def lake_has_data(root: Path) -> bool:
    return any(node_files(root, node) for node in NODES) or bool(events_files(root))


class LakeStore(Store):
    """DuckDB over the lake: each node table and `events` is a view over its Parquet files (empty when none)."""

    def __init__(self, root: Path, threads: int | None = None) -> None:
        super().__init__(None, threads)
        self.root = root
        for node in NODES:
            if not node_files(root, node):
                continue  # the empty table the base store made stands in
            columns = ", ".join(f'"{name}"' for name, _kind, _multi in node.all_columns)
            pattern = str(node_dir(root, node) / "date=*" / "*.parquet").replace("'", "''")
            self.con.execute(f"DROP TABLE {node.table}")
            self.con.execute(
                f"CREATE VIEW {node.table} AS SELECT {columns} "
                f"FROM read_parquet('{pattern}', hive_partitioning = false, union_by_name = true)"
            )
        if events_files(root):
            columns = ", ".join(f'"{field.name}"' for field in events_schema())
            pattern = str(events_dir(root) / "sourcetype=*" / "date=*" / "*.parquet").replace("'", "''")
            self.con.execute(f"DROP TABLE {EVENTS_TABLE}")
            self.con.execute(
                f"CREATE VIEW {EVENTS_TABLE} AS SELECT {columns} "
                f"FROM read_parquet('{pattern}', hive_partitioning = false, union_by_name = true)"
            )

    def append(self, table_name: str, rows: pa.Table) -> int:
        raise TypeError("the lake is written with LakeWriter; LakeStore only reads it")
