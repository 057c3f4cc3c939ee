"""SigmaHQ's regression suite (the shared part): every EVTX case matches at least `match_count` events."""

from __future__ import annotations

from pathlib import Path

import pytest
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
