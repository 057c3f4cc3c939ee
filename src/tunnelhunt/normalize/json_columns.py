"""A JSON mapping's raw columns taken from the leaves the raw-event walk already visits.

A mapping of JSON records names each raw column's candidate JSON paths (`SourceMapping.sources`);
DuckDB's `json_extract_string` reads them, first non-NULL candidate winning. The raw-event builder
parses every record once in Python anyway (`raw_events._python_leaves`), so it also collects the
values found at those paths (the path's *slot*) and hands the normaliser the columns as a table:
each record is then parsed once, not three times (issue 20).

The columns are the ones `json_extract_string` gives: where a record's chosen value is an object or an
array (which DuckDB writes back as JSON text), DuckDB reads that one cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from tunnelhunt.normalize.mapping import SourceMapping
from tunnelhunt.readers.base import EXCERPT_CHARS, OffsetKind, QuarantinedRecord

#: A DuckDB JSON path step: a quoted key, a plain key, or an array index.
JSON_STEP = re.compile(r'\."((?:[^"\\]|\\.)*)"|\.([^."\[]+)|\[(\d+)\]')


def path_steps(path: str) -> tuple[str | int, ...] | None:
    """`$.a."b.c"[0]` as its keys and array indices; None for a path that is not only such steps
    (wildcards, `$[*]`, recursive descent), which the walk cannot match leaf by leaf."""
    if not path.startswith("$"):
        return None
    steps: list[str | int] = []
    at = 1
    for match in JSON_STEP.finditer(path, 1):
        if match.start() != at:
            return None
        quoted, plain, index = match.groups()
        if index is not None:
            steps.append(int(index))
        elif quoted is not None:
            if "\\" in quoted.replace('\\"', ""):
                return None  # an escape other than \" : leave it to DuckDB's own reading
            steps.append(quoted.replace('\\"', '"'))
        else:
            steps.append(plain)
        at = match.end()
    return tuple(steps) if at == len(path) and steps else None


_RANGES: dict[int, pa.Array] = {}


def arange(count: int) -> pa.Array:
    """0 … count-1 as int64 (cached: every pivot of a batch needs the same one; built in Arrow, not from a
    Python range, which took 70 ms for the grid of a batch's raw columns)."""
    found = _RANGES.get(count)
    if found is None:
        if len(_RANGES) > 64:
            _RANGES.clear()
        ones = pa.repeat(pa.scalar(1, pa.int64()), count)
        found = _RANGES[count] = pc.subtract(pc.cumulative_sum(ones), pa.scalar(1, pa.int64())) if count else ones
    return found


def pivot(rows: pa.Array, values: pa.Array, count: int) -> pa.Array:
    """Values placed at their rows (rows unique, each below `count`), NULL elsewhere."""
    if count == 0:
        return values.slice(0, 0)
    return pc.scatter(values, rows, max_index=count - 1)


@dataclass(frozen=True)
class ColumnPlan:
    """The candidate paths of a mapping's raw columns (slots), each slot read by one column: the column's
    index and the candidate's rank (0 first) per slot."""

    columns: tuple[str, ...]
    paths: tuple[tuple[str | int, ...], ...]
    column_of: tuple[int, ...]
    rank_of: tuple[int, ...]
    #: Each slot's path as DuckDB reads it (for the values that are objects or arrays).
    texts: tuple[str, ...]
    slot_of: dict[tuple[str | int, ...], int] = field(compare=False, hash=False)


_PLANS: dict[int, tuple[SourceMapping, ColumnPlan | None]] = {}


def column_plan(mapping: SourceMapping) -> ColumnPlan | None:
    """The plan of a JSON mapping; None when some candidate path is not a plain path of keys and indices,
    or when two columns read the same path (rare: DuckDB extracts those)."""
    cached = _PLANS.get(id(mapping))
    if cached is not None and cached[0] is mapping:
        return cached[1]
    slot_of: dict[tuple[str | int, ...], int] = {}
    column_of: list[int] = []
    rank_of: list[int] = []
    texts: list[str] = []
    plan: ColumnPlan | None = None
    for index, column in enumerate(mapping.raw_columns):
        candidates: dict[tuple[str | int, ...] | None, str] = {}
        for text in mapping.candidates(column, json=True):
            candidates.setdefault(path_steps(text), text)
        if any(s is None or (s in slot_of and column_of[slot_of[s]] != index) for s in candidates):
            break
        for rank, step in enumerate(candidates):
            assert step is not None
            slot_of[step] = len(column_of)
            column_of.append(index)
            rank_of.append(rank)
            texts.append(candidates[step])
    else:
        plan = ColumnPlan(mapping.raw_columns, tuple(slot_of), tuple(column_of), tuple(rank_of), tuple(texts), slot_of)
    if len(_PLANS) > 256:
        _PLANS.clear()
    _PLANS[id(mapping)] = (mapping, plan)
    return plan


@dataclass
class ColumnPicks:
    """The values found at slot paths while walking a batch, one entry each: its row, its slot, and its
    text (None: an object or array, which DuckDB would give as JSON text)."""

    plan: ColumnPlan
    rows: list[int] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)
    values: list[str | None] = field(default_factory=list)

    def columns(self, con: duckdb.DuckDBPyConnection, records: pa.ChunkedArray) -> dict[str, pa.Array]:
        """Each raw column as `json_extract_string` with the mapping's candidates gives it: the first candidate
        with a value; where that value is an object or array, its JSON text as DuckDB writes it (DuckDB reads
        those few cells: the walk does not imitate its JSON writer)."""
        count = len(records)
        width = len(self.plan.columns)
        rows = pa.array(self.rows, pa.int64())
        slots = pa.array(self.slots, pa.int32())
        values = pa.array(self.values, pa.string())
        # each entry's place in a (column, row) grid; per place, the lowest candidate rank wins: one sort
        # of place * ranks + rank, then the first entry of each place
        ranks = max(self.plan.rank_of, default=0) + 1
        place = pc.add(pc.multiply(pc.take(pa.array(self.plan.column_of, pa.int64()), slots), count), rows)
        key = pc.add(pc.multiply(place, ranks), pc.take(pa.array(self.plan.rank_of, pa.int64()), slots))
        order = pc.sort_indices(key)
        placed = pc.take(place, order)
        if len(placed) > 1:
            first = pc.not_equal(placed.slice(1), placed.slice(0, len(placed) - 1))
            keep = pa.concat_arrays([pa.array([True]), first])
            order, placed = order.filter(keep), placed.filter(keep)
        chosen = pc.take(values, order)
        if chosen.null_count:
            holes = pc.is_null(chosen)
            texts = _json_texts(con, records, order.filter(holes), rows, slots, self.plan.texts)
            chosen = pc.coalesce(chosen, pivot(pc.indices_nonzero(holes).cast(pa.int64()), texts, len(chosen)))
        grid = pivot(placed, chosen, width * count)
        return {column: grid.slice(i * count, count) for i, column in enumerate(self.plan.columns)}


def _json_texts(
    con: duckdb.DuckDBPyConnection,
    records: pa.ChunkedArray,
    entries: pa.Array,
    rows: pa.Array,
    slots: pa.Array,
    paths: tuple[str, ...],
) -> pa.Array:
    """`json_extract_string` of the given entries (an object or array each): their record at their path."""
    cells = pa.table(
        {
            "_json": pc.take(records, pc.take(rows, entries)),
            "_path": pc.take(pa.array(paths, pa.string()), pc.take(slots, entries)),
            "_cell": arange(len(entries)),
        }
    )
    con.register("json_cells", cells)
    try:
        found = con.sql("SELECT json_extract_string(_json, _path) FROM json_cells ORDER BY _cell").to_arrow_table()
    finally:
        con.unregister("json_cells")
    return found.column(0).combine_chunks()


def json_types(con: duckdb.DuckDBPyConnection, records: pa.ChunkedArray | pa.Array) -> pa.Array:
    """DuckDB's JSON type of each text (`OBJECT`, `ARRAY`, ...; NULL when it is not JSON), in order."""
    con.register("json_texts", pa.table({"_json": records, "_row": arange(len(records))}))
    try:
        return con.sql("SELECT try(json_type(_json)) FROM json_texts ORDER BY _row").to_arrow_table().column(0)
    finally:
        con.unregister("json_texts")


def not_objects(table: pa.Table, types: pa.Array, offset_kind: OffsetKind) -> tuple[pa.Table, list[QuarantinedRecord]]:
    """The records of a JSON-lines batch that are JSON objects, and the others quarantined (by offset)."""
    keep = pc.fill_null(pc.equal(types, "OBJECT"), False)
    if pc.all(keep).as_py():
        return table, []
    dropped = pc.invert(keep)
    rejected = sorted(
        zip(
            table.column("_offset").filter(dropped).to_pylist(),
            table.column("_source").filter(dropped).to_pylist(),
            types.filter(dropped).to_pylist(),
            table.column("_json").filter(dropped).to_pylist(),
            strict=True,
        ),
        key=lambda item: item[0],
    )
    bad = [
        QuarantinedRecord(
            source,
            offset,
            offset_kind,
            "invalid JSON" if kind is None else f"JSON {kind.lower()} where an object was expected",
            (text or "")[:EXCERPT_CHARS].replace("\x00", "\\x00"),
        )
        for offset, source, kind, text in rejected
    ]
    return table.filter(keep), bad
