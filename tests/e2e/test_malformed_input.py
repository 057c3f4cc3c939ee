"""Hostile and broken input: no crash, every record accounted for, the good records around it still found."""

from __future__ import annotations

import codecs
import gzip
import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import formats as F
from tests.support.evtx_writer import windows_event, write_evtx
from tunnelhunt.cli.app import app
from tunnelhunt.cli.exit_codes import ExitCode

XXE = (
    '<?xml version="1.0"?><!DOCTYPE Event [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1</EventID>"
    "<Channel>Microsoft-Windows-Sysmon/Operational</Channel></System><EventData>"
    "<Data Name='CommandLine'>&xxe;</Data></EventData></Event>"
)
LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1</EventID>"
    "</System><EventData><Data Name='CommandLine'>&lol3;</Data></EventData></Event>"
)


def _ngrok_xml(computer: str, record: int) -> str:
    return F.event_xml(F.process_create(computer, record, F.NGROK_IMAGE, F.NGROK_COMMAND), record)


def _zeek_json(query: str, src: str) -> str:
    return json.dumps({"_path": "dns", "ts": 1_763_456_400.0, "uid": "C", "id.orig_h": src, "query": query})


def build_corpus(root: Path) -> dict[str, int]:
    """Broken files, each with ngrok records around the damage; returns expected quarantines per file."""
    expected: dict[str, int] = {}
    root.mkdir(parents=True, exist_ok=True)

    (root / "truncated.xml").write_text(_ngrok_xml("trunc-host", 1) + "\n" + _ngrok_xml("x", 2)[:150])
    expected["truncated.xml"] = 1

    xxe = root / "xxe.xml"
    xxe.write_text(_ngrok_xml("xxe-host", 1) + "\n" + XXE + "\n" + LAUGHS + "\n" + _ngrok_xml("xxe-host", 4) + "\n")
    expected["xxe.xml"] = 2  # both entity documents (the DOCTYPE text before them is stray text, reported too)

    nul = root / "nul.xml"
    nul.write_text(
        _ngrok_xml("nul-host", 1) + "\n" + _ngrok_xml("nul-host", 2).replace("cmd.exe", "cmd\x00.exe") + "\n"
    )
    expected["nul.xml"] = 1

    utf8 = root / "dns-bad-utf8.json"
    utf8.write_bytes(
        (_zeek_json(F.NGROK_DOMAIN, "utf8-host") + "\n").encode()
        + _zeek_json("caf\u00e9.example", "utf8-host").encode().replace(b"\\u00e9", b"\xe9\xff")
        + b"\n"
        + b'{"_path": "dns", "query": "a\x00b"}\n'
    )
    expected["dns-bad-utf8.json"] = 1  # the raw NUL makes invalid JSON; the bad UTF-8 line is kept

    not_objects = root / "not-objects.json"
    not_objects.write_text(_zeek_json(F.NGROK_DOMAIN, "notobj-host") + '\n[1, 2]\n42\n"text"\n{"unclosed": \n')
    expected["not-objects.json"] = 4

    huge = root / "huge-line.json"
    with huge.open("w") as stream:
        stream.write(_zeek_json(F.NGROK_DOMAIN, "huge-host") + "\n")
        stream.write('{"_path": "dns", "query": "' + "A" * (50 * 1024 * 1024) + '"}\n')
        stream.write(_zeek_json("after." + F.NGROK_DOMAIN, "huge-host") + "\n")
    expected["huge-line.json"] = 1

    events = [
        windows_event(
            1, F.stamp(i), "evtx-bad-host", *F.SYSMON, {"Image": F.NGROK_IMAGE, "CommandLine": F.NGROK_COMMAND}, i + 1
        )
        for i in range(30)
    ]
    evtx = write_evtx(root / "corrupt.evtx", events, per_chunk=10)
    data = bytearray(evtx.read_bytes())
    data[4096 + 65536 + 600 : 4096 + 65536 + 700] = b"\x00" * 100
    evtx.write_bytes(bytes(data))
    expected["corrupt.evtx"] = 10

    (root / "empty.json").write_bytes(b"")
    (root / "blank.log").write_text("\n\n   \n")
    expected["empty.json"] = expected["blank.log"] = 0

    csv_path = root / "short-rows.csv"
    csv_path.write_text(
        "@timestamp,event.category,event.type,host.name,process.name,process.command_line\n"
        f"2026-11-18T09:00:00Z,process,start,csv-host,ngrok.exe,{F.NGROK_COMMAND}\n"
        "2026-11-18T09:00:01Z,process,start\n"
        "2026-11-18T09:00:02Z,process\n"
    )
    expected["short-rows.csv"] = 2

    bad_time = root / "bad-time.json"
    bad_time.write_text(
        _zeek_json(F.NGROK_DOMAIN, "time-host")
        + "\n"
        + json.dumps({"_path": "dns", "ts": "yesterday", "query": "q"})
        + "\n"
    )
    expected["bad-time.json"] = 1

    utf16 = root / "utf16.xml"
    body = ("<Events>\n" + _ngrok_xml("utf16-host", 1) + "\n</Events>\n").encode("utf-16-le")
    utf16.write_bytes(codecs.BOM_UTF16_LE + body + b"\x00\xd8")  # ends in a lone surrogate
    expected["utf16.xml"] = 1  # the trailing lone surrogate decodes to U+FFFD: stray text, quarantined
    return expected


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_malformed_corpus_is_accounted_for_and_ngrok_still_found(tmp_path: Path) -> None:
    expected = build_corpus(tmp_path / "corpus")
    report_path, quarantine_path = tmp_path / "r.json", tmp_path / "q.jsonl"
    began = time.monotonic()
    code, output = _run(
        "hunt",
        str(tmp_path / "corpus"),
        "--report",
        str(report_path),
        "--quarantine",
        str(quarantine_path),
        "-o",
        "jsonl",
        "--out",
        str(tmp_path / "findings.jsonl"),
    )
    assert time.monotonic() - began < 60, "hostile input must not make ingest crawl"
    assert code == ExitCode.QUARANTINED, output
    report = json.loads(report_path.read_text())
    files = {Path(f["file"]).name: f for f in report["files"]}
    assert set(files) == set(expected)
    for name, quarantined in expected.items():
        entry = files[name]
        assert entry["error"] is None, (name, entry["error"])
        assert entry["balanced"], name
        if name != "xxe.xml":
            assert entry["quarantined"] == quarantined, (name, entry)
    assert files["xxe.xml"]["quarantined"] >= 2 and files["xxe.xml"]["ingested"] == 2
    assert files["empty.json"]["format"] == "empty" and files["empty.json"]["read"] == 0
    totals = report["totals"]
    assert totals["balanced"] and totals["read"] == totals["ingested"] + totals["unmapped"] + totals["quarantined"]

    lines = [json.loads(line) for line in quarantine_path.read_text().splitlines()]
    assert len(lines) == totals["quarantined"]
    for line in lines:
        assert {"file", "reason", "excerpt"} <= set(line) and ("line" in line or "record" in line)
        assert len(line["excerpt"]) <= 241
    assert not any("root:" in line["excerpt"] for line in lines), "an external entity was resolved"
    assert any("exceeds" in line["reason"] for line in lines if line["file"].endswith("huge-line.json"))
    evtx_lines = [line for line in lines if line["file"].endswith("corrupt.evtx")]
    assert sorted(line["record"] for line in evtx_lines) == list(range(11, 21))

    findings = [json.loads(line) for line in (tmp_path / "findings.jsonl").read_text().splitlines()]
    found = {(f["detection"], f.get("src") or f.get("dest")) for f in findings}
    for hostname in ("trunc-host", "xxe-host", "nul-host", "evtx-bad-host", "csv-host", "utf16-host"):
        assert ("Windows Ngrok Reverse Proxy Usage", hostname) in found, hostname
    for hostname in ("utf8-host", "notobj-host", "huge-host", "time-host"):
        assert ("Ngrok Reverse Proxy on Network", hostname) in found, hostname


def test_a_forced_wrong_format_fails_that_file_only(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    F.write_suricata(tmp_path / "in" / "eve.json", 2)
    report_path = tmp_path / "r.json"
    code, output = _run("hunt", str(tmp_path / "in"), "--format", "evtx", "--report", str(report_path))
    assert code == ExitCode.FILE_UNREADABLE
    (entry,) = json.loads(report_path.read_text())["files"]
    assert "does not fit the forced format 'evtx'" in entry["error"] and "'suricata'" in entry["error"]
    code, output = _run("hunt", str(tmp_path / "in"), "--format", "nonsense")
    assert code == ExitCode.ERROR and "unknown --format 'nonsense'" in output


def test_an_unreadable_file_does_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    F.write_zeek_tsv(tmp_path / "in" / "dns.log", 2)
    broken = tmp_path / "in" / "cut.json.gz"
    lines = "".join(_zeek_json(f"q{i}.example", f"10.0.{i % 250}.{i % 7}") + "\n" for i in range(3000))
    packed = gzip.compress(lines.encode())
    broken.write_bytes(packed[: len(packed) // 2])  # cut mid-stream
    report_path = tmp_path / "r.json"
    code, _ = _run("hunt", str(tmp_path / "in"), str(tmp_path / "missing.log"), "--report", str(report_path))
    assert code == ExitCode.FILE_UNREADABLE
    files = {Path(f["file"]).name: f for f in json.loads(report_path.read_text())["files"]}
    assert files["dns.log"]["error"] is None and files["dns.log"]["ingested"] == 4
    assert "no such file" in files["missing.log"]["error"]
    cut = files["cut.json.gz"]
    assert cut["error"] and "read failed" in cut["error"] and cut["balanced"]
    assert 0 < cut["read"] < 3000  # what came before the damage is kept


@pytest.mark.parametrize("payload", [XXE, LAUGHS])
def test_entity_documents_are_quarantined_not_expanded(tmp_path: Path, payload: str) -> None:
    path = tmp_path / "evil.xml"
    path.write_text(payload + "\n" + _ngrok_xml("h", 2) + "\n")
    report_path = tmp_path / "r.json"
    _run("hunt", str(path), "--report", str(report_path))
    (entry,) = json.loads(report_path.read_text())["files"]
    assert entry["ingested"] == 1 and entry["quarantined"] >= 1 and entry["balanced"]
