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


@dataclass(frozen=True)
class ColumnPlan:
    """The distinct candidate paths of a mapping's raw columns (slots), and each column's slots in
    candidate order."""

    columns: tuple[str, ...]
    paths: tuple[tuple[str | int, ...], ...]
    slots: tuple[tuple[int, ...], ...]
    slot_of: dict[tuple[str | int, ...], int] = field(compare=False, hash=False)


_PLANS: dict[int, tuple[SourceMapping, ColumnPlan | None]] = {}


def column_plan(mapping: SourceMapping) -> ColumnPlan | None:
    """The plan of a JSON mapping; None when some candidate path is not a plain path of keys and indices."""
    cached = _PLANS.get(id(mapping))
    if cached is not None and cached[0] is mapping:
        return cached[1]
    paths: list[tuple[str | int, ...]] = []
    slots: list[tuple[int, ...]] = []
    plan: ColumnPlan | None = None
    for column in mapping.raw_columns:
        found: list[int] = []
        for text in mapping.candidates(column, json=True):
            steps = path_steps(text)
            if steps is None:
                break
            if steps not in paths:
                paths.append(steps)
            found.append(paths.index(steps))
        else:
            slots.append(tuple(found))
            continue
        break
    else:
        plan = ColumnPlan(mapping.raw_columns, tuple(paths), tuple(slots), {p: i for i, p in enumerate(paths)})
    if len(_PLANS) > 256:
        _PLANS.clear()
    _PLANS[id(mapping)] = (mapping, plan)
    return plan


#: What a record holds at a slot whose value is an object or array (DuckDB would give its JSON text).
CONTAINER = object()


@dataclass
class ColumnPicks:
    """The values found at each slot while walking a batch: (row, text) per slot, and the rows where a
    slot held an object or array."""

    plan: ColumnPlan
    rows: dict[int, list[int]] = field(default_factory=dict)
    values: dict[int, list[str]] = field(default_factory=dict)
    containers: dict[int, list[int]] = field(default_factory=dict)

    def add(self, row: int, picked: dict[int, object]) -> None:
        """One record's slot values (`CONTAINER` for an object or array)."""
        for slot, value in picked.items():
            if value is CONTAINER:
                self.containers.setdefault(slot, []).append(row)
                continue
            rows = self.rows.get(slot)
            if rows is None:
                self.rows[slot] = [row]
                self.values[slot] = [value]  # type: ignore[list-item]
            else:
                rows.append(row)
                self.values[slot].append(value)  # type: ignore[arg-type]

    def columns(self, count: int) -> dict[str, pa.Array] | None:
        """Each raw column as `json_extract_string` with the mapping's candidates gives it (first non-NULL
        candidate), or None when a record's chosen value would be an object or array."""
        everywhere = pa.array(range(count), pa.int64())
        at_slot: dict[int, pa.Array] = {}
        for slot, rows in self.rows.items():
            placed = pc.index_in(everywhere, value_set=pa.array(rows, pa.int64()))
            at_slot[slot] = pc.take(pa.array(self.values[slot], pa.string()), placed)
        out: dict[str, pa.Array] = {}
        for column, slots in zip(self.plan.columns, self.plan.slots, strict=True):
            value: pa.Array | None = None
            for slot in slots:
                held = self.containers.get(slot)
                if held and (value is None or pc.take(value, pa.array(held, pa.int64())).null_count):
                    return None  # an object or array is this record's first value: DuckDB's JSON text
                found = at_slot.get(slot)
                if found is not None:
                    value = found if value is None else pc.coalesce(value, found)
            out[column] = value if value is not None else pa.nulls(count, pa.string())
        return out
