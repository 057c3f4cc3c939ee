"""Page timings of `serve` in headless Chromium: the review queue, the top entity's page and a search.

    python -m bench.web_timings --db build/big/demo.duckdb [--out bench/web-timings.json]

The database is made once by `tunnelhunt generate DIR --events 500000 --seed 7` and `tunnelhunt hunt
DIR/* --db DIR/demo.duckdb` (minutes). The app is served in this process (as `serve` does), each page
loaded twice (first and warm) in a fresh Chromium profile, and the browser's own figures read from the
Navigation Timing and Paint Timing APIs: the server's answer (responseEnd), first contentful paint and
the load event, in milliseconds from the start of the navigation.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.support.browser import Served, chromium

from tunnelhunt.actions.common import load
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore
from tunnelhunt.web.app import create_app

SEARCH = "`sysmon` EventCode=1 ngrok | stats count by host, process_name"
_TIMING = """
const nav = performance.getEntriesByType("navigation")[0];
const paint = performance.getEntriesByName("first-contentful-paint")[0];
return {response_ms: nav.responseEnd, first_paint_ms: paint ? paint.startTime : null,
        load_ms: nav.loadEventEnd, bytes: nav.transferSize};
"""


def _measured(driver: Any) -> dict[str, Any]:
    """The page's figures once the browser has reported its first paint (or after 10 s without)."""
    for _ in range(100):
        figures: dict[str, Any] = driver.execute_script(_TIMING)
        if figures["first_paint_ms"] is not None and figures["load_ms"]:
            break
        time.sleep(0.1)
    return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in figures.items()}


def page_timings(db: Path, rounds: int = 2) -> dict[str, Any]:
    with Store(db) as store:
        with store.cursor() as cursor:
            top = RbaStore(cursor).rows("SELECT risk_object FROM risk_events GROUP BY 1 ORDER BY sum(risk_score) DESC")
            events = cursor.count("events")
        pages = {
            "queue": "/",
            "entity": f"/entities/{quote(str(top[0]['risk_object']), safe='')}",
            "search": f"/search?q={quote(SEARCH)}",
        }
        out: dict[str, Any] = {"db": str(db), "events": events, "search": SEARCH, "pages": {}}
        with Served(create_app(store, load())) as server, tempfile.TemporaryDirectory() as profile:
            driver = chromium(Path(profile))
            try:
                for name, path in pages.items():
                    runs = []
                    for _ in range(rounds):
                        driver.get(server.url + path)
                        runs.append(_measured(driver))
                    out["pages"][name] = {"path": path, "runs": runs}
            finally:
                driver.quit()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    figures = page_timings(args.db)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
