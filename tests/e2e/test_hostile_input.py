"""Files an attacker shaped (issue 19): a value never picks the format, a damaged file is that file's
error, compressed and encoded variants read like the plain file."""

from __future__ import annotations

import codecs
import gzip
import json
import lzma
import os
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import formats as F
from tests.support.ingesting import ingest_into
from tests.support.measured import run_tunnelhunt
from tunnelhunt.cli.app import app
from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.readers.detect import ReaderSet
from tunnelhunt.readers.sources import Source
from tunnelhunt.store.duckdb_store import Store

SYSMON_LINUX_TEXT = "<Event><System><Provider Name='Linux-Sysmon'/><EventID>1</EventID></System></Event>"
WINDOWS_XML_TEXT = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System/></Event>"


def hunt(*args: str) -> tuple[int, list[dict[str, object]], dict[str, object]]:
    """Exit code, findings and the JSON ingest report of one `hunt` run."""
    report = Path(args[-1]).parent / "report.json"
    result = CliRunner().invoke(app, ["hunt", *args, "--output", "jsonl", "--report", str(report)])
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, rows, json.loads(report.read_text())


def _format_of(path: Path) -> str:
    return ReaderSet().choose(Source(path)).reader.format_name


def _poison_first_record(path: Path, field: str, value: str) -> None:
    lines = path.read_text().splitlines()
    record = json.loads(lines[0])
    record[field] = value
    path.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")


@pytest.mark.parametrize("value", [SYSMON_LINUX_TEXT, WINDOWS_XML_TEXT])
def test_a_field_value_never_decides_the_format_of_its_file(tmp_path: Path, value: str) -> None:
    path = tmp_path / "windows.json"
    F.write_windows_json(path)
    _poison_first_record(path, "CommandLine", value)
    assert _format_of(path) == "windows-json"
    code, rows, report = hunt(str(path))
    assert report["files"][0]["unmapped"] == 0  # type: ignore[index]
    assert any(row.get("dest") == F.host("winjson") or F.host("winjson") in json.dumps(row) for row in rows)
    assert code == ExitCode.OK


def test_a_csv_cell_holding_event_xml_leaves_the_file_csv(tmp_path: Path) -> None:
    path = tmp_path / "windows.csv"
    F.write_windows_csv(path)
    lines = path.read_text().splitlines()
    lines.insert(1, lines[1].replace("cmd.exe", f'"{SYSMON_LINUX_TEXT}"', 1))
    path.write_text("\n".join(lines) + "\n")
    assert SYSMON_LINUX_TEXT in path.read_text()
    assert _format_of(path) == "csv"


def test_one_foreign_json_line_does_not_decide_the_layout(tmp_path: Path) -> None:
    path = tmp_path / "zeek.json"
    F.write_zeek_json(path)
    windows = json.dumps({"EventID": 1, "Channel": "Security", "TimeCreated": "2026-11-18T09:00:00Z"})
    path.write_text(windows + "\n" + path.read_text())
    assert _format_of(path) == "zeek-json"


def test_a_syslog_line_of_sysmon_for_linux_is_still_recognised(tmp_path: Path) -> None:
    path = tmp_path / "syslog"
    F.write_sysmon_linux(path)
    assert _format_of(path) == "sysmon-linux"


def _deep_json(path: Path) -> None:
    path.write_text('{"a":' * 100_000 + "1" + "}" * 100_000 + "\n")


def _corrupt_xz(path: Path) -> None:
    data = lzma.compress(b'{"EventID": 1, "Channel": "Security"}\n' * 200)
    path.write_bytes(data[:40] + b"\x00" * 50 + data[90:])


def _corrupt_gzip(path: Path) -> None:
    data = gzip.compress(b'{"EventID": 1, "Channel": "Security"}\n' * 200)
    path.write_bytes(data[:20] + b"\xff" * 40 + data[60:])


def _zip_with(path: Path, patch: Callable[[bytearray], None], method: int = zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("events.json", '{"EventID": 1, "Channel": "Security", "SourceName": "x"}\n' * 50)
    data = bytearray(path.read_bytes())
    patch(data)
    path.write_bytes(bytes(data))


def _crc_error(data: bytearray) -> None:
    data[data.find(b"Security")] ^= 1


def _unsupported_method(data: bytearray) -> None:
    central = data.find(b"PK\x01\x02")
    data[8:10] = struct.pack("<H", 99)
    data[central + 10 : central + 12] = struct.pack("<H", 99)


def _encrypted(data: bytearray) -> None:
    central = data.find(b"PK\x01\x02")
    data[6] |= 1
    data[central + 8] |= 1


DAMAGED: dict[str, Callable[[Path], None]] = {
    "deep.json": _deep_json,
    "corrupt.json.xz": _corrupt_xz,
    "corrupt.json.gz": _corrupt_gzip,
    "crc.zip": lambda p: _zip_with(p, _crc_error),
    "method.zip": lambda p: _zip_with(p, _unsupported_method, zipfile.ZIP_DEFLATED),
    "encrypted.zip": lambda p: _zip_with(p, _encrypted),
}


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_a_damaged_file_is_that_files_error_and_the_run_goes_on(tmp_path: Path, name: str) -> None:
    DAMAGED[name](tmp_path / name)
    good = tmp_path / "zz-good.json"
    F.write_windows_json(good)
    code, rows, report = hunt(str(tmp_path / name), str(good))
    assert code == ExitCode.FILE_UNREADABLE
    files = {Path(str(f["file"]).split("!")[0]).name: f for f in report["files"]}  # type: ignore[union-attr]
    assert files[name]["error"]
    assert files["zz-good.json"]["ingested"] == files["zz-good.json"]["read"] > 0
    assert rows, "the good file's ngrok activity is still found"


def test_gzip_with_trailing_garbage_reads_like_gzip_dc(tmp_path: Path) -> None:
    plain = tmp_path / "plain.json"
    written = F.write_windows_json(plain)
    path = tmp_path / "trailing.json.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()) + b"garbage after the last member")
    report = ingest_into(Store(), path)
    assert report.files[0].error is None
    assert report.files[0].read == written


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_csv_with_a_byte_order_mark_is_read(tmp_path: Path, encoding: str) -> None:
    plain = tmp_path / "plain.csv"
    written = F.write_ecs_csv(plain)  # `@timestamp` first: the mark sticks to the column that matters
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(plain.read_text().encode(encoding))
    assert path.read_bytes().startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    report = ingest_into(Store(), path)
    assert report.files[0].error is None
    assert report.files[0].ingested == written


EPOCH_FIELDS: dict[str, tuple[Callable[[Path], int], str]] = {
    "zeek-json": (F.write_zeek_json, "ts"),
    "suricata": (F.write_suricata, "timestamp"),
    "ecs": (F.write_ecs, "@timestamp"),
    "ocsf": (F.write_ocsf, "time"),
}


@pytest.mark.parametrize("fmt", sorted(EPOCH_FIELDS))
def test_an_epoch_too_large_for_a_timestamp_quarantines_that_record_only(tmp_path: Path, fmt: str) -> None:
    writer, time_field = EPOCH_FIELDS[fmt]
    path = tmp_path / f"{fmt}.json"
    written = writer(path)
    lines = path.read_text().splitlines()
    record = json.loads(lines[1])
    record[time_field] = 9_200_000_000_000_000
    lines[1] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    store = Store()
    report = ingest_into(store, path)
    file = report.files[0]
    assert (file.format, file.error) == (fmt, None)
    assert file.read == written
    assert [q.offset for q in report.quarantine] == [2]
    assert file.ingested + file.unmapped == written - 1


def test_a_file_reached_by_several_paths_is_ingested_once(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    (logs / "sub").mkdir(parents=True)
    original = logs / "sub" / "events.json"
    written = F.write_windows_json(original)
    os.link(original, logs / "hard.json")
    (logs / "soft.json").symlink_to("sub/events.json")
    db = tmp_path / "events.duckdb"
    code, _, report = hunt(str(logs), str(original), str(original), str(logs / "soft.json"), "--db", str(db))
    assert code == ExitCode.OK
    files = report["files"]
    assert len(files) == 1  # type: ignore[arg-type]
    assert files[0]["ingested"] == written  # type: ignore[index]


def test_a_fifo_is_skipped_with_a_reason_and_never_blocks(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    F.write_windows_json(logs / "events.json")
    os.mkfifo(logs / "pipe.json")
    run = run_tunnelhunt("hunt", str(logs), str(logs / "pipe.json"), "--output", "jsonl", cwd=tmp_path, timeout=60)
    assert not run.hung
    assert run.code == ExitCode.FILE_UNREADABLE
    assert run.stderr.count("pipe.json: skipped: a FIFO, not a regular file") == 1
    assert "ngrok" in run.stdout


def test_a_file_name_that_is_not_utf8_is_read_and_named_visibly(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path)
    name = os.path.join(folder, b"caf\xe9.json")
    written = F.write_windows_json(Path(os.fsdecode(name)))
    report = ingest_into(Store(), tmp_path)
    (file,) = report.files
    assert (file.error, file.ingested) == (None, written)
    assert file.path.endswith("caf\\xe9.json")


def test_a_detection_at_a_compiler_limit_fails_alone_and_an_absurd_time_is_one_line(tmp_path: Path) -> None:
    """Issue 19 item 8 end to end: each such detection is reported on its own (exit 5) while the others
    run, and `run --at` with a time out of range is a one-line error."""
    folder = tmp_path / "detections"
    folder.mkdir()
    tstats = "| tstats count from datamodel=Endpoint.Processes"
    searches = {
        "deep": f"{tstats} where {'(' * 300}Processes.process_name=x{')' * 300} by Processes.dest",
        "overflow": f'{tstats} by Processes.dest | eval t=relative_time(now(), "-9999999d")',
        "rename": f'{tstats} by Processes.dest | rename Processes.dest as ""',
    }
    for name, search in searches.items():
        detection = {"name": f"bad {name}", "id": f"bad-{name}", "version": 1, "type": "Hunting", "search": search}
        (folder / f"{name}.yml").write_text(json.dumps(detection))  # JSON is YAML
    logs = tmp_path / "logs"
    logs.mkdir()
    F.write_windows_json(logs / "events.json")
    run = run_tunnelhunt("hunt", str(logs), "--detections", str(folder), "--output", "jsonl", cwd=tmp_path)
    assert run.code == ExitCode.DETECTION_FAILED, run.stderr
    assert all(f"not run bad {name}: does not compile" in run.stderr for name in searches)
    assert "ngrok" in run.stdout and "Traceback" not in run.stderr
    for at in ("+99999y", "99999999999999999999"):
        late = run_tunnelhunt("run", "--at", at, "--db", str(tmp_path / "r.duckdb"), str(logs), cwd=tmp_path)
        assert late.code == ExitCode.ERROR
        assert "out of range" in late.stderr and len(late.stderr.strip().splitlines()) == 1
