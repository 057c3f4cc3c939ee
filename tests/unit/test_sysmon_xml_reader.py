"""The Sysmon XML reader: both layouts, safe parsing, and an account of every bad record."""

from __future__ import annotations

import io
from pathlib import Path

from tests.helpers import dns_event, process_event
from tunnelhunt.readers.base import QuarantinedRecord
from tunnelhunt.readers.lines import Utf8Stream
from tunnelhunt.readers.sources import Source
from tunnelhunt.readers.sysmon_xml import SysmonXmlReader, parse_event, split_events


def read_all(path: Path) -> tuple[list[dict[str, object]], list[QuarantinedRecord]]:
    rows: list[dict[str, object]] = []
    bad: list[QuarantinedRecord] = []
    for batch in SysmonXmlReader().read(Source(path)):
        rows.extend(batch.table.to_pylist())
        bad.extend(batch.quarantined)
    return rows, bad


def test_one_event_per_line_flattens_system_and_eventdata(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text(process_event('ngrok.exe http 80 & "x"') + "\n" + dns_event("a.ngrok.io") + "\n")
    rows, bad = read_all(path)
    assert bad == []
    assert [r["_offset"] for r in rows] == [1, 2]
    first = rows[0]
    assert first["EventID"] == "1"
    assert first["Computer"] == "host-1.example.test"
    assert first["UserID"] == "S-1-5-18"
    assert first["TimeCreated"] == "2026-11-20T10:00:00.1234567Z"
    assert first["CommandLine"] == 'ngrok.exe http 80 & "x"'
    assert rows[1]["QueryName"] == "a.ngrok.io"


def test_multiline_events_wrapped_in_events_element(tmp_path: Path) -> None:
    event = process_event("ngrok.exe tcp 22").replace("><", ">\n  <")
    text = "<?xml version='1.0' encoding='utf-8'?>\n<Events>\n" + event + "\n" + event + "\n</Events>\n"
    path = tmp_path / "wevtutil.xml"
    path.write_text(text)
    rows, bad = read_all(path)
    assert bad == []
    assert len(rows) == 2
    assert rows[0]["_offset"] == 3  # the line where the first <Event> starts
    assert rows[1]["CommandLine"] == "ngrok.exe tcp 22"


def test_events_concatenated_on_one_line_and_utf16(tmp_path: Path) -> None:
    text = "<Events>" + process_event("a") + process_event("b") + "</Events>"
    path = tmp_path / "u16.xml"
    path.write_bytes(text.encode("utf-16"))
    rows, bad = read_all(path)
    assert bad == []
    assert [r["CommandLine"] for r in rows] == ["a", "b"]


def test_bad_records_are_quarantined_with_line_and_reason(tmp_path: Path) -> None:
    good = process_event("ngrok.exe http 8080")
    lines = [
        good,
        "<Event xmlns='x'><System><EventID>1</EventID></System>",  # never closed
        good.replace("<Data Name='User'>", "<Data Name='User'><broken>"),
        good,
        "not xml at all",
        good,
    ]
    path = tmp_path / "mixed.log"
    path.write_text("\n".join(lines) + "\n")
    rows, bad = read_all(path)
    assert len(rows) + len(bad) == len(lines)
    assert [r["_offset"] for r in rows] == [1, 4, 6]
    reasons = {b.offset: b.reason for b in bad}
    assert reasons[2] == "unclosed <Event> element"  # it does not swallow the event on line 3
    assert reasons[3].startswith("malformed XML")
    assert reasons[5] == "text outside an <Event> element"


def test_truncated_last_event_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "cut.log"
    path.write_text(process_event("x") + "\n" + process_event("y")[:120])
    rows, bad = read_all(path)
    assert len(rows) == 1
    assert [(b.offset, b.reason) for b in bad] == [(2, "truncated event at end of file")]


def test_entity_expansion_and_external_entities_are_refused() -> None:
    billion_laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<Event><System><EventID>1</EventID></System><EventData><Data Name='x'>&lol2;</Data></EventData></Event>"
    )
    xxe = (
        b'<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<Event><System><EventID>1</EventID></System><EventData><Data Name='x'>&xxe;</Data></EventData></Event>"
    )
    for document in (billion_laughs, xxe):
        items = [item for item, _end in split_events(Utf8Stream(io.BufferedReader(io.BytesIO(document))), "evil.xml")]
        slices = [i for i in items if not isinstance(i, QuarantinedRecord)]
        for item in slices:
            try:
                row = parse_event(item.data)
            except ValueError:
                continue
            assert "root:" not in str(row.get("x")) and "lollol" not in str(row.get("x"))
        quarantined = [i for i in items if isinstance(i, QuarantinedRecord)]
        assert quarantined, "the DTD outside the event must be reported"
    try:
        parse_event(b'<!DOCTYPE e [<!ENTITY a "b">]><Event><System><EventID>1</EventID></System></Event>')
    except ValueError as exc:
        assert "DTD" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a DTD inside an event must be refused")


def test_invalid_utf8_and_nul_bytes_are_quarantined_not_fatal(tmp_path: Path) -> None:
    good = process_event("ngrok.exe http 1").encode()
    bad_utf8 = process_event("ngrok.exe http 2").encode().replace(b"http 2", b"http \xff\xfe")
    nul = process_event("ngrok.exe http 3").encode().replace(b"http 3", b"ht\x00tp")
    path = tmp_path / "bytes.log"
    path.write_bytes(b"\n".join([good, bad_utf8, nul, good]) + b"\n")
    rows, bad = read_all(path)
    assert [r["_offset"] for r in rows] == [1, 4]
    assert {b.offset for b in bad} == {2, 3}
    assert all("\x00" not in b.excerpt for b in bad)


def test_oversized_event_is_skipped_and_reading_continues(tmp_path: Path) -> None:
    big = process_event("ngrok.exe http " + "A" * 3000)
    path = tmp_path / "big.log"
    path.write_text("\n".join([process_event("a"), big, process_event("b")]) + "\n")
    with path.open("rb") as stream:
        items = [item for item, _end in split_events(Utf8Stream(stream), str(path), max_event_bytes=2000)]
    quarantined = [i for i in items if isinstance(i, QuarantinedRecord)]
    assert [(q.offset, q.reason) for q in quarantined] == [(2, "event exceeds 2000 bytes")]
    assert len(quarantined[0].excerpt) <= 241
    assert sum(1 for i in items if not isinstance(i, QuarantinedRecord)) == 2


def test_empty_file_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    assert read_all(path) == ([], [])
