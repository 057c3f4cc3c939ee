"""Issue 20 ("Speed"): start-up figures and the table of today's reference beside this run's figures.

Start-up: the CPU seconds `tunnelhunt --help` and a hunt of one small generated file spend importing
(`_TIMED_IMPORTS`), and the whole command's wall and CPU time (medians of alternated runs). The table
puts each figure of `bench/reference-2core.json` (the figures before the issue's work, where it has
one) beside the one measured now, with the CPU of the whole process tree (workers included).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.measure import run_measured

REFERENCE = Path(__file__).with_name("reference-2core.json")


#: Runs the command line with `__import__` timed: CPU seconds spent in top-level imports (a nested
#: import is inside its parent's time), written to stderr at exit. CPU, not wall: on a shared machine
#: the wall time of imports (`-X importtime`) measured the load more than the program.
_TIMED_IMPORTS = """
import atexit, builtins, sys, time
spent, depth, original = [0.0], [0], builtins.__import__
def timed(*args, **kwargs):
    depth[0] += 1
    started = time.process_time() if depth[0] == 1 else 0.0
    try:
        return original(*args, **kwargs)
    finally:
        if depth[0] == 1:
            spent[0] += time.process_time() - started
        depth[0] -= 1
builtins.__import__ = timed
atexit.register(lambda: sys.stderr.write(f"\\nimport-cpu-seconds {spent[0]:.4f}\\n"))
sys.argv = ["tunnelhunt", *sys.argv[1:]]
from tunnelhunt.cli.app import main
main()
"""


def import_seconds(arguments: list[str]) -> float:
    """CPU seconds `tunnelhunt ARGUMENTS` spends importing modules (see `_TIMED_IMPORTS`)."""
    run = subprocess.run(
        [sys.executable, "-c", _TIMED_IMPORTS, *arguments], capture_output=True, text=True, check=False
    )
    found = [line.split()[1] for line in run.stderr.splitlines() if line.startswith("import-cpu-seconds ")]
    return float(found[-1]) if found else float("nan")


def measure_startup(base: list[str], small_log: Path, runs: int = 5) -> dict[str, Any]:
    """`--help` and a hunt of `small_log`: import CPU seconds, wall and CPU of the whole command
    (medians of alternated runs); `base` is the command that runs `tunnelhunt`."""
    commands = {
        "help": ["--help"],
        "small_hunt": ["hunt", str(small_log), "-o", "jsonl", "--out", os.devnull],
    }
    samples: dict[str, dict[str, list[float]]] = {k: {"imports": [], "wall": [], "cpu": []} for k in commands}
    for _ in range(runs):
        for name, arguments in commands.items():
            samples[name]["imports"].append(import_seconds(arguments))
            run = run_measured([*base, *arguments])
            samples[name]["wall"].append(run.seconds)
            samples[name]["cpu"].append(run.cpu_seconds)
    return {
        name: {f"{key}_seconds": round(statistics.median(values), 3) for key, values in figures.items()}
        for name, figures in samples.items()
    } | {"small_log_bytes": small_log.stat().st_size, "runs": runs}


def _get(data: dict[str, Any] | None, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _fmt(value: Any, spec: str = ",.0f", suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def issue_rows(results: dict[str, Any], reference: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(work, reference figure, this run's figure, what the issue asks) for every row of issue 20."""
    rows: list[tuple[str, str, str, str]] = []
    for name, label, goal in (
        ("evtx", "EVTX corpus, hunt end to end", "≥ 0.5 of the evtx floor"),
        ("sysmon_xml", "Sysmon XML, hunt end to end", "≥ 0.5 of the lxml floor"),
        ("jsonl", "JSON lines, hunt end to end", "≥ 0.5 of the json floor"),
    ):
        ref, new = _get(reference, "formats", name), _get(results, "formats", name)
        rows.append((
            f"{label} (events/s; ratio to floor)",
            f"{_fmt(_get(ref, 'hunt_events_per_s'))}; {_fmt(_get(ref, 'ratio_to_floor'), '.2f')}",
            f"{_fmt(_get(new, 'hunt_events_per_s'))}; {_fmt(_get(new, 'ratio_to_floor'), '.2f')}"
            f" ({_fmt(_get(new, 'hunt_cores'), '.2f')} cores)",
            goal,
        ))  # fmt: skip
        rows.append((
            f"{label}: floor (events/s)",
            _fmt(_get(ref, "floor_events_per_s")),
            _fmt(_get(new, "floor_events_per_s")),
            _get(new, "floor_parser") or "",
        ))  # fmt: skip
    ref_peer, new_peer = _get(reference, "peer"), _get(results, "peer")
    rows.append((
        "EVTX corpus end to end with SigmaHQ's ngrok rules: × Zircolite's throughput (CPU)",
        f"{_fmt(_get(ref_peer, 'throughput_ratio'), '.2f')}",
        f"{_fmt(_get(new_peer, 'throughput_ratio'), '.2f')} ({_fmt(_get(new_peer, 'cpu_ratio'), '.2f')})",
        "≥ 10× the peer, same matches",
    ))  # fmt: skip
    ref_evtx, new_evtx = _get(reference, "formats", "evtx"), _get(results, "formats", "evtx")
    rows.append((
        "EVTX corpus: peak memory, PSS of the tree (MB)",
        _fmt(_get(ref_evtx, "peak_rss_mb")),
        _fmt(_get(new_evtx, "peak_rss_mb")),
        "≤ 1 GiB on any input",
    ))  # fmt: skip
    ref_stored, new_stored = _get(reference, "stored"), _get(results, "stored")
    rows.append((
        "all shipped detections over N stored events (s)",
        f"{_fmt(_get(ref_stored, 'detections_seconds'), '.1f')} at {_fmt(_get(ref_stored, 'stored_events'))}",
        f"{_fmt(_get(new_stored, 'detections_seconds'), '.1f')} at {_fmt(_get(new_stored, 'stored_events'))}",
        "≤ 10 s at 100 M",
    ))  # fmt: skip
    new_sigma = _get(results, "sigma_stored")
    rows.append((
        "full SigmaHQ Windows ruleset over N stored events (s)",
        "—",
        f"{_fmt(_get(new_sigma, 'seconds'), '.1f')} at {_fmt(_get(new_sigma, 'stored_events'))}",
        "≤ 10 s at 100 M",
    ))  # fmt: skip
    before = _get(reference, "issue20_before")
    for key, label in (("help", "`tunnelhunt --help`"), ("small_hunt", "hunt of one small file")):
        ref, new = _get(before, "startup", key), _get(results, "startup", key)
        rows.append((
            f"{label}: import CPU (s); wall, CPU (s)",
            f"{_fmt(_get(ref, 'imports_seconds'), '.2f')}; {_fmt(_get(ref, 'wall_seconds'), '.2f')},"
            f" {_fmt(_get(ref, 'cpu_seconds'), '.2f')}",
            f"{_fmt(_get(new, 'imports_seconds'), '.2f')}; {_fmt(_get(new, 'wall_seconds'), '.2f')},"
            f" {_fmt(_get(new, 'cpu_seconds'), '.2f')}",
            "≤ 0.3 s of imports",
        ))  # fmt: skip
    return rows


def print_issue_table(results: dict[str, Any], reference_path: Path = REFERENCE, quick: bool = False) -> None:
    """The reference figures were measured on the full-size inputs: a `--quick` run's are not comparable
    (its small inputs are mostly start-up), and the title says so."""
    reference = json.loads(reference_path.read_text()) if reference_path.exists() else {}
    title = "issue 20: reference (bench/reference-2core.json) and this run"
    if quick:
        title += " (--quick: small inputs, not comparable with the reference)"
    table = Table(title=title, title_justify="left")
    for column in ("work", "reference", "now", "target"):
        table.add_column(column, justify="left" if column in ("work", "target") else "right")
    for row in issue_rows(results, reference):
        table.add_row(*row)
    Console().print(table)
