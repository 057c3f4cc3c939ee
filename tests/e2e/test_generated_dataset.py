"""Hunt the generated dataset and compare with its ground truth: every planted ngrok event is found
with the exact fields, and no near miss or background event is."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from typer.testing import CliRunner

from tunnelhunt.cli.app import app

runner = CliRunner()
SEEDS = ("Ngrok Reverse Proxy on Network", "Windows Ngrok Reverse Proxy Usage")


@pytest.fixture(scope="module")
def hunted(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("generated")
    generated = runner.invoke(app, ["generate", str(out), "--events", "30000", "--seed", "11"])
    assert generated.exit_code == 0, generated.stderr
    risk = out / "risk.jsonl"
    result = runner.invoke(app, ["hunt", str(out / "windows-sysmon.log"), "--output", "jsonl", "--risk", str(risk)])
    assert result.exit_code == 0, result.stderr
    findings = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    risk_events = [json.loads(line) for line in risk.read_text().splitlines()]
    truth = json.loads((out / "truth.json").read_text())
    return truth, findings, risk_events


def test_process_findings_are_exactly_the_planted_runs(hunted: tuple[dict[str, Any], list[Any], list[Any]]) -> None:
    truth, findings, _ = hunted
    found = Counter(
        (f["dest"], f["user"], f["process"], f["parent_process_name"])
        for f in findings
        if f["detection"] == "Windows Ngrok Reverse Proxy Usage"
        for _ in range(f["count"])
    )
    expected = Counter((t["dest"], t["user"], t["process"], t["parent_process_name"]) for t in truth["process_matches"])
    assert found == expected
    assert len(expected) >= 7


def test_dns_findings_are_one_row_per_answer_of_each_planted_lookup(
    hunted: tuple[dict[str, Any], list[Any], list[Any]],
) -> None:
    truth, findings, _ = hunted
    found = Counter(
        (f["src"], f["query"], f["answer"])
        for f in findings
        if f["detection"] == "Ngrok Reverse Proxy on Network"
        for _ in range(f["count"])
    )
    expected = Counter((t["src"], t["query"], a) for t in truth["dns_matches"] for a in (t["answers"] or ["null"]))
    assert found == expected


def test_no_near_miss_is_found(hunted: tuple[dict[str, Any], list[Any], list[Any]]) -> None:
    truth, findings, _ = hunted
    seeds = [f for f in findings if f["detection"] in SEEDS]
    values = {f.get("query") for f in seeds} | {f.get("process") for f in seeds}
    misses = [m["value"] for m in truth["near_misses"]]
    assert misses and not values.intersection(misses)


def test_risk_events_cover_every_finding(hunted: tuple[dict[str, Any], list[Any], list[Any]]) -> None:
    _, findings, risk_events = hunted
    process_findings = [f for f in findings if f["detection"] == "Windows Ngrok Reverse Proxy Usage"]
    dns_findings = [f for f in findings if f["detection"] == "Ngrok Reverse Proxy on Network"]
    seed_risk = [e for e in risk_events if e["search_name"] in {f"ESCU - {name} - Rule" for name in SEEDS}]
    assert len(seed_risk) == 2 * len(process_findings) + len(dns_findings)
    assert {e["risk_object_type"] for e in seed_risk} == {"user", "system"}
