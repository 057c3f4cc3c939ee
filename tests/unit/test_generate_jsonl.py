"""`generate --format jsonl`: the same events as the XML log, one flat JSON object per line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tunnelhunt.cli.app import app
from tunnelhunt.generate import generate_sysmon
from tunnelhunt.generate.jsonl import JSONL_NAME, xml_log_to_jsonl
from tunnelhunt.readers.sysmon_xml import parse_event


def test_each_json_line_is_the_flattened_xml_event(tmp_path: Path) -> None:
    dataset = generate_sysmon(tmp_path / "x", events=600, seed=3)
    out = tmp_path / "events.jsonl"
    assert xml_log_to_jsonl(dataset.path, out, workers=1) == 600
    xml_lines = dataset.path.read_bytes().splitlines()
    json_lines = out.read_text(encoding="utf-8").splitlines()
    assert len(json_lines) == len(xml_lines) == 600
    for xml_line, json_line in zip(xml_lines, json_lines, strict=True):
        assert json.loads(json_line) == parse_event(xml_line)


def test_cli_writes_jsonl_and_truth_but_no_xml(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", str(tmp_path), "--events", "600", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    written = {p.name for p in tmp_path.iterdir()}
    assert written == {
        "truth.json",
        JSONL_NAME,
        "windows-security.jsonl",
        "linux-sysmon.log",
        "macos-endpoint.ndjson",
    }  # no Windows XML
    assert len((tmp_path / JSONL_NAME).read_text().splitlines()) == 600
    assert CliRunner().invoke(app, ["generate", str(tmp_path / "b"), "--format", "yaml"]).exit_code == 1
