"""Embedded DuckDB store: in memory by default, a file with `--db` to keep events between runs."""

from __future__ import annotations

import csv
import shutil
import tempfile
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from tunnelhunt.cim import NODES, Node, sql_type
from tunnelhunt.readers.base import QuarantinedRecord
from tunnelhunt.store.checkpoints import Checkpoints
from tunnelhunt.store.events import create_events_sql


def _header_only(path: Path) -> bool:
    """A CSV file with a header line and no rows (pyarrow cannot read those)."""
    with path.open("rb") as stream:
        head = stream.read(1 << 16)
    return len(head) < (1 << 16) and len([line for line in head.splitlines() if line.strip()]) <= 1


if TYPE_CHECKING:
    from tunnelhunt.spl.searches import RunnableSearch

#: Records that could not be ingested, kept beside the events (same transaction as their batch).
QUARANTINE_TABLE = "ingest_quarantine"
_CREATE_QUARANTINE = f"""
CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} (
    source VARCHAR, offset_kind VARCHAR, "offset" BIGINT, reason VARCHAR, excerpt VARCHAR, recorded TIMESTAMP
)
"""


def _trimmed(cells: pa.ChunkedArray) -> pa.ChunkedArray:
    """A lookup column as Splunk reads it: text, surrounding spaces and tabs trimmed (`, True` is `True`),
    a cell left empty missing."""
    text = pc.utf8_trim(cells.cast(pa.string()), characters=" \t")
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def create_table_sql(node: Node) -> str:
    columns = ", ".join(
        f'"{name}" {sql_type(kind, multivalue, "duckdb")}' for name, kind, multivalue in node.all_columns
    )
    return f"CREATE TABLE IF NOT EXISTS {node.table} ({columns})"


#: Optimizers a Sigma batch (`run_few`) plans without. Filter pushdown copies the batch's outer
#: `WHERE flag_0 OR flag_1 ...` below its projection, so every rule's predicate is planned and evaluated twice,
#: and common-subexpression elimination then spends more time searching those thousands of expressions than
#: it saves. Together they were ~60% of the Sigma bench's DuckDB CPU time (docs/sigma.md). Neither changes results.
FEW_DISABLED_OPTIMIZERS = ("common_subexpressions", "filter_pushdown")


_OPTIMIZER_SETTING = threading.Lock()

#: DuckDB's own memory cap. Beyond it, table data spills to disk (a temporary directory for an
#: in-memory store), so a hunt over 5 GB of logs stays as small as one over 1 GB.
MEMORY_LIMIT = "192MB"
#: The attached, compressed in-memory database a store without a file keeps its tables in.
_IN_MEMORY = "store"


class Store:
    """Owns the DuckDB connection; appends node and raw-event batches and runs read-only queries."""

    def __init__(
        self, path: Path | str | None = None, threads: int | None = None, memory_limit: str | None = MEMORY_LIMIT
    ) -> None:
        self.path = str(path) if path else ":memory:"
        self.con = duckdb.connect(self.path)
        if self.path == ":memory:":
            # DuckDB's default in-memory database never compresses; one attached with COMPRESS does at a
            # checkpoint, which only `compress` makes (see there): checkpoints made as ingest goes would
            # compress the last, growing row group again each time (a plain hunt ~5 % slower)
            self.con.execute(f"ATTACH ':memory:' AS {_IN_MEMORY} (COMPRESS)")
            self.con.execute(f"USE {_IN_MEMORY}")
            self.con.execute("SET checkpoint_threshold = '1000TB'")
        # DuckDB draws a progress bar on stdout for queries over ~2 s; stdout carries findings
        self.con.execute("SET enable_progress_bar = false")
        self._spill: weakref.finalize[..., Store] | None = None
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
            if path is None:
                # removed on close(), or when the store is collected (a finalizer: no ResourceWarning
                # for a store a caller dropped without closing, and nothing left in /tmp)
                folder = tempfile.mkdtemp(prefix="tunnelhunt-spill-")
                self._spill = weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
                spill = folder.replace("'", "''")
                self.con.execute(f"SET temp_directory = '{spill}'")
        for node in NODES:
            self.con.execute(create_table_sql(node))
            if path is not None:
                self._add_new_columns(node)
        self.con.execute(create_events_sql())
        self.con.execute(_CREATE_QUARANTINE)
        self.checkpoints = Checkpoints(self.con)

    def cursor(self) -> Store:
        """A store on its own cursor of this connection, for another thread (a web request, a watcher
        beside the web server): one process holds DuckDB's file lock, and each thread its own cursor."""
        other = object.__new__(Store)
        other.path, other.con, other._spill = self.path, self._new_cursor(), None
        other.checkpoints = Checkpoints(other.con)
        return other

    def compress(self) -> None:
        """Compress an in-memory store's tables as a store file keeps them (dictionary, FSST, bit-packing),
        before many scans of them: DuckDB evaluates a function over a dictionary-compressed column once per
        distinct value, not per row. SigmaHQ's Windows rules over the 200 MB EVTX corpus (70,476 events):
        matching 8.6-9.3 -> 5.0-5.5 CPU s for ~0.5 s of compression, the same 13,314 matches. A store file
        is compressed by DuckDB's own checkpoints. Outside a transaction (DuckDB refuses one inside)."""
        if self.path == ":memory:":
            self.con.execute("CHECKPOINT")

    def _new_cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of this connection on the store's database (a new cursor starts on DuckDB's default one)."""
        cursor = self.con.cursor()
        if self.path == ":memory:":
            cursor.execute(f"USE {_IN_MEMORY}")
        return cursor

    def _add_new_columns(self, node: Node) -> None:
        """A store file written by an older version lacks columns added since (Splunk's default fields
        `host`, `source`, `index`): add them, NULL for the rows already stored, so appends by name work."""
        have = {row[0] for row in self.con.execute(f"DESCRIBE {node.table}").fetchall()}
        for name, kind, multivalue in node.all_columns:
            if name not in have:
                self.con.execute(f'ALTER TABLE {node.table} ADD COLUMN "{name}" {sql_type(kind, multivalue, "duckdb")}')

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all (a batch, its quarantine, its checkpoint)."""
        self.con.begin()
        try:
            yield
        except BaseException:
            self.con.rollback()
            raise
        self.con.commit()

    @contextmanager
    def one_thread(self) -> Iterator[None]:
        """Run what is inside on one DuckDB thread, for ingest: appending batches of a few thousand rows
        took half the time on one thread (0.24 s against 0.48 s for 73 k Sysmon rows on 2 cores), as a
        parallel insert of that size only adds coordination, and the parsing processes use the other
        cores. Detections, run afterwards, get every thread back."""
        threads = self.threads()
        self.con.execute("SET threads = 1")
        try:
            yield
        finally:
            self.con.execute(f"SET threads = {threads}")

    def record_quarantine(self, records: list[QuarantinedRecord]) -> None:
        """Keep quarantined records in the store, so a persistent `--db` remembers them."""
        if not records:
            return
        table = pa.table(
            {
                "source": pa.array([r.source for r in records], pa.string()),
                "offset_kind": pa.array([r.offset_kind for r in records], pa.string()),
                "offset": pa.array([r.offset for r in records], pa.int64()),
                "reason": pa.array([r.reason for r in records], pa.string()),
                "excerpt": pa.array([r.excerpt for r in records], pa.string()),
            }
        )
        self.con.register("_quarantined", table)
        try:
            self.con.execute(f"INSERT INTO {QUARANTINE_TABLE} SELECT *, current_timestamp::TIMESTAMP FROM _quarantined")
        finally:
            self.con.unregister("_quarantined")

    def append(self, table_name: str, rows: pa.Table) -> int:
        """Insert a whole Arrow batch by column name; returns the rows added.

        DuckDB reads the batch by its replacement scan of the local name `_appended_batch` (no table has
        that name). Not through `register`: a registered table stays alive until the transaction ends (its
        name is dropped transactionally), so an ingest transaction of 122 k Sysmon events held 395 MB of
        Arrow batches already inserted. Nor through a relation (`from_arrow(...).query`), which parses and
        binds the INSERT twice more before running it: 2-3.7 ms an insert against 0.8-1.7 ms, whatever
        the batch's size (a hunt of 300 MB of Sysmon XML makes ~220 inserts)."""
        if rows.num_rows == 0:
            return 0
        _appended_batch = rows  # noqa: F841 (read by name by the statement)
        self.con.execute(f"INSERT INTO {table_name} BY NAME SELECT * FROM _appended_batch")
        return rows.num_rows

    def load_csv(self, table_name: str, path: Path, columns: tuple[str, ...], row_column: str) -> int:
        """Create `table_name` from a CSV file (every column text, empty cells NULL) unless it exists.

        `row_column` numbers the rows in file order (lookups let the first matching row win).
        Rows with the wrong number of cells are skipped. Returns the rows loaded (0 if it existed).
        """
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table_name]
        ).fetchall()[0][0]
        if exists:
            return 0
        skipped: list[int] = []

        def skip(row: pa_csv.InvalidRow) -> str:
            skipped.append(row.number or 0)
            return "skip"

        if path.stat().st_size == 0 or _header_only(path):
            table = pa.table({name: pa.array([], pa.string()) for name in columns})
        else:
            table = self._read_csv(path, columns, skip)
        names = [name.lstrip("\ufeff").strip() for name in table.column_names]
        table = pa.table({name: _trimmed(table.column(i)) for i, name in enumerate(names)})
        table = table.append_column(row_column, pa.array(range(table.num_rows), pa.int64()))
        self.con.register("_lookup_rows", table)
        try:
            self.con.execute(f'CREATE TABLE "{table_name}" AS SELECT * FROM _lookup_rows')
        finally:
            self.con.unregister("_lookup_rows")
        return table.num_rows

    @staticmethod
    def _read_csv(path: Path, columns: tuple[str, ...], skip: Callable[[pa_csv.InvalidRow], str]) -> pa.Table:
        """Every column as text: the header names are read first so that nothing is type-inferred."""
        with path.open("r", encoding="utf-8-sig", newline="") as stream:
            raw_names = next(csv.reader([stream.readline(1 << 16)]), [])
        return pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(encoding="utf8", column_names=raw_names, skip_rows=1),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=skip, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in raw_names},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )

    def count(self, table_name: str) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {table_name}").fetchall()[0]
        return int(row[0]) if row else 0

    def node_rows(self) -> int:
        """Rows in all node tables together (table metadata, or Parquet footers for a lake's views)."""
        total = " + ".join(f"(SELECT count(*) FROM {node.table})" for node in NODES)
        row = self.con.execute(f"SELECT {total}").fetchall()[0]
        return int(row[0]) if row else 0

    def query(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def run(self, compiled: RunnableSearch) -> pa.Table:
        """Load the lookups a compiled search uses, then run it in DuckDB's dialect."""
        from tunnelhunt.spl.lookup_table import ROW_COLUMN

        for lookup in compiled.lookups:
            if lookup.path is not None:
                self.load_csv(lookup.table, lookup.path, lookup.columns, ROW_COLUMN)
        return self.query(compiled.sql("duckdb"))

    def run_few(self, compiled: RunnableSearch, cursor: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
        """`run` for a query whose rows are few and whose planning dominates (Sigma's shared scans).

        `con.sql` binds the statement (and tokenises it for parameter markers) to describe a lazy relation, then
        plans it again to run it; `con.execute` plans once. Its Arrow output copies the rows once more, which only
        matters for large results, hence not the default. The query's tree is rendered in place, not copied
        first (copying a tree of thousands of predicates costs as much as rendering it): it must not be reused
        for another dialect. It runs without the optimizers of `FEW_DISABLED_OPTIMIZERS`; on `cursor`, a caller
        that has turned them off for every cursor (`run_few_at_once`)."""
        if compiled.lookups:
            return self.run(compiled)
        sql = compiled.sql("duckdb", copy=False)
        if cursor is not None:
            return cursor.execute(sql).to_arrow_table()
        with self._few_settings():
            return self.con.execute(sql).to_arrow_table()

    def run_few_at_once(self, searches: Sequence[RunnableSearch], optimize: bool = True) -> list[pa.Table | Exception]:
        """`run_few` for independent searches, several at a time on cursors of their own, in the order given;
        a search DuckDB or Arrow refuses gets its exception in its place (the caller decides what to redo).

        Why: DuckDB plans a query on one thread, and runs a scan of fewer rows than a row group (122,880) on
        one thread too, so a Sigma run's batch queries, one after another, kept one core busy. Each thread
        has its own cursor (DuckDB's way to query one database from several threads), and the optimizer
        setting is made once for all of them (it is global to the database). Without `optimize`, DuckDB's
        optimizer is off altogether (every pass): for a caller that knows the scans are of one row
        group, where no rewrite pays for its planning (SigmaHQ's Windows rules over 14,472 and 70,476
        events: matching 12-17 % less CPU; over 1 M stored events 3 % more, so not there)."""
        if any(s.lookups for s in searches):
            return [self._run_few_refused(s) for s in searches]
        disabled = FEW_DISABLED_OPTIMIZERS if optimize else self._every_optimizer()
        threads = min(len(searches), self.threads())
        if threads <= 1:
            with self._few_settings(disabled):
                return [self._run_few_refused(s, self.con) for s in searches]
        from concurrent.futures import ThreadPoolExecutor  # only with Sigma rules to run: kept out of start-up

        local = threading.local()
        cursors: list[duckdb.DuckDBPyConnection] = []

        def run_one(search: RunnableSearch) -> pa.Table | Exception:
            cursor = getattr(local, "cursor", None)
            if cursor is None:
                cursor = local.cursor = self._new_cursor()
                cursor.execute("SET enable_progress_bar = false")
                cursors.append(cursor)
            return self._run_few_refused(search, cursor)

        try:
            with self._few_settings(disabled), ThreadPoolExecutor(threads, thread_name_prefix="tunnelhunt-few") as pool:
                return list(pool.map(run_one, searches))
        finally:
            for cursor in cursors:
                cursor.close()

    def _run_few_refused(
        self, compiled: RunnableSearch, cursor: duckdb.DuckDBPyConnection | None = None
    ) -> pa.Table | Exception:
        """`run_few`, or the exception of a search DuckDB or Arrow refuses."""
        try:
            return self.run_few(compiled, cursor)
        except (duckdb.Error, pa.ArrowException, OSError) as exc:
            return exc

    @contextmanager
    def _few_settings(self, disabled: tuple[str, ...] = FEW_DISABLED_OPTIMIZERS) -> Iterator[None]:
        """What `run_few` runs under: without the optimizers `disabled`, and quiet about the Arrow copy its
        DB-API result makes (see `run_few`)."""
        with warnings.catch_warnings(), self._optimizers_disabled(disabled):
            warnings.filterwarnings("ignore", "Arrow output on a DB-API result", UserWarning)
            yield

    def _every_optimizer(self) -> tuple[str, ...]:
        """The names of DuckDB's optimizer passes (they vary by version), for `run_few_at_once(optimize=False)`."""
        return tuple(name for (name,) in self.con.execute("SELECT name FROM duckdb_optimizers()").fetchall())

    def threads(self) -> int:
        """DuckDB's worker threads for this database (its `threads` setting)."""
        (threads,) = self.con.execute("SELECT current_setting('threads')").fetchone() or (1,)
        return max(1, int(threads))

    @contextmanager
    def _optimizers_disabled(self, names: tuple[str, ...]) -> Iterator[None]:
        """DuckDB's optimizers `names` off for the block. The setting is global to the database (DuckDB has
        no per-connection one), so another cursor's query in the meantime also plans without them: the same
        results, planned differently. Under one lock, so the value restored is always the one found."""
        with _OPTIMIZER_SETTING:
            before = self.con.execute("SELECT current_setting('disabled_optimizers')").fetchone()
            found = str(before[0]) if before and before[0] else ""
            wanted = sorted({*filter(None, found.split(",")), *names})
            self.con.execute("SET disabled_optimizers = ?", [",".join(wanted)])
            try:
                yield
            finally:
                self.con.execute("SET disabled_optimizers = ?", [found])

    def close(self) -> None:
        self.con.close()
        if self._spill is not None:
            self._spill()
            self._spill = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
