"""`tunnelhunt hunt` end to end: exact seed results, risk events, filters, bad input and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tests.helpers import dns_event, process_event
from tunnelhunt.cli.app import app
from tunnelhunt.cli.exit_codes import ExitCode

runner = CliRunner()


#: These tests pin the seed detections' results; the other shipped detections have tests of their own.
SEEDS = ("Ngrok Reverse Proxy on Network", "Windows Ngrok Reverse Proxy Usage")


def hunt(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    """Exit code, the seed detections' findings, stderr."""
    result = runner.invoke(app, ["hunt", *args, "--output", "jsonl"])
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, [row for row in rows if row["detection"] in SEEDS], result.stderr


def test_shipped_sample_gives_exactly_the_seed_results(shipped_sample: Path, tmp_path: Path) -> None:
    risk_file = tmp_path / "risk.jsonl"
    code, rows, _ = hunt(str(shipped_sample), "--risk", str(risk_file))
    assert code == ExitCode.OK
    dns = [r for r in rows if r["detection"] == "Ngrok Reverse Proxy on Network"]
    assert dns == [
        {
            "detection": "Ngrok Reverse Proxy on Network",
            "src": "win-lab-07.tunnelhunt.test",
            "query": "tunnel.us.ngrok.com",
            "answer": answer,
            "count": 1,
            "firstTime": "2026-11-18T09:15:41",
            "lastTime": "2026-11-18T09:15:41",
        }
        for answer in ("::ffff:3.134.73.173", "::ffff:3.20.27.198", "tunnel.us.ngrok.com.herokudns.com")
    ]
    processes = [r for r in rows if r["detection"] == "Windows Ngrok Reverse Proxy Usage"]
    assert [r["process"] for r in processes] == [
        "ngrok.exe  authtoken 2Hq7xZ3bQ9kLmN8pR4sT6vW1yA_5cD7eF9gH2jK4mN6pQ",
        "ngrok.exe tcp 3389",
    ]  # `ngrok.exe version` matches no keyword
    first = processes[0]
    assert list(first)[1:21] == [
        "action", "dest", "original_file_name", "parent_process", "parent_process_exec", "parent_process_guid",
        "parent_process_id", "parent_process_name", "parent_process_path", "process", "process_exec",
        "process_guid", "process_hash", "process_id", "process_integrity_level", "process_name", "process_path",
        "user", "user_id", "vendor_product",
    ]  # fmt: skip
    assert (first["count"], first["firstTime"], first["lastTime"]) == (1, "2026-11-18T09:14:02", "2026-11-18T09:14:02")

    risk = [json.loads(line) for line in risk_file.read_text().splitlines()]
    risk = [r for r in risk if r["search_name"] in {f"ESCU - {name} - Rule" for name in SEEDS}]
    assert len(risk) == 3 + 2 * 2  # one per src finding; user and dest per process finding
    windows = [r for r in risk if r["search_name"] == "ESCU - Windows Ngrok Reverse Proxy Usage - Rule"]
    assert {(r["risk_object"], r["risk_object_type"], r["risk_score"]) for r in windows} == {
        ("LAB\\jdoe", "user", 20),
        ("win-lab-07.tunnelhunt.test", "system", 20),
    }
    assert windows[0]["risk_message"] == (
        "A reverse proxy was identified spawning from cmd.exe - ngrok.exe on endpoint "
        "win-lab-07.tunnelhunt.test by user LAB\\jdoe."
    )
    assert windows[0]["threat_object"] == ["ngrok.exe", "cmd.exe"]
    assert windows[0]["threat_object_type"] == ["process_name", "parent_process_name"]
    assert windows[0]["annotations.mitre_attack"] == ["T1572", "T1090", "T1102"]
    assert windows[0]["annotations.mitre_attack.mitre_tactic"] == ["Command and Control"]
    network = [r for r in risk if r["search_name"] == "ESCU - Ngrok Reverse Proxy on Network - Rule"]
    assert {(r["risk_object"], r["risk_score"]) for r in network} == {("win-lab-07.tunnelhunt.test", 50)}
    assert all("$" not in r["risk_message"] for r in risk)


def test_filter_macro_override_tunes_out_allowed_hosts(tmp_path: Path) -> None:
    log = tmp_path / "events.log"
    log.write_text(
        "\n".join(
            [
                process_event("ngrok.exe http 80", computer="build-01.corp"),
                process_event("ngrok.exe http 80", computer="wks-7.corp"),
                dns_event("x.ngrok.io", computer="build-01.corp"),
            ]
        )
        + "\n"
    )
    overrides = tmp_path / "filters"
    overrides.mkdir()
    (overrides / "windows_ngrok_reverse_proxy_usage_filter.yml").write_text(
        'name: windows_ngrok_reverse_proxy_usage_filter\ndefinition: search NOT dest IN ("BUILD-01.corp")\n'
    )
    code, rows, _ = hunt(str(log), "--macros", str(overrides))
    assert code == ExitCode.OK
    assert [(r["detection"], r.get("dest") or r.get("src")) for r in rows] == [
        ("Ngrok Reverse Proxy on Network", "build-01.corp"),  # the DNS filter macro was not overridden
        ("Windows Ngrok Reverse Proxy Usage", "wks-7.corp"),
    ]


def test_bad_records_are_skipped_reported_and_change_the_exit_code(tmp_path: Path) -> None:
    log = tmp_path / "mixed.log"
    log.write_text("\n".join([process_event("ngrok.exe tcp 22"), "<Event><broken", dns_event("a.ngrok.io")]) + "\n")
    quarantine = tmp_path / "q.jsonl"
    code, rows, err = hunt(str(log), "--quarantine", str(quarantine))
    assert code == ExitCode.QUARANTINED
    assert len(rows) == 2  # the good records around the bad one are still found
    assert "1 quarantined" in err
    [bad] = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert bad["file"] == str(log) and bad["line"] == 2 and bad["reason"] == "unclosed <Event> element"
    assert "Traceback" not in err


def test_missing_file_is_an_error_after_the_others_are_processed(tmp_path: Path) -> None:
    log = tmp_path / "ok.log"
    log.write_text(process_event("ngrok.exe http 1") + "\n")
    code, rows, err = hunt(str(tmp_path / "nope.log"), str(log))
    assert code == ExitCode.FILE_UNREADABLE
    assert len(rows) == 1
    assert "nope.log: no such file or directory" in err
    assert "Traceback" not in err


def test_unrecognised_file_is_reported(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not a log")
    code, rows, err = hunt(str(junk))
    assert code == ExitCode.FILE_UNREADABLE
    assert rows == [] and "format not recognised" in err


def test_csv_output_and_table_output(shipped_sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    result = runner.invoke(app, ["hunt", str(shipped_sample), "--output", "csv", "--out", str(out)])
    assert result.exit_code == 0
    header = out.read_text().splitlines()[0].split(",")
    assert header[0] == "detection" and {"src", "query", "answer", "dest", "process"} <= set(header)
    table = runner.invoke(app, ["hunt", str(shipped_sample), "--all"])
    assert "Ngrok Reverse Proxy on Network — 3 result(s)" in table.stdout
    assert "Windows Ngrok Reverse Proxy Usage — 2 result(s)" in table.stdout


def test_persistent_db_keeps_events(shipped_sample: Path, tmp_path: Path) -> None:
    db = tmp_path / "events.duckdb"
    code, rows, _ = hunt(str(shipped_sample), "--db", str(db))
    assert code == 0 and len(rows) == 5
    from tunnelhunt.store.duckdb_store import Store

    with Store(db) as store:
        assert store.count("endpoint_processes") == 3
        assert store.count("network_resolution_dns") == 2


def _stored(command: str, db: Path, *args: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, [command, "--db", str(db), "--output", "jsonl", *args])
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_hunt_db_leaves_risk_events_and_findings_for_risk_and_findings(shipped_sample: Path, tmp_path: Path) -> None:
    # a new user's path: hunt into a database, then ask it for risk and findings
    db, risk_file = tmp_path / "th.duckdb", tmp_path / "risk.jsonl"
    code, _, err = hunt(str(shipped_sample), "--db", str(db), "--risk", str(risk_file))
    assert code == ExitCode.OK
    printed = [json.loads(line) for line in risk_file.read_text().splitlines()]
    stored = _stored("risk", db, "--events", "--limit", "1000")
    assert len(printed) > 0
    assert sorted(e["risk_event_id"] for e in stored) == sorted(e["risk_event_id"] for e in printed)
    by_entity = {(r["risk_object"], r["risk_object_type"]): r["risk_score"] for r in _stored("risk", db)}
    assert by_entity[("win-lab-07.tunnelhunt.test", "system")] > 0
    findings = _stored("findings", db)
    assert findings and all(f["risk_object"] for f in findings)  # the 24 h score rule fires on the sample
    # hunting the same file again adds nothing anywhere
    code, _, err = hunt(str(shipped_sample), "--db", str(db))
    assert code == ExitCode.OK and "0 new result(s), 0 new risk event(s), 0 new finding(s)" in err
    assert len(_stored("risk", db, "--events", "--limit", "1000")) == len(stored)
    assert len(_stored("findings", db)) == len(findings)


def test_hunt_delivers_to_the_same_sinks_as_run(shipped_sample: Path, tmp_path: Path) -> None:
    out, risk_file = tmp_path / "sink", tmp_path / "risk.jsonl"
    code, _, err = hunt(str(shipped_sample), "--sink", f"jsonl:{out}", "--risk", str(risk_file))
    assert code == ExitCode.OK, err
    delivered = [json.loads(line) for line in (out / "risk_events.jsonl").read_text().splitlines()]
    printed = [json.loads(line) for line in risk_file.read_text().splitlines()]
    assert sorted(e["risk_event_id"] for e in delivered) == sorted(e["risk_event_id"] for e in printed)
    assert (out / "findings.jsonl").read_text().strip()  # the incident rules' findings too
    code, _, err = hunt(str(shipped_sample), "--sink", "ftp:somewhere")
    assert code == ExitCode.ERROR and "unknown sink type 'ftp'" in err
