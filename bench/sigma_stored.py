"""Issue 20's last row: the full SigmaHQ Windows ruleset over N stored events (the raw `events` table).

The events are made by DuckDB as `bench/raw.py` makes them (a Sysmon / Security / PowerShell mix with a
few ngrok events). A separate process opens the store, loads the rules, converts them through the
content cache and runs them as `hunt --sigma` does (rules of one logsource share a scan); it runs twice,
first with an empty cache (conversion included, reported apart), then measured with the cache warm.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench.raw import build_raw_events
from bench.sigma import RULES, measured


def stored_side(store_path: Path, rules: Path, out: Path, cache: Path) -> None:
    """The measured process: load, convert (cached) and match every rule over the stored events."""
    from tunnelhunt.collector import no_collection
    from tunnelhunt.content.cache import open_cache
    from tunnelhunt.sigma import load_content, run_sigma
    from tunnelhunt.store.duckdb_store import Store

    started = time.perf_counter()
    opened = open_cache(cache)
    content = load_content([rules], opened)  # as `hunt --sigma` loads them
    content.cache = opened
    loaded = time.perf_counter()
    with Store(store_path) as store, no_collection():
        runs = run_sigma(store, content.rules, compiler=content.compiler())
    matched = time.perf_counter()
    result = {
        "rules": len(content.rules),
        "failed_rules": sum(1 for run in runs if run.error),
        # counted on the Arrow tables: `run.rows` would build a dict per matched event (232,560 at 1 M
        # events: seconds of CPU and ~0.5 GB the engine never holds, all charged to this process)
        "rules_with_hits": sum(1 for run in runs if _matched(run)),
        "matches": sum(_matched(run) for run in runs),
        "seconds_load": round(loaded - started, 2),
        "seconds_match": round(matched - loaded, 2),
    }
    out.write_text(json.dumps(result))


def _matched(run: Any) -> int:
    return run.findings.num_rows if run.findings is not None else 0


def measure_sigma_stored(shared: Path | None, work: Path, events: int) -> dict[str, Any]:
    """The row: build (or reuse) N stored events, then a cold and a measured warm run of the ruleset."""
    if shared is None:
        return {"skipped": "no shared datasets folder"}
    path = work / f"sigma-stored-{events}.duckdb"
    stamp = path.with_suffix(".built")
    if not (path.exists() and stamp.exists()):
        stamp.unlink(missing_ok=True)
        build_seconds = build_raw_events(path, events)
        stamp.write_text(str(build_seconds))
    cache = work / "sigma-stored-cache"
    shutil.rmtree(cache, ignore_errors=True)
    out = work / "sigma-stored.json"
    command = [sys.executable, "-m", "bench.sigma_stored", str(path), str(shared / RULES), str(out), str(cache)]
    cold, cold_cpu = measured(command)
    warm, warm_cpu = measured(command)
    if cold.returncode or warm.returncode:
        return {"error": f"Sigma over stored events failed: {(warm if warm.returncode else cold).stderr_tail}"}
    side = json.loads(out.read_text())
    return {
        "stored_events": events,
        **side,
        "seconds": round(warm.seconds, 2),
        "cpu_seconds": warm_cpu,
        "peak_mb": warm.peak_rss_mb,
        "cold_seconds": round(cold.seconds, 2),
        "cold_cpu_seconds": cold_cpu,
    }


def describe_sigma_stored(row: dict[str, Any]) -> str:
    if "skipped" in row or "error" in row:
        return f"sigma over stored events: {row.get('skipped') or row.get('error')}"
    return (
        f"sigma over stored events: {row['rules']} rules over {row['stored_events']:,} events in {row['seconds']} s "
        f"({row['cpu_seconds']} CPU s; load {row['seconds_load']} s, match {row['seconds_match']} s), peak "
        f"{row['peak_mb']} MB, {row['matches']:,} matches from {row['rules_with_hits']} rules, "
        f"{row['failed_rules']} rules failed; with an empty content cache {row['cold_seconds']} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sigma_stored", description="(internal) the measured side")
    parser.add_argument("store", type=Path)
    parser.add_argument("rules", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("cache", type=Path)
    args = parser.parse_args(argv)
    stored_side(args.store, args.rules, args.out, args.cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
