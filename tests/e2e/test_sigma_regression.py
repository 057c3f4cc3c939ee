"""SigmaHQ's regression suite (the shared part): every EVTX case matches at least `match_count` events, and so
does each sample's JSON rendering (a JSON document, read by the `*-document` readers) as a `json` case."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import shared_dataset
from tunnelhunt.actions.test import sigma_regression
from tunnelhunt.cli.app import app
from tunnelhunt.sigma.regression import discover

pytestmark = pytest.mark.shared

#: Samples holding more events the rule rightly matches than their info.yml counts (docs/sigma.md).
MORE_THAN_COUNTED = {
    "file_event_win_cred_dump_tools_dropped_files": 3,  # procdump.exe, procdump64.exe, procdump64a.exe dropped
    "registry_set_disable_administrative_share": 2,  # AutoShareServer and AutoShareWks both set to 0
    "proc_creation_win_github_self_hosted_runner": 2,  # no match_count given: at least one
}


def test_every_shared_regression_case_passes() -> None:
    root = shared_dataset("sigma/regression_data")
    rules = [shared_dataset("sigma/" + d) for d in ("rules", "rules-emerging-threats", "rules-threat-hunting")]
    report = sigma_regression(root, rules)  # each sample read by the real ingest into the raw-event store
    assert report.total == len(discover(root)) == 111
    assert [(r.case.info.parent.name, r.error, r.matched) for r in report.failures] == []
    inexact = {r.case.info.parent.name: r.matched for r in report.results if not r.exact}
    assert inexact == MORE_THAN_COUNTED


def test_every_case_passes_the_same_on_its_json_sample(tmp_path: Path) -> None:
    """Each info.yml rewritten to name the sample's JSON twin (`type: json`, as SigmaHQ's runner also takes):
    the pretty-printed `evtx_dump` JSON is read as JSON documents and every rule matches as on the EVTX."""
    root = shared_dataset("sigma/regression_data")
    rules = [shared_dataset("sigma/" + d) for d in ("rules", "rules-emerging-threats", "rules-threat-hunting")]
    copy = tmp_path / "regression_data"
    for info in sorted(root.rglob("info.yml")):
        data = yaml.safe_load(info.read_text(encoding="utf-8")) or {}
        tests = data.get("regression_tests_info") or []
        if not tests:
            continue
        folder = copy / info.parent.relative_to(root)
        folder.mkdir(parents=True)
        for test in tests:
            sample = info.parent / Path(test["path"]).with_suffix(".json").name
            shutil.copyfile(sample, folder / sample.name)
            test.update(type="json", path=sample.name)
        (folder / "info.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    report = sigma_regression(copy, rules)
    assert report.total == 111 and {r.case.kind for r in report.results} == {"json"}
    assert [(r.case.info.parent.name, r.error, r.matched) for r in report.failures] == []
    inexact = {r.case.info.parent.name: r.matched for r in report.results if not r.exact}
    assert inexact == MORE_THAN_COUNTED


def test_a_sample_the_ingest_cannot_read_fails_its_case(tmp_path: Path) -> None:
    """A case whose sample is of a type the ingest does not know (here a Cisco syslog line given to a Windows
    rule) is run and fails with the reason, not dropped."""
    root = shared_dataset("sigma/regression_data")
    info = next(p for p in sorted(root.rglob("info.yml")) if "proc_creation" in p.parent.name)
    raw = shared_dataset("sigma/regression_data/rules/cisco/aaa/cisco_cli_dot1x_disabled")
    folder = tmp_path / "regression_data" / "case"
    folder.mkdir(parents=True)
    sample = next(raw.glob("*.raw"))
    shutil.copyfile(sample, folder / sample.name)
    data = yaml.safe_load(info.read_text(encoding="utf-8"))
    data["regression_tests_info"] = [{"name": "raw line", "type": "raw", "match_count": 1, "path": sample.name}]
    (folder / "info.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    report = sigma_regression(tmp_path / "regression_data", [shared_dataset("sigma/rules")])
    [result] = report.results
    assert not result.passed and result.case.kind == "raw"
    assert result.error is not None and "format not recognised" in result.error, result.error


def test_the_regression_runner_from_the_command_line_reports_each_case(tmp_path: Path) -> None:
    root = shared_dataset("sigma/regression_data/rules-emerging-threats")
    junit = tmp_path / "regression.xml"
    result = CliRunner().invoke(
        app, ["test", "--sigma-regression", str(root), "--sigma", str(shared_dataset("sigma/rules-emerging-threats")),
              "--junit", str(junit)],
    )  # fmt: skip
    cases = len(discover(root))
    assert result.exit_code == 0, result.stderr
    assert f"{cases} passed, 0 failed" in result.stderr and result.stderr.count("pass  ") == cases
    assert f'tests="{cases}"' in junit.read_text()
