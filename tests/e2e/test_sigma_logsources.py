"""`hunt --sigma` over Zeek, Suricata, ECS and OCSF events: real SigmaHQ rules and the shared Zeek data."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import shared_dataset
from tunnelhunt.cli.app import app

pytestmark = pytest.mark.shared
runner = CliRunner()

#: An answer of the shared Zeek dns.log (wrccdc 2018): an element of `answers`, compared exactly.
ANSWER_RULE = """
title: Answer Is The CPP ISE Address
id: 1d7c4c7e-2f9c-4b0e-9a57-3c1b5b0c0a01
level: low
logsource: {category: dns}
detection:
  selection:
    answer: '134.71.3.16'
    record_type: 'A'
  condition: selection
"""


def hunt(logs: list[Path], rules: Path) -> list[dict[str, object]]:
    result = runner.invoke(app, ["hunt", *map(str, logs), "--sigma", str(rules), "-o", "jsonl"])
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_hunt_runs_real_sigmahq_rules_over_each_new_logsource(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for name in ("network/dns/net_dns_susp_txt_exec_strings.yml", "web/proxy_generic/proxy_ua_apt.yml"):
        (rules / Path(name).name).write_text(shared_dataset(f"sigma/rules/{name}").read_text())
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "eve.json").write_text(
        json.dumps({"timestamp": "2023-11-14T22:13:20.000000+0000", "event_type": "dns", "src_ip": "10.0.0.5",
                    "dest_ip": "10.0.0.1", "dns": {"type": "answer", "rrname": "t.example", "rrtype": "TXT",
                                                   "rdata": "powershell IEX(x)"}})
        + "\n"
    )  # fmt: skip
    (logs / "ocsf.json").write_text(
        json.dumps({"class_uid": 4002, "time": 1700000000000, "device": {"hostname": "ws1"},
                    "http_request": {"user_agent": "webclient"}}) + "\n"
        + json.dumps({"class_uid": 4002, "time": 1700000000000, "device": {"hostname": "ws1"},
                      "http_request": {"user_agent": "webclient 2"}}) + "\n"
    )  # fmt: skip
    rows = hunt([logs], rules)
    found = sorted((r["detection"], Path(str(r["_source"])).name, r["_offset"]) for r in rows if "rule_id" in r)
    assert found == [
        ("APT User Agent", "ocsf.json", 1),  # `webclient` exactly, not `webclient 2`
        ("DNS TXT Answer with Possible Execution Strings", "eve.json", 1),  # Suricata EVE v1 answer record
    ]
    assert [r["host"] for r in rows if r.get("detection") == "APT User Agent"] == ["ws1"]


def _expected_answer_hits(path: Path) -> int:
    """Lines of the Zeek TSV dns.log with an A query answered with the address, counted in Python."""
    header: list[str] = []
    count = 0
    with gzip.open(path, "rt") as stream:
        for line in stream:
            cells = line.rstrip("\n").split("\t")
            if cells[0] == "#fields":
                header = cells[1:]
            elif not line.startswith("#"):
                row = dict(zip(header, cells, strict=True))
                count += row["qtype_name"] == "A" and "134.71.3.16" in row["answers"].split(",")
    return count


def test_the_shared_zeek_dns_log_matches_alike_as_tsv_and_json(tmp_path: Path) -> None:
    tsv = shared_dataset("zed-sample-data/zeek-default/dns.log.gz")
    as_json = shared_dataset("zed-sample-data/zeek-json/dns.json.gz")
    rule = tmp_path / "answer.yml"
    rule.write_text(ANSWER_RULE)
    rows = [r for r in hunt([tsv, as_json], rule) if r.get("detection") == "Answer Is The CPP ISE Address"]
    by_file: dict[str, list[str]] = {}
    for row in rows:
        by_file.setdefault(Path(str(row["_source"])).name, []).append(str(row["_time"]))
    expected = _expected_answer_hits(tsv)
    assert expected > 0
    assert len(by_file["dns.log.gz"]) == expected  # an element of the comma-joined TSV set
    assert sorted(by_file["dns.json.gz"]) == sorted(by_file["dns.log.gz"])  # the JSON array's, the same events
