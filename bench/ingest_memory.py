"""Peak memory and speed of `tunnelhunt hunt` over a mixed-format folder, at two input sizes.

Usage: .venv/bin/python bench/ingest_memory.py [BENIGN_SMALL BENIGN_LARGE] [--ingest-only]

Builds the same twelve-format folder the end-to-end test uses (EVTX, event XML, flattened JSON,
CSV, Sysmon for Linux, Zeek TSV/JSON, Suricata, ECS, OCSF, a user mapping; some compressed) with
BENIGN_* background records per file, runs the CLI on it in a child process (persistent --db),
and prints events, seconds, events/s and the child's peak RSS; then the same for ingesting alone with
DuckDB's cache capped at 128 MB (DuckDB otherwise caches up to 80 % of RAM, and the detections' queries
over all the data need memory of their own). Memory should not grow with input:
readers stream batches of bounded size into the store. The folder is generated in another child
process, since Linux carries a parent's peak RSS into a forked child's `ru_maxrss`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import formats as F  # noqa: E402


def build(folder: Path, benign: int) -> int:
    folder.mkdir(parents=True)
    written = sum(writer(folder / name, benign) for name, writer, _host in F.MIXED)
    F.gzip_file(folder / "dns.log")
    F.bzip2_file(folder / "eve.json")
    F.zip_files(folder / "exports.zip", [folder / "security.json", folder / "ocsf.jsonl"])
    return written


def run(folder: Path, work: Path) -> dict[str, float]:
    mapping = work / "acme.yml"
    report = work / f"{folder.name}.json"
    command = [
        str(ROOT / ".venv" / "bin" / "tunnelhunt"),
        "hunt",
        str(folder),
        "--mapping",
        str(mapping),
        "--db",
        str(work / f"{folder.name}.duckdb"),
        "--report",
        str(report),
        "-o",
        "jsonl",
        "--out",
        os.devnull,
    ]
    began = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - began
    totals = json.loads(report.read_text())["totals"]
    return {
        "events": totals["read"],
        "balanced": totals["balanced"],
        "exit": os.waitstatus_to_exitcode(status),
        "seconds": round(seconds, 1),
        "events_per_s": round(totals["read"] / seconds),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


#: Ingest only (no detections), with DuckDB's cache capped, reporting the process's own peak RSS.
_INGEST_ONLY = """
import sys
from pathlib import Path
from tunnelhunt.ingest.run import ingest
from tunnelhunt.normalize.custom import load_mapping
from tunnelhunt.store.duckdb_store import Store
store = Store(Path(sys.argv[2]))
store.con.execute("SET memory_limit = '128MB'")
report = ingest([Path(sys.argv[1])], store, mappings=[load_mapping(Path(sys.argv[3]))])
peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(report.total("read"), int(peak) // 1024)
"""


def ingest_only(folder: Path, work: Path) -> dict[str, float]:
    """Peak RSS of ingesting alone: the readers' and normaliser's memory, DuckDB's cache held to 128 MB."""
    began = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _INGEST_ONLY,
            str(folder),
            str(work / f"{folder.name}-ingest.duckdb"),
            str(work / "acme.yml"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    events, peak = done.stdout.strip().splitlines()[-1].split()
    seconds = time.monotonic() - began
    return {
        "events": int(events),
        "seconds": round(seconds, 1),
        "events_per_s": round(int(events) / seconds),
        "peak_rss_mb": int(peak),
    }


def main() -> None:
    if sys.argv[1:2] == ["--build"]:  # child mode: keeps the generator's memory out of the measured process
        print(build(Path(sys.argv[2]), int(sys.argv[3])))
        return
    only_ingest = "--ingest-only" in sys.argv
    sizes = [int(a) for a in sys.argv[1:] if a.isdigit()][:2] or [50_000, 200_000]
    with tempfile.TemporaryDirectory(prefix="tunnelhunt-bench-") as tmp:
        work = Path(tmp)
        (work / "acme.yml").write_text(F.CUSTOM_MAPPING)
        for benign in sizes:
            folder = work / f"mixed-{benign}"
            started = time.monotonic()
            built = subprocess.run(
                [sys.executable, __file__, "--build", str(folder), str(benign)],
                capture_output=True,
                text=True,
                check=True,
            )
            written = int(built.stdout.strip())
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            print(f"built {written:,} events ({size / 1e6:.0f} MB on disk) in {time.monotonic() - started:.0f} s")
            if not only_ingest:
                print(json.dumps({"benign_per_file": benign, "hunt": run(folder, work)}))
            print(json.dumps({"benign_per_file": benign, "ingest_only": ingest_only(folder, work)}))


if __name__ == "__main__":
    main()
