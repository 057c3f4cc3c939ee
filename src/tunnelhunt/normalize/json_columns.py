"""A JSON mapping's raw columns taken from the leaves the raw-event walk already visits.

A mapping of JSON records names each raw column's candidate JSON paths (`SourceMapping.sources`);
DuckDB's `json_extract_string` reads them, first non-NULL candidate winning. The raw-event builder
parses every record once in Python anyway (`raw_events._python_leaves`), so it also collects the
values found at those paths (the path's *slot*) and hands the normaliser the columns as a table:
each record is then parsed once, not three times (issue 20).

The columns are the ones `json_extract_string` gives, or none at all: a value at a candidate path
that is an object or array (which DuckDB writes back as JSON text) and that no earlier candidate
covers makes the batch take the DuckDB road (`ColumnPicks.columns` returns None).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from tunnelhunt.normalize.mapping import SourceMapping

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
    plan: ColumnPlan | None = None
    for index, column in enumerate(mapping.raw_columns):
        steps = [path_steps(text) for text in mapping.candidates(column, json=True)]
        if any(s is None or (s in slot_of and column_of[slot_of[s]] != index) for s in steps):
            break
        for rank, step in enumerate(dict.fromkeys(steps)):
            assert step is not None
            slot_of[step] = len(column_of)
            column_of.append(index)
            rank_of.append(rank)
    else:
        plan = ColumnPlan(mapping.raw_columns, tuple(slot_of), tuple(column_of), tuple(rank_of), slot_of)
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

    def columns(self, count: int) -> dict[str, pa.Array] | None:
        """Each raw column as `json_extract_string` with the mapping's candidates gives it (first non-NULL
        candidate), or None when a record's chosen value would be an object or array."""
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
            return None  # an object or array is a record's first value: DuckDB's JSON text, left to DuckDB
        grid = pivot(placed, chosen, width * count)
        return {column: grid.slice(i * count, count) for i, column in enumerate(self.plan.columns)}
