"""A hunt through the compiled-content cache finds exactly what a hunt without it finds: the same runs and
rows, risk events and findings, cold (filling the cache) and warm (reading it), ESCU and Sigma alike, with
a detection that does not compile and one whose SQL depends on the time it is compiled at."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support import formats as F
from tunnelhunt.actions.hunt import HuntOptions, hunt
from tunnelhunt.content.cache import ContentCache
from tunnelhunt.content.loader import load_content
from tunnelhunt.content.models import Detection
from tunnelhunt.detect.precompiled import KIND, CachedSearch
from tunnelhunt.detect.runner import compile_cached
from tunnelhunt.spl.errors import SplError
from tunnelhunt.spl.window import TimeWindow

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

BROKEN = """\
name: Test Does Not Compile
id: 1f0c5a44-0000-4000-8000-000000000001
version: 1
type: Anomaly
search: '| tstats count from datamodel=Endpoint.Processes | nosuchcommand x'
"""
LIVE = """\
name: Test Depends On Now
id: 1f0c5a44-0000-4000-8000-000000000002
version: 1
type: Anomaly
search: |-
  | tstats count from datamodel=Endpoint.Processes by Processes.dest
  | eval checked=now() | where checked > 0 | fields - checked | `test_depends_on_now_filter`
"""
WITH_LOOKUP = """\
name: Test Tool From A Lookup
id: 1f0c5a44-0000-4000-8000-000000000004
version: 1
type: Anomaly
search: |-
  | tstats count from datamodel=Endpoint.Processes by Processes.dest Processes.process_name
  | `drop_dm_object_name(Processes)` | lookup tools tool AS process_name OUTPUT kind | where kind="tunnel"
"""
SIGMA = """\
title: ngrok started
id: 2a9b7c11-0000-4000-8000-000000000003
level: high
logsource: {category: process_creation, product: windows}
detection:
  selection: {Image|endswith: '\\\\ngrok.exe'}
  condition: selection
"""


def _content(tmp_path: Path) -> tuple[Path, Path]:
    """A content folder (detections and a lookup) and a Sigma rule folder."""
    detections = tmp_path / "content" / "detections"
    detections.mkdir(parents=True)
    (detections / "broken.yml").write_text(BROKEN)
    (detections / "live.yml").write_text(LIVE)
    (detections / "lookup.yml").write_text(WITH_LOOKUP)
    lookups = tmp_path / "content" / "lookups"
    lookups.mkdir()
    (lookups / "tools.yml").write_text(
        "name: tools\nfilename: tools.csv\ncase_sensitive_match: 'false'\nmatch_type: WILDCARD(tool)\n"
    )
    (lookups / "tools.csv").write_text("tool,kind\nngrok*,tunnel\nsvchost*,system\n")
    sigma = tmp_path / "sigma"
    sigma.mkdir()
    (sigma / "ngrok.yml").write_text(textwrap.dedent(SIGMA))
    return tmp_path / "content", sigma


def _outcome(options: HuntOptions) -> dict[str, Any]:
    result = hunt(options, now=AT)
    runs = {
        run.detection.id: (run.error, json.dumps(run.rows, default=str, sort_keys=True), run.warnings)
        for run in result.runs
    }
    return {
        "runs": runs,
        "risk": json.dumps(result.passed.risk_events, default=str, sort_keys=True),
        "findings": json.dumps(result.passed.findings, default=str, sort_keys=True),
    }


def test_a_hunt_finds_the_same_with_the_cache_cold_warm_and_without(tmp_path: Path) -> None:
    log = tmp_path / "windows.json"
    F.write_windows_json(log)
    detections, sigma = _content(tmp_path)
    cache = tmp_path / "cache"

    def options(**kw: Any) -> HuntOptions:
        return HuntOptions(paths=[log], detections=[detections], sigma=[sigma], cache_dir=cache, **kw)

    without = _outcome(options(cache=False))
    assert not cache.exists()
    cold = _outcome(options())
    assert sorted(p.name for p in cache.iterdir()) == ["model", "sigma", "sigma-scan", "sigma-yaml", "spl"]
    warm = _outcome(options())
    assert without == cold == warm

    runs = without["runs"]
    assert runs["1f0c5a44-0000-4000-8000-000000000001"][0].startswith("does not compile:")
    assert json.loads(runs["2a9b7c11-0000-4000-8000-000000000003"][1])  # the Sigma rule matched
    assert json.loads(runs["1f0c5a44-0000-4000-8000-000000000002"][1])  # the live search found its host
    assert [row["kind"] for row in json.loads(runs["1f0c5a44-0000-4000-8000-000000000004"][1])] == [["tunnel"]]
    assert json.loads(without["risk"]) and json.loads(without["findings"])


def _detection(tmp_path: Path, name: str) -> tuple[Detection, Any]:
    root, _ = _content(tmp_path)
    content = load_content([root / "detections" / name])
    (detection,) = [d for d in content.detections if d.id.startswith("1f0c5a44")]
    return detection, content


def test_a_search_that_depends_on_the_time_is_compiled_on_every_run(tmp_path: Path) -> None:
    detection, content = _detection(tmp_path, "live.yml")
    cache = ContentCache(tmp_path / "cache")
    compiled = compile_cached(detection, content.macros, None, content.lookups, cache)
    assert not isinstance(compiled, CachedSearch)  # compiled now, at the time of this run
    (entry,) = (tmp_path / "cache" / KIND).rglob("*.json")
    assert json.loads(entry.read_text()) == {"live": True}


def test_a_compile_error_is_kept_with_its_message_and_a_corrupt_entry_is_rebuilt(tmp_path: Path) -> None:
    detection, content = _detection(tmp_path, "broken.yml")
    cache = ContentCache(tmp_path / "cache")
    with pytest.raises(SplError) as fresh:
        compile_cached(detection, content.macros, None, content.lookups, None)
    with pytest.raises(SplError) as cold:
        compile_cached(detection, content.macros, None, content.lookups, cache)
    (entry,) = (tmp_path / "cache" / KIND).rglob("*.json")
    assert json.loads(entry.read_text()) == {"error": str(fresh.value)}
    with pytest.raises(SplError) as warm:
        compile_cached(detection, content.macros, None, content.lookups, cache)
    assert str(fresh.value) == str(cold.value) == str(warm.value)

    entry.write_text('{"sql": 5, "columns": "x"')  # half-written and of the wrong shape
    with pytest.raises(SplError):
        compile_cached(detection, content.macros, None, content.lookups, cache)
    assert json.loads(entry.read_text()) == {"error": str(fresh.value)}


def test_a_cached_search_holds_the_sql_columns_and_lookups_of_the_compiled_one(tmp_path: Path) -> None:
    with_lookups, content = _detection(tmp_path, "lookup.yml")
    cache = ContentCache(tmp_path / "cache")
    fresh = compile_cached(with_lookups, content.macros, None, content.lookups, None)
    compile_cached(with_lookups, content.macros, None, content.lookups, cache)
    warm = compile_cached(with_lookups, content.macros, None, content.lookups, cache)
    assert isinstance(warm, CachedSearch)
    assert warm.sql("duckdb") == fresh.sql("duckdb")
    assert warm.columns == fresh.columns and warm.warnings == fresh.warnings
    assert warm.lookups == fresh.lookups and warm.lookups
    with pytest.raises(ValueError):
        warm.sql("spark")


def test_a_hunt_over_a_window_compiles_its_detections_without_the_cache(tmp_path: Path) -> None:
    """The window is in the SQL: a relative one would leave entries on every run that no run finds again."""
    log = tmp_path / "windows.json"
    F.write_windows_json(log)
    cache = tmp_path / "cache"
    window = TimeWindow(datetime(2026, 11, 1, tzinfo=UTC), None)
    with_window = hunt(HuntOptions(paths=[log], cache_dir=cache, window=window), now=AT)
    assert with_window.passed.risk_events and not (cache / KIND).exists()
    hunt(HuntOptions(paths=[log], cache_dir=cache), now=AT)
    assert list((cache / KIND).rglob("*.json"))
