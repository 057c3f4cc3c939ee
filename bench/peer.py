"""Issue 20's peer row: `tunnelhunt hunt` end to end over the EVTX corpus, with the shipped detections
and SigmaHQ's Windows ngrok rules, against Zircolite running the same Sigma rules on the same files.

Both are whole processes measured alike (wall, CPU of the process tree, peak memory). tunnelhunt does
more work in the same run (ingest into every data model and the raw store, the shipped ESCU detections,
risk and findings); Zircolite loads the events into SQLite and runs its rules. Zircolite's conversion of
the rules is done beforehand and not counted; tunnelhunt converts its four rules inside the hunt. The
row also compares the (rule, file, record) triples both flag.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from bench.sigma import Triple, compare, convert_for_zircolite, measured, run_zircolite, zircolite_triples

#: The Sigma rules of the row: SigmaHQ's Windows rules about ngrok (file names holding "ngrok").
NGROK_RULES = "sigma/rules/windows"


def ngrok_rules(shared: Path, work: Path) -> Path:
    """A folder in `work` with SigmaHQ's Windows ngrok rules (both tools read a folder of rules)."""
    folder = work / "ngrok-sigma-rules"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for rule in sorted((shared / NGROK_RULES).rglob("*ngrok*.yml")):
        shutil.copyfile(rule, folder / rule.name)
    return folder


def tunnelhunt_triples(results: Path) -> list[Triple]:
    """(rule id, file name, record number) of each Sigma hit in a hunt's JSON-lines results."""
    triples = []
    for line in results.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("rule_id"):
            triples.append((str(row["rule_id"]), Path(str(row.get("_source", ""))).name, str(row.get("_offset", ""))))
    return triples


def measure_peer(
    shared: Path | None, work: Path, evtx: list[Path], hunt: list[str], zircolite: Path | None
) -> dict[str, Any]:
    """The row; `evtx` are the corpus files (all in one folder), `hunt` the command that starts `tunnelhunt hunt`."""
    if shared is None or not evtx:
        return {"skipped": "no shared EVTX corpus"}
    work = work.resolve()
    rules = ngrok_rules(shared.resolve(), work)
    corpus = evtx[0].parent.resolve()
    out = work / "peer-tunnelhunt.jsonl"
    command = [*hunt, str(corpus), "--sigma", str(rules), "-o", "jsonl", "--out", str(out)]
    ours, our_cpu = measured(command)
    if ours.returncode not in (0, 3):
        return {"error": f"hunt exited {ours.returncode}: {ours.stderr_tail}"}
    triples = tunnelhunt_triples(out)
    row: dict[str, Any] = {
        "files": len(evtx),
        "rules": sorted(p.name for p in rules.iterdir()),
        "tunnelhunt": {
            "seconds": round(ours.seconds, 2),
            "cpu_seconds": our_cpu,
            "peak_mb": ours.peak_rss_mb,
            "sigma_matches": len(triples),
        },
    }
    if zircolite is None or not (zircolite / "zircolite.py").exists():
        why = "no --zircolite given" if zircolite is None else f"{zircolite}/zircolite.py missing"
        row["zircolite"] = {"skipped": f"peer row's Zircolite side skipped: {why}"}
        return row
    zircolite = zircolite.resolve()
    sample = min(evtx, key=lambda p: p.stat().st_size)
    ruleset, convert_seconds = convert_for_zircolite(zircolite, rules, work, sample, "zircolite-ngrok-ruleset")
    detected = work / "zircolite-ngrok-detected.json"
    theirs, their_cpu = run_zircolite(zircolite, corpus, ruleset, detected, work / "zircolite-ngrok.log")
    their_triples = zircolite_triples(detected)
    compare(row, (ours, our_cpu, triples), (theirs, their_cpu, their_triples), convert_seconds)
    return row


def describe_peer(row: dict[str, Any]) -> list[str]:
    """The row in plain lines for the console."""
    if "skipped" in row or "error" in row:
        return [f"peer: {row.get('skipped') or row.get('error')}"]
    ours, theirs = row["tunnelhunt"], row["zircolite"]
    lines = [
        f"peer: hunt end to end over {row['files']} EVTX files with {len(row['rules'])} SigmaHQ ngrok rules: "
        f"{ours['seconds']} s, {ours['cpu_seconds']} CPU s, peak {ours['peak_mb']} MB, "
        f"{ours['sigma_matches']} Sigma hits"
    ]
    if "skipped" in theirs:
        return [*lines, f"  {theirs['skipped']}"]
    agree = row["agreement"]
    return [
        *lines,
        f"  Zircolite: {theirs['seconds']} s, {theirs['cpu_seconds']} CPU s, peak {theirs['peak_mb']} MB, "
        f"{theirs['matches']} hits (ruleset converted beforehand in {theirs['convert_seconds']} s)",
        f"  tunnelhunt/Zircolite throughput: {row['throughput_ratio']}x (CPU time: {row['cpu_ratio']}x); "
        f"pairs in common {agree['common']}, only tunnelhunt {agree['only_tunnelhunt']}, "
        f"only Zircolite {agree['only_zircolite']}",
    ]
