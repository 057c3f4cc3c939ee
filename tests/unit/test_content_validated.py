"""Content validated once (`content/validated.py`): the models read from the cache equal the ones validated
from YAML, exactly (classes, types, extras, fields set); entries of another shape are ignored and written
again; what the encoding cannot hold and files that fail are never cached."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from tunnelhunt.content import validated
from tunnelhunt.content.behaviours import BehaviourAnalytic, load_behaviours
from tunnelhunt.content.cache import ContentCache
from tunnelhunt.content.files import ContentError
from tunnelhunt.content.loader import SHIPPED, load_content, load_detection, source_path
from tunnelhunt.content.models import Detection
from tunnelhunt.content.services import load_catalogue

DETECTION = """\
name: Near Miss
id: 0d3c2a4e-5b6f-4a1b-9c8d-7e6f5a4b3c2d
date: 2024-01-02
type: TTP
search: '| tstats count from datamodel=Endpoint.Processes'
tags:
  analytic_story: [Story]
  asset_type: Endpoint
  observable:
    - {name: dest, type: Hostname, role: [Victim]}
  message: m
  risk_score: 25
vendor_note: {seen: 2023-05-06 07:08:09, count: 3, ratio: 1.0, flag: true, list: [1, 1.5, "1"]}
"""


def _entries(root: Path) -> list[Path]:
    return sorted((root / validated.KIND).rglob("*.json"))


def _same_through(a: object, b: object) -> bool:
    return validated._same(a, b)  # type: ignore[arg-type]


def test_all_shipped_content_reads_back_equal_from_the_cache(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path)
    fresh = load_content()
    cold = load_content(cache=cache)
    written = len(_entries(tmp_path))
    warm = load_content(cache=cache)
    assert written == len(_entries(tmp_path)) > 60  # every file cached on the first run, none added after
    assert [d.id for d in warm.detections] == [d.id for d in fresh.detections]
    for ours, theirs in zip(warm.detections + cold.detections, fresh.detections * 2, strict=True):
        assert _same_through(ours, theirs) and source_path(ours) == source_path(theirs)
    assert warm.macros.macros == fresh.macros.macros
    assert {n: d.model for n, d in warm.lookups.definitions.items()} == {
        n: d.model for n, d in fresh.lookups.definitions.items()
    }
    assert all(_same_through(a, b) for a, b in zip(load_behaviours(cache=cache), load_behaviours(), strict=True))
    assert load_catalogue(cache=cache) == load_catalogue(cache=cache) == load_catalogue()
    assert len(_entries(tmp_path)) == written + len(load_behaviours()) + 1


def test_types_extras_and_fields_set_survive(tmp_path: Path) -> None:
    path = tmp_path / "d.yml"
    path.write_text(DETECTION)
    cache = ContentCache(tmp_path / "cache")
    validated_once = load_detection(path, cache)
    [entry] = _entries(tmp_path / "cache")
    read_back = load_detection(path, cache)
    assert read_back.date == dt.date(2024, 1, 2) and type(read_back.date) is dt.date
    extra = read_back.model_extra or {}
    assert extra["vendor_note"] == {"seen": dt.datetime(2023, 5, 6, 7, 8, 9), "count": 3, "ratio": 1.0,
                                    "flag": True, "list": [1, 1.5, "1"]}  # fmt: skip
    assert [type(v) for v in extra["vendor_note"]["list"]] == [int, float, str]
    assert read_back.model_fields_set == validated_once.model_fields_set
    assert read_back.tags.model_fields_set == validated_once.tags.model_fields_set
    assert read_back.risk == validated_once.risk and read_back.risk is not None
    assert source_path(read_back) == path
    assert "source_path" not in entry.read_text()  # the loader's attribute is set on each load, not kept


@pytest.mark.parametrize(
    ("extra", "key", "value"),
    [
        ("by_port: {53: dns, 443: https}", "by_port", {53: "dns", 443: "https"}),  # YAML keys that are not text
        ("ratio: .nan", "ratio", None),  # read back, NaN would not equal itself
        ("blob: !!binary aGk=", "blob", b"hi"),
    ],
)
def test_a_value_the_encoding_cannot_hold_is_not_cached(tmp_path: Path, extra: str, key: str, value: object) -> None:
    path = tmp_path / "d.yml"
    path.write_text(DETECTION + extra + "\n")
    cache = ContentCache(tmp_path / "cache")
    first = load_detection(path, cache)
    assert _entries(tmp_path / "cache") == []
    assert value is None or (first.model_extra or {})[key] == value
    assert load_detection(path, cache).model_extra.keys() == first.model_extra.keys()  # type: ignore[union-attr]


def test_a_file_that_fails_fails_every_time_and_is_never_cached(tmp_path: Path) -> None:
    path = tmp_path / "d.yml"
    path.write_text(DETECTION.replace("type: TTP\n", ""))
    cache = ContentCache(tmp_path / "cache")
    for _ in range(2):
        with pytest.raises(ContentError, match="type"):
            load_detection(path, cache)
    assert _entries(tmp_path / "cache") == []


def test_a_changed_file_is_validated_again(tmp_path: Path) -> None:
    path = tmp_path / "d.yml"
    path.write_text(DETECTION)
    cache = ContentCache(tmp_path / "cache")
    load_detection(path, cache)
    path.write_text(DETECTION.replace("search: '|", "search: ''\nx: '|"))  # now an empty search
    with pytest.raises(ContentError, match="search"):
        load_detection(path, cache)


@pytest.mark.parametrize(
    "damage",
    [
        lambda e: "not json",
        lambda e: json.dumps({"m": "Detection"}),  # not the fields of a model
        lambda e: json.dumps(e | {"m": "ContentctlDetection"}),  # a class the model does not hold
        lambda e: json.dumps(e | {"m": "Path"}),
        lambda e: json.dumps(e | {"f": e["f"] | {"search": {"l": [{"date": "not a date"}]}}}),
        lambda e: json.dumps(e | {"f": {k: v for k, v in e["f"].items() if k != "search"}}),
        lambda e: json.dumps(e | {"x": {"name": "twice"}}),  # an extra that is also a field
        lambda e: json.dumps(e | {"f": e["f"] | {"tags": {"q": 1}}}),
        lambda e: json.dumps([e]),
    ],
)
def test_an_entry_of_another_shape_is_ignored_and_written_again(tmp_path: Path, damage: object) -> None:
    path = tmp_path / "d.yml"
    path.write_text(DETECTION)
    cache = ContentCache(tmp_path / "cache")
    expected = load_detection(path, cache)
    [entry] = _entries(tmp_path / "cache")
    good = entry.read_text()
    entry.write_text(damage(json.loads(good)))  # type: ignore[operator]
    assert _same_through(load_detection(path, cache), expected)
    assert entry.read_text() == good


def test_model_classes_are_the_ones_the_fields_hold() -> None:
    names = set(validated.model_classes(Detection))
    assert {"Detection", "Rba", "RiskObject", "ThreatObject", "Tags", "Observable", "Drilldown", "DetectionTest",
            "AttackData", "Schedule"} == names  # fmt: skip
    behaviour = validated.model_classes(BehaviourAnalytic)
    assert behaviour["BehaviourAnalytic"] is BehaviourAnalytic and "Detection" not in behaviour  # a base is no field


def test_without_a_cache_nothing_is_written(tmp_path: Path) -> None:
    shutil.copy(SHIPPED / "detections" / "current_tunnel_service_domains_in_dns.yml", tmp_path / "d.yml")
    assert load_detection(tmp_path / "d.yml", None).name
    assert list(tmp_path.iterdir()) == [tmp_path / "d.yml"]
