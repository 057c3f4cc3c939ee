"""`tunnelhunt serve --db FILE [--watch PATH...]`: incident review in the browser, beside the watcher."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tunnelhunt.cli import hunting
from tunnelhunt.cli.common import app, fail, safe_markup, stderr
from tunnelhunt.errors import TunnelhuntError

if TYPE_CHECKING:  # the web stack and the store load only when `serve` runs (`--help` stays fast)
    from tunnelhunt.actions.schedule import ScheduleOptions
    from tunnelhunt.store.duckdb_store import Store


@app.command()
def serve(
    db: hunting.DbOption,
    watch: Annotated[
        list[Path] | None, typer.Option("--watch", help="Also follow these files and hunt them (as `watch`).")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (other than loopback needs --token).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")] = 8465,
    token: Annotated[
        str | None, typer.Option("--token", envvar="TUNNELHUNT_TOKEN", help="Token every visitor must give.")
    ] = None,
    interval: Annotated[float, typer.Option("--interval", min=0.05, help="Seconds between watch polls.")] = 5.0,
    detections: hunting.DetectionsOption = None,
    macros: hunting.MacrosOption = None,
    rules: hunting.RulesOption = None,
) -> None:
    """Serve the incident review pages and the JSON API (/api/v1) over a database; --watch hunts meanwhile."""
    import uvicorn

    from tunnelhunt.actions.common import kept, load, open_store
    from tunnelhunt.web.app import create_app
    from tunnelhunt.web.auth import hash_token, is_loopback

    if not is_loopback(host) and not token:
        raise fail(f"--host {host} is reachable from other machines: give --token (or TUNNELHUNT_TOKEN)")
    stop = threading.Event()
    try:
        content = load(detections or [], macros or [])
        store = open_store(db if watch else kept(db))  # only a watcher has something to put in a new one
    except TunnelhuntError as exc:
        raise fail(str(exc)) from None
    watcher = None
    with store:
        if watch:
            options = hunting.schedule_options(db, watch, detections, macros, rules, None, None, None, None, 4,
                                               hunting.zone("UTC"), None)  # fmt: skip
            watcher = threading.Thread(
                target=_watch, args=(options, store.cursor(), stop, interval), name="watch", daemon=True
            )
            watcher.start()
        web = create_app(store, content, hash_token(token) if token else None)
        stderr.print(f"serving {safe_markup(db)} on http://{safe_markup(host)}:{port}/ (Ctrl-C stops)")
        try:
            uvicorn.run(web, host=host, port=port, log_level="warning")
        finally:
            stop.set()
            if watcher is not None:
                watcher.join(timeout=60)


def _watch(options: ScheduleOptions, cursor: Store, stop: threading.Event, interval: float) -> None:
    """The watch loop in a thread, on its own cursor of the served database (one process holds DuckDB's
    file lock, so the pages read what the watcher writes), stopping when the server stops."""
    from tunnelhunt.actions.schedule import watch
    from tunnelhunt.schedule.watch import wall_clock

    try:
        watch(options, lambda: wall_clock, stop.is_set, interval, store=cursor)
    except TunnelhuntError as exc:
        stderr.print(f"[red]watch stopped:[/red] {safe_markup(exc)}")
