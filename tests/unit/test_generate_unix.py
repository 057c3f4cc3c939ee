"""The Linux and macOS companions of the generated dataset: reproducible, well-formed, honest truth."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tunnelhunt.generate import GeneratedDataset, generate_sysmon

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
SYSLOG = re.compile(r"^[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} (\S+) (\S+?)(?:\[\d+\])?: (.*)$")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> GeneratedDataset:
    return generate_sysmon(tmp_path_factory.mktemp("unix"), events=4000, seed=5)


def test_same_seed_same_bytes(tmp_path: Path, dataset: GeneratedDataset) -> None:
    again = generate_sysmon(tmp_path, events=4000, seed=5)
    assert dataset.linux_path and dataset.macos_path and again.linux_path and again.macos_path
    assert again.linux_path.read_bytes() == dataset.linux_path.read_bytes()
    assert again.macos_path.read_bytes() == dataset.macos_path.read_bytes()


def test_linux_lines_are_syslog_with_sysmon_for_linux_events(dataset: GeneratedDataset) -> None:
    assert dataset.linux_path is not None
    lines = dataset.linux_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 200
    programs = set()
    for line in lines:
        match = SYSLOG.match(line)
        assert match, line
        host, program, message = match.groups()
        programs.add(program)
        if program != "sysmon":
            continue
        event = etree.fromstring(message.encode(), PARSER)
        assert event.findtext("System/Channel") == "Linux-Sysmon/Operational"
        assert event.findtext("System/Computer") == host
        assert event.find("System/Provider").get("Name") == "Linux-Sysmon"  # type: ignore[union-attr]
        assert event.findtext("System/EventID") in {"1", "3", "11"}
    assert programs == {"sysmon", "CRON"}


def test_macos_lines_are_ecs_events(dataset: GeneratedDataset) -> None:
    assert dataset.macos_path is not None
    records = [json.loads(line) for line in dataset.macos_path.read_text(encoding="utf-8").splitlines()]
    assert {r["event"]["category"][0] for r in records} == {"process", "file", "network"}
    assert all(r["host"]["os"]["type"] == "macos" and r["ecs"]["version"] for r in records)
    times = [r["@timestamp"] for r in records]
    assert times == sorted(times)


def test_truth_points_at_real_lines(dataset: GeneratedDataset) -> None:
    assert dataset.linux_path is not None and dataset.macos_path is not None
    text = dataset.linux_path.read_text(encoding="utf-8") + dataset.macos_path.read_text(encoding="utf-8")
    truth: dict[str, Any] = json.loads(dataset.truth_path.read_text(encoding="utf-8"))
    unix_hosts = ("lnx-", "mbp-", "192.168.")
    planted = [
        entry
        for lists in truth["detections"].values()
        for entry in lists["matches"]
        if str(entry.get("dest") or entry.get("src")).startswith(unix_hosts)
    ]
    assert len(planted) >= 12
    for entry in planted:
        value = entry.get("process") or entry.get("file_path") or entry.get("dest")
        assert json.dumps(value)[1:-1] in text or value in text, value
