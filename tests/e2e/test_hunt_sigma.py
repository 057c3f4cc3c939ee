"""Sigma rules in a hunt: hits beside ESCU findings, risk added up per entity, mistakes reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import shared_dataset
from tunnelhunt.cli.app import app

pytestmark = pytest.mark.shared
runner = CliRunner()

PLINK_RULE = """
title: Plink Remote Forward To RDP
id: 0b3a1e0e-4c52-4d7e-9d0c-1c4c0c9a0a01
status: test
level: high
tags: [attack.command-and-control, attack.t1572]
logsource: {category: process_creation, product: windows}
detection:
  selection:
    Image|endswith: '\\\\plink.exe'
    CommandLine|contains|all: [' -R ', ':3389']
  condition: selection
"""


def test_sigma_hits_join_escu_findings_and_the_same_risk(tmp_path: Path) -> None:
    rule = tmp_path / "plink.yml"
    rule.write_text(PLINK_RULE)
    samples = shared_dataset("EVTX-ATTACK-SAMPLES/Command and Control")
    risk = tmp_path / "risk.jsonl"
    result = runner.invoke(app, ["hunt", str(samples), "--sigma", str(rule), "-o", "jsonl", "--risk", str(risk)])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    hits = [r for r in rows if r["detection"] == "Plink Remote Forward To RDP"]
    assert len(hits) == 1 and "127.0.0.2:3389" in hits[0]["CommandLine"]
    assert hits[0]["_source"].endswith(".evtx") and hits[0]["_offset"] > 0
    events = [json.loads(line) for line in risk.read_text().splitlines()]
    by_search = {e["search_name"] for e in events if e["risk_object"] == "PC01.example.corp"}
    assert any("Plink Remote Forward To RDP" in name for name in by_search)  # Sigma's risk event
    assert len(by_search) > 1  # beside the shipped detections' risk on the same host


def test_sigma_rules_found_in_a_detections_folder_run_too(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "plink.yml").write_text(PLINK_RULE)
    samples = shared_dataset("EVTX-ATTACK-SAMPLES/Command and Control")
    result = runner.invoke(app, ["hunt", str(samples), "--detections", str(tmp_path / "rules"), "-o", "jsonl"])
    assert result.exit_code == 0, result.stderr
    assert any(json.loads(line)["detection"] == "Plink Remote Forward To RDP" for line in result.stdout.splitlines())


def test_a_missing_sigma_path_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["hunt", str(tmp_path), "--sigma", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_a_hunt_that_compresses_its_store_before_many_rules_gives_the_same_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tunnelhunt.actions import hunt
    from tunnelhunt.store.duckdb_store import Store

    rule = tmp_path / "plink.yml"
    rule.write_text(PLINK_RULE)
    samples = shared_dataset("EVTX-ATTACK-SAMPLES/Command and Control")
    command = ["hunt", str(samples), "--sigma", str(rule), "-o", "jsonl", "--no-cache"]
    compressed: list[Store] = []
    original = Store.compress
    monkeypatch.setattr(Store, "compress", lambda store: (compressed.append(store), original(store))[1])
    plain = runner.invoke(app, command)
    assert plain.exit_code == 0, plain.stderr
    assert not compressed  # one rule: not worth compressing
    monkeypatch.setattr(hunt, "COMPRESS_FROM_RULES", 1)
    squeezed = runner.invoke(app, command)
    assert squeezed.exit_code == 0, squeezed.stderr
    assert len(compressed) == 1
    assert squeezed.stdout == plain.stdout and "Plink Remote Forward To RDP" in plain.stdout
