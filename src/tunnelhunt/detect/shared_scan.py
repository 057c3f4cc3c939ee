"""Detections reading the same stored table share one pass over it, their filters evaluated per distinct value.

Each shipped command-line detection is a filter over `endpoint_processes.process` (millions of rows, tens
of thousands of distinct command lines) with a small pipeline above it. Run one by one, every detection
decompresses the column and evaluates its regular expressions and `LOWER` once per dictionary entry of
every segment: ~0.1-0.9 CPU s each over 6 M stored processes, 6 s for the eleven of them (issue 20).
OR-ing their filters into one query is worse (9.8 s): a filter reading several columns runs row by row.

So, per table read by two or more detections (DuckDB only; Spark runs each compiled query as it is):

    keys  = SELECT <columns the filters read> FROM table GROUP BY <them>       -- one pass
    hits  = SELECT * FROM keys WHERE K1 OR K2 OR ...                           -- once per distinct tuple
    rows  = SELECT t.<columns read> FROM table t SEMI JOIN (                   -- one pass (`_most_distinct`)
              SELECT s.rowid FROM table s SEMI JOIN (SELECT DISTINCT c FROM hits) h
              ON s.c IS NOT DISTINCT FROM h.c) i ON t.rowid = i.rowid           -- decoding only candidates

and each detection's own query then runs unchanged, except that the `FROM table` of the read whose
filter contributed `Ki` names `rows` instead. Why the results are the same: `Ki` is the conjunction of
the top-level conjuncts of that read's WHERE that depend on the row's values alone (no time, no
subquery, nothing that can fail or changes between calls), so every row the WHERE keeps satisfies `Ki`,
its tuple is a hit, its value of `c` that of a hit, so it lies in `rows`; and the WHERE, still in the
query, keeps exactly the rows it kept before. `Ki` also holds the conditions later stages put on
by-fields the key reads (`| where isnotnull(tool)` after tstats, `_later`), written in the table's
columns: a row failing one is in a group the query drops whole, so leaving it out of `rows` changes
nothing, and a loose WHERE (`process="*:*"`) no longer brings every near miss. `rows` holds the
columns the rewritten SELECTs read (all of them for a `SELECT *`), with the table's types: fetching all
~40 columns of the candidate rows cost more than the rest of the pass (0.9 s against 0.4 s for 12 over
6 M stored processes). A view (the lake's Parquet files) has no row ids: its rows come from the key
column's semi-join directly.
A table whose shared steps fail is read directly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
import sqlglot
from sqlglot import exp

from tunnelhunt.cim import NODES
from tunnelhunt.spl.columns import Column
from tunnelhunt.spl.lookup_table import LookupTable
from tunnelhunt.spl.scan_filters import columns_read, conjuncts, may_fail
from tunnelhunt.spl.searches import RunnableSearch
from tunnelhunt.store.duckdb_store import Store

#: Columns a shared filter may read: each node table's single-valued ones. A list (a DNS answer) makes the
#: distinct values as many as the rows; `_time` too, and it only appears in window conditions.
_KEYABLE = {node.table: {name for name, _, mv in node.all_columns if not mv} - {"_time"} for node in NODES}
_COLUMNS = {node.table: frozenset(name for name, _, _ in node.all_columns) for node in NODES}
#: Functions whose value is not a function of the row alone.
_VOLATILE: tuple[type[exp.Expr], ...] = (exp.Rand, exp.Randn, exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime)
_VOLATILE += (exp.CurrentDatetime, exp.Uuid, exp.Subquery, exp.Exists, exp.Select)
_NAMES = itertools.count()


@dataclass
class _Read:
    """One `SELECT ... FROM <node table> WHERE ...` of a detection's query, and the part of its filter shared."""

    table: exp.Table
    key: exp.Expr
    #: the table's columns the SELECT reads (None: all, for a `SELECT *`)
    needs: frozenset[str] | None
    #: its conditions on `_time` alone (the window), by their SQL
    window: dict[str, exp.Expr]


@dataclass
class SharedSearch:
    """A detection's query with its reads of shared tables renamed (a `RunnableSearch` for `Store.run`)."""

    query: exp.Expr
    lookups: list[LookupTable]
    columns: list[Column] = field(default_factory=list)
    reads: list[_Read] = field(default_factory=list)

    def sql(self, dialect: str = "duckdb", pretty: bool = False, copy: bool = True) -> str:
        return self.query.sql(dialect=dialect, pretty=pretty, copy=copy)


def _row_local(part: exp.Expr, allowed: set[str]) -> bool:
    """Whether `part` reads columns of `allowed` only, unqualified, and always gives the same answer."""
    read = columns_read(part)
    return (
        bool(read)
        and read <= allowed
        and not may_fail(_constants_folded(part))
        and not any(isinstance(node, _VOLATILE) for node in part.walk())
        and all(not column.table for column in part.find_all(exp.Column))
    )


def _constants_folded(part: exp.Expr) -> exp.Expr:
    """`part` with each CAST of a literal or NULL (a window's `CAST('2026-…' AS TIMESTAMP)`, an eval's
    `CAST(NULL AS TEXT)`) as the literal, and each regex match against a literal pattern as its subject:
    such a cast gives one value or one error for every row, and a constant pattern is compiled once, before
    any row is read, so neither can fail on some rows only."""

    def fold(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal | exp.Null):
            return node.this
        if isinstance(node, exp.RegexpLike) and isinstance(node.expression, exp.Literal) and node.expression.is_string:
            return node.this
        return node

    return part.copy().transform(fold, copy=False)


def _key(parts: list[exp.Expr], keyable: set[str]) -> exp.Expr | None:
    """The conjuncts of a WHERE that read keyable columns only and always give the same answer."""
    kept = [part.copy() for part in parts if _row_local(part, keyable)]
    return exp.and_(*kept, copy=False) if kept else None


def _window(parts: list[exp.Expr]) -> dict[str, exp.Expr]:
    """The conjuncts of a WHERE on `_time` alone (a time window), by their SQL."""
    return {part.sql("duckdb"): part.copy() for part in parts if _row_local(part, {"_time"})}


def _in_base(node: exp.Expr, names: dict[str, exp.Expr]) -> exp.Expr | None:
    """`node`, read over a stage's input, written in the stored table's columns (None: it reads a column
    that is not a function of one stored row, such as a count)."""
    if isinstance(node, exp.Column):  # a rename, most projections: the value itself (copied where used)
        return None if node.table else names.get(node.name)
    params = {p.name for lam in node.find_all(exp.Lambda) for p in lam.expressions}
    columns = [c for c in node.find_all(exp.Column) if c.name not in params]
    if any(c.table or c.name not in names for c in columns):
        return None

    def swap(part: exp.Expr) -> exp.Expr:
        if isinstance(part, exp.Column) and part.name not in params:
            return names[part.name].copy()
        return part

    return node.copy().transform(swap, copy=False)


def _outputs(select: exp.Select, names: dict[str, exp.Expr]) -> dict[str, exp.Expr] | None:
    """The columns a stage yields that are each a function of one stored row, in the table's columns; None
    when its rows are not stored rows or groups of them (a LIMIT, a window, DISTINCT, an UNNEST that
    multiplies rows, an aggregate over everything): conditions after such a stage may not be moved."""
    group = select.args.get("group")
    nodes = [node for projection in select.expressions for node in projection.walk()]
    if (
        any(select.args.get(arg) for arg in ("limit", "offset", "distinct", "qualify", "joins", "laterals"))
        or any(isinstance(node, exp.Window | exp.Unnest | exp.Explode) for node in nodes)
        or (group is not None and set(group.args) - {"expressions"})
        or (group is not None and not all(isinstance(e, exp.Column) and not e.table for e in group.expressions))
        or (group is None and any(isinstance(node, exp.AggFunc) for node in nodes))
    ):
        return None
    keys = {e.name for e in group.expressions} if group is not None else None
    found: dict[str, exp.Expr] = {}
    for projection in select.expressions:
        if isinstance(projection, exp.Star):
            found.update(names if keys is None else {k: v for k, v in names.items() if k in keys})
            continue
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if keys is not None and not (isinstance(inner, exp.Column) and not inner.table and inner.name in keys):
            continue  # an aggregate: not a function of one row
        value = _in_base(inner, names)
        if value is not None:
            found[projection.alias_or_name] = value
    return found


def _consumer(tables: dict[str, list[exp.Table]], select: exp.Select) -> exp.Select | None:
    """The one SELECT reading the CTE `select` is the body of (None: not a CTE, or read elsewhere too);
    `tables`: the query's table references by name."""
    cte = select.parent
    if not isinstance(cte, exp.CTE):
        return None
    uses = tables.get(cte.alias, [])
    if len(uses) != 1 or not isinstance(uses[0].parent, exp.From):
        return None
    consumer = uses[0].parent.parent
    return consumer if isinstance(consumer, exp.Select) and not consumer.args.get("joins") else None


def _later(
    tables: dict[str, list[exp.Table]], select: exp.Select, table: str, allowed: frozenset[str]
) -> list[exp.Expr]:
    """Conditions in the stored table's columns (`allowed` only) that every row the query's result comes
    from meets: the WHERE conjuncts of the stages above the read (a `| where` or `| search` after stats on
    a by-field), carried down through stages that keep rows or group them by columns. A group's rows share
    its by-values, so a condition on those is met by all of them or none; rows that meet no such condition
    are dropped before they reach anything that counts or orders rows, so leaving them out of the shared
    rows changes no result."""
    names = _outputs(select, {name: exp.column(_quoted(name)) for name in _COLUMNS[table]})
    found: list[exp.Expr] = []
    while names:
        consumer = _consumer(tables, select)
        if consumer is None:
            break
        where = consumer.args.get("where")
        for part in conjuncts(where.this) if where is not None else []:
            base = _in_base(part, names)
            if base is not None and _row_local(base, set(allowed)):
                found.append(base.copy())
        names, select = _outputs(consumer, names), consumer
    return found


def _reads(query: exp.Expr) -> list[_Read]:
    found = []
    tables: dict[str, list[exp.Table]] = {}
    for reference in query.find_all(exp.Table):
        if not reference.args.get("db"):
            tables.setdefault(reference.name, []).append(reference)
    for select in query.find_all(exp.Select):
        source = select.args.get("from_")
        if select.args.get("joins") or source is None or not isinstance(source.this, exp.Table):
            continue
        table = source.this
        keyable = _KEYABLE.get(table.name)
        if keyable is None or table.args.get("db") or table.args.get("catalog"):
            continue
        where = select.args.get("where")
        parts = conjuncts(where.this) if where is not None else []
        key = _key(parts, keyable)
        if key is not None:
            # later conditions on the columns the key reads already (others would multiply its tuples)
            key = exp.and_(key, *_later(tables, select, table.name, columns_read(key)), copy=False)
            star = any(isinstance(part, exp.Star) for part in select.expressions)
            needs = None if star else frozenset(c.name for c in select.find_all(exp.Column)) & _COLUMNS[table.name]
            # `_time`, in every table, keeps the projection non-empty for a SELECT reading no column
            found.append(_Read(table, key, needs | {"_time"} if needs is not None else None, _window(parts)))
    return found


def prepare(compiled: RunnableSearch) -> SharedSearch:
    """The detection's query as a tree (parsed again when it came from the compiled cache) and its reads."""
    tree = getattr(compiled, "query", None)
    query = tree.copy() if isinstance(tree, exp.Expr) else sqlglot.parse_one(compiled.sql("duckdb"), read="duckdb")
    return SharedSearch(query, compiled.lookups, list(getattr(compiled, "columns", [])), _reads(query))


def _quoted(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _share(con: duckdb.DuckDBPyConnection, table: str, reads: list[_Read], dropped: list[str]) -> str:
    """Build the rows of `table` any of `reads` may keep; returns the temporary table holding them."""
    number = next(_NAMES)
    keys, hits, rows = (f"_shared_{kind}_{number}" for kind in ("keys", "hits", "rows"))
    columns = sorted(set().union(*(columns_read(read.key) for read in reads)))
    names = [exp.column(_quoted(name)) for name in columns]
    dropped.extend((keys, hits, rows))
    # a window every read has: each keeps only rows inside it, so both passes read only those (a watch
    # pass over minutes of a large store reads minutes of it, as each query alone would)
    common = set.intersection(*(set(read.window) for read in reads))
    window = [reads[0].window[sql] for sql in sorted(common)]
    # GROUP BY, not DISTINCT: DuckDB plans the same pass, 12-15 % cheaper (1.75 -> 1.55 CPU s for the three
    # key columns of 60 M stored processes)
    scan = _in_window(exp.select(*names).from_(table).group_by(*(name.copy() for name in names)), window)
    con.execute(f"CREATE TEMP TABLE {keys} AS " + scan.sql("duckdb"))
    condition = exp.or_(*(exp.paren(read.key, copy=True) for read in reads), copy=False)
    con.execute(f"CREATE TEMP TABLE {hits} AS " + exp.select(*names).from_(keys).where(condition).sql("duckdb"))
    column = _quoted(_most_distinct(con, keys, columns))
    values = exp.select(exp.column(column)).distinct().from_(hits).subquery("h")

    def of_hits(select: exp.Select, alias: str) -> exp.Select:
        """`select` (reading the table as `alias`) kept to the rows whose key column is that of a hit."""
        matches = exp.NullSafeEQ(this=exp.column(column, alias), expression=exp.column(column, "h"))
        return _in_window(select.join(values, on=matches, join_type="SEMI"), window)

    needs = [read.needs for read in reads]
    wanted = (
        [exp.Column(this=exp.Star(), table=exp.to_identifier("t"))]
        if None in needs
        else [exp.column(_quoted(name), "t") for name in sorted(frozenset().union(*filter(None, needs)))]
    )
    candidates = exp.select(*wanted).from_(exp.to_table(table).as_("t"))
    if _is_table(con, table):
        # late materialisation: the semi-join reads the key column alone and yields row ids; the columns the
        # reads need are then decoded only in the vectors holding a candidate (DuckDB pushes the row ids
        # into the scan). Joining on the key column directly decoded every needed column of every row,
        # whatever the hits: 0.40 against 0.20 CPU s over 6 M stored processes with 30 candidates
        ids = exp.select(exp.column("rowid", "s").as_("r")).from_(exp.to_table(table).as_("s"))
        rowid = exp.EQ(this=exp.column("rowid", "t"), expression=exp.column("r", "i"))
        select = candidates.join(of_hits(ids, "s").subquery("i"), on=rowid, join_type="SEMI")
    else:  # a view (the lake's Parquet files) has no row ids
        select = of_hits(candidates, "t")
    # one statement: the row ids and the rows come from the same snapshot of the table
    con.execute(f"CREATE TEMP TABLE {rows} AS " + select.sql("duckdb"))
    return rows


def _in_window(select: exp.Select, window: list[exp.Expr]) -> exp.Select:
    return select.where(exp.and_(*(exp.paren(part.copy()) for part in window))) if window else select


def _is_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether `name` is a stored table of the current schema (it has row ids), not a view."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND database_name = current_database()"
        " AND schema_name = current_schema() AND NOT temporary",
        [name],
    ).fetchone()
    return bool(found and found[0])


def _most_distinct(con: duckdb.DuckDBPyConnection, keys: str, columns: list[str]) -> str:
    """The key column with the most distinct values: the rows are fetched by a semi-join on it alone.

    The rows whose value of that column some hit has are a superset of the rows some hit matches whole,
    and the detections' own filters drop the rest. One string key probes twice as fast as the NULL-safe
    tuple (0.5 s against 1.1 s over 6 M stored processes), and the join cannot be pushed into the scan,
    so its probe is most of the pass."""
    if len(columns) == 1:
        return columns[0]
    counts = exp.select(*(exp.Count(this=exp.Distinct(expressions=[exp.column(_quoted(c))])) for c in columns))
    found = con.execute(counts.from_(keys).sql("duckdb")).fetchone() or ()
    return max(zip(found, columns, strict=True))[1]


@contextmanager
def shared_tables(store: Store, searches: Iterable[SharedSearch]) -> Iterator[None]:
    """Point the reads of each table read by two or more of `searches` at its shared rows, for the block."""
    by_table: dict[str, list[_Read]] = {}
    for search in searches:
        for read in search.reads:
            by_table.setdefault(read.table.name, []).append(read)
    dropped: list[str] = []
    try:
        for table, reads in by_table.items():
            if len(reads) < 2:
                continue
            try:
                rows = _share(store.con, table, reads, dropped)
            except duckdb.Error:
                continue  # read directly: each detection then fails or not on its own
            for read in reads:
                read.table.set("this", exp.to_identifier(rows))
        yield
    finally:
        for name in dropped:
            store.con.execute(f"DROP TABLE IF EXISTS {name}")
