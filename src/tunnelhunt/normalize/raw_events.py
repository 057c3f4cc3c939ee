"""Every record of a raw batch as a row of the events table (`store/events.py`), vectorised.

Two shapes come in. Tabular batches (event XML, Sysmon for Linux, Zeek TSV, CSV, auditd) already
hold one column per field: hot fields are taken as they are and the others are folded into the map
in Arrow. JSON batches (EVTX as the `evtx` parser renders it, JSON lines) are flattened by DuckDB's
`json_tree` into (record, key, value) leaves; each distinct key path is named once in Python
(`json_field_name`), repeated names in one record (arrays, repeated `Data`) are joined by newline,
and the leaves are pivoted (hot fields) or folded (the map) in Arrow. Default fields and aliases
are then one DuckDB query over the few fields they read (`raw_profiles.RawProfile`).

The JSON object records (EVTX as its parser wrote them, and JSON lines once those that are not
objects are set aside) take a quicker road to the same leaves (`_python_leaves`): a JSON parse and a
walk per record cost about 50 µs where `json_tree` took about 110 µs (the largest share of an EVTX or
JSON-lines hunt). A batch holding a value whose text DuckDB would write differently (a non-integer
number, an integer beyond 64 bits, a repeated key, a key with a backslash, which `json_tree` names
with it doubled) or that Arrow cannot hold (a lone surrogate) goes through `json_tree` as before, so
both roads give the same rows. The walk also picks the values at a mapping's candidate JSON paths
(`json_columns`) and hands them to the normaliser (`walk`), so a record is parsed once, not once here
and twice more by DuckDB's `json_extract_string`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from tunnelhunt.normalize.json_columns import (
    JSON_STEP,
    ColumnPicks,
    arange,
    column_plan,
    json_types,
    not_objects,
    pivot,
)
from tunnelhunt.normalize.mapping import SourceMapping, quote_identifier
from tunnelhunt.normalize.queries import arrow_of
from tunnelhunt.normalize.raw_profiles import RawProfile, profile_for
from tunnelhunt.readers.base import QuarantinedRecord, RawBatch
from tunnelhunt.store.events import (
    DEFAULT_COLUMNS,
    EXTRACTED_DEFAULTS,
    FIELDS_COLUMN,
    HOT_ALIASES,
    HOT_FIELDS,
    events_schema,
)

_SCHEMA = events_schema()
_SCHEMA_NAMES = frozenset(_SCHEMA.names)
_NULL_TEXT = pa.scalar(None, pa.string())
_HOT = frozenset(HOT_FIELDS)
_RENAMED = EXTRACTED_DEFAULTS
#: Names that never go to the map: columns of the table (a field of that name is the column).
_NOT_IN_MAP = (frozenset(name for name, _ in DEFAULT_COLUMNS) | _HOT) - _RENAMED.keys()
_MAP_TYPE = pa.map_(pa.string(), pa.string())


def _segments(fullkey: str) -> list[str | int]:
    """A DuckDB JSON path (`$.a."b.c"[0]`) as its keys and array indices."""
    out: list[str | int] = []
    for match in JSON_STEP.finditer(fullkey, 1):
        quoted, plain, index = match.groups()
        if index is not None:
            out.append(int(index))
        else:
            out.append(quoted.replace('\\"', '"') if quoted is not None else plain)
    return out


def json_field_name(fullkey: str, naming: str) -> str | None:
    """The field name of the JSON leaf at DuckDB path `fullkey` (see `field_name`)."""
    return field_name(_segments(fullkey), naming)


def field_name(parts: Sequence[str | int], naming: str) -> str | None:
    """The field name of a JSON leaf, or None when the leaf is not a field.

    `parts` are the leaf's keys and array indices from the top. `dotted`: keys joined by `.`, an array
    element marked `{}` (`answers{}.rdata`), as Splunk's JSON extraction names them. `windows` (EVTX
    records): System children and attributes by their own names (`EventID`, `SystemTime`,
    `Provider_Name`, `UserID`), EventData and UserData leaves by the name of their element, XML
    namespace attributes dropped, as Splunk's XmlWinEventLog names them.
    """
    if naming != "windows":
        name = ""
        for part in parts:
            if isinstance(part, int):
                name += "{}"
            else:
                name = f"{name}.{part}" if name else part
        return name or None
    keys = [p for p in parts if isinstance(p, str) and p != "#text"]
    if len(keys) < 3 or keys[0] != "Event":
        return None
    section = keys[1]
    if section == "System":
        if "#attributes" in keys:
            element, attribute = keys[2], keys[-1]
            if attribute.startswith("xmlns"):
                return None
            return "Provider_Name" if (element, attribute) == ("Provider", "Name") else attribute
        return keys[2]
    if section in ("EventData", "UserData"):
        if "#attributes" in keys:
            return None
        return keys[-1]
    return None


def _refuse(text: str) -> Any:
    """A JSON value DuckDB writes in a way the walk does not (NaN, Infinity): leave the batch to json_tree."""
    raise ValueError(f"not walked in Python: {text}")


def _float_text(text: str) -> str:
    """A non-integer number's text as DuckDB writes it back: the shortest digits that read as the same double
    (Python's `repr` finds them), laid out as JavaScript lays out a number: plain from 1e-7 up to 1e21, with
    `.0` when whole (1e5 → 100000.0, 0.00001 stays), else `<d>.<ddd>e<n>` (1e-7, 1.5e21). Held to DuckDB's
    text on 300,000 random values of every magnitude. NaN and values beyond a double are left to json_tree.
    Zeek's `ts` and durations are decimals: without this every Zeek JSON batch took DuckDB's road."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"not walked in Python: {text}")
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    sign, numerals, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, numerals)).rstrip("0")
    point = len(numerals) + int(exponent)  # the value is 0.<digits> × 10**point
    if len(digits) <= point <= 21:
        written = digits + "0" * (point - len(digits)) + ".0"
    elif 0 < point <= 21:
        written = f"{digits[:point]}.{digits[point:]}"
    elif -6 < point <= 0:
        written = "0." + "0" * -point + digits
    else:
        written = digits[0] + (f".{digits[1:]}" if len(digits) > 1 else "") + f"e{point - 1}"
    return "-" + written if sign else written


def _int_text(text: str) -> str:
    """An integer's text, which DuckDB writes back digit for digit while it fits 64 bits (JSON has no
    leading zeros); `-0` and larger integers are left to json_tree."""
    if text == "-0" or not -(1 << 63) <= int(text) < 1 << 64:
        raise ValueError("integer DuckDB reads as another value")
    return text


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; one with a repeated key is left to json_tree (which keeps both, `dict` the last)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("repeated key")
    return found


#: One decoder for every record: `json.loads` with hooks builds a decoder and its scanner per call,
#: which cost as much as the parsing itself (64 µs a record against 34 µs, EVTX corpus).
_DECODER = json.JSONDecoder(
    parse_float=_float_text, parse_int=_int_text, parse_constant=_refuse, object_pairs_hook=_object
)


#: A cache of leaf names shaped like the documents: key → (field name, cache of its children, path, slot of
#: the path among a mapping's candidate JSON paths or None, `json_columns.ColumnPlan`).
_PathCache = dict[str | int, tuple[str | None, "_PathCache", tuple[str | int, ...], int | None]]


def _walk(
    node: dict[str, Any] | list[Any],
    cache: _PathCache,
    parts: tuple[str | int, ...],
    found: dict[str, list[str]],
    slots: list[int],
    picked: list[str | None],
    name: Callable[[tuple[str | int, ...]], tuple[str | None, int | None]],
) -> None:
    """Every non-null leaf under `node` as text, by field name, in document order (json_tree's ids); and
    each value at a slot path (`json_columns.ColumnPlan`): its slot in `slots`, its text in `picked` (None
    for an object or array)."""
    for key, value in node.items() if isinstance(node, dict) else enumerate(node):
        entry = cache.get(key)
        if entry is None:
            path = (*parts, key)
            field, slot = name(path)
            entry = cache[key] = (field, {}, path, slot)
        if isinstance(value, dict | list):
            if entry[3] is not None:
                slots.append(entry[3])
                picked.append(None)
            _walk(value, entry[1], entry[2], found, slots, picked, name)
        elif value is not None:
            text = value if isinstance(value, str) else "true" if value is True else "false"  # ints come as text
            if entry[3] is not None:
                slots.append(entry[3])
                picked.append(text)
            if entry[0] is not None:
                texts = found.get(entry[0])
                if texts is None:
                    found[entry[0]] = [text]
                else:
                    texts.append(text)


def map_from_wide(columns: Sequence[pa.Array], names: Sequence[str], count: int) -> pa.Array:
    """One map per row from same-length string columns: each non-NULL cell keyed by its column name."""
    if not names or count == 0:
        offsets = pa.array([0] * (count + 1), pa.int32())
        return pa.MapArray.from_arrays(offsets, pa.array([], pa.string()), pa.array([], pa.string()))
    stacked = pa.concat_arrays([c.cast(pa.string()) for c in columns])
    valid = pc.is_valid(stacked)
    positions = pc.indices_nonzero(valid)
    rows = pc.take(pa.concat_arrays([arange(count)] * len(names)), positions)
    chosen = pc.take(positions, pc.sort_indices(rows))  # stable: a row's cells stay in column order
    which = pa.concat_arrays([pa.repeat(pa.scalar(i, pa.int32()), count) for i in range(len(names))])
    keys = pa.DictionaryArray.from_arrays(pc.take(which, chosen), pa.array(list(names), pa.string()))
    per_row = pc.cast(pc.is_valid(columns[0]), pa.int32())
    for column in columns[1:]:
        per_row = pc.add(per_row, pc.cast(pc.is_valid(column), pa.int32()))
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(per_row)])
    return pa.MapArray.from_arrays(offsets, keys.cast(pa.string()), pc.take(stacked, chosen))


def map_from_long(rows: pa.Array, keys: pa.Array, values: pa.Array, count: int) -> pa.Array:
    """One map per row from (row, key, value) entries sorted by row, each key once per row."""
    counts = pc.value_counts(rows)
    per_row = pc.fill_null(pc.take(counts.field("counts"), pc.index_in(arange(count), counts.field("values"))), 0)
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(per_row.cast(pa.int32()))])
    return pa.MapArray.from_arrays(offsets, keys.cast(pa.string()), values.cast(pa.string()))


def _map_entries(fields: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """A map array's entries as (row, key, value) arrays, in order."""
    as_list = pa.ListArray.from_arrays(fields.offsets, fields.keys)
    rows = pc.list_parent_indices(as_list).cast(pa.int64())
    return rows, pc.list_flatten(as_list), pc.list_flatten(pa.ListArray.from_arrays(fields.offsets, fields.items))


def add_to_map(fields: pa.Array, columns: Sequence[pa.Array], names: Sequence[str], count: int) -> pa.Array:
    """Each row's map with the non-NULL cells of `columns` added under `names`, after its own entries.

    An entry the row already has wins (an extracted field keeps its value over an alias of that
    name), so a key stays unique in a row.
    """
    rows, keys, values = _map_entries(fields)
    present = set(pc.unique(keys).to_pylist()) if len(keys) else set()
    added = []
    for name, column in zip(names, columns, strict=True):
        if name in present:  # rows that have the key keep theirs
            column = pc.if_else(
                pc.is_in(arange(count), value_set=rows.filter(pc.equal(keys, name))), _NULL_TEXT, column
            )
        added.append(column)
    extra_rows, extra_keys, extra_values = _map_entries(map_from_wide(added, names, count))
    all_rows = pa.concat_arrays([rows, extra_rows])
    order = pc.sort_indices(all_rows)  # stable: a row's own entries first, then the added ones
    all_keys = pa.concat_arrays([keys.cast(pa.string()), extra_keys.cast(pa.string())])
    all_values = pa.concat_arrays([values.cast(pa.string()), extra_values.cast(pa.string())])
    return map_from_long(pc.take(all_rows, order), pc.take(all_keys, order), pc.take(all_values, order), count)


@dataclass(frozen=True)
class WalkedJson:
    """A JSON batch parsed once: its object records, their (_row, name, v) leaves, and the mapping's raw
    columns (`_source`, `_offset`, one column per raw column) when the walk could take them (else None:
    the normaliser extracts them with DuckDB)."""

    table: pa.Table
    leaves: pa.Table
    columns: pa.Table | None
    #: JSON-lines records that are not JSON objects, quarantined (not in `table`).
    rejected: list[QuarantinedRecord]


class RawEventBuilder:
    """Builds events-table rows for raw batches on the normaliser's DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._names: dict[tuple[str, str], str | None] = {}
        self._paths: dict[tuple[str, tuple[tuple[str | int, ...], ...]], _PathCache] = {}
        self._paths_added = 0

    def build(
        self,
        batch: RawBatch,
        mapping: SourceMapping | None,
        excluded: Sequence[QuarantinedRecord] = (),
        walked: WalkedJson | None = None,
    ) -> pa.Table:
        """The batch's events (rows in batch order), without the records in `excluded`; a JSON batch's
        leaves from `walked` when the normaliser already had them walked (`walk`)."""
        profile = profile_for(batch.sourcetype, mapping)
        table = batch.table
        if "_json" in table.column_names:
            walked = walked or self.walk(batch, mapping, columns=False)
            table = walked.table
            hot, inputs, fields = self._columns(table.num_rows, walked.leaves, profile)
        else:
            hot, inputs, fields = _from_columns(table, profile)
        count = table.num_rows
        defaults = self._defaults(table, profile, inputs)
        in_map = [name for name in profile.aliases if name not in _SCHEMA_NAMES]
        if in_map:
            fields = add_to_map(fields, [defaults.column(n).combine_chunks() for n in in_map], in_map, count)
        columns: dict[str, pa.Array | pa.ChunkedArray] = {}
        raw = table.column("_raw") if "_raw" in table.column_names else table.column("_json")
        provided = {"_raw": raw, "_source": table.column("_source"), "_offset": table.column("_offset")}
        for target in _SCHEMA:
            name = target.name
            if name == FIELDS_COLUMN:
                columns[name] = fields
            elif name in provided:
                columns[name] = provided[name]
            elif name in defaults.column_names:
                value = defaults.column(name)
                if name in HOT_ALIASES and name in hot:
                    value = pc.coalesce(hot[name], value)
                columns[name] = value
            elif name in hot:
                columns[name] = hot[name]
            else:
                columns[name] = pa.nulls(count, target.type)
        events = pa.Table.from_arrays([_as_type(columns[t.name], t.type) for t in _SCHEMA], schema=_SCHEMA)
        return _drop(events, excluded)

    def _defaults(self, table: pa.Table, profile: RawProfile, inputs: dict[str, pa.Array]) -> pa.Table:
        """`_time`, host, source, sourcetype, index, EventCode, Channel and the aliases, in DuckDB."""
        count = table.num_rows
        columns: dict[str, pa.Array | pa.ChunkedArray] = {"_source": table.column("_source")}
        for name in profile.inputs:
            columns[name] = inputs.get(name, pa.nulls(count, pa.string()))
        selects = [
            f"{profile.time} AS _time",
            f"{profile.host} AS host",
            f"{profile.source} AS source",
            f"{profile.sourcetype} AS sourcetype",
            "'main' AS \"index\"",
            f"{profile.event_code} AS EventCode",
            f"{profile.channel} AS Channel",
        ]
        selects += [f"{sql} AS {quote_identifier(alias)}" for alias, sql in profile.aliases.items()]
        columns["__row"] = arange(count)
        self._con.register("raw_inputs", pa.table(columns))
        try:  # in batch order, said explicitly: a parallel scan of several Arrow chunks may interleave them
            return arrow_of(self._con, f"SELECT {', '.join(selects)} FROM raw_inputs ORDER BY __row")
        finally:
            self._con.unregister("raw_inputs")

    def walk(self, batch: RawBatch, mapping: SourceMapping | None, columns: bool = True) -> WalkedJson:
        """The JSON object records of a batch and their leaves, each record parsed once; with `columns`,
        also the mapping's raw columns found on the way (`json_columns`), for the normaliser."""
        profile = profile_for(batch.sourcetype, mapping)
        table = batch.table
        rejected: list[QuarantinedRecord] = []
        if not batch.json_checked:  # lines that are not JSON objects are quarantined by the normaliser
            table, rejected = not_objects(table, json_types(self._con, table.column("_json")), batch.offset_kind)
        incoming = table.select(["_source", "_offset", "_json"])
        self._con.register("raw_json", incoming.append_column("_row", arange(incoming.num_rows)))
        try:
            plan = column_plan(mapping) if columns and mapping is not None else None
            picks = ColumnPicks(plan) if plan is not None else None
            leaves = self._python_leaves(table.column("_json"), profile, picks)
            if leaves is None:
                return WalkedJson(table, self._tree_leaves(profile), None, rejected)
        finally:
            self._con.unregister("raw_json")
        raw = None
        if picks is not None:
            found = picks.columns(self._con, table.column("_json"))
            raw = pa.table({"_source": table.column("_source"), "_offset": table.column("_offset"), **found})
        return WalkedJson(table, leaves, raw, rejected)

    def _tree_leaves(self, profile: RawProfile) -> pa.Table:
        """(_row, name, v) of every named leaf of the records in `raw_json`, by DuckDB's `json_tree`."""
        self._con.execute(
            "CREATE OR REPLACE TEMP TABLE raw_leaves AS SELECT _row, t.fullkey AS k, t.id AS id,"
            " t.atom ->> '$' AS v FROM raw_json, json_tree(_json) AS t"
            " WHERE t.atom IS NOT NULL AND t.type NOT IN ('OBJECT', 'ARRAY', 'NULL')"
        )
        keys = self._con.sql("SELECT DISTINCT k FROM raw_leaves").to_arrow_table().column(0).to_pylist()
        named = [(k, self._name(k, profile)) for k in keys]
        self._con.register("raw_names", pa.table({"k": [k for k, _ in named], "name": [n for _, n in named]}))
        try:
            long = self._con.sql(
                "SELECT _row, name, string_agg(v, chr(10) ORDER BY id) AS v FROM raw_leaves"
                " JOIN raw_names USING (k) WHERE name IS NOT NULL AND v IS NOT NULL"
                " GROUP BY _row, name ORDER BY _row, min(id)"
            ).to_arrow_table()
        finally:
            self._con.unregister("raw_names")
            self._con.execute("DROP TABLE IF EXISTS raw_leaves")
        return long

    def _python_leaves(
        self, records: pa.ChunkedArray, profile: RawProfile, picks: ColumnPicks | None = None
    ) -> pa.Table | None:
        """What `_tree_leaves` returns, walked in Python; None for a batch it must leave to `json_tree`
        (see the module docstring). Names in a record keep the order of their first leaf. The values at
        the slot paths of `picks.plan` go to `picks`."""
        rows: list[int] = []
        names: list[str] = []
        values: list[str] = []
        if self._paths_added > 100_000:
            self._paths.clear()  # keys come from the data: keep the cache bounded
            self._paths_added = 0
        slot_of = picks.plan.slot_of if picks is not None else {}
        cache = self._paths.setdefault((profile.json_naming, picks.plan.paths if picks is not None else ()), {})

        def naming(parts: tuple[str | int, ...]) -> tuple[str | None, int | None]:
            if any(isinstance(part, str) and "\\" in part for part in parts):
                raise ValueError("a key json_tree names with its backslashes doubled")
            self._paths_added += 1
            return field_name(parts, profile.json_naming), slot_of.get(parts)

        slots, picked, picked_rows = (picks.slots, picks.values, picks.rows) if picks is not None else ([], [], [])
        try:
            for row, text in enumerate(records.to_pylist()):
                found: dict[str, list[str]] = {}
                before = len(slots)
                record = _DECODER.decode(text)
                if isinstance(record, dict | list):
                    _walk(record, cache, (), found, slots, picked, naming)
                for name, texts in found.items():
                    rows.append(row)
                    names.append(name)
                    values.append(texts[0] if len(texts) == 1 else "\n".join(texts))
                if len(slots) > before:
                    picked_rows += [row] * (len(slots) - before)
            return pa.table(
                {"_row": pa.array(rows, pa.int64()), "name": pa.array(names, pa.string()),
                 "v": pa.array(values, pa.string())}
            )  # fmt: skip
        except (ValueError, TypeError, UnicodeError, RecursionError, pa.ArrowException):
            return None

    def _columns(
        self, count: int, long: pa.Table, profile: RawProfile
    ) -> tuple[dict[str, pa.Array], dict[str, pa.Array], pa.Array]:
        """Hot fields, profile inputs and the map from the (_row, name, v) leaves."""
        rows = long.column("_row").combine_chunks()
        names = long.column("name").combine_chunks().dictionary_encode()
        values = long.column("v").combine_chunks()
        present = names.dictionary.to_pylist()
        wanted = _HOT | set(profile.inputs)
        hot: dict[str, pa.Array] = {}
        inputs: dict[str, pa.Array] = {}
        in_map = pa.array([name not in _NOT_IN_MAP for name in present], pa.bool_())
        # the leaves grouped by name once (a stable sort), each wanted name then a slice of them: one
        # comparison over every leaf per wanted name cost a tenth of an EVTX ingest
        order = pc.sort_indices(names.indices)
        per_name = pc.value_counts(names.indices)
        sizes = dict(zip(per_name.field("values").to_pylist(), per_name.field("counts").to_pylist(), strict=True))
        start = 0
        for index, name in enumerate(present):
            size = sizes.get(index, 0)
            if name in wanted and size:
                chosen = order.slice(start, size)
                column = pivot(pc.take(rows, chosen), pc.take(values, chosen), count)
                if name in _HOT:
                    hot[name] = column
                if name in profile.inputs:
                    inputs[name] = column
            start += size
        keep = pc.take(in_map, names.indices)
        rows, names, values = rows.filter(keep), names.filter(keep), values.filter(keep)
        if _RENAMED.keys() & set(present):
            renamed = [_RENAMED.get(name, name) for name in present]
            names = pa.DictionaryArray.from_arrays(names.indices, pa.array(renamed, pa.string()))
            if len(set(renamed)) < len(renamed):  # a record may also hold `extracted_host` itself
                rows, names, values = _merge_repeats(rows, names, values)
        return hot, inputs, map_from_long(rows, names, values, count)

    def _name(self, fullkey: str, profile: RawProfile) -> str | None:
        key = (fullkey, profile.json_naming)
        if key not in self._names:
            if len(self._names) > 100_000:
                self._names.clear()  # keys come from the data: keep the cache bounded
            self._names[key] = json_field_name(fullkey, profile.json_naming)
        return self._names[key]


def _merge_repeats(rows: pa.Array, names: pa.Array, values: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Leaves sorted by row with each name once per row: the values of a repeated name joined by newlines (as
    repeated JSON leaves are), in first-seen order. Only for the rare batch a renamed field collides in."""
    merged: dict[tuple[int, str], list[str]] = {}
    for row, name, value in zip(rows.to_pylist(), names.to_pylist(), values.to_pylist(), strict=True):
        merged.setdefault((row, name), []).append(value)
    keys = list(merged)
    return (
        pa.array([row for row, _ in keys], pa.int64()),
        pa.array([name for _, name in keys], pa.string()),
        pa.array(["\n".join(v for v in texts if v is not None) for texts in merged.values()], pa.string()),
    )


def _from_columns(table: pa.Table, profile: RawProfile) -> tuple[dict[str, pa.Array], dict[str, pa.Array], pa.Array]:
    """Hot fields, profile inputs and the map of a batch that has one column per field."""
    count = table.num_rows
    by_name: dict[str, pa.Array] = {}
    for name in table.column_names:
        target = profile.renames.get(name, name)
        column = table.column(name).combine_chunks()
        if not name.startswith("_"):
            by_name.setdefault(target, column)
    inputs = {name: table.column(name).combine_chunks() for name in profile.inputs if name in table.column_names}
    inputs.update({name: by_name[name] for name in profile.inputs if name in by_name})
    hot = {name: column for name, column in by_name.items() if name in _HOT}
    stored: dict[str, pa.Array] = {}
    for name in (name for name in by_name if name not in _NOT_IN_MAP):
        target, column = _RENAMED.get(name, name), by_name[name]
        if target in stored:  # `host` renamed beside the record's own `extracted_host`: both values kept
            pair = [stored[target].cast(pa.large_string()), column.cast(pa.large_string())]
            column = pc.binary_join_element_wise(*pair, pa.scalar("\n", pa.large_string()), null_handling="skip")
        stored[target] = column
    fields = map_from_wide(list(stored.values()), list(stored), count)
    return hot, inputs, fields


def _as_type(column: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array | pa.ChunkedArray:
    return column if column.type == target else column.cast(target)


def _drop(events: pa.Table, excluded: Sequence[QuarantinedRecord]) -> pa.Table:
    """Without the records the normaliser quarantined (no valid time for their node)."""
    if not excluded or events.num_rows == 0:
        return events
    drop = pa.array([False] * events.num_rows)
    sources = events.column("_source")
    offsets = events.column("_offset")
    by_source: dict[str, list[int]] = {}
    for record in excluded:
        by_source.setdefault(record.source, []).append(record.offset)
    for source, numbers in by_source.items():
        hit = pc.and_(pc.equal(sources, source), pc.is_in(offsets, pa.array(numbers, pa.int64())))
        drop = pc.or_(drop, hit)
    return events.filter(pc.invert(drop))
