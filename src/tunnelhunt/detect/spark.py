"""Run the same compiled detections with Apache Spark, over the Parquet lake.

The compiler builds one dialect-neutral sqlglot query; here sqlglot renders it as Spark SQL and each
node table becomes a temporary view over its Parquet partitions. One fix-up is made at rendering
time: sqlglot turns `strftime` formats into Spark datetime patterns but leaves literal letters (the
`T` of `%Y-%m-%dT%H:%M:%S`) unquoted, which Spark rejects, so `TimeToStr` is rendered here with
the pattern built by `spark_datetime_pattern`. Spark has no `TRY(...)`, which the compiler puts around a
regex whose pattern is built per row; `_fix_runtime_regex` renders it with a Java compile check.

PySpark is imported lazily: DuckDB users never pay for the JVM.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from tunnelhunt.cim import NODES, Node, sql_type
from tunnelhunt.detect.runner import QueryError
from tunnelhunt.spl.compiler import CompiledSearch
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.events import EVENTS_TABLE, events_schema, spark_ddl
from tunnelhunt.store.lake import events_dir, events_files, node_dir, node_files

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: strftime directive → Spark datetime pattern letters.
_STRFTIME_TO_SPARK = {
    "Y": "yyyy",
    "y": "yy",
    "m": "MM",
    "d": "dd",
    "H": "HH",
    "I": "hh",
    "M": "mm",
    "S": "ss",
    "f": "SSSSSS",
    "p": "a",
    "b": "MMM",
    "B": "MMMM",
    "a": "EEE",
    "A": "EEEE",
    "j": "DDD",
    "z": "Z",
    "Z": "z",
    "%": "%",
}


def spark_datetime_pattern(strftime_format: str) -> str:
    """A strftime format as a Spark datetime pattern, literal text quoted ('T' → `'T'`, `'` → `''`)."""
    out: list[str] = []
    literal: list[str] = []

    def flush() -> None:
        if not literal:
            return
        text = "".join(literal)
        if any(char.isalpha() or char == "'" for char in text):
            out.append("'" + text.replace("'", "''") + "'")
        else:
            out.append(text)
        literal.clear()

    index = 0
    while index < len(strftime_format):
        char = strftime_format[index]
        if char == "%" and index + 1 < len(strftime_format):
            directive = strftime_format[index + 1]
            if directive in _STRFTIME_TO_SPARK:
                flush()
                out.append(_STRFTIME_TO_SPARK[directive])
                index += 2
                continue
        literal.append(char)
        index += 1
    flush()
    return "".join(out)


def _fix_time_formats(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.TimeToStr):
        fmt = node.args.get("format")
        if isinstance(fmt, exp.Literal) and fmt.is_string:
            pattern = spark_datetime_pattern(fmt.this)
            return exp.Anonymous(this="DATE_FORMAT", expressions=[node.this.copy(), exp.Literal.string(pattern)])
    return node


def _fix_runtime_regex(node: exp.Expression) -> exp.Expression:
    """`TRY(x RLIKE p)` (a pattern built per row, see `semantics.runtime_regex_match`) for Spark, which has
    no TRY: NULL unless Java compiles `p`, so an invalid pattern makes its row not match instead of
    failing the query."""
    if isinstance(node, exp.Try) and isinstance(node.this, exp.RegexpLike):
        pattern = node.this.expression
        compiles = exp.Anonymous(
            this="TRY_REFLECT",
            expressions=[exp.Literal.string("java.util.regex.Pattern"), exp.Literal.string("compile"), pattern.copy()],
        )
        invalid = exp.Is(this=compiles, expression=exp.Null())
        return exp.Case(ifs=[exp.If(this=invalid, true=exp.Null())], default=node.this.copy())
    return node


def _lower_letter_by_letter(node: exp.Expression) -> exp.Expression:
    """Spark's LOWER is Java's: `İ` becomes two letters (i and a combining dot) and `Σ` ends a word as
    `ς`. DuckDB's lowers each letter alone, as `semantics.fold` does a search value; turning those two
    into their one-letter lowercase first makes Spark's the same."""
    if isinstance(node, exp.Lower):
        # changed in place, not replaced: `transform` goes on into the same node's (new) children, so a
        # time format or a LOWER inside is still rewritten for Spark
        letters = [node.this, exp.Literal.string("İΣ"), exp.Literal.string("iσ")]
        node.set("this", exp.Anonymous(this="TRANSLATE", expressions=letters))
    return node


def _exact_percentile(node: exp.Expression) -> exp.Expression:
    """An exact, interpolated percentile (`exactperc95`, a Sigma value_percentile) as Spark's `percentile`:
    sqlglot writes `PERCENTILE_CONT(x, p)`, which Spark refuses (it takes `p` alone, WITHIN GROUP); both
    interpolate linearly between the nearest values, as DuckDB's `quantile_cont`."""
    if isinstance(node, exp.PercentileCont) and node.expression is not None:
        return exp.Anonymous(this="PERCENTILE", expressions=[node.this.copy(), node.expression.copy()])
    return node


def _for_spark(node: exp.Expression) -> exp.Expression:
    fixed = _exact_percentile(_fix_runtime_regex(_fix_time_formats(node)))
    return _lower_letter_by_letter(_try_cast_stays_safe(fixed))


def _try_cast_stays_safe(node: exp.Expression) -> exp.Expression:
    """A TRY_CAST must stay one on Spark: sqlglot writes a plain CAST unless it is marked safe, and under
    Spark's ANSI mode a CAST of `wks-003` to DOUBLE fails the query where DuckDB gives NULL (`sort host`)."""
    if isinstance(node, exp.TryCast) and not node.args.get("safe"):
        node = node.copy()
        node.set("safe", True)
    return node


def spark_sql(compiled: CompiledSearch) -> str:
    """The compiled query as Spark SQL."""
    return compiled.query.copy().transform(_for_spark).sql(dialect="spark")


def _ddl(node: Node) -> str:
    return ", ".join(f"`{name}` {sql_type(kind, multivalue, 'spark')}" for name, kind, multivalue in node.all_columns)


def start_session(master: str = "local[*]", app_name: str = "tunnelhunt") -> SparkSession:
    """A Spark session in UTC (event times are UTC) with its web UI off."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine:
    """Detections on Spark: node tables are temporary views over the lake's Parquet files."""

    def __init__(self, lake: Path, master: str = "local[*]", session: SparkSession | None = None) -> None:
        self.lake = lake
        self.owns_session = session is None
        self.spark = session or start_session(master)
        self._lookups: set[str] = set()
        for node in NODES:
            self._register(node)
        self._register_events()

    def _register(self, node: Node) -> None:
        columns = [name for name, _kind, _multi in node.all_columns]
        if node_files(self.lake, node):
            frame = self.spark.read.schema(_ddl(node) + ", `date` string").parquet(str(node_dir(self.lake, node)))
            frame = frame.select(*[f"`{name}`" for name in columns])
        else:
            frame = self.spark.createDataFrame([], _ddl(node))
        frame.createOrReplaceTempView(node.table)

    def _register_events(self) -> None:
        """The raw events as view `events`: every Parquet file under `datamodel=raw`, same columns as DuckDB."""
        columns = [f"`{field.name}`" for field in events_schema()]
        if events_files(self.lake):
            # recursive lookup, not partition discovery: `sourcetype` is a column of the files themselves
            reader = self.spark.read.schema(spark_ddl()).option("recursiveFileLookup", "true")
            frame = reader.option("pathGlobFilter", "*.parquet").parquet(str(events_dir(self.lake))).select(*columns)
        else:
            frame = self.spark.createDataFrame([], spark_ddl())
        frame.createOrReplaceTempView(EVENTS_TABLE)

    def query(self, sql: str) -> pa.Table:
        return _to_arrow(self.spark.sql(sql))

    def run(self, compiled: CompiledSearch) -> pa.Table:
        """Register the lookups the search uses, then run it as Spark SQL; raises QueryError."""
        from pyspark.errors import PySparkException

        try:
            for lookup in compiled.lookups:
                if lookup.path is not None and lookup.table not in self._lookups:
                    self._register_lookup(lookup.table, lookup.path, lookup.columns)
            return self.query(spark_sql(compiled))
        except PySparkException as exc:
            raise QueryError(f"Spark: {exc}") from None

    def _register_lookup(self, table: str, path: Path, columns: tuple[str, ...]) -> None:
        """A lookup CSV read exactly as the DuckDB store reads it, then handed to Spark as a view."""
        from tunnelhunt.spl.lookup_table import ROW_COLUMN

        with Store() as scratch:
            scratch.load_csv(table, path, columns, ROW_COLUMN)
            rows = scratch.query(f'SELECT * FROM "{table}"')
        self.spark.createDataFrame(rows).createOrReplaceTempView(table)
        self._lookups.add(table)

    def close(self) -> None:
        if self.owns_session:
            self.spark.stop()

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _to_arrow(frame: Any) -> pa.Table:
    """Spark's result as Arrow, with timestamps naive UTC as the DuckDB store gives them."""
    to_arrow = getattr(frame, "toArrow", None)
    table = (
        to_arrow()
        if to_arrow is not None
        else pa.Table.from_pylist([r.asDict(recursive=True) for r in frame.collect()])
    )
    fields = []
    for field in table.schema:
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            field = field.with_type(pa.timestamp(field.type.unit))
        fields.append(field)
    return table.cast(pa.schema(fields))
