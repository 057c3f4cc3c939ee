"""The ingest's progress on stderr: a live bar on a terminal, nothing (and no live display) otherwise."""

from __future__ import annotations

import io

from rich.console import Console

from tunnelhunt.cli.ingest_view import progress_display
from tunnelhunt.ingest.report import IngestProgress

STATE = IngestProgress(files_total=3, files_done=2, current="logs/b.log", read=1500, quarantined=7, elapsed=1.0)


def test_a_terminal_sees_files_events_and_quarantined_records() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=160)
    with progress_display(console) as update:
        update(STATE)
    shown = buffer.getvalue()  # the last refresh, then erased (transient)
    assert "ingesting" in shown and "2/3" in shown
    assert "1,500 events" in shown and "7 quarantined" in shown and "logs/b.log" in shown


def test_a_pipe_sees_nothing() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=160)
    with progress_display(console) as update:
        update(STATE)
    assert buffer.getvalue() == ""
