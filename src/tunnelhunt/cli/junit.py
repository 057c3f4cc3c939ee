"""JUnit XML for detection tests and Sigma regression cases, the format CI systems read."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from tunnelhunt.actions.test import DetectionTestRun
from tunnelhunt.sigma.regression import RegressionReport


def junit_tree(runs: Iterable[DetectionTestRun]) -> ET.ElementTree:
    root = ET.Element("testsuites", name="tunnelhunt test")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for run in runs:
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite = ET.SubElement(root, "testsuite", name=run.detection.name, id=run.detection.id)
        duration = 0.0
        for result in run.results:
            counts["tests"] += 1
            duration += result.duration
            case = ET.SubElement(
                suite,
                "testcase",
                classname=run.detection.name,
                name=f"{result.test} [{result.kind}]",
                time=f"{result.duration:.3f}",
            )
            if result.status == "fail":
                counts["failures"] += 1
                ET.SubElement(case, "failure", message=result.message).text = result.message
            elif result.status == "error":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=result.message).text = result.message
            elif result.status == "skip":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=result.message)
            else:
                ET.SubElement(case, "system-out").text = result.message
        suite.set("time", f"{duration:.3f}")
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    return ET.ElementTree(root)


def write_junit(runs: Iterable[DetectionTestRun], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = junit_tree(runs)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def write_regression_junit(report: RegressionReport, path: Path) -> None:
    """SigmaHQ regression cases as JUnit: one suite, one case per rule and sample."""
    root = ET.Element("testsuites", name="tunnelhunt sigma regression")
    suite = ET.SubElement(root, "testsuite", name="sigma regression_data")
    failures = errors = 0
    for result in report.results:
        case = ET.SubElement(suite, "testcase", classname=result.case.rule_id, name=result.case.title)
        if result.error:
            errors += 1
            ET.SubElement(case, "error", message=result.error).text = result.error
        elif not result.passed:
            failures += 1
            message = f"{result.matched} match(es), expected {result.case.match_count}"
            ET.SubElement(case, "failure", message=message).text = message
    for element in (root, suite):
        element.set("tests", str(report.total))
        element.set("failures", str(failures))
        element.set("errors", str(errors))
    tree = ET.ElementTree(root)
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
