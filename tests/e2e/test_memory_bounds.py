"""Memory stays bounded by what an input really holds, whatever its header claims (issue 19, item 4).

Each test runs `tunnelhunt hunt` in a child process and measures its peak RSS; the child's address
space is capped, so a regression fails here instead of growing until the kernel kills it.
"""

from __future__ import annotations

import json
import random
import struct
from pathlib import Path

from tests.support import formats as F
from tests.support.measured import run_tunnelhunt
from tunnelhunt.cli.exit_codes import ExitCode

PEAK_LIMIT = 1 << 30


def _hunt_measured(tmp_path: Path, path: Path) -> dict[str, object]:
    report = tmp_path / "report.json"
    run = run_tunnelhunt("hunt", str(path), "--output", "jsonl", "--report", str(report), cwd=tmp_path)
    assert not run.hung
    assert run.peak_bytes < PEAK_LIMIT, f"peak RSS {run.peak_bytes >> 20} MB"
    assert run.code in (ExitCode.OK, ExitCode.QUARANTINED, ExitCode.FILE_UNREADABLE), run.stderr
    file: dict[str, object] = json.loads(report.read_text())["files"][0]
    assert file["balanced"], file
    return file


def test_an_evtx_header_promising_billions_of_records_is_not_believed(tmp_path: Path) -> None:
    data = bytearray(b"ElfFile\x00" + random.Random(7).randbytes(70_000))
    struct.pack_into("<Q", data, 24, 1 << 62)  # next record number: the records the header promises
    struct.pack_into("<H", data, 42, 60_000)  # chunk count
    path = tmp_path / "bomb.evtx"
    path.write_bytes(bytes(data))
    file = _hunt_measured(tmp_path, path)
    assert 1 <= int(file["quarantined"]) <= path.stat().st_size // 28  # type: ignore[call-overload]


def test_a_zeek_log_with_an_empty_set_separator_stays_small(tmp_path: Path) -> None:
    path = tmp_path / "dns.log"
    written = F.write_zeek_tsv(path)
    lines = [
        "#set_separator\t" if line.startswith("#set_separator") else line for line in path.read_text().splitlines()
    ]
    path.write_text("\n".join(lines) + "\n")
    file = _hunt_measured(tmp_path, path)
    assert file["read"] == written


def test_a_json_document_value_that_never_ends_is_cut_at_the_record_limit(tmp_path: Path) -> None:
    """A pretty-printed array whose second element is an unterminated 60 MB string: the first record is read,
    the rest is one quarantined record, and memory holds a block and a record, not the string."""
    path = tmp_path / "export.json"
    with path.open("w", encoding="utf-8") as stream:
        stream.write('[\n  {"EventID": 1, "Channel": "Security", "Computer": "pc1"},\n  {"CommandLine": "')
        for _ in range(60):
            stream.write("x" * (1 << 20))
    file = _hunt_measured(tmp_path, path)
    assert (file["format"], file["read"], file["quarantined"]) == ("windows-json-document", 2, 1)
