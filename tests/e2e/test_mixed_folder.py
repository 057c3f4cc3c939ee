"""Done-when: `tunnelhunt hunt DIR --report r.json` over a folder mixing every format finds the ngrok
activity in each one, and the report accounts for every record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import formats as F
from tunnelhunt.cli.app import app
from tunnelhunt.cli.exit_codes import ExitCode

SUPPORT = Path(__file__).resolve().parents[1] / "support"
PROCESS, DNS = "Windows Ngrok Reverse Proxy Usage", "Ngrok Reverse Proxy on Network"
ANY_OS, CONFIG, AGENT = "Test ngrok Process Any OS", "Test ngrok Config Written", "Test ngrok Agent Connection"
WINDOWS = {PROCESS, DNS, ANY_OS, CONFIG, AGENT}

#: host → detections that must find it (each host is one format's file)
EXPECTED = {
    "xml-host": WINDOWS,
    "evtx-host": WINDOWS,
    "winjson-host": WINDOWS,
    "wincsv-host": WINDOWS,
    "linux-host": {ANY_OS, CONFIG, AGENT},
    "zeek-host": {DNS},
    "zeekjson-host": {DNS},
    "suricata-host": {DNS},
    "ecs-host": {PROCESS, DNS, ANY_OS},
    "ecscsv-host": {PROCESS, ANY_OS},
    "ocsf-host": {PROCESS, ANY_OS},
    "10.0.0.8": {DNS},  # the OCSF DNS event's source endpoint
    "custom-host": {PROCESS, DNS, ANY_OS},
}
FORMATS = {
    "sysmon.xml": "xml",
    "Sysmon.evtx": "evtx",
    "exports.zip!exports/security.json": "windows-json",
    "events.csv": "csv",
    "syslog.gz": "sysmon-linux",
    "dns.log.gz": "zeek",
    "dns.json": "zeek-json",
    "eve.json.bz2": "suricata",
    "winlogbeat.ndjson.xz": "ecs",
    "processes.csv": "csv",
    "exports.zip!exports/ocsf.jsonl": "ocsf",
    "acme.jsonl": "acme_edr",
}


def _host_of(finding: dict[str, object]) -> str:
    for field in ("dest", "src", "dvc"):
        value = finding.get(field)
        if isinstance(value, str) and (value.endswith("-host") or value == "10.0.0.8"):
            return value
    if finding["detection"] == AGENT:
        return str(finding.get("dvc"))
    return str(finding.get("dest") or finding.get("src"))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    root = tmp_path_factory.mktemp("mixed")
    logs = root / "logs"
    logs.mkdir()
    written = sum(writer(logs / name, 30) for name, writer, _host in F.MIXED)
    F.gzip_file(logs / "dns.log")
    F.gzip_file(logs / "syslog")
    F.bzip2_file(logs / "eve.json")
    F.xz_file(logs / "winlogbeat.ndjson")
    F.zip_files(logs / "exports.zip", [logs / "security.json", logs / "ocsf.jsonl"])
    mapping = root / "acme.yml"
    mapping.write_text(F.CUSTOM_MAPPING)
    return logs, mapping, written


def test_hunt_over_a_mixed_folder_finds_ngrok_in_every_format(mixed: tuple[Path, Path, int], tmp_path: Path) -> None:
    logs, mapping, written = mixed
    report_path, findings_path = tmp_path / "r.json", tmp_path / "findings.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "hunt",
            str(logs),
            "--report",
            str(report_path),
            "--mapping",
            str(mapping),
            "--detections",
            str(SUPPORT / "detections"),
            "-o",
            "jsonl",
            "--out",
            str(findings_path),
        ],
    )
    assert result.exit_code == ExitCode.OK, result.output

    report = json.loads(report_path.read_text())
    files = {f["file"].replace(str(logs) + "/", ""): f for f in report["files"]}
    assert {name: f["format"] for name, f in files.items()} == FORMATS
    assert all(f["error"] is None and f["balanced"] and f["quarantined"] == 0 for f in files.values())
    totals = report["totals"]
    assert totals["read"] == written
    assert totals["read"] == totals["ingested"] + totals["unmapped"] + totals["quarantined"]
    assert totals["unmapped"] == 1 + 4 + 1  # a Suricata flow, sshd syslog lines, an EDR heartbeat

    found: dict[str, set[str]] = {}
    for line in findings_path.read_text().splitlines():
        finding = json.loads(line)
        found.setdefault(_host_of(finding), set()).add(str(finding["detection"]))
    for hostname, detections in EXPECTED.items():
        assert detections <= found.get(hostname, set()), (hostname, found.get(hostname))
    near_misses = [json.loads(line) for line in findings_path.read_text().splitlines()]
    assert not any(f.get("query") == "ngrok.io.example.net" for f in near_misses)


def test_include_and_exclude_globs_on_the_command_line(mixed: tuple[Path, Path, int], tmp_path: Path) -> None:
    logs, _mapping, _written = mixed
    report_path = tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        [
            "hunt",
            str(logs),
            "--include",
            "*.gz",
            "--include",
            "*.evtx",
            "--exclude",
            "syslog*",
            "--report",
            str(report_path),
        ],
    )
    assert result.exit_code == ExitCode.OK, result.output
    names = sorted(Path(f["file"]).name for f in json.loads(report_path.read_text())["files"])
    assert names == ["Sysmon.evtx", "dns.log.gz"]


def test_a_persistent_db_makes_a_second_hunt_ingest_nothing(mixed: tuple[Path, Path, int], tmp_path: Path) -> None:
    logs, mapping, written = mixed
    db = tmp_path / "events.duckdb"
    reports = []
    for run in range(2):
        report_path = tmp_path / f"r{run}.json"
        result = CliRunner().invoke(
            app,
            [
                "hunt",
                str(logs),
                "--db",
                str(db),
                "--mapping",
                str(mapping),
                "--report",
                str(report_path),
                "-o",
                "jsonl",
            ],
        )
        assert result.exit_code == ExitCode.OK, result.output
        reports.append(json.loads(report_path.read_text()))
    assert reports[0]["totals"]["read"] == written
    assert reports[1]["totals"]["read"] == 0
