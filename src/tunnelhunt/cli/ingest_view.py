"""What the CLI shows and writes about an ingest: progress on stderr, the JSON report, quarantine lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from tunnelhunt.cli.common import safe_markup
from tunnelhunt.ingest.run import IngestProgress, IngestReport, ProgressCallback, QuarantineSink
from tunnelhunt.readers.base import QuarantinedRecord

if TYPE_CHECKING:
    from rich.console import Console


@contextmanager
def progress_display(console: Console) -> Iterator[ProgressCallback]:
    """A progress bar (files, events/s, quarantined) while ingesting; silent when stderr is not a terminal."""
    if not console.is_terminal:
        yield _unseen
        return
    # rich's live display: only on a terminal (a piped or scripted hunt's start-up does without it)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files  {task.fields[rate]}  {task.fields[bad]}  [dim]{task.fields[current]}[/dim]"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task("ingest", total=None, rate="", bad="", current="")

    def update(state: IngestProgress) -> None:
        rate = state.read / state.elapsed if state.elapsed > 0 else 0.0
        progress.update(
            task,
            total=state.files_total,
            completed=state.files_done,
            rate=f"{state.read:,} events ({rate:,.0f}/s)",
            bad=f"{state.quarantined:,} quarantined",
            current=safe_markup(state.current[-60:]),  # a path is data: never markup
        )

    with progress:
        yield update


def _unseen(state: IngestProgress) -> None:
    """Progress nobody sees (stderr is not a terminal)."""


@contextmanager
def quarantine_writer(path: Path | None) -> Iterator[QuarantineSink | None]:
    """Stream quarantined records to a JSON lines file as they come (memory stays bounded)."""
    if path is None:
        yield None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as stream:
        yield lambda records: _write_records(records, stream)


def _write_records(records: list[QuarantinedRecord], stream: IO[str]) -> None:
    for record in records:
        stream.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")


def write_report(report: IngestReport, path: Path) -> None:
    """The JSON ingest report (`--report FILE`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
