"""The two roads to a JSON record's leaves give the same rows: the Python walk used for JSON object records
(EVTX, JSON lines) and DuckDB's `json_tree` (issue 20). A value whose text the two would write differently
sends the batch to `json_tree`; either way the rows are the same."""

from __future__ import annotations

import json
import random

import duckdb
import pyarrow as pa
import pytest

from tests.conftest import shared_dataset
from tunnelhunt.normalize.raw_events import RawEventBuilder
from tunnelhunt.normalize.raw_profiles import profile_for

EVTX = "WinEventLog:evtx"


def _both(records: list[str], sourcetype: str = EVTX) -> tuple[pa.Table, pa.Table | None]:
    con = duckdb.connect()
    builder = RawEventBuilder(con)
    profile = profile_for(sourcetype, None)
    table = pa.table({"_row": pa.array(range(len(records)), pa.int64()), "_json": pa.array(records, pa.string())})
    con.register("raw_json", table)
    walked = builder._python_leaves(table.column("_json"), profile)
    return builder._tree_leaves(profile), walked


def _event(data: dict[str, object], system: dict[str, object] | None = None) -> str:
    base: dict[str, object] = {"EventID": 1, "Channel": "Security", "Provider": {"#attributes": {"Name": "X"}}}
    return json.dumps({"Event": {"System": {**base, **(system or {})}, "EventData": data}}, ensure_ascii=False)


WALKED = [
    _event({"Image": "C:\\a b\\ngrok.exe", "Empty": "", "Flag": True, "Off": False, "Gone": None}),
    _event({"Data": ["one", "two", 3]}, {"Security": {"#attributes": {"UserID": "S-1-5-18"}}}),
    _event({"Nested": {"Deep": {"Deeper": "x\ny"}}, "Unicode": "été \u202e ☃", "Big": 18446744073709551615}),
    _event({'Quote"Key': "v", "dot.key": "w", "#text": "t"}),
    json.dumps({"Event": {"UserData": {"Log": {"#attributes": {"xmlns": "u"}, "Name": "n"}}, "System": {}}}),
    _event({"Ratio": 1.50, "Zero": -0.0, "Tiny": 0.0001, "Long": 123456789.123456789, "Ts": 1389719057.930917}),
    '{"Event": {"EventData": {"Exp": 1e5, "Written": 1.50, "Big": 1E+15, "Near": 9999999999999998.0}}}',
    '{"Event": {"EventData": {"Small": 0.00001, "Smaller": 1e-7, "Large": 12345678901234567.5, "Max": 1.5e21}}}',
    '{"Event": {"EventData": {"Least": 5e-324, "Most": 1.7976931348623157e308, "Whole": 1e20, "Minus": -2.5e-7}}}',
]
REFUSED = {
    "a number beyond a double": '{"Event": {"EventData": {"Huge": 1e400}}}',
    "NaN": '{"Event": {"EventData": {"N": NaN}}}',
    "an integer beyond 64 bits": _event({"Huge": 18446744073709551616}),
    "minus zero": '{"Event": {"EventData": {"Zero": -0}}}',
    "a repeated key": '{"Event": {"EventData": {"A": "1", "A": "2"}}}',
    "a lone surrogate": '{"Event": {"EventData": {"S": "\\ud800"}}}',
    "a key with a backslash": '{"Event": {"EventData": {"A\\\\B": "1"}}}',
}
#: JSON lines, named as Splunk's JSON extraction names them (`a.b`, `answers{}.rdata`).
DOTTED = [
    json.dumps({"a": "x\u0000y", "b": {"c": [1, {"d": True}], "e": None}, "arr": [[1, 2], [3]], "f": "\u202e"}),
    json.dumps({"answers": [{"rdata": "1.2.3.4"}, {"rdata": "5.6.7.8"}], "x": -5, "y": 9223372036854775807}),
    json.dumps({"dot.k": 4, "": 5, "br[0]": 6, "tab\tk": "é", 'q"k': "😀", "x": {"$": 9}}),
]


def test_walked_records_give_the_rows_json_tree_gives() -> None:
    tree, walked = _both(WALKED)
    assert walked is not None and walked.num_rows > 20
    assert walked.equals(tree.cast(walked.schema))


def test_random_decimals_are_written_as_json_tree_writes_them() -> None:
    """Non-integer numbers of every magnitude a double holds, written plain with up to 20 decimals or with an
    exponent (a wider run of 300,000 such values agreed too)."""
    rng = random.Random(20)
    values = []
    for _ in range(2000):
        values.append(f"{rng.random() * 10 ** rng.randint(-8, 22) * rng.choice((1, -1)):.{rng.randint(1, 20)}f}")
        values.append(repr(rng.uniform(-1, 1) * 10 ** rng.randint(-320, 307)))
    records = ['{"Event": {"EventData": {"V": ' + v + "}}}" for v in values]
    tree, walked = _both(records)
    assert walked is not None and walked.num_rows == len(records)
    assert walked.equals(tree.cast(walked.schema))


def test_walked_json_lines_give_the_rows_json_tree_gives() -> None:
    tree, walked = _both(DOTTED, "json")
    assert walked is not None and walked.num_rows == 13  # the empty key names no field
    assert walked.equals(tree.cast(walked.schema))
    assert "answers{}.rdata" in walked.column("name").to_pylist()


def test_a_json_line_with_a_backslash_key_is_left_to_json_tree() -> None:
    tree, walked = _both([*DOTTED, json.dumps({"dom\\user": "x"})], "json")
    assert walked is None
    assert "dom\\\\user" in tree.column("name").to_pylist()  # json_tree's name: the backslash doubled


@pytest.mark.parametrize("case", REFUSED)
def test_a_value_the_walk_would_write_differently_is_left_to_json_tree(case: str) -> None:
    records = [WALKED[0], REFUSED[case]]
    if case == "a lone surrogate":  # json_tree refuses it too: the batch fails as it did before the walk
        with pytest.raises(duckdb.InvalidInputException):
            _both(records)
        return
    tree, walked = _both(records)
    assert walked is None
    assert tree.num_rows > 0


@pytest.mark.shared
def test_every_shared_evtx_record_gives_the_same_rows_both_ways() -> None:
    import evtx

    folder = shared_dataset("EVTX-ATTACK-SAMPLES")
    paths = sorted(folder.rglob("*.evtx"))
    records = [r["data"] for path in paths for r in evtx.PyEvtxParser(str(path)).records_json()]
    tree, walked = _both(records)
    assert walked is not None and len(records) > 100
    assert walked.equals(tree.cast(walked.schema))
