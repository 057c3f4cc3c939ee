"""`tunnelhunt search` (both kinds of search) and `tunnelhunt events` (a finding leads to its raw events)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tunnelhunt.cli.app import app
from tunnelhunt.cli.exit_codes import ExitCode

runner = CliRunner()


def jsonl(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = runner.invoke(app, [*args, "--output", "jsonl"])
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, rows, result.stderr


def test_search_answers_raw_and_data_model_searches_over_files(shipped_sample: Path) -> None:
    code, rows, _ = jsonl("search", "--in", str(shipped_sample), "`sysmon` EventCode=1 ngrok | table CommandLine")
    assert code == ExitCode.OK
    assert sorted(r["CommandLine"] for r in rows) == sorted(
        [
            "ngrok.exe  authtoken 2Hq7xZ3bQ9kLmN8pR4sT6vW1yA_5cD7eF9gH2jK4mN6pQ",
            "ngrok.exe tcp 3389",
            "ngrok.exe version",
        ]
    )
    tstats = "| tstats count from datamodel=Network_Resolution.DNS by DNS.query | rename DNS.* as *"
    code, rows, _ = jsonl("search", "--in", str(shipped_sample), tstats)
    assert code == ExitCode.OK and {"query": "tunnel.us.ngrok.com", "count": 1} in rows


def test_search_over_a_kept_database_with_a_time_range_and_a_limit(shipped_sample: Path, tmp_path: Path) -> None:
    db = tmp_path / "th.duckdb"
    assert runner.invoke(app, ["hunt", str(shipped_sample), "--db", str(db), "-o", "jsonl"]).exit_code == 0
    code, everything, _ = jsonl("search", "--db", str(db), "index=main | table _time")
    assert code == ExitCode.OK and len(everything) == 5
    code, limited, err = jsonl("search", "--db", str(db), "index=main | table _time", "--limit", "2")
    assert len(limited) == 2 and "more matched" in err
    code, late, _ = jsonl("search", "--db", str(db), "index=main | table _time", "--earliest", "2026-11-18T09:15:00")
    assert 0 < len(late) < 5 and all(r["_time"] >= "2026-11-18T09:15:00" for r in late)


def test_search_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["search", "--db", str(tmp_path / "none.duckdb"), "index=main"])
    assert result.exit_code == ExitCode.ERROR and "no database" in result.stderr
    result = runner.invoke(app, ["search", "--in", str(tmp_path), "EventCode=1 | nosuchcommand x"])
    assert (
        result.exit_code == ExitCode.ERROR and "nosuchcommand" in result.stderr and "position 14" in result.stderr
    )  # 0-based, at the command name
    result = runner.invoke(app, ["search", "index=main"])
    assert result.exit_code == ExitCode.ERROR and "--db" in result.stderr


def test_a_finding_leads_to_its_raw_events_with_file_and_line(shipped_sample: Path, tmp_path: Path) -> None:
    db = tmp_path / "th.duckdb"
    assert runner.invoke(app, ["hunt", str(shipped_sample), "--db", str(db), "-o", "jsonl"]).exit_code == 0
    code, findings, _ = jsonl("findings", "--db", str(db))
    finding = next(f for f in findings if f["risk_object"] == "win-lab-07.tunnelhunt.test")
    code, events, _ = jsonl("events", "--db", str(db), finding["finding_id"][:12])
    assert code == ExitCode.OK and events
    assert {e["_source"] for e in events} == {str(shipped_sample)}
    lines = shipped_sample.read_text().splitlines()
    for event in events:  # each event is the line it names, as read
        assert event["_raw"] == lines[event["_offset"] - 1]
    processes = {e["_offset"] for e in events if e["detection"] == "Windows Ngrok Reverse Proxy Usage"}
    assert processes and all("ngrok" in lines[o - 1] for o in processes)
    code, _, err = jsonl("events", "--db", str(db), "ffffffffffff")
    assert code == ExitCode.ERROR and "no finding, risk event or result" in err
