"""JSON documents (pretty-printed or concatenated values, arrays of records): which heads are documents, how
records are cut and numbered across reads, what is quarantined, resuming, and the ingest's accounting."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tunnelhunt.ingest.run import ingest
from tunnelhunt.readers import json_documents
from tunnelhunt.readers.base import START, Position
from tunnelhunt.readers.detect import ReaderSet
from tunnelhunt.readers.json_documents import DocumentBatch, document_batches, is_document
from tunnelhunt.readers.lines import Utf8Stream
from tunnelhunt.readers.sources import Source
from tunnelhunt.store.duckdb_store import Store

EVENT = {
    "Event": {
        "System": {
            "EventID": 1,
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "pc1",
            "TimeCreated": {"#attributes": {"SystemTime": "2026-11-20T10:00:00Z"}},
        },
        "EventData": {"Image": "C:\\Tools\\ngrok.exe", "CommandLine": "ngrok tcp 3389 — é"},
    }
}


def _batches(text: str | bytes, start: Position = START, final: bool = True) -> list[DocumentBatch]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return list(document_batches(Utf8Stream(io.BufferedReader(io.BytesIO(data))), "d.json", start, final))


def _flat(batches: list[DocumentBatch]) -> tuple[list[int], list[object], list[tuple[int, str]]]:
    numbers = [n for b in batches for n in b.numbers]
    values = [json.loads(t) for b in batches for t in b.texts]
    bad = [(q.offset, q.reason) for b in batches for q in b.quarantined]
    return numbers, values, bad


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('{"a": 1}\n{"a": 2}\n', False),  # JSON lines
        ('{"a": 1}', False),  # one object on one line: a one-line JSON lines file
        ('{\n  "a": 1\n}\n', True),
        ('[{"a": 1}, {"a": 2}]\n', True),  # a one-line array of objects
        ("[\n  1,\n  2\n]", False),  # an array counts as records when its first element is an object
        ("[1, 2]\n", False),  # a first line that is an array of non-objects stays JSON lines (quarantined there)
        ('[\n  {"a": 1},\n  {"b": ' + '"x", ' * 20000 + '"c": 1}', True),  # an array longer than the head
        ("[]\n", False),
        ('{"a": \n', False),  # cut off or broken: JSON lines, whose bad lines are quarantined one by one
        ("not json\n", False),
        ("", False),
    ],
)
def test_which_heads_are_documents(head: str, expected: bool) -> None:
    assert is_document(head.encode()) is expected


def test_pretty_concatenated_and_array_records_are_numbered_in_order() -> None:
    text = (
        json.dumps(EVENT, indent=2, ensure_ascii=False)
        + "\n"
        + json.dumps([EVENT, {"b": 2}], indent=4)
        + json.dumps({"c": [1, {"d": None}]})
    )
    numbers, values, bad = _flat(_batches(text))
    assert numbers == [1, 2, 3, 4]
    assert values == [EVENT, EVENT, {"b": 2}, {"c": [1, {"d": None}]}]
    assert bad == []


def test_values_that_are_not_objects_are_quarantined_with_their_line() -> None:
    text = '[\n  {"a": 1},\n  [2, 3],\n  "text",\n  4.5,\n  null\n]\n7\n{"b": 2}\n'
    numbers, values, bad = _flat(_batches(text))
    assert numbers == [1, 7] and values == [{"a": 1}, {"b": 2}]
    assert bad == [
        (2, "JSON array where an object was expected (line 3)"),
        (3, "JSON varchar where an object was expected (line 4)"),
        (4, "JSON double where an object was expected (line 5)"),
        (5, "JSON null where an object was expected (line 6)"),
        (6, "JSON bigint where an object was expected (line 8)"),
    ]


def test_a_syntax_error_quarantines_the_rest_once() -> None:
    text = '{\n "a": 1\n}\n{\n "b": 2,,\n}\n{"c": 3}\n'
    numbers, values, bad = _flat(_batches(text))
    assert numbers == [1] and values == [{"a": 1}]
    [(number, reason)] = bad
    assert number == 2 and reason.startswith("invalid JSON: Expecting property name") and "(line 4)" in reason
    assert reason.endswith("the rest of the file is not read")
    _, _, bad = _flat(_batches('[{"a": 1} {"b": 2}]'))
    reason = "invalid JSON: expected ',' or ']' after an array element (line 1); the rest of the file is not read"
    assert bad == [(2, reason)]


def test_records_cut_by_every_read_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads of a few characters cut strings, escapes, literals, numbers and multi-byte characters: the
    records and their line numbers are those of one read."""
    records = [EVENT, {"t": True, "f": False, "n": None, "x": 12345.678e-3, "u": "\\u00e9 ☃ 😀"}, {"k": "v"}]
    text = json.dumps(records[:2], indent=1, ensure_ascii=False) + "\n" + json.dumps(records[2]) + "\n[]\n5"
    whole = _flat(_batches(text))
    for size in (1, 2, 3, 7, 64):
        monkeypatch.setattr(json_documents, "BLOCK_CHARS", size)
        assert _flat(_batches(text)) == whole
    last_line = text.count("\n") + 1
    assert whole[1] == records and whole[2] == [(4, f"JSON bigint where an object was expected (line {last_line})")]


def test_a_value_over_the_limit_stops_reading_with_bounded_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_documents, "MAX_RECORD_BYTES", 1000)
    monkeypatch.setattr(json_documents, "BLOCK_CHARS", 256)
    text = '{"a": 1}\n{"big": "' + "x" * 5000 + '"}\n{"c": 3}\n'
    numbers, _, bad = _flat(_batches(text))
    assert numbers == [1]
    assert bad == [(2, "a JSON value over the 1000-byte limit (line 2); the rest of the file is not read")]


def test_nesting_too_deep_is_quarantined() -> None:
    _, _, bad = _flat(_batches('{"a": 1}\n' + "[" * 100_000 + "]" * 100_000))
    assert bad == [(2, "JSON nested too deep (line 2); the rest of the file is not read")]


def test_resume_after_a_record_and_an_unfinished_last_value() -> None:
    whole = json.dumps([EVENT, {"b": 2}], indent=2)
    first = whole[: whole.rindex('"b": 2') + len('"b": 2')]  # still being written: the second record is cut
    batches = _batches(first + "\n", final=False)
    numbers, _, bad = _flat(batches)
    assert numbers == [1] and bad == []  # the cut second record waits
    end = batches[-1].end
    assert end.offset == 1
    grown = first + '\n  },\n  {"c": 3}\n]\n'
    numbers, values, bad = _flat(_batches(grown, start=end))
    assert numbers == [2, 3] and values == [{"b": 2}, {"c": 3}] and bad == []


def test_utf16_documents_are_transcoded() -> None:
    data = json.dumps([EVENT], indent=2, ensure_ascii=False).encode("utf-16")
    numbers, values, _ = _flat(_batches(data))
    assert numbers == [1] and values == [EVENT]


def test_a_pretty_evtx_dump_document_is_recognised_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(json.dumps([EVENT, EVENT, 3, EVENT], indent=2, ensure_ascii=False) + "\n{", encoding="utf-8")
    assert ReaderSet().choose(Source(path)).reader.format_name == "evtx-json-document"
    with Store() as store:
        report = ingest([path], store)
        [file] = report.files
        assert file.format == "evtx-json-document"
        assert (report.total("read"), report.total("quarantined")) == (5, 2)
        assert report.total("read") == report.total("ingested") + report.total("unmapped") + report.total("quarantined")
        rows = store.query("SELECT _offset, process_name FROM endpoint_processes ORDER BY _offset").to_pylist()
        assert rows == [{"_offset": n, "process_name": "ngrok.exe"} for n in (1, 2, 4)]
        assert store.count("events") == 3


def test_json_lines_stay_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(EVENT) for _ in range(3)) + "\n", encoding="utf-8")
    assert ReaderSet().choose(Source(path)).reader.format_name == "evtx-json"
