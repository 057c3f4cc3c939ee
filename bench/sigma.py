"""Sigma side by side: SigmaHQ's Windows ruleset over the shared EVTX corpus, tunnelhunt against Zircolite.

`python -m bench --parts sigma --zircolite /path/to/zircolite` (or `python -m bench.sigma ...` for this row
alone). The corpus is every `.evtx` of the shared datasets (attack samples, EVTX-to-MITRE, SigmaHQ's
regression samples) copied `--sigma-copies` times into the bench's work folder. Each side is one process,
timed from start to end, with the peak memory of its process tree (`bench/measure.py`):

- tunnelhunt: load the rules, ingest the corpus into an in-memory store, convert them (pySigma + the sqlglot
  backend, through the content cache as `hunt --sigma` does) and run every rule (rules of one logsource
  sharing a scan, `sigma.scan`). A first run with an empty cache converts; it is reported apart, and the
  measured run reads the cache, as Zircolite's measured run reads its ruleset converted beforehand;
- Zircolite: its own EVTX reading into SQLite and its rule loop, on a ruleset converted beforehand with its
  own converter (`--save-ruleset`, sysmon + windows-logsources pipelines, the same ones tunnelhunt's
  `windows` mapping uses), so its conversion time is reported apart and not counted in its throughput.
  tunnelhunt also reads Security 4688/4657 as process creation/registry events (its
  `windows-security-audit` mapping): matches on those are counted apart.

Agreement is counted on (rule id, file name, EventRecordID) triples over the same copied files.
Zircolite is not a dependency: it is a folder outside the project with its own virtualenv
(`<zircolite>/.venv/bin/python`, else this Python), given by `--zircolite`; without it the row is
skipped and says so.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.measure import RunResult, run_measured

#: Shared dataset folders whose EVTX files make the corpus.
CORPUS_DIRS = ("EVTX-ATTACK-SAMPLES", "EVTX-to-MITRE-Attack", "sigma/regression_data")
RULES = "sigma/rules/windows"
#: The pySigma pipelines Zircolite converts with: tunnelhunt's default Windows mapping uses the same two.
ZIRCOLITE_PIPELINES = ("sysmon", "windows-logsources")

#: Security events only tunnelhunt's `windows-security-audit` mapping reads (process creation, registry).
AUDIT_EVENTS = ("4688", "4657")

Triple = tuple[str, str, str]


def build_corpus(shared: Path, work: Path, copies: int) -> tuple[Path, int]:
    """`work/sigma-corpus-N`: every shared EVTX file, `copies` times (names made unique); its size in bytes."""
    folder = work / f"sigma-corpus-{copies}"
    files = sorted(p for d in CORPUS_DIRS for p in (shared / d).rglob("*.evtx"))
    if not folder.exists():
        staging = work / f"{folder.name}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for copy in range(copies):
            for number, path in enumerate(files):
                shutil.copyfile(path, staging / f"c{copy}-{number:04d}-{path.name.replace(' ', '_')}")
        staging.rename(folder)
    return folder, sum(p.stat().st_size for p in folder.iterdir())


def tunnelhunt_side(corpus: Path, rules: Path, out: Path, cache: Path) -> None:
    """The tunnelhunt process: load, ingest, convert (through the content cache in `cache`, as `hunt --sigma`
    does) and match; writes counts, phase times and the matched triples."""
    from tunnelhunt.collector import no_collection
    from tunnelhunt.content.cache import open_cache
    from tunnelhunt.ingest.run import ingest
    from tunnelhunt.sigma import load_content, run_sigma
    from tunnelhunt.store.duckdb_store import Store

    started = time.perf_counter()
    opened = open_cache(cache)
    if opened is None:
        raise SystemExit(f"the content cache {cache} is not private to this user")
    content = load_content([rules], opened)  # as `hunt --sigma` loads them
    content.cache = opened
    loaded = time.perf_counter()
    with Store() as store:
        report = ingest([corpus], store, None, incremental=False)
        store.compress()  # as `hunt --sigma` does with its in-memory store
        ingested = time.perf_counter()
        with no_collection():
            runs = run_sigma(store, content.rules, compiler=content.compiler())
        matched = time.perf_counter()
        events = store.query("SELECT count(*) AS n FROM events").to_pylist()[0]["n"]
    triples, audit = [], []
    for run in runs:
        if run.findings is None or not run.findings.num_rows:
            continue
        # only the columns compared: `run.rows` would build a dict of every column per matched event
        for row in run.findings.select(["_source", "EventRecordID", "Channel", "EventCode"]).to_pylist():
            triples.append((run.detection.id, Path(str(row["_source"])).name, str(row["EventRecordID"])))
            if str(row["Channel"]).lower() == "security" and row["EventCode"] in AUDIT_EVENTS:
                audit.append(triples[-1])
    result = {
        "events": events,
        "records_read": report.total("read"),
        "rules": len(content.rules),
        "failed_rules": sum(1 for run in runs if run.error),
        "seconds_load": round(loaded - started, 2),
        "seconds_ingest": round(ingested - loaded, 2),
        "seconds_match": round(matched - ingested, 2),
        "triples": triples,
        "audit_triples": audit,
    }
    out.write_text(json.dumps(result))


def zircolite_python(zircolite: Path) -> str:
    venv = zircolite / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def convert_for_zircolite(
    zircolite: Path, rules: Path, work: Path, sample: Path, name: str = "zircolite-ruleset"
) -> tuple[Path, float]:
    """Zircolite's own conversion of the YAML rules to its JSON ruleset (in `work/name`), and how long it took.

    Zircolite converts only on its way to a detection run, and refuses a run without log files: it is
    given one small EVTX file `sample` (that run is counted in the conversion time). The ruleset is kept
    in `work` and reused (with the time its conversion took) while the rules and Zircolite are the same."""
    folder = work / name
    stamp = folder / "converted.json"
    key = {"rules": str(rules.resolve()), "zircolite": str(zircolite.resolve())}
    saved = sorted(folder.glob("ruleset-*.json"))
    if stamp.exists() and saved:
        kept = json.loads(stamp.read_text())
        if kept.get("key") == key:
            return saved[0], float(kept["seconds"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    logs = folder / "logs"
    logs.mkdir()
    shutil.copyfile(sample, logs / sample.name)
    command = [zircolite_python(zircolite), str(zircolite / "zircolite.py"), "--ruleset", str(rules), "--save-ruleset"]
    for pipeline in ZIRCOLITE_PIPELINES:
        command += ["--pipeline", pipeline]
    command += ["--evtx", str(logs), "--quiet", "--config", str(zircolite / "config" / "config.yaml")]
    command += ["--outfile", str(folder / "detected.json"), "--logfile", str(folder / "zircolite.log")]
    started = time.perf_counter()
    subprocess.run(command, cwd=folder, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    saved = sorted(folder.glob("ruleset-*.json"))
    if not saved:
        raise RuntimeError(f"Zircolite saved no converted ruleset in {folder}")
    stamp.write_text(json.dumps({"key": key, "seconds": seconds}))
    return saved[0], seconds


def run_zircolite(zircolite: Path, logs: Path, ruleset: Path, detected: Path, log: Path) -> tuple[RunResult, float]:
    """One measured Zircolite run over the EVTX files of `logs` with a converted ruleset."""
    detected.unlink(missing_ok=True)
    command = [zircolite_python(zircolite), str(zircolite / "zircolite.py"), "--evtx", str(logs)]
    command += ["--ruleset", str(ruleset), "--outfile", str(detected), "--quiet"]
    command += ["--config", str(zircolite / "config" / "config.yaml"), "--logfile", str(log)]
    return measured(command)


def zircolite_triples(detected: Path) -> list[Triple]:
    """(rule id, file name, EventRecordID) of each event in Zircolite's detected_events.json."""
    data = json.loads(detected.read_text(encoding="utf-8")) if detected.exists() else []
    triples = []
    for rule in data:
        for match in rule.get("matches", []):
            name = Path(str(match.get("OriginalLogfile", ""))).name
            triples.append((str(rule.get("id", "")), name, str(match.get("EventRecordID", ""))))
    return triples


def agreement(ours: list[Triple], theirs: list[Triple]) -> dict[str, int]:
    """Pairs in common and on one side only, as multisets (a copy of the corpus counts once per copy)."""
    a, b = Counter(ours), Counter(theirs)
    common = sum((a & b).values())
    return {"common": common, "only_tunnelhunt": sum(a.values()) - common, "only_zircolite": sum(b.values()) - common}


Side = tuple[RunResult, float, list[Triple]]


def compare(row: dict[str, Any], ours: Side, theirs: Side, convert_seconds: float) -> None:
    """Zircolite's figures into `row` beside tunnelhunt's: each side is (run, CPU seconds, triples)."""
    our_run, our_cpu, our_triples = ours
    their_run, their_cpu, their_triples = theirs
    row["zircolite"] = {
        "seconds": round(their_run.seconds, 2),
        "cpu_seconds": their_cpu,
        "peak_mb": their_run.peak_rss_mb,
        "matches": len(their_triples),
        "convert_seconds": round(convert_seconds, 1),
        "returncode": their_run.returncode,
    }
    row["throughput_ratio"] = round(their_run.seconds / our_run.seconds, 2)
    row["cpu_ratio"] = round(their_cpu / our_cpu, 2) if our_cpu else None
    row["agreement"] = agreement(our_triples, their_triples)


def measured(command: list[str]) -> tuple[RunResult, float]:
    """`run_measured`, plus the CPU seconds (user + system) of the process and the children it waited for:
    on a shared machine the wall time depends on the load, the work done does not."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_measured(command)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return result, round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 1)


def measure_sigma(shared: Path | None, work: Path, zircolite: Path | None, copies: int) -> dict[str, Any]:
    """The Sigma row: tunnelhunt's figures, and Zircolite's beside them when its folder is given."""
    if shared is None:
        return {"skipped": "no shared datasets folder"}
    # Zircolite runs from its own folder: every path handed to it must be absolute.
    shared, work = shared.resolve(), work.resolve()
    zircolite = zircolite.resolve() if zircolite is not None else None
    rules = shared / RULES
    corpus, size = build_corpus(shared, work, copies)
    out = work / "sigma-tunnelhunt.json"
    # Zircolite's conversion is done once beforehand and not counted; tunnelhunt's likewise: a first run with
    # an empty content cache converts (its time is reported as the conversion), the measured run reads it.
    cache = work / "sigma-content-cache"
    shutil.rmtree(cache, ignore_errors=True)
    command = [sys.executable, "-m", "bench.sigma", "tunnelhunt", str(corpus), str(rules), str(out), str(cache)]
    cold, cold_cpu = measured(command)
    if cold.returncode:
        return {"error": f"tunnelhunt side failed: {cold.stderr_tail}"}
    ours, our_cpu = measured(command)
    if ours.returncode:
        return {"error": f"tunnelhunt side failed: {ours.stderr_tail}"}
    side = json.loads(out.read_text())
    triples = [(r, n, e) for r, n, e in side.pop("triples")]
    audit = {(r, n, e) for r, n, e in side.pop("audit_triples")}
    row: dict[str, Any] = {
        "corpus_files": len(list(corpus.iterdir())),
        "corpus_mb": round(size / 1e6, 1),
        "copies": copies,
        "tunnelhunt": {
            **side,
            "seconds": round(ours.seconds, 2),
            "cpu_seconds": our_cpu,
            "events_per_s": round(side["events"] / ours.seconds),
            "peak_mb": ours.peak_rss_mb,
            "matches": len(triples),
            "cold_seconds": round(cold.seconds, 2),
            "cold_cpu_seconds": cold_cpu,
        },
    }
    if zircolite is None or not (zircolite / "zircolite.py").exists():
        why = "no --zircolite given" if zircolite is None else f"{zircolite}/zircolite.py missing"
        row["zircolite"] = {"skipped": f"Zircolite row skipped: {why}"}
        return row
    sample = min(corpus.iterdir(), key=lambda p: p.stat().st_size)
    ruleset, convert_seconds = convert_for_zircolite(zircolite, rules, work, sample)
    detected = work / "zircolite-detected.json"
    theirs, their_cpu = run_zircolite(zircolite, corpus, ruleset, detected, work / "zircolite.log")
    their_triples = zircolite_triples(detected)
    events = side["events"]
    compare(row, (ours, our_cpu, triples), (theirs, their_cpu, their_triples), convert_seconds)
    row["zircolite"]["events_per_s"] = round(events / theirs.seconds)
    only_ours = Counter(triples) - Counter(their_triples)
    row["agreement"]["only_tunnelhunt_security_audit"] = sum(n for t, n in only_ours.items() if t in audit)
    return row


def describe(row: dict[str, Any]) -> list[str]:
    """The row in plain lines for the console."""
    if "skipped" in row or "error" in row:
        return [f"sigma: {row.get('skipped') or row.get('error')}"]
    ours = row["tunnelhunt"]
    lines = [
        f"sigma: {ours['rules']} rules over {ours['events']:,} events ({row['corpus_files']} EVTX files, "
        f"{row['corpus_mb']} MB, {row['copies']} copies)",
        f"  tunnelhunt: {ours['seconds']} s, {ours['cpu_seconds']} CPU s ({ours['events_per_s']:,} events/s; "
        f"load {ours['seconds_load']} s, ingest {ours['seconds_ingest']} s, convert (cached) + match "
        f"{ours['seconds_match']} s), peak {ours['peak_mb']} MB, {ours['matches']:,} (rule, event) matches; "
        f"with an empty content cache {ours['cold_seconds']} s, {ours['cold_cpu_seconds']} CPU s",
    ]
    theirs = row["zircolite"]
    if "skipped" in theirs:
        return [*lines, f"  {theirs['skipped']}"]
    agree = row["agreement"]
    return [
        *lines,
        f"  Zircolite: {theirs['seconds']} s, {theirs['cpu_seconds']} CPU s ({theirs['events_per_s']:,} events/s; "
        "ruleset converted beforehand in "
        f"{theirs['convert_seconds']} s), peak {theirs['peak_mb']} MB, {theirs['matches']:,} matches",
        f"  tunnelhunt/Zircolite throughput: {row['throughput_ratio']}x (CPU time: {row['cpu_ratio']}x)",
        f"  (rule, event) pairs in common {agree['common']:,}, "
        f"only tunnelhunt {agree['only_tunnelhunt']:,} ({agree['only_tunnelhunt_security_audit']:,} of them Security "
        f"4688/4657 events, which only tunnelhunt's audit mapping reads), only Zircolite {agree['only_zircolite']:,}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sigma", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    side = sub.add_parser("tunnelhunt", help="(internal) the measured tunnelhunt process")
    side.add_argument("corpus", type=Path)
    side.add_argument("rules", type=Path)
    side.add_argument("out", type=Path)
    side.add_argument("cache", type=Path)
    row = sub.add_parser("row", help="measure the Sigma row alone")
    row.add_argument("--shared", type=Path, default=Path("/work/shared/datasets"))
    row.add_argument("--work", type=Path, default=Path("build/bench"))
    row.add_argument("--zircolite", type=Path)
    row.add_argument("--copies", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command == "tunnelhunt":
        tunnelhunt_side(args.corpus, args.rules, args.out, args.cache)
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    result = measure_sigma(args.shared, args.work, args.zircolite, args.copies)
    print("\n".join(describe(result)))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
