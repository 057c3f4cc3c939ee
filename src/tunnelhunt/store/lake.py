"""The Parquet lake: normalised events as Parquet files, partitioned hive-style by data model and date.

Layout: `DIR/datamodel=Endpoint/node=Processes/date=2026-11-20/part-<run>-<n>.parquet`, and the raw
events (`store/events.py`) under `DIR/datamodel=raw/sourcetype=<st>/date=<day>/` (the source type
URL-quoted, so a name from the data can never leave its directory). Any engine that
reads Parquet can query it; tunnelhunt reads it with DuckDB (`LakeStore`, the default) or Spark
(`detect/spark.py`) without ingesting again. Columns and types are those of the node's store table
(`cim.py`), so the same compiled detections run on either.

Writing appends to one file per partition per run, a row group at a time, so files hold many rows (small
files make every later query slower), and what waits in memory is bounded in bytes, so memory stays flat
however much is ingested.
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
import pyarrow.parquet as pq

from tunnelhunt.cim import NODES, Node, node_by_table
from tunnelhunt.normalize.normalizer import node_schema
from tunnelhunt.readers.base import QuarantinedRecord
from tunnelhunt.store.checkpoints import Checkpoints
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.events import EVENTS_TABLE, events_schema

#: Bytes of Arrow data buffered, all tables together, before the largest table is written. Memory is
#: bounded by bytes, not rows: a raw Sysmon event is ~3 KB in Arrow and a node row a few hundred bytes, so
#: the 50 000 rows per table buffered before held 155 MB of raw events, and writing them (a copy per
#: partition, then Parquet encoding) took the 1 GB lake bench's hunt to 1.16 GB peak.
FLUSH_BYTES = 64 * 1024 * 1024
#: Parquet files kept open for appending at once (one per partition written to); the least recently
#: written is finished when another is needed, so a run over many days holds few file handles.
OPEN_FILES = 16
_ROW_GROUP_ROWS = 128 * 1024


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


class _PartFile:
    """One Parquet file being appended to, under a hidden name (`.part-….parquet.partial`: no `*.parquet` glob
    and no Spark listing sees it) until it is finished and renamed, so a killed run leaves no half-written
    file that would make every later read of the lake fail."""

    def __init__(self, folder: Path, name: str, schema: pa.Schema, compression: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.target = folder / name
        self.partial = folder / f".{name}.partial"
        self.writer = pq.ParquetWriter(self.partial, schema, compression=compression)

    def write(self, rows: pa.Table) -> None:
        self.writer.write_table(rows, row_group_size=_ROW_GROUP_ROWS)  # a row group per write, at most

    def finish(self) -> None:
        self.writer.close()
        self.partial.rename(self.target)


def _partitions(table: pa.Table, keys: pa.Table) -> Iterator[tuple[dict[str, str], pa.Table]]:
    """The rows of `table` grouped by the values of `keys`' columns (never null), in arrival order within a
    group; a table that is all one group is given whole, without a copy."""
    numbered = keys.append_column("_i", pa.array(range(table.num_rows), pa.int64()))
    groups = numbered.group_by(keys.column_names, use_threads=False).aggregate([("_i", "list")])
    if groups.num_rows == 1:
        yield {name: groups.column(name)[0].as_py() for name in keys.column_names}, table
        return
    for group in groups.to_pylist():
        rows = group.pop("_i_list")
        yield group, table.take(pa.array(rows, pa.int64()))


class LakeWriter:
    """Appends node tables to the lake; call `close()` (or use `with`) to write what is buffered.

    Each run appends to one file per partition (node or source type, and day), a row group per write, so
    files hold many rows (small files make every later query slower) while the rows waiting in memory
    stay under `flush_bytes` however much is ingested."""

    def __init__(self, root: Path, flush_bytes: int = FLUSH_BYTES, open_files: int = OPEN_FILES) -> None:
        self.root = root
        self.flush_bytes = flush_bytes
        self.open_files = open_files
        self._run = uuid.uuid4().hex[:12]
        self._buffers: dict[str, list[pa.Table]] = {}
        self._bytes: dict[str, int] = {}
        self._files: dict[Path, _PartFile] = {}  # least recently written first
        self._written = 0
        root.mkdir(parents=True, exist_ok=True)

    @property
    def buffered_bytes(self) -> int:
        """Arrow bytes waiting to be written (under `flush_bytes` between appends)."""
        return sum(self._bytes.values())

    def append(self, table_name: str, rows: pa.Table) -> int:
        """Buffer a node batch (the largest buffer is written while they hold too much); returns the rows accepted."""
        if rows.num_rows == 0:
            return 0
        if table_name != EVENTS_TABLE:
            node_by_table(table_name)  # an unknown table is a programming error: fail before buffering
        self._buffers.setdefault(table_name, []).append(rows)
        self._bytes[table_name] = self._bytes.get(table_name, 0) + rows.nbytes
        while self._bytes and self.buffered_bytes >= self.flush_bytes:
            self._flush(max(self._bytes, key=self._bytes.__getitem__))
        return rows.num_rows

    def _flush(self, table_name: str) -> None:
        self._write(table_name)
        pa.default_memory_pool().release_unused()  # give back what the copies and the encoder took

    def _write(self, table_name: str) -> None:
        """A table's buffer into its partitions' files."""
        parts = self._buffers.pop(table_name, [])
        self._bytes.pop(table_name, None)
        if not parts:
            return
        if table_name == EVENTS_TABLE:
            table = pa.concat_tables(parts).cast(events_schema())
            folder, compression = events_dir(self.root), "zstd"
            keys = {"sourcetype": pc.fill_null(table.column("sourcetype"), "unknown")}
        else:
            node = node_by_table(table_name)
            table = pa.concat_tables(parts).cast(node_schema(node))
            folder, compression = node_dir(self.root, node), "snappy"
            keys = {}
        parts.clear()
        keys["date"] = pc.fill_null(pc.strftime(table.column("_time"), format="%Y-%m-%d"), "unknown")
        for values, rows in _partitions(table, pa.table(keys)):
            # the source type is URL-quoted, so a name from the data can never leave its directory
            names = [f"{key}={urllib.parse.quote(values[key], safe='')}" for key in keys]
            self._file(folder.joinpath(*names), table.schema, compression).write(rows)

    def _file(self, folder: Path, schema: pa.Schema, compression: str) -> _PartFile:
        """The open file of a partition (moved to most recently written), opened if need be."""
        part = self._files.pop(folder, None)
        if part is None:
            while len(self._files) >= self.open_files:
                self._files.pop(next(iter(self._files))).finish()
            part = _PartFile(folder, f"part-{self._run}-{self._written}.parquet", schema, compression)
            self._written += 1
        self._files[folder] = part
        return part

    def close(self) -> None:
        for table_name in list(self._buffers):
            self._flush(table_name)
        while self._files:
            self._files.pop(next(iter(self._files))).finish()

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
