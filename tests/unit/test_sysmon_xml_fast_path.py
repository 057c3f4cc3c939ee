"""The fast event parser must give exactly what the lxml parser gives, and fall back when unsure."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import NS, dns_event, process_event, sysmon_event
from tunnelhunt.readers import sysmon_xml
from tunnelhunt.readers.sources import Source
from tunnelhunt.readers.sysmon_xml import SysmonXmlReader, parse_event, parse_event_fast
from tunnelhunt.readers.xml_batch import parse_batch
from tunnelhunt.readers.xml_fast import canonical_fields as _canonical_fields

PROCESS = process_event('ngrok.exe http 80 & "x" <y>')

VARIANTS: dict[str, str] = {
    "canonical process": PROCESS,
    "canonical dns": dns_event("a.ngrok.io"),
    "double-quoted attributes": PROCESS.replace("'", '"').replace('"x"', "'x'"),
    "pretty printed": PROCESS.replace("><", ">\n  <"),
    "entities in system text": sysmon_event(1, {"Image": "a"}, computer="h&amp;1"),
    "self-closing data": PROCESS.replace("<Data Name='RuleName'>-</Data>", "<Data Name='RuleName'/>"),
    "empty data": PROCESS.replace("<Data Name='RuleName'>-</Data>", "<Data Name='RuleName'></Data>"),
    "duplicate data name keeps the first": PROCESS.replace(
        "<Data Name='RuleName'>-</Data>", "<Data Name='Image'>first</Data><Data Name='RuleName'>-</Data>"
    ),
    "data named like a system field": PROCESS.replace("<Data Name='RuleName'>", "<Data Name='Computer'>"),
    "unnamed data": PROCESS.replace("<Data Name='RuleName'>-</Data>", "<Data>-</Data>"),
    "data named Data": PROCESS.replace("<Data Name='RuleName'>", "<Data Name='Data'>"),
    "binary element in event data": PROCESS.replace("</EventData>", "<Binary>00FF</Binary></EventData>"),
    "extra attribute on data": PROCESS.replace("<Data Name='RuleName'>", "<Data Name='RuleName' x='1'>"),
    "character reference": PROCESS.replace("ngrok.exe http", "ngrok&#46;exe http"),
    "cdata": PROCESS.replace("<Data Name='RuleName'>-</Data>", "<Data Name='RuleName'><![CDATA[<b>]]></Data>"),
    "comment": PROCESS.replace("<EventData>", "<EventData><!-- c -->"),
    "crlf": PROCESS.replace("><", ">\r\n<"),
    "tab in attribute": PROCESS.replace("SystemTime='", "SystemTime='\t"),
    "gt in attribute": PROCESS.replace("Guid='{", "Guid='>{"),
    "user data instead of event data": PROCESS.split("<EventData>")[0]
    + "<UserData><Log><Name>x</Name><Id>7</Id></Log></UserData></Event>",
    "rendering info": PROCESS.replace(
        "</Event>", "<RenderingInfo Culture='en-US'><Message>m</Message></RenderingInfo></Event>"
    ),
    "no namespace": PROCESS.replace(f" xmlns='{NS}'", ""),
    "missing provider name": PROCESS.replace("Provider Name='Microsoft-Windows-Sysmon' ", "Provider "),
    "event id with qualifiers": PROCESS.replace("<EventID>1</EventID>", "<EventID Qualifiers='16384'> 1 </EventID>"),
    "no event data": PROCESS.split("<EventData>")[0] + "</Event>",
    "self-closing event data": PROCESS.split("<EventData>")[0] + "<EventData/></Event>",
    "unicode": PROCESS.replace("CORP\\alice", "CORP\\élodie 東京"),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_fast_parser_matches_lxml(name: str) -> None:
    data = VARIANTS[name].encode()
    assert parse_event_fast(data) == parse_event(data)


def test_canonical_events_take_the_fast_path_and_odd_ones_do_not() -> None:
    assert _canonical_fields(VARIANTS["canonical process"].encode()) is not None
    assert _canonical_fields(VARIANTS["pretty printed"].encode()) is not None
    for odd in ("unnamed data", "cdata", "character reference", "binary element in event data", "crlf"):
        assert _canonical_fields(VARIANTS[odd].encode()) is None, odd


@pytest.mark.parametrize(
    "data",
    [
        PROCESS.replace("<Data Name='User'>", "<Data Name='User'><broken>"),
        PROCESS.replace("</Event>", ""),
        PROCESS.replace("ngrok.exe", "ngrok\x00.exe"),
        PROCESS.replace("<Data Name='RuleName'>-", "<Data Name='RuleName'>&undefined;"),
        "<Event xmlns:e='x'><System><EventID>1</EventID></System><EventData><f:Data/></EventData></Event>",
        '<!DOCTYPE e [<!ENTITY a "b">]><Event><System><EventID>1</EventID></System></Event>',
        "<Event><System><Computer>x</Computer></System></Event>",
    ],
)
def test_bad_events_fail_on_both_paths(data: str) -> None:
    with pytest.raises(ValueError):
        parse_event(data.encode())
    with pytest.raises(ValueError):
        parse_event_fast(data.encode())


def test_invalid_utf8_fails_on_both_paths() -> None:
    data = PROCESS.encode().replace(b"http 80", b"http \xff\xfe")
    with pytest.raises(ValueError):
        parse_event(data)
    with pytest.raises(ValueError):
        parse_event_fast(data)


def test_fast_parser_matches_lxml_on_real_rendered_events() -> None:
    """Every record of real EVTX samples, rendered to XML, parses the same on both paths."""
    from evtx import PyEvtxParser

    from tests.conftest import shared_dataset

    folder = shared_dataset("EVTX-ATTACK-SAMPLES")
    checked = fast = 0
    single_quoted: list[bytes] = []
    for path in sorted(folder.rglob("*.evtx")):
        for record in PyEvtxParser(str(path)).records():
            data = record["data"].encode()
            data = data[data.find(b"<Event") :].rstrip()
            assert parse_event_fast(data) == parse_event(data), (path.name, record["event_record_id"])
            checked += 1
            fast += _canonical_fields(data) is not None
            if b"'" not in data:  # the same event with Windows' single-quoted attributes
                single_quoted.append(data.replace(b'"', b"'"))
    assert checked > 1000
    assert fast > checked * 0.8  # the fast path really is taken on real data
    batch, fallback = parse_batch(single_quoted)
    assert batch.num_rows > len(single_quoted) * 0.5  # the vectorised path really is taken too
    for row in batch.to_pylist():
        assert _without_nulls(row) == _without_nulls(parse_event(single_quoted[row["_index"]]))


def _without_nulls(row: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in row.items() if value is not None and not key.startswith("_")}


def test_batches_match_lxml_event_by_event(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The vectorised batch path, with its one-at-a-time fallback, gives every event's lxml row in order."""
    names = sorted(VARIANTS)
    events = [VARIANTS[name] for name in names] * 3
    path = tmp_path / "variants.log"
    path.write_text("\n".join(events) + "\n")
    monkeypatch.setattr(sysmon_xml, "BATCH_EVENTS", 20)
    rows = [row for batch in SysmonXmlReader().read(Source(path)) for row in batch.table.to_pylist()]
    assert len(rows) == len(events)
    for row, event in zip(rows, events, strict=True):
        assert _without_nulls(row) == _without_nulls(parse_event(event.encode()))
    fast, fallback = parse_batch([event.encode() for event in events])
    assert fast.num_rows >= 27 and len(fallback) >= 40  # both paths were exercised


def test_batch_keeps_the_first_of_repeated_names_and_system_fields_win() -> None:
    event = PROCESS.replace(
        "<Data Name='RuleName'>-</Data>",
        "<Data Name='Image'>first</Data><Data Name='Computer'>data</Data><Data Name='RuleName'>a&amp;lt;b</Data>",
    )
    fast, fallback = parse_batch([event.encode()])
    assert fallback == []
    row = fast.to_pylist()[0]
    assert row["Image"] == "first" and row["Computer"] == "host-1.example.test" and row["RuleName"] == "a&lt;b"


def test_opcode_and_keywords_are_system_text_on_every_path() -> None:
    """XmlWinEventLog's `Opcode` and `Keywords` (the System elements' text, as ESCU's `stats ... by Opcode`
    reads them) come out of the batch, the fast and the lxml parser alike."""
    event = PROCESS.replace(
        "</Version>",
        "</Version><Level>4</Level><Task>1</Task><Opcode> 0 </Opcode><Keywords>0x8000000000000000</Keywords>",
    )
    data = event.encode()
    fast, fallback = parse_batch([data])
    assert fallback == []
    for row in (parse_event(data), parse_event_fast(data), fast.to_pylist()[0]):
        assert row is not None
        assert (row["Opcode"], row["Keywords"], row["Task"]) == ("0", "0x8000000000000000", "1")
    assert "Opcode" not in parse_event(PROCESS.encode())  # absent, not empty, when the event has none
