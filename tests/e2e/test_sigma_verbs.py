"""`--sigma` (and Sigma YAML among `--detections`) on `run`, `watch`, `validate` and `compile`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import shared_dataset
from tunnelhunt.cli.app import app
from tunnelhunt.cli.exit_codes import ExitCode

runner = CliRunner()

PLINK = "Plink Remote Forward To RDP"
RULE = """
title: {title}
id: {id}
status: test
level: high
tags: [attack.command-and-control, attack.t1572]
logsource: {{category: process_creation, product: windows}}
detection:
  selection:
    Image|endswith: '\\\\plink.exe'
    CommandLine|contains|all: [' -R ', '{port}']
  condition: selection
"""
# the sample's plink forwards 127.0.0.2:3389; the near miss asks for port 3390 and must not match
GOOD = RULE.format(title=PLINK, id="0b3a1e0e-4c52-4d7e-9d0c-1c4c0c9a0a01", port=":3389")
NEAR_MISS = RULE.format(title="Plink Forward To 3390", id="0b3a1e0e-4c52-4d7e-9d0c-1c4c0c9a0a02", port=":3390")
BARE = """
title: {title}
id: {id}
logsource: {logsource}
detection:
  selection:
    {selection}
  condition: selection
"""
UNKNOWN_MODIFIER = BARE.format(
    title="Broken modifier",
    id="1b3a1e0e-4c52-4d7e-9d0c-1c4c0c9a0a01",
    logsource="{category: process_creation, product: windows}",
    selection="Image|endswithx: '\\\\plink.exe'",
)
UNMAPPED = BARE.format(
    title="Unmapped logsource",
    id="2b3a1e0e-4c52-4d7e-9d0c-1c4c0c9a0a01",
    logsource="{category: no_such_category, product: windows}",
    selection="Image: x",
)


def rules(folder: Path, **texts: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / f"{name}.yml").write_text(text)
    return folder


def invoke(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.shared
def test_run_schedules_sigma_rules_over_their_window_exactly_once(tmp_path: Path) -> None:
    folder = rules(tmp_path / "sigma", good=GOOD, near=NEAR_MISS)
    samples, db = shared_dataset("EVTX-ATTACK-SAMPLES/Command and Control"), tmp_path / "h.duckdb"
    # the plink event is at 2019-02-16 10:02; the 09:00 tick searches [07:50, 08:50): not there yet
    code, _, err = invoke("run", "--at", "2019-02-16T09:00:00Z", "--db", db, samples, "--sigma", folder)
    assert code == ExitCode.OK, err
    assert f"{PLINK}: [2019-02-16 07:50, 08:50) → 0 result(s)" in err
    code, _, err = invoke("run", "--at", "2019-02-16T11:00:00Z", "--db", db, "--sigma", folder)
    assert code == ExitCode.OK, err
    assert f"{PLINK}: [2019-02-16 09:50, 10:50) → 1 result(s), 2 risk event(s)" in err  # host and user
    assert "Plink Forward To 3390: [2019-02-16 09:50, 10:50) → 0 result(s)" in err  # the near miss
    code, _, err = invoke("run", "--at", "2019-02-16T11:00:00Z", "--db", db, "--sigma", folder)
    assert f"{PLINK}: nothing new to search" in err
    code, out, _ = invoke("risk", "--db", db, "--events", "-o", "jsonl")
    searches = {json.loads(line)["search_name"] for line in out.splitlines()}
    assert f"Sigma - {PLINK} - Rule" in searches


@pytest.mark.shared
def test_run_keeps_converted_sigma_rules_in_the_content_cache_and_finds_the_same_from_it(tmp_path: Path) -> None:
    folder = rules(tmp_path / "sigma", good=GOOD, near=NEAR_MISS)
    samples, cache = shared_dataset("EVTX-ATTACK-SAMPLES/Command and Control"), tmp_path / "cache"
    at = ("--at", "2019-02-16T11:00:00Z", samples, "--sigma", folder)
    code, _, off = invoke("run", *at, "--db", tmp_path / "off.duckdb", "--no-cache", "--cache-dir", cache)
    assert code == ExitCode.OK, off
    assert not cache.exists() or not any(cache.rglob("*.json"))  # --no-cache keeps nothing
    outputs = []
    for name in ("cold", "warm"):
        code, _, err = invoke("run", *at, "--db", tmp_path / f"{name}.duckdb", "--cache-dir", cache)
        assert code == ExitCode.OK, err
        outputs.append([line for line in err.splitlines() if "→" in line])
        assert any(cache.rglob("*.json"))  # the conversions were kept
    assert outputs[0] == outputs[1] == [line for line in off.splitlines() if "→" in line]
    assert any(f"{PLINK}: [2019-02-16 09:50, 10:50) → 1 result(s)" in line for line in outputs[1])


@pytest.mark.shared
def test_watch_runs_sigma_rules_found_in_a_detections_folder(tmp_path: Path) -> None:
    folder = rules(tmp_path / "detections", good=GOOD)
    samples, db = shared_dataset("EVTX-ATTACK-SAMPLES/Command and Control"), tmp_path / "w.duckdb"
    code, _, err = invoke(
        "watch", samples, "--db", db, "--detections", folder, "--interval", "0.05",
        "--clock-start", "2019-02-16T11:00:00Z", "--since", "2019-02-16T11:00:00Z", "--until", "2019-02-16T11:00:00Z",
    )  # fmt: skip
    assert code == ExitCode.OK, err
    assert f"{PLINK}: [2019-02-16 09:50, 10:50) → 1 result(s), 2 risk event(s)" in err


def test_run_and_watch_report_a_broken_sigma_rule_and_fail(tmp_path: Path) -> None:
    folder = rules(tmp_path / "sigma", good=GOOD, broken=UNKNOWN_MODIFIER)
    code, _, err = invoke("run", "--at", "2026-11-20T10:00:00Z", "--db", tmp_path / "r.duckdb", "--sigma", folder)
    assert code == ExitCode.DETECTION_FAILED
    assert f"sigma error: {folder / 'broken.yml'}" in err and "endswithx" in err
    assert f"{PLINK}: [2026-11-20 08:50, 09:50) → 0 result(s)" in err  # the good rule still runs
    code, _, err = invoke(
        "watch", tmp_path, "--db", tmp_path / "w.duckdb", "--sigma", folder, "--interval", "0.05",
        "--clock-start", "2026-11-20T10:00:00Z", "--until", "2026-11-20T10:00:00Z",
    )  # fmt: skip
    assert code == ExitCode.DETECTION_FAILED and f"sigma error: {folder / 'broken.yml'}" in err


def test_validate_accepts_good_sigma_rules(tmp_path: Path) -> None:
    folder = rules(tmp_path / "sigma", good=GOOD, near=NEAR_MISS)
    code, out, err = invoke("validate", "--sigma", folder)
    assert code == ExitCode.OK, out + err
    assert "2 Sigma rule(s) loaded" in err and "0 error(s)" in err


def test_validate_reports_a_sigma_rule_that_does_not_parse_or_convert_at_its_file(tmp_path: Path) -> None:
    folder = rules(tmp_path / "sigma", good=GOOD, broken=UNKNOWN_MODIFIER, unmapped=UNMAPPED)
    code, out, err = invoke("validate", "--sigma", folder)
    assert code == ExitCode.ERROR
    lines = out.splitlines()
    assert any(
        line.startswith(f"error: {folder / 'broken.yml'}: sigma: does not load") and "endswithx" in line
        for line in lines
    ), out
    assert any(
        line.startswith(f"error: {folder / 'unmapped.yml'}: sigma: does not convert") and "no_such_category" in line
        for line in lines
    ), out
    assert not any("good.yml" in line for line in lines)  # the good rule is no error
    assert "2 error(s)" in err


def test_validate_finds_sigma_yaml_in_a_detections_folder(tmp_path: Path) -> None:
    folder = rules(tmp_path / "detections", broken=UNKNOWN_MODIFIER)
    code, out, _ = invoke("validate", folder)
    assert code == ExitCode.ERROR and f"error: {folder / 'broken.yml'}: sigma: does not load" in out


def test_compile_prints_the_sql_of_each_sigma_rule(tmp_path: Path) -> None:
    folder = rules(tmp_path / "sigma", good=GOOD, near=NEAR_MISS)
    code, out, err = invoke("compile", "--sigma", folder, "--dialect", "spark")
    assert code == ExitCode.OK, err
    assert f"-- {PLINK} ({folder / 'good.yml'})" in out
    assert f"-- Plink Forward To 3390 ({folder / 'near.yml'})" in out
    assert out.count("FROM events") == 2 and "':3390')" in out and "':3389')" in out and "CONTAINS(" in out
    assert "2 of 2 detection(s) and Sigma rule(s) compile and run" in err


def test_compile_reports_broken_sigma_rules_with_their_file(tmp_path: Path) -> None:
    folder = rules(tmp_path / "detections", good=GOOD, broken=UNKNOWN_MODIFIER, unmapped=UNMAPPED)
    report = tmp_path / "report.json"
    code, out, err = invoke("compile", folder, "--report", report)
    assert code == ExitCode.DETECTION_FAILED
    assert "1 of 3 detection(s) and Sigma rule(s) compile and run" in err
    entries = {Path(e["path"]).name: e for e in json.loads(report.read_text())["detections"]}
    assert entries["good.yml"]["compiled"] and entries["good.yml"]["data_models"] == ["sigma:windows/process_creation/"]
    assert "endswithx" in entries["broken.yml"]["reason"]
    assert entries["unmapped.yml"]["reason"].startswith("does not convert: logsource")
    assert out.count("FROM events") == 1


def test_compile_needs_a_path_or_sigma_rules() -> None:
    code, _, err = invoke("compile")
    assert code == ExitCode.ERROR and "--sigma" in err
