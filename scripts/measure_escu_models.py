"""Per data model: how many ESCU detections compile, and how many produce rows on the shared real datasets.

A measurement, not a test (it reads every shared corpus and runs ~1,300 detections: a few minutes).
Run from the project root:

    PYTHONPATH=src python scripts/measure_escu_models.py [--datasets ../shared/datasets] [--json out.json]

Every shared corpus (EVTX, Security-Datasets' JSON archives, Zeek, Suricata) is ingested into one store, ESCU's
detections (`security_content/detections`, with its macros and lookups) are compiled and run over it with all
time as the window, and the counts are grouped by the data model (node) each detection names.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from tunnelhunt.actions.compile import data_models
from tunnelhunt.content.loader import load_content, source_path
from tunnelhunt.detect.runner import expand_detection, run_detection
from tunnelhunt.ingest.run import ingest
from tunnelhunt.spl.errors import SplError
from tunnelhunt.store.duckdb_store import Store

CORPORA = (
    "EVTX-ATTACK-SAMPLES",
    "EVTX-to-MITRE-Attack",
    "sigma/regression_data",
    "Security-Datasets",
    "zed-sample-data",
    "suricata-verify",
)
INCLUDE = ["*.evtx", "*.log", "*.gz", "*.zip", "*.json"]


def measure(datasets: Path) -> dict[str, dict[str, object]]:
    content = load_content([datasets / "security_content"], shipped_detections=False)
    table: dict[str, dict[str, object]] = defaultdict(lambda: {"detections": 0, "compiled": 0, "rows": 0, "firing": []})
    with Store() as store:
        ingest([datasets / c for c in CORPORA if (datasets / c).exists()], store, include=INCLUDE)
        for detection in content.detections:
            try:
                search = expand_detection(detection, content.macros)
            except SplError:
                search = detection.search
            models = data_models(search) or ["(none)"]
            run = run_detection(store, detection, content.macros, lookups=content.lookups)
            for model in models:
                entry = table[model]
                entry["detections"] = int(entry["detections"]) + 1  # type: ignore[call-overload]
                if run.error is None:
                    entry["compiled"] = int(entry["compiled"]) + 1  # type: ignore[call-overload]
                if run.error is None and run.rows:
                    entry["rows"] = int(entry["rows"]) + 1  # type: ignore[call-overload]
                    firing = entry["firing"]
                    assert isinstance(firing, list)
                    firing.append(f"{detection.name} ({len(run.rows)}) {source_path(detection) or ''}")
    return dict(sorted(table.items(), key=lambda item: -int(item[1]["detections"])))  # type: ignore[call-overload]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--json", type=Path, help="write the full table (with firing detections) here")
    args = parser.parse_args()
    table = measure(args.datasets)
    print(f"{'data model':40} {'detections':>10} {'compile':>8} {'rows':>5}")
    for model, entry in table.items():
        print(f"{model:40} {entry['detections']:>10} {entry['compiled']:>8} {entry['rows']:>5}")
    if args.json:
        args.json.write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
