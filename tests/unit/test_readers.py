"""Readers: content sniffing, forced formats, resumable positions, and format-specific damage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import formats as F
from tests.support.evtx_writer import windows_event, write_evtx
from tunnelhunt.readers.base import Position, ReaderError
from tunnelhunt.readers.csv_file import CsvReader
from tunnelhunt.readers.detect import EmptyInput, ReaderSet
from tunnelhunt.readers.evtx_file import EvtxReader
from tunnelhunt.readers.lazy import LazyReader
from tunnelhunt.readers.sources import Source
from tunnelhunt.readers.sysmon_xml import SysmonXmlReader
from tunnelhunt.readers.zeek_tsv import ZeekTsvReader

EXPECTED_FORMATS = {
    "sysmon.xml": "xml",
    "Sysmon.evtx": "evtx",
    "security.json": "windows-json",
    "events.csv": "csv",
    "syslog": "sysmon-linux",
    "dns.log": "zeek",
    "dns.json": "zeek-json",
    "eve.json": "suricata",
    "winlogbeat.ndjson": "ecs",
    "processes.csv": "csv",
    "ocsf.jsonl": "ocsf",
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("samples")
    for name, writer, _host in F.MIXED:
        writer(root / name, 3)
    return root


@pytest.mark.parametrize("name", sorted(EXPECTED_FORMATS))
def test_format_is_recognised_from_content(samples: Path, name: str, tmp_path: Path) -> None:
    renamed = tmp_path / "no-extension"
    renamed.write_bytes((samples / name).read_bytes())
    assert ReaderSet().choose(Source(renamed)).reader.format_name == EXPECTED_FORMATS[name]


def test_utf16_event_xml_is_recognised(tmp_path: Path) -> None:
    event = F.process_create("h", 1, F.NGROK_IMAGE, F.NGROK_COMMAND)
    path = tmp_path / "wevtutil.xml"
    path.write_bytes(("<Events>\r\n" + F.event_xml(event, 1) + "\r\n</Events>").encode("utf-16"))
    assert ReaderSet().choose(Source(path)).reader.format_name == "xml"


@pytest.mark.parametrize(
    ("name", "forced", "hint"),
    [
        ("eve.json", "zeek", "suricata"),
        ("dns.log", "evtx", "zeek"),
        ("Sysmon.evtx", "csv", "evtx"),
        ("dns.json", "suricata", "zeek-json"),
        ("sysmon.xml", "ecs", "xml"),
    ],
)
def test_a_forced_format_that_does_not_fit_is_a_clear_error(samples: Path, name: str, forced: str, hint: str) -> None:
    with pytest.raises(ReaderError, match=f"does not fit the forced format '{forced}'.*'{hint}'"):
        ReaderSet().choose(Source(samples / name), forced)


def test_a_forced_format_that_fits_is_used_and_an_unknown_one_is_rejected(samples: Path) -> None:
    assert ReaderSet().choose(Source(samples / "eve.json"), "suricata").reader.format_name == "suricata"
    with pytest.raises(ValueError, match="unknown format 'nope'"):
        ReaderSet().choose(Source(samples / "eve.json"), "nope")


@pytest.mark.parametrize("name", sorted(EXPECTED_FORMATS))
def test_a_lazy_reader_is_the_reader_it_stands_for(samples: Path, name: str) -> None:
    """`readers/lazy.py`: the name, offset kind, sniff and fits a built-in format is chosen by before its
    module loads are the ones of its reader class, on every sample (each one's own format and the others)."""
    head = Source(samples / name).head()
    for reader in ReaderSet().readers:
        if isinstance(reader, LazyReader):
            real = reader.real
            assert (reader.format_name, reader.offset_kind) == (real.format_name, real.offset_kind)
            assert reader.sniff(head) == real.sniff(head) and reader.fits(head) == real.fits(head), reader.format_name
            assert reader.fingerprint_region(head) == real.fingerprint_region(head)
            assert reader.sourcetype == real.sourcetype  # type: ignore[attr-defined]


def test_choosing_a_format_imports_no_other_formats_module(samples: Path) -> None:
    """Sniffing every format loads none of their modules; reading loads the chosen one's only."""
    log = str(samples / "dns.log")
    watched = "{'lxml', 'evtx', 'tunnelhunt.readers.zeek_tsv', 'tunnelhunt.readers.sysmon_xml'}"
    code = (
        "import sys\nfrom pathlib import Path\nfrom tunnelhunt.readers.detect import ReaderSet\n"
        f"from tunnelhunt.readers.sources import Source\nsource = Source(Path({log!r}))\n"
        "choice = ReaderSet().choose(source)\nassert choice.reader.format_name == 'zeek'\n"
        f"before = set(sys.modules) & {watched}\nassert list(choice.reader.read(source))\n"
        f"print(sorted(before), sorted(set(sys.modules) & {watched}))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert run.stdout.split("\n")[0] == "[] ['tunnelhunt.readers.zeek_tsv']"


def test_canonical_windows_xml_is_read_without_lxml(tmp_path: Path) -> None:
    """The fast paths read events of the canonical shape; lxml loads with the first event they leave to it."""
    from tests.support import formats as F

    plain, odd = tmp_path / "plain.xml", tmp_path / "odd.xml"
    F.write_xml(plain)
    text = plain.read_text()
    odd.write_text(text.replace('">0</Data>', '"><![CDATA[0]]></Data>', 1))  # not canonical, the same row
    assert odd.read_text() != text
    code = (
        "import sys\nfrom pathlib import Path\nfrom tunnelhunt.readers.sysmon_xml import SysmonXmlReader\n"
        "from tunnelhunt.readers.sources import Source\n"
        "batches = list(SysmonXmlReader().read(Source(Path(sys.argv[1]))))\n"
        "print(sum(b.table.num_rows for b in batches if hasattr(b, 'table')), 'lxml' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}

    def read(path: Path) -> list[str]:
        run = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env)
        assert run.returncode == 0, run.stderr
        return run.stdout.split()

    rows, imported = read(plain)
    assert int(rows) > 20 and imported == "False"
    assert read(odd) == [rows, "True"]


def test_empty_and_unrecognised_inputs(tmp_path: Path) -> None:
    (tmp_path / "empty.log").write_bytes(b"")
    (tmp_path / "blank.log").write_bytes(b"\n \n")
    (tmp_path / "prose.txt").write_text("just some words\nnothing structured\n")
    with pytest.raises(EmptyInput):
        ReaderSet().choose(Source(tmp_path / "empty.log"))
    with pytest.raises(EmptyInput):
        ReaderSet().choose(Source(tmp_path / "blank.log"))
    with pytest.raises(ReaderError, match="format not recognised"):
        ReaderSet().choose(Source(tmp_path / "prose.txt"))


def _sysmon_elements(count: int) -> list:  # type: ignore[type-arg]
    return [
        windows_event(1, F.stamp(i), "h", *F.SYSMON, {"Image": f"C:\\p{i}.exe", "CommandLine": f"p{i}"}, i + 1)
        for i in range(count)
    ]


def test_evtx_offsets_are_record_numbers_and_reads_resume_after_one(tmp_path: Path) -> None:
    path = write_evtx(tmp_path / "a.evtx", _sysmon_elements(30), per_chunk=10)
    batches = list(EvtxReader().read(Source(path)))
    assert [n for b in batches for n in b.table.column("_offset").to_pylist()] == list(range(1, 31))
    assert batches[-1].end == Position(30)
    resumed = list(EvtxReader().read(Source(path), Position(22)))
    assert [n for b in resumed for n in b.table.column("_offset").to_pylist()] == list(range(23, 31))


def test_evtx_resume_skips_more_than_a_batch_of_old_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tunnelhunt.readers.evtx_file.BATCH_RECORDS", 4)
    path = write_evtx(tmp_path / "a.evtx", _sysmon_elements(30), per_chunk=10)
    resumed = list(EvtxReader().read(Source(path), Position(17)))
    assert [n for b in resumed for n in b.table.column("_offset").to_pylist()] == list(range(18, 31))
    assert resumed[-1].end == Position(30)


def test_corrupt_evtx_chunk_quarantines_each_of_its_records(tmp_path: Path) -> None:
    path = write_evtx(tmp_path / "c.evtx", _sysmon_elements(30), per_chunk=10)
    data = bytearray(path.read_bytes())
    second_chunk_records = 4096 + 65536 + 512 + 100
    data[second_chunk_records : second_chunk_records + 50] = b"\xee" * 50
    path.write_bytes(bytes(data))
    batches = list(EvtxReader().read(Source(path)))
    read = [n for b in batches for n in b.table.column("_offset").to_pylist()]
    bad = [q for b in batches for q in b.quarantined]
    assert read == list(range(1, 11)) + list(range(21, 31))
    assert sorted(q.offset for q in bad) == list(range(11, 21))
    assert all(q.offset_kind == "record" and "CRC32" in q.reason for q in bad)


def test_truncated_evtx_quarantines_the_records_its_header_promised(tmp_path: Path) -> None:
    path = write_evtx(tmp_path / "t.evtx", _sysmon_elements(30), per_chunk=10)
    path.write_bytes(path.read_bytes()[: 4096 + 2 * 65536])  # the third chunk is gone
    batches = list(EvtxReader().read(Source(path)))
    read = [n for b in batches for n in b.table.column("_offset").to_pylist()]
    bad = [q.offset for b in batches for q in b.quarantined]
    assert read == list(range(1, 21)) and bad == list(range(21, 31))


@pytest.mark.parametrize("body", [b"\x00" * 100, b"\xff" * 9000])
def test_not_an_evtx_file_despite_its_magic_is_a_reader_error(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "fake.evtx"
    path.write_bytes(b"ElfFile\x00" + body)
    with pytest.raises(ReaderError, match="not a readable EVTX file"):
        list(EvtxReader().read(Source(path)))


def test_event_xml_resumes_at_an_event_boundary_with_true_line_numbers(tmp_path: Path) -> None:
    events = [F.process_create("h", i, f"C:\\p{i}.exe", f"p{i}") for i in range(5)]
    path = tmp_path / "multi.xml"
    path.write_text(
        "<Events>\n"
        + "\n".join(F.event_xml(e, i).replace("<System>", "\n<System>") for i, e in enumerate(events))
        + "\n</Events>\n"
    )
    (batch,) = list(SysmonXmlReader().read(Source(path)))
    assert batch.table.column("_offset").to_pylist() == [2, 4, 6, 8, 10]
    middle = _position_after_event(path, 3)
    resumed = list(SysmonXmlReader().read(Source(path), middle))
    assert resumed[0].table.column("_offset").to_pylist() == [8, 10]
    assert resumed[0].table.column("CommandLine").to_pylist() == ["p3", "p4"]


def _position_after_event(path: Path, count: int) -> Position:
    data = path.read_bytes()
    end = 0
    for _ in range(count):
        end = data.index(b"</Event>", end) + len(b"</Event>")
    return Position(end, data[:end].count(b"\n"))


def test_zeek_tsv_unset_empty_and_misfit_lines(tmp_path: Path) -> None:
    path = tmp_path / "dns.log"
    path.write_text(
        "1.0\tstray data before any header\n"
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
        "#fields\tts\tquery\tanswers\n"
        "1.0\ta.example\t-\n"
        "2.0\tb.example\t(empty)\n"
        "3.0\tonly-two-fields\n"
        "4.0\tc.example\tx,y\n"
    )
    batches = list(ZeekTsvReader().read(Source(path)))
    table = batches[0].table
    assert table.column("answers").to_pylist() == [None, "", "x,y"]
    assert table.column("_offset").to_pylist() == [8, 9, 11]
    bad = {q.offset: q.reason for b in batches for q in b.quarantined}
    assert bad == {1: "data line before a #fields header", 10: "2 fields where the #fields header declares 3"}


def test_zeek_tsv_resume_rereads_the_header(tmp_path: Path) -> None:
    path = tmp_path / "dns.log"
    F.write_zeek_tsv(path, 4)
    data = path.read_bytes()
    cut = data.index(b"www1.example.org")
    cut = data.rindex(b"\n", 0, cut) + 1
    resumed = list(ZeekTsvReader().read(Source(path), Position(cut, data[:cut].count(b"\n"))))
    assert resumed[0].table.column("query").to_pylist() == ["www1.example.org", "www2.example.org", "www3.example.org"]


def test_csv_rows_with_missing_columns_are_quarantined_and_quotes_respected(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "@timestamp,event.category,event.type,host.name,process.name,process.command_line\n"
        '2026-01-01T00:00:00Z,process,start,h1,ngrok.exe,"ngrok.exe http 80, ""quoted"""\n'
        "2026-01-01T00:00:01Z,process,start,h1\n"
        '2026-01-01T00:00:02Z,process,start,h2,a.exe,"line one\nline two"\n'
        "2026-01-01T00:00:03Z,process,start,h3,b.exe,b\n"
    )
    batches = list(CsvReader().read(Source(path)))
    table = batches[-1].table
    assert table.column("host.name").to_pylist() == ["h1", "h2", "h3"]
    assert table.column("_offset").to_pylist() == [2, 4, 6]
    assert table.column("process.command_line").to_pylist()[:2] == ['ngrok.exe http 80, "quoted"', "line one\nline two"]
    (bad,) = [q for b in batches for q in b.quarantined]
    assert (bad.offset, bad.reason) == (3, "row has 4 fields, the header has 6")
    resumed = list(CsvReader().read(Source(path), batches[-1].end))
    assert sum(b.records for b in resumed) == 0


def test_csv_without_a_known_preset_asks_for_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "inventory.csv"
    path.write_text("asset,owner\nlaptop-1,jdoe\n")
    with pytest.raises(ReaderError, match="format not recognised"):
        ReaderSet().choose(Source(path))
    with pytest.raises(ReaderError, match="give --mapping FILE"):
        list(CsvReader().read(Source(path)))
