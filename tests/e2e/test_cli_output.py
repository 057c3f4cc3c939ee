"""What a person sees: the hunt's summary and timeline, tables fitted to 80 columns, `--out` and CSV files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import dns_event, process_event
from tunnelhunt.cli.app import app
from tunnelhunt.cli.exit_codes import ExitCode

runner = CliRunner()
LONG = "ngrok.exe http 3389 --log=stdout --region=eu --authtoken 2Hq7xZ3bQ9kLmN8pR4sT6vW1yA_5cD7eF9gH2jK4mN6pQ"


@pytest.fixture()
def log(tmp_path: Path) -> Path:
    path = tmp_path / "events.log"
    path.write_text(
        "\n".join(
            [
                process_event(
                    LONG, computer="a-rather-long-workstation-name.corp.example.com", time="2026-11-20T09:15:00Z"
                ),
                dns_event("x.ngrok.io", computer="wks-2.corp", time="2026-11-20T08:00:00Z"),
            ]
        )  # fmt: skip
        + "\n"
    )
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "80"})
    return result.exit_code, result.stdout, result.stderr


def test_the_default_hunt_output_is_a_summary_then_where_the_results_went(log: Path, tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    code, out, err = invoke("hunt", str(log), "--db", str(db))
    assert code == ExitCode.OK, err
    assert "results by detection" in out and "entities with the most risk" in out
    assert "Windows Ngrok Reverse" in out  # the name, cut to fit
    assert "authtoken" not in out  # no result row is printed by default
    assert all(len(line) <= 80 for line in out.splitlines())
    assert f"stored in {db}:" in err and f"tunnelhunt findings --db {db}" in err
    assert "every result: --timeline, --all, or -o csv --out FILE" in err


def test_the_timeline_is_one_table_by_time_with_severity_and_a_score_filter(log: Path) -> None:
    code, out, err = invoke("hunt", str(log), "--timeline")
    assert code == ExitCode.OK, err
    lines = [line for line in out.splitlines() if line.startswith("│")]
    times = [line.split("│")[1].strip() for line in lines]
    assert times == sorted(times) and times[0] == "2026-11-20 08:00:00"  # whole, never wrapped
    assert all(len(line) <= 80 for line in out.splitlines())
    assert any("…" in line for line in lines)  # the long values are cut with an ellipsis
    assert "severity" in out
    code, filtered, _ = invoke("hunt", str(log), "--timeline", "--min-score", "50")
    kept = [line for line in filtered.splitlines() if line.startswith("│")]
    assert 0 < len(kept) < len(lines)
    assert "08:00:00" in filtered or all("2026-11-20 09:15:00" in line for line in kept)


def test_all_prints_every_result_and_jsonl_keeps_full_values(log: Path) -> None:
    code, out, _ = invoke("hunt", str(log), "--all")
    assert code == ExitCode.OK and "Windows Ngrok Reverse Proxy Usage — " in out
    code, out, _ = invoke("hunt", str(log), "-o", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert any(row.get("process") == LONG for row in rows)  # full values, no ellipsis


def test_out_with_a_table_is_refused_and_its_name_picks_the_format(log: Path, tmp_path: Path) -> None:
    code, _, err = invoke("hunt", str(log), "-o", "table", "--out", str(tmp_path / "r.txt"))
    assert code == ExitCode.ERROR and "a file gets jsonl or csv" in err
    code, _, err = invoke("hunt", str(log), "--out", str(tmp_path / "r.txt"))
    assert code == ExitCode.ERROR
    code, _, err = invoke("hunt", str(log), "--out", str(tmp_path / "r.csv"))
    assert code == ExitCode.OK and f"written to {tmp_path / 'r.csv'} (csv)" in err
    with (tmp_path / "r.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert rows and rows[0]["detection"]
    code, _, _ = invoke("hunt", str(log), "--out", str(tmp_path / "r.jsonl"))
    assert json.loads((tmp_path / "r.jsonl").read_text().splitlines()[0])["detection"]


def test_csv_with_no_results_is_empty_and_said_and_multivalue_cells_are_one_line(log: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    code, _, err = invoke("hunt", str(log), "--out", str(empty), "--min-score", "100000")
    assert code == ExitCode.OK and empty.read_bytes() == b"" and "0 result(s) written" in err
    code, out, _ = invoke("hunt", str(log), "-o", "csv", "--min-score", "100000")
    assert out == ""  # not a bare line end
    code, out, _ = invoke("hunt", str(log), "-o", "csv", "--risk", str(tmp_path / "risk.jsonl"))
    risk = tmp_path / "risk.csv"
    code, _, _ = invoke("risk", "--db", str(tmp_path / "none.duckdb"))
    assert code == ExitCode.ERROR
    db = tmp_path / "h.duckdb"
    invoke("hunt", str(log), "--db", str(db), "-o", "jsonl")
    code, out, _ = invoke("risk", "--db", str(db), "--events", "-o", "csv")
    risk.write_text(out)
    records = list(csv.DictReader(io.StringIO(out)))
    assert len(records) == len(out.strip().splitlines()) - 1  # one line per record: no raw newline in a cell
    assert any(r["threat_object"].startswith("[") for r in records)  # multivalue: a JSON array
    assert json.loads(next(r["threat_object"] for r in records if r["threat_object"]))


def test_findings_and_risk_rows_are_one_line_at_80_columns(log: Path, tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    invoke("hunt", str(log), "--db", str(db), "-o", "jsonl")
    for command in (["risk"], ["risk", "--events"], ["findings"]):
        code, out, err = invoke(*command, "--db", str(db))
        assert code == ExitCode.OK, err
        body = [line for line in out.splitlines() if line.startswith("│")]
        assert body, command
        assert all(len(line) <= 80 for line in out.splitlines()), command
        if command != ["findings"]:
            assert any("a-rather-lo" in line and "…" in line for line in body)  # cut, with an ellipsis
