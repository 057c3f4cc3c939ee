"""Run the benchmark: `python -m bench [--quick] [--out bench/results.json]`.

For each input format, on the same files in one run: the parse-only floor, end-to-end `tunnelhunt hunt`
(a real CLI process, every core), events/s, MB/s, the ratio of the two and the peak RSS of the hunt's
whole process tree. Then the memory trend of `hunt` on larger Sysmon XML inputs, the time all
shipped detections take over a stored table of N events, and the raw-event store (`bench/raw.py`):
ingest with and without it on the Sysmon XML input, and ten raw searches over N stored events.
Start-up (`bench/speed.py`): the import seconds of `--help` and of a hunt of one small file. SigmaHQ's Windows
rules over the shared EVTX corpus, tunnelhunt against Zircolite when `--zircolite DIR` is given (`bench/sigma.py`),
and the EVTX corpus hunted end to end with SigmaHQ's ngrok rules against Zircolite (`bench/peer.py`).
Last, the table of issue 20: each figure of `bench/reference-2core.json` beside this run's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.floors import FLOORS
from bench.measure import run_measured
from bench.peer import describe_peer, measure_peer
from bench.raw import measure_raw
from bench.sigma import describe, measure_sigma
from bench.sigma_stored import describe_sigma_stored, measure_sigma_stored
from bench.speed import measure_startup, print_issue_table
from bench.stored import build_stored, time_detections
from tunnelhunt.generate import generate_sysmon
from tunnelhunt.generate.jsonl import JSONL_NAME, xml_log_to_jsonl
from tunnelhunt.readers.base import ReaderError
from tunnelhunt.readers.detect import EmptyInput, ReaderSet
from tunnelhunt.readers.sources import Source

#: Average size of one generated Sysmon XML event, to size inputs in MB.
XML_EVENT_BYTES = 1400
#: Input sizes (MB of Sysmon XML) of the memory curve issue 20 asks for: peak memory from 1 to 10 GB.
MEMORY_CURVE_MB = (1000, 2000, 5000, 10000)
PROJECT = Path(__file__).resolve().parents[1]
SHARED_EVTX = ("EVTX-ATTACK-SAMPLES", "EVTX-to-MITRE-Attack")

console = Console(stderr=True)


def _hunt_command() -> list[str]:
    script = Path(sys.executable).parent / "tunnelhunt"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "tunnelhunt.cli.app"]
    return [*base, "hunt"]


def _xml_input(work: Path, megabytes: int, name: str) -> Path:
    folder = work / name
    log = folder / "windows-sysmon.log"
    events = max(1000, megabytes * 1_000_000 // XML_EVENT_BYTES)
    stamp = folder / f".events-{events}"
    if not stamp.exists():
        shutil.rmtree(folder, ignore_errors=True)
        console.print(f"generating {events:,} Sysmon XML events (~{megabytes} MB) in {folder}")
        generate_sysmon(folder, events=events, seed=1)
        stamp.touch()
    return log


def _jsonl_input(work: Path, xml_log: Path) -> Path:
    folder = work / f"jsonl-{xml_log.parent.name}"
    path = folder / JSONL_NAME
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        console.print(f"converting {xml_log} to JSON lines")
        xml_log_to_jsonl(xml_log, path)
    return path


def _shared_datasets() -> Path | None:
    for candidate in (PROJECT.parent / "shared" / "datasets", Path("/work/shared/datasets")):
        if candidate.is_dir():
            return candidate
    return None


def _evtx_input(work: Path, megabytes: int) -> list[Path] | str:
    shared = _shared_datasets()
    if shared is None:
        return "no ../shared/datasets with EVTX samples"
    samples = sorted(p for name in SHARED_EVTX for p in (shared / name).rglob("*.evtx"))
    if not samples:
        return "no EVTX samples found"
    folder = work / f"evtx-{megabytes}mb"
    if not folder.exists():
        folder.mkdir(parents=True)
        total, copy = 0, 0
        while total < megabytes * 1_000_000:
            for sample in samples:
                target = folder / f"{copy:04d}-{sample.name.replace(' ', '_')}"
                shutil.copyfile(sample, target)
                total += target.stat().st_size
            copy += 1
    return sorted(folder.glob("*.evtx"))


def _reader_available(path: Path) -> str | None:
    try:
        ReaderSet().choose(Source(path))
    except (ReaderError, EmptyInput) as exc:
        return f"no reader for this format yet ({exc})"
    return None


def measure_format(name: str, paths: list[Path], workers: int | None) -> dict[str, Any]:
    size = sum(p.stat().st_size for p in paths)
    console.print(f"[bold]{name}[/bold]: {len(paths)} file(s), {size / 1e6:,.0f} MB — parse-only floor…")
    floor = FLOORS[name](paths)
    console.print(f"  floor {floor.events_per_s:,.0f} events/s; end-to-end hunt…")
    command = [*_hunt_command(), *map(str, paths), "-o", "jsonl", "--out", os.devnull]
    if workers:
        command += ["--workers", str(workers)]
    run = run_measured(command)
    if run.returncode not in (0, 3):
        return {"error": f"hunt exited {run.returncode}: {run.stderr_tail}", "events": floor.events, "bytes": size}
    hunt_rate = floor.events / run.seconds
    console.print(
        f"  hunt {hunt_rate:,.0f} events/s ({size / 1e6 / run.seconds:,.1f} MB/s), "
        f"{hunt_rate / floor.events_per_s:.2f}× the floor, {run.cpu_seconds:,.1f} s CPU, peak {run.peak_rss_mb:,} MB"
    )
    return {
        "events": floor.events,
        "bytes": size,
        "files": len(paths),
        "floor_parser": floor.parser,
        "floor_seconds": round(floor.seconds, 3),
        "floor_events_per_s": round(floor.events_per_s),
        "floor_mb_per_s": round(size / 1e6 / floor.seconds, 1),
        "hunt_seconds": round(run.seconds, 3),
        "hunt_cpu_seconds": run.cpu_seconds,
        "hunt_cores": round(run.cores, 2),
        "hunt_events_per_s": round(hunt_rate),
        "hunt_mb_per_s": round(size / 1e6 / run.seconds, 1),
        "ratio_to_floor": round(hunt_rate / floor.events_per_s, 3) if floor.events_per_s else None,
        "peak_rss_mb": run.peak_rss_mb,
        "peak_rss_sum_mb": run.peak_rss_sum_mb,
    }


def measure_memory(log: Path, workers: int | None, lake: Path | None = None) -> dict[str, Any]:
    """`hunt` over one large log, into the default memory store or (with `lake`) a fresh Parquet lake."""
    size = log.stat().st_size
    command = [*_hunt_command(), str(log), "-o", "jsonl", "--out", os.devnull]
    if lake is not None:
        shutil.rmtree(lake, ignore_errors=True)
        command += ["--lake", str(lake)]
    if workers:
        command += ["--workers", str(workers)]
    store = "lake" if lake is not None else "memory store"
    console.print(f"memory: hunt over {size / 1e6:,.0f} MB into the {store}…")
    run = run_measured(command)
    if lake is not None:
        shutil.rmtree(lake, ignore_errors=True)
    events = size // XML_EVENT_BYTES
    console.print(f"  {run.seconds:,.0f} s, peak {run.peak_rss_mb:,} MB")
    return {
        "input_mb": round(size / 1e6),
        "store": "lake" if lake is not None else "memory",
        "hunt_seconds": round(run.seconds, 2),
        "hunt_mb_per_s": round(size / 1e6 / run.seconds, 1),
        "approx_events_per_s": round(events / run.seconds),
        "peak_rss_mb": run.peak_rss_mb,
        "peak_rss_sum_mb": run.peak_rss_sum_mb,
        "returncode": run.returncode,
    }


def measure_stored(work: Path, stored_events: int) -> dict[str, Any]:
    stored_path = work / f"stored-{stored_events}.duckdb"
    console.print(f"stored: building {stored_events:,} events in {stored_path}…")
    build_seconds = build_stored(stored_path, stored_events)
    stored = time_detections(stored_path, stored_events, build_seconds)
    size = stored_path.stat().st_size
    stored_path.unlink()
    return {
        "stored_events": stored.stored_events,
        "detections_seconds": stored.detections_seconds,
        "warm_detections_seconds": stored.warm_detections_seconds,
        "build_seconds": stored.build_seconds,
        "findings": stored.findings,
        "per_detection_seconds": stored.per_detection,
        "store_mb": round(size / 1e6),
    }


def measure_formats(
    results: dict[str, Any], work: Path, xml_mb: int, jsonl_mb: int, evtx_mb: int, workers: int | None
) -> None:
    """The per-format rows: Sysmon XML, JSON lines and EVTX (skipped while no reader takes a format)."""
    xml_log = _xml_input(work, xml_mb, f"xml-{xml_mb}mb")
    results["formats"]["sysmon_xml"] = measure_format("sysmon_xml", [xml_log], workers)
    jsonl_log = _jsonl_input(work, _xml_input(work, jsonl_mb, f"xml-{jsonl_mb}mb"))
    missing = _reader_available(jsonl_log)
    results["formats"]["jsonl"] = {"skipped": missing} if missing else measure_format("jsonl", [jsonl_log], workers)
    evtx_paths = _evtx_input(work, evtx_mb)
    if isinstance(evtx_paths, str):
        results["formats"]["evtx"] = {"skipped": evtx_paths}
    else:
        missing = _reader_available(evtx_paths[0])
        results["formats"]["evtx"] = {"skipped": missing} if missing else measure_format("evtx", evtx_paths, workers)


def _print(results: dict[str, Any]) -> None:
    out = Console()
    table = Table(title="tunnelhunt bench", title_justify="left")
    for column in ("input", "events", "MB", "floor ev/s", "hunt ev/s", "hunt MB/s", "hunt/floor", "peak RSS MB"):
        table.add_column(column, justify="right" if column != "input" else "left")
    for name, row in results["formats"].items():
        if "skipped" in row or "error" in row:
            table.add_row(name, "", "", "", "", "", "", row.get("skipped") or row.get("error"))
            continue
        table.add_row(
            name,
            f"{row['events']:,}",
            f"{row['bytes'] / 1e6:,.0f}",
            f"{row['floor_events_per_s']:,}",
            f"{row['hunt_events_per_s']:,}",
            f"{row['hunt_mb_per_s']:,}",
            f"{row['ratio_to_floor']:.2f}",
            f"{row['peak_rss_mb']:,}",
        )
    out.print(table)
    for row in results.get("memory_scaling", []):
        out.print(
            f"memory ({row['store']}): {row['input_mb']:,} MB of XML → peak {row['peak_rss_mb']:,} MB "
            f"({row['hunt_mb_per_s']} MB/s, ~{row['approx_events_per_s']:,} events/s)"
        )
    raw = results.get("raw")
    if raw:
        ing = raw["ingest"]
        out.print(
            f"raw store: ingest {ing['raw']['records_per_s']:,} records/s with it, {ing['no_raw']['records_per_s']:,}"
            f" without ({ing['throughput_ratio']:.2f}×), {ing.get('raw_bytes_per_event')} bytes per event on disk"
        )
        for name, timing in raw["searches"].items():
            out.print(
                f"  {name}: {timing['first_seconds']} s (warm {timing['warm_seconds']} s) over "
                f"{raw['stored_events']:,} events, {timing['rows']} rows"
            )
    stored = results.get("stored")
    if stored:
        out.print(
            f"stored: all shipped detections over {stored['stored_events']:,} events in "
            f"{stored['detections_seconds']} s (warm {stored['warm_detections_seconds']} s)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small inputs, under a minute")
    parser.add_argument("--out", type=Path, default=Path("bench/results.json"))
    parser.add_argument("--work", type=Path, default=Path("build/bench"), help="where inputs are generated")
    parser.add_argument("--xml-mb", type=int, help="Sysmon XML input size (default 1000, quick 40)")
    parser.add_argument("--jsonl-mb", type=int, help="JSON lines input size (default 300, quick 20)")
    parser.add_argument("--evtx-mb", type=int, help="EVTX input size (default 200, quick 10)")
    parser.add_argument("--memory-mb", type=int, nargs="*", help="XML sizes for the memory trend (default 1000 5000)")
    parser.add_argument(
        "--memory-curve",
        action="store_true",
        help=f"the memory trend over {' '.join(map(str, MEMORY_CURVE_MB))} MB of XML (issue 20; ~30 GB of disk)",
    )
    parser.add_argument(
        "--stored-events", type=int, help="events in the stored table (default 100M, quick 1M; 0 skips it)"
    )
    parser.add_argument(
        "--raw-events", type=int, help="events stored for the raw searches (default 10M, quick 200k; 0 skips them)"
    )
    parser.add_argument("--workers", type=int, help="hunt --workers (default: every core)")
    parser.add_argument(
        "--memory-stores",
        nargs="*",
        choices=("memory", "lake"),
        default=["memory", "lake"],
        help="where the memory-trend hunts store events (default both)",
    )
    parser.add_argument(
        "--parts",
        nargs="*",
        choices=("formats", "memory", "stored", "raw", "startup", "sigma", "peer"),
        default=["formats", "memory", "stored", "raw", "startup", "sigma", "peer"],
        help="which parts to run (default all)",
    )
    parser.add_argument("--zircolite", type=Path, help="a Zircolite checkout (with its .venv) for the Sigma row")
    parser.add_argument(
        "--sigma-stored-events", type=int, help="stored events for the Sigma ruleset (default 1M, quick 200k; 0 skips)"
    )
    parser.add_argument("--sigma-copies", type=int, help="copies of the shared EVTX corpus (default 4, quick 1)")
    args = parser.parse_args(argv)
    quick = args.quick
    xml_mb = args.xml_mb or (40 if quick else 1000)
    jsonl_mb = args.jsonl_mb or (20 if quick else 300)
    evtx_mb = args.evtx_mb or (10 if quick else 200)
    memory_mb = args.memory_mb if args.memory_mb is not None else ([] if quick else [1000, 5000])
    if args.memory_curve:
        memory_mb = list(MEMORY_CURVE_MB)
    stored_events = args.stored_events if args.stored_events is not None else (1_000_000 if quick else 100_000_000)
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "quick": quick,
        "formats": {},
    }
    if "formats" in args.parts:
        measure_formats(results, work, xml_mb, jsonl_mb, evtx_mb, args.workers)
    if "memory" not in args.parts:
        memory_mb = []
    if "stored" not in args.parts:
        stored_events = 0
    stores = {"memory": None, "lake": work / "lake"}
    results["memory_scaling"] = [
        measure_memory(_xml_input(work, mb, f"xml-{mb}mb"), args.workers, stores[store])
        for store in args.memory_stores
        for mb in memory_mb
    ]
    if stored_events:
        results["stored"] = measure_stored(work, stored_events)
    raw_events = args.raw_events if args.raw_events is not None else (200_000 if quick else 10_000_000)
    if "raw" in args.parts and raw_events:
        console.print(f"raw: ingest with and without the raw store, then ten searches over {raw_events:,} events…")
        results["raw"] = measure_raw(work, _xml_input(work, xml_mb, f"xml-{xml_mb}mb"), raw_events, args.workers)
    if "startup" in args.parts:
        console.print("start-up: --help and a hunt of one small file, imports, wall and CPU…")
        small = _xml_input(work, 0, "xml-small")
        results["startup"] = measure_startup(_hunt_command()[:-1], small, runs=3 if quick else 5)
    if "sigma" in args.parts:
        console.print("sigma: SigmaHQ Windows rules over the shared EVTX corpus…")
        copies = args.sigma_copies or (1 if quick else 4)
        results["sigma"] = measure_sigma(_shared_datasets(), work, args.zircolite, copies)
        for line in describe(results["sigma"]):
            console.print(line, markup=False, highlight=False)
    sigma_stored = args.sigma_stored_events
    if sigma_stored is None:
        sigma_stored = 200_000 if quick else 1_000_000
    if "sigma" in args.parts and sigma_stored:
        console.print(f"sigma: SigmaHQ Windows rules over {sigma_stored:,} stored events…")
        results["sigma_stored"] = measure_sigma_stored(_shared_datasets(), work.resolve(), sigma_stored)
        console.print(describe_sigma_stored(results["sigma_stored"]), markup=False, highlight=False)
    if "peer" in args.parts:
        console.print("peer: hunt end to end over the EVTX corpus with SigmaHQ's ngrok rules, against Zircolite…")
        evtx_paths = _evtx_input(work, evtx_mb)
        corpus = [] if isinstance(evtx_paths, str) else evtx_paths
        results["peer"] = measure_peer(_shared_datasets(), work, corpus, _hunt_command(), args.zircolite)
        for line in describe_peer(results["peer"]):
            console.print(line, markup=False, highlight=False)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["total_seconds"] = round(time.time() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    _print(results)
    print_issue_table(results, quick=quick)
    console.print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
