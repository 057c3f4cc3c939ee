"""Attacker values reach terminals and spreadsheets as inert text (issue 19, item 7)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pytest
from rich.console import Console
from typer.testing import CliRunner

from tunnelhunt.cli.app import app
from tunnelhunt.cli.common import fail, stderr
from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.cli.result_tables import results_table
from tunnelhunt.content.models import Detection
from tunnelhunt.detect.runner import DetectionRun
from tunnelhunt.rba.risk import stable_id
from tunnelhunt.sinks.file_sink import FileSink
from tunnelhunt.sinks.files import write_csv, write_jsonl
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore

MARKUP = "[bold red]FAKE ALERT[/] and [/x]"
ESCAPES = "\x1b[2J\x1b]0;owned\x07\x1b]8;;http://evil.test\x1b\\link\x1b]8;;\x1b\\\x9b31m\r"


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, color_system="truecolor", width=200), buffer


def _run(rows: list[dict[str, object]]) -> DetectionRun:
    detection = Detection.model_validate(
        {"id": "d1", "type": "TTP", "name": "Evil [bold]name[/]", "search": "| makeresults"}
    )
    return DetectionRun(detection, findings=pa.Table.from_pylist(rows))


@pytest.mark.parametrize("columns", [2, 12])  # a table, and the field list of wide findings
def test_finding_values_print_literally_and_control_characters_show(columns: int) -> None:
    row = {"dest": MARKUP, "process": ESCAPES, **{f"extra{i}": "x" for i in range(columns - 2)}}
    console, buffer = _console()
    results_table(_run([row]), console)
    text = buffer.getvalue()
    assert "FAKE ALERT[/]" in text and "[/x]" in text and "Evil [bold]name[/]" in text
    assert "\\x1b[2J" in text and "\\x1b]0;owned\\x07" in text
    if columns > 2:  # the field list has room for the whole value; a table column ends it in `…`
        assert "\\x9b" in text and "\\x0d" in text
    for raw in ("\x1b[2J", "\x1b]0;", "\x1b]8;", "\x07", "\x9b", "\r"):
        assert raw not in text


def test_an_error_message_holding_markup_is_one_literal_line() -> None:
    with stderr.capture() as captured:
        fail(f"cannot read {MARKUP} {ESCAPES}")
    assert MARKUP in captured.get() and "\x1b]0;" not in captured.get() and "\\x1b]0;" in captured.get()


def test_a_path_holding_markup_is_reported_not_a_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "[bold red]FAKE ALERT[/] [/x].json"
    result = CliRunner().invoke(app, ["hunt", str(missing), "--output", "jsonl"])
    assert result.exit_code == ExitCode.FILE_UNREADABLE, result.output
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "[bold red]FAKE ALERT[/] [/x].json" in result.stderr


FORMULAS = ['=HYPERLINK("http://evil.test","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_csv_cells_that_spreadsheets_would_run_are_neutralised_and_json_stays_exact() -> None:
    rows: list[dict[str, object]] = [{"value": value, "n": -5} for value in FORMULAS]
    rows.append({"value": ["=cmd|' /C calc'!A0", "ok"], "n": 1})
    buffer = io.StringIO()
    write_csv(rows, buffer)
    cells = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert [c["value"] for c in cells] == ["'" + v for v in FORMULAS] + ['["=cmd|\' /C calc\'!A0", "ok"]']
    assert [c["n"] for c in cells][0] == "-5"  # a number is no formula
    assert "\n" not in buffer.getvalue().rstrip("\r\n").replace("\r\n", "")  # a multivalue cell is one line
    text = io.StringIO()
    write_jsonl(rows, text)
    assert [json.loads(line)["value"] for line in text.getvalue().splitlines()][:-1] == FORMULAS


def test_the_csv_sink_neutralises_formulas_too(tmp_path: Path) -> None:
    rba = RbaStore(Store())
    rba.add_risk_events(
        [{"risk_event_id": stable_id("t", "1"), "risk_message": "=1+1", "risk_object": "@host", "risk_score": 5}]
    )
    sink = FileSink(tmp_path, "csv")
    assert sink.deliver(rba) == 1
    with sink.path("risk_event").open(newline="") as stream:
        (row,) = list(csv.DictReader(stream))
    assert (row["risk_message"], row["risk_object"]) == ("'=1+1", "'@host")
