"""Detection tests as contentctl runs them, without Splunk.

For each test of a detection, its `attack_data` files are replayed into a fresh in-memory store and
the search runs over all time. The unit test passes when there is at least one result, every
risk-object field is present and not null in each result, and every threat-object field is not null
in at least one. The integration test also builds the risk events: every risk object must yield
one, and every `$field$` of the risk message must be filled in each finding.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import duckdb
import pyarrow as pa

from tunnelhunt.actions.common import OptionError
from tunnelhunt.content.loader import ContentSet, load_content, source_path
from tunnelhunt.content.models import AttackData, Detection, DetectionTest
from tunnelhunt.detect.runner import run_detection
from tunnelhunt.errors import TunnelhuntError
from tunnelhunt.ingest.run import IngestReport, ingest
from tunnelhunt.rba.risk import risk_events
from tunnelhunt.sigma.regression import RegressionReport, run_regression
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.events import EVENTS_TABLE

Status = Literal["pass", "fail", "error", "skip"]
TestKind = Literal["unit", "integration"]
_TOKEN = re.compile(r"\$([A-Za-z0-9_.]+)\$")


@dataclass
class TestResult:
    detection: str
    test: str
    kind: TestKind
    status: Status
    message: str = ""
    duration: float = 0.0
    findings: int = 0


@dataclass
class DetectionTestRun:
    detection: Detection
    results: list[TestResult] = field(default_factory=list)


class AttackDataMissing(TunnelhuntError):
    """An attack_data file that cannot be found locally (tunnelhunt never downloads)."""


def resolve_attack_data(data: AttackData, detection: Detection, data_root: Path | None) -> Path:
    """A local file for `data.data`: relative to the YAML, or found under `data_root` (URLs too)."""
    reference = data.data
    parsed = urlparse(reference)
    candidates: list[Path] = []
    if parsed.scheme in ("http", "https"):
        if data_root is None:
            raise AttackDataMissing(f"{reference} is a URL; pass --data-root with a local copy of the attack data")
        parts = [p for p in parsed.path.split("/") if p]
        candidates = [data_root.joinpath(*parts[i:]) for i in range(len(parts))]
    else:
        yaml_path = source_path(detection)
        relative = Path(reference)
        if relative.is_absolute():
            candidates.append(relative)
        else:
            if yaml_path is not None:
                candidates.append(yaml_path.parent / relative)
            if data_root is not None:
                candidates.append(data_root / relative)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    where = f" under {data_root}" if data_root else ""
    raise AttackDataMissing(f"attack data {reference} not found{where}")


def _missing(value: Any) -> bool:
    return value is None or value in ("", "null") or value == []  # fillnull_value=null writes "null"


def unit_verdict(detection: Detection, rows: list[dict[str, Any]]) -> tuple[bool, str]:
    if not rows:
        return False, "the search returned no results"
    rba = detection.risk
    if rba is None:
        return True, f"{len(rows)} result(s)"
    for risk_object in rba.risk_objects:
        empty = sum(1 for row in rows if _missing(row.get(risk_object.field)))
        if empty:
            present = "missing from the results" if risk_object.field not in rows[0] else f"null in {empty} result(s)"
            return False, f"risk object field '{risk_object.field}' is {present}"
    for threat_object in rba.threat_objects:
        if all(_missing(row.get(threat_object.field)) for row in rows):
            return False, f"threat object field '{threat_object.field}' is null in every result"
    return True, f"{len(rows)} result(s)"


def integration_verdict(detection: Detection, rows: list[dict[str, Any]]) -> tuple[bool, str]:
    rba = detection.risk
    assert rba is not None
    events = risk_events(detection, rows)
    for risk_object in rba.risk_objects:
        if not any(event["risk_object_field"] == risk_object.field for event in events):
            return False, f"no risk event for risk object '{risk_object.field}'"
    for row in rows:
        unfilled = [name for name in _TOKEN.findall(rba.message) if _missing(row.get(name))]
        if unfilled:
            return False, f"risk message leaves ${unfilled[0]}$ empty"
    return True, f"{len(events)} risk event(s)"


def _ingest_problems(report: IngestReport) -> str | None:
    failed = report.failed_files
    if failed:
        return "; ".join(f"{f.path}: {f.error}" for f in failed)
    return None


def run_test(
    detection: Detection, test: DetectionTest, content: ContentSet, data_root: Path | None
) -> list[TestResult]:
    started = time.monotonic()
    name = detection.name

    def result(kind: TestKind, status: Status, message: str, findings: int = 0) -> TestResult:
        return TestResult(name, test.name, kind, status, message, time.monotonic() - started, findings)

    def both(status: Status, message: str) -> list[TestResult]:
        return [result("unit", status, message), result("integration", status, message)]

    if not test.attack_data:
        return both("skip", "the test has no attack_data")
    try:
        files = [resolve_attack_data(data, detection, data_root) for data in test.attack_data]
    except AttackDataMissing as exc:
        return both("error", str(exc))
    with Store() as store:
        report = ingest(files, store)
        problem = _ingest_problems(report)
        if problem:
            return both("error", f"attack data could not be read: {problem}")
        run = run_detection(store, detection, content.macros, lookups=content.lookups)
    if run.error:
        return both("error", run.error)
    rows = run.rows
    passed, message = unit_verdict(detection, rows)
    unit = result("unit", "pass" if passed else "fail", message, len(rows))
    if not passed:
        return [unit, result("integration", "fail", f"unit test failed: {message}", len(rows))]
    if detection.risk is None:
        return [unit, result("integration", "skip", "the detection has no risk configuration", len(rows))]
    ok, detail = integration_verdict(detection, rows)
    return [unit, result("integration", "pass" if ok else "fail", detail, len(rows))]


def run_tests(
    detections: Iterable[Detection], content: ContentSet, data_root: Path | None = None
) -> list[DetectionTestRun]:
    runs: list[DetectionTestRun] = []
    for detection in detections:
        run = DetectionTestRun(detection)
        if detection.type == "Correlation":
            run.results.append(TestResult(detection.name, "-", "unit", "skip", "correlation searches are not tested"))
        elif detection.tags.manual_test:
            run.results.append(
                TestResult(detection.name, "-", "unit", "skip", f"manual test: {detection.tags.manual_test}")
            )
        elif not detection.tests:
            run.results.append(TestResult(detection.name, "-", "unit", "skip", "the detection has no tests"))
        for test in detection.tests if not run.results else []:
            run.results.extend(run_test(detection, test, content, data_root))
        runs.append(run)
    return runs


class UnknownDetection(TunnelhuntError):
    """A name or id given to `test` that no loaded detection has."""


@dataclass
class TestSuiteResult:
    """`test`: every detection's results, and the content files that failed to load."""

    runs: list[DetectionTestRun]
    content: ContentSet

    def counts(self) -> dict[str, int]:
        counts = {"pass": 0, "fail": 0, "error": 0, "skip": 0}
        for run in self.runs:
            for result in run.results:
                counts[result.status] += 1
        return counts


def test_content(
    arguments: Sequence[str], data_root: Path | None = None, macros: Sequence[Path] = ()
) -> TestSuiteResult:
    """Test detections named by file, folder, name or id (default: every shipped detection)."""
    paths = [Path(a) for a in arguments if Path(a).exists()]
    names = [a for a in arguments if not Path(a).exists()]
    content = load_content(paths, list(macros), shipped_detections=not paths)
    chosen = content.detections
    if names:
        chosen = []
        for key in names:
            match = [d for d in content.detections if key in (d.name, d.id)]
            if not match:
                raise UnknownDetection(f"no detection named or with id {key!r}")
            chosen.extend(match)
    return TestSuiteResult(run_tests(chosen, content, data_root), content)


test_content.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name


def _ingested_events(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> pa.Table:
    """A regression sample read by the real ingest, its raw events handed to the case's connection."""
    with Store() as store:
        report = ingest(paths, store)
        problem = _ingest_problems(report)
        if problem:
            raise ValueError(problem)
        events = store.query(f"SELECT * FROM {EVENTS_TABLE}")
    con.register(EVENTS_TABLE, events)
    return events


def sigma_regression(root: Path, rules: Sequence[Path] = ()) -> RegressionReport:
    """SigmaHQ's regression suite (`regression_data`): each case's rule over its sample, read by the
    real ingest; rules are looked up by id in `rules` (default: the `rules*` folders beside `root`)."""
    if not root.is_dir():
        raise OptionError(f"{root}: not a folder (give SigmaHQ's regression_data)")
    folders = list(rules) or sorted(p for p in root.parent.glob("rules*") if p.is_dir())
    if not folders:
        raise OptionError(f"no Sigma rules beside {root}: give them with --sigma")
    return run_regression(root, folders, _ingested_events)
