"""`run --at`, `risk` and `findings` end to end, with a HEC receiver that is down, then back."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import dns_event
from tests.receiver import receiver
from tunnelhunt.cli.app import app
from tunnelhunt.cli.exit_codes import ExitCode

cli = CliRunner()


def run_at(at: str, db: Path, *extra: str) -> tuple[int, str]:
    result = cli.invoke(app, ["run", "--at", at, "--db", str(db), *extra])
    return result.exit_code, result.stderr


def test_run_at_risk_findings_and_hec_after_an_outage(tmp_path: Path) -> None:
    log, db = tmp_path / "dns.log", tmp_path / "hunt.duckdb"
    times = ["2026-11-20T09:15:00Z", "2026-11-20T10:15:00Z", "2026-11-20T11:15:00Z", "2026-11-20T11:20:00Z"]
    hosts = ["wks-a", "wks-a", "wks-a", "WKS-B"]
    # a name only the seed's `*.ngrok.com` matches, so each lookup is one 50-point risk event of the seed alone
    # (the newer ngrok detections score `*.ngrok.io` endpoints too)
    log.write_text("\n".join(dns_event("a.ngrok.com", computer=h, time=t) for t, h in zip(times, hosts, strict=True)))
    log.write_text(log.read_text() + "\n")
    with receiver() as hec:
        hec.status, hec.body = 503, b'{"text":"Server is busy","code":9}'
        sink = [
            "--sink",
            f"hec:{hec.url}",
            "--hec-token",
            "t0k",
            "--retries",
            "1",
            "--sink",
            f"jsonl:{tmp_path / 'out'}",
        ]
        code, err = run_at("2026-11-20T10:00:00Z", db, str(log), *sink)
        assert code == ExitCode.DELIVERY_FAILED, err  # the receiver is down: the run says so
        assert "1 result(s), 1 risk event(s)" in err and "503" in err and "(1 spooled" in err
        code, err = run_at("11/20/2026:11:00:00", db, str(log), *sink)  # Splunk's absolute form
        assert code == ExitCode.DELIVERY_FAILED and "(2 spooled" in err
        hec.status, hec.body = 200, b'{"text":"Success","code":0}'
        code, err = run_at("2026-11-20T12:00:00Z", db, str(log), *sink)
        assert code == ExitCode.OK, err
        assert "finding medium: Risk Threshold Exceeded For Object Over 24 Hours" in err
        code, err = run_at("2026-11-20T12:00:00Z", db, str(log), *sink)  # the same time again: nothing new
        assert "nothing new to search" in err and "0 new risk event(s), 0 new finding(s)" in err
    delivered = [e["event"] for r in hec.requests for e in r.hec_events()]
    kinds = [(e.get("risk_object"), e.get("rule", "risk")) for e in delivered]
    assert kinds == [
        ("wks-a", "risk"),
        ("wks-a", "risk"),
        ("WKS-B", "risk"),  # the 12:00 tick's results come in tstats order (by src)
        ("wks-a", "risk"),
        ("wks-a", "Risk Threshold Exceeded For Object Over 24 Hours"),
    ]
    local = (tmp_path / "out" / "risk_events.jsonl").read_text().splitlines()
    assert len(local) == 4

    risk = cli.invoke(app, ["risk", "--db", str(db), "-o", "jsonl"])
    rows = [json.loads(line) for line in risk.stdout.splitlines()]
    assert [(r["risk_object"], r["risk_score"], r["risk_events"]) for r in rows] == [
        ("wks-a", 150.0, 3),
        ("WKS-B", 50.0, 1),
    ]
    events = cli.invoke(app, ["risk", "--db", str(db), "--events", "--object", "wks-b", "-o", "jsonl"])
    [only] = [json.loads(line) for line in events.stdout.splitlines()]
    assert only["risk_object"] == "WKS-B"  # --object compares case-insensitively
    assert only["risk_message"] == "An endpoint, WKS-B, is beaconing out to the reverse proxy service of Ngrok."
    findings = cli.invoke(app, ["findings", "--db", str(db), "-o", "jsonl"])
    [finding] = [json.loads(line) for line in findings.stdout.splitlines()]
    assert (finding["risk_object"], finding["severity"], finding["risk_score"]) == ("wks-a", "medium", 150.0)
    table = cli.invoke(app, ["findings", "--db", str(db)])
    assert table.exit_code == 0 and "wks-a" in table.stdout


def test_bad_time_and_missing_database_are_one_line_errors(tmp_path: Path) -> None:
    code, err = run_at("yesterday", tmp_path / "x.duckdb")
    assert code == ExitCode.ERROR and "invalid time modifier 'yesterday'" in err
    result = cli.invoke(app, ["findings", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == ExitCode.ERROR and "no database at" in result.stderr
    code, err = run_at("now", tmp_path / "y.duckdb", "--sink", "ftp:somewhere")
    assert code == ExitCode.ERROR and "unknown sink type 'ftp'" in err
