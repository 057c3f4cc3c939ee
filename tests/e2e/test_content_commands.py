"""`tunnelhunt validate`, `compile` and `test` on the shipped content, and user filter overrides."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml
from typer.testing import CliRunner

from tunnelhunt.cli.app import app
from tunnelhunt.cli.exit_codes import ExitCode
from tunnelhunt.content.loader import SHIPPED

runner = CliRunner()


def test_validate_passes_on_the_shipped_content() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_validate_reports_errors_with_file_and_key(tmp_path: Path) -> None:
    source = SHIPPED / "detections" / "windows_ngrok_reverse_proxy_usage.yml"
    data = yaml.safe_load(source.read_text())
    data["tags"]["mitre_attack_id"] = ["T1572", "1090"]
    target = tmp_path / "detections" / "bad.yml"
    target.parent.mkdir()
    target.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == int(ExitCode.ERROR)
    assert f"error: {target}: tags.mitre_attack_id: malformed ATT&CK technique id '1090'" in result.output


def test_validate_reports_spl_that_does_not_parse(tmp_path: Path) -> None:
    source = SHIPPED / "detections" / "windows_ngrok_reverse_proxy_usage.yml"
    data = yaml.safe_load(source.read_text())
    assert '"*tcp*")' in data["search"]
    data["search"] = data["search"].replace('"*tcp*")', '"*tcp*"')  # the `IN (` list is never closed
    target = tmp_path / "detections" / "unclosed.yml"
    target.parent.mkdir()
    target.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == int(ExitCode.ERROR), result.output
    assert f"error: {target}: search: SPL does not parse: " in result.output


def test_compile_prints_sql_and_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    result = runner.invoke(app, ["compile", str(SHIPPED / "detections"), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "WITH stage0 AS" in result.output
    entries = json.loads(report.read_text())["detections"]
    shipped = sorted(path for path in (SHIPPED / "detections").glob("*.yml"))
    assert len(entries) == len(shipped)
    assert {"Ngrok Reverse Proxy on Network", "Windows Ngrok Reverse Proxy Usage"} <= {e["name"] for e in entries}
    for entry in entries:
        assert set(entry) == {"path", "name", "data_models", "compiled", "reason"}
        assert entry["compiled"] is True and entry["reason"] is None
    assert {m for e in entries for m in e["data_models"]} >= {"Endpoint.Processes", "Network_Resolution"}


def test_compile_names_the_obstacle_of_a_detection_that_cannot_run(tmp_path: Path) -> None:
    data = yaml.safe_load((SHIPPED / "detections" / "windows_ngrok_reverse_proxy_usage.yml").read_text())
    data["search"] = data["search"].replace(
        "| `windows_ngrok_reverse_proxy_usage_filter`",
        "| transaction dest maxspan=5m | `windows_ngrok_reverse_proxy_usage_filter`",
    )
    (tmp_path / "d.yml").write_text(yaml.safe_dump(data))
    report = tmp_path / "r.json"
    result = runner.invoke(app, ["compile", str(tmp_path / "d.yml"), "--report", str(report), "--no-sql"])
    assert result.exit_code == int(ExitCode.DETECTION_FAILED)
    (entry,) = json.loads(report.read_text())["detections"]
    assert entry["compiled"] is False
    assert entry["reason"].startswith("command 'transaction' is not supported at position ")


def test_test_command_passes_the_shipped_detections_and_writes_junit(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = runner.invoke(app, ["test", "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    suites = ET.parse(junit).getroot()
    detections = len(list((SHIPPED / "detections").glob("*.yml")))  # each with one test, run as unit and integration
    assert suites.get("tests") == str(2 * detections) and suites.get("failures") == "0" and suites.get("errors") == "0"
    names = sorted(case.get("name") or "" for case in suites.iter("testcase"))
    assert names == ["True Positive Test [integration]"] * detections + ["True Positive Test [unit]"] * detections


def test_a_user_filter_macro_tunes_out_allowed_use(tmp_path: Path) -> None:
    macros = tmp_path / "macros"
    macros.mkdir()
    (macros / "windows_ngrok_reverse_proxy_usage_filter.yml").write_text(
        yaml.safe_dump(
            {
                "name": "windows_ngrok_reverse_proxy_usage_filter",
                "definition": 'search NOT dest IN ("win-lab-07.tunnelhunt.test")',
            }
        )
    )
    result = runner.invoke(app, ["test", "Windows Ngrok Reverse Proxy Usage", "--macros", str(macros)])
    assert result.exit_code == int(ExitCode.DETECTION_FAILED)
    assert "the search returned no results" in result.output
    near_miss = runner.invoke(app, ["test", "Windows Ngrok Reverse Proxy Usage", "--macros", str(tmp_path / "none")])
    assert near_miss.exit_code == 0, near_miss.output


def test_tests_with_missing_or_remote_data_are_errors_not_passes(tmp_path: Path) -> None:
    data = yaml.safe_load((SHIPPED / "detections" / "ngrok_reverse_proxy_on_network.yml").read_text())
    data["tests"][0]["attack_data"][0]["data"] = "https://media.example.com/attack_data/master/datasets/x/sysmon.log"
    (tmp_path / "d.yml").write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["test", str(tmp_path / "d.yml")])
    assert result.exit_code == int(ExitCode.DETECTION_FAILED)
    assert "pass --data-root" in result.output
    root = tmp_path / "attack"
    (root / "datasets" / "x").mkdir(parents=True)
    shutil.copy(SHIPPED / "data" / "ngrok_windows_sysmon.log", root / "datasets" / "x" / "sysmon.log")
    found = runner.invoke(app, ["test", str(tmp_path / "d.yml"), "--data-root", str(root)])
    assert found.exit_code == 0, found.output
