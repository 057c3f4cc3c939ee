"""Writing a dataset: the Windows log, its Linux and macOS companions, and truth.json.

Why: the log can be far larger than memory, so background events are rendered in one pass on an even
grid with jitter, planted events merged in by time, and lines go to disk in chunks from a second
thread through a bounded queue: memory stays flat whatever the event count and disk time overlaps
generation. The same arguments always give byte-identical files.
"""

from __future__ import annotations

import json
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from tunnelhunt.generate.sizes import MIN_EVENTS
from tunnelhunt.generate.sysmon.events import TICKS, Clock, iso, to_ticks
from tunnelhunt.generate.sysmon.plan import Planned, file_record
from tunnelhunt.generate.sysmon.scenarios import plan_scenarios
from tunnelhunt.generate.sysmon.security import SECURITY_NAME
from tunnelhunt.generate.sysmon.world import Sysmon
from tunnelhunt.generate.unix import write_unix

LOG_NAME = "windows-sysmon.log"
TRUTH_NAME = "truth.json"
#: End of the default time range: a fixed instant, so the default output never depends on the clock.
ANCHOR = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)

_CHUNK_LINES = 4096
_UNIX_SHARE = 20  # the Linux and macOS files each hold about events / this many background events
_SECURITY_SHARE = 10  # the Security log holds about events / this many background events
_NEVER = 1 << 62  # a tick later than any event


@dataclass(frozen=True)
class GeneratedDataset:
    """What `generate_sysmon` wrote."""

    path: Path  # the written .log file
    events: int  # total events written
    truth_path: Path  # JSON ground truth
    linux_path: Path | None = None  # Sysmon for Linux syslog with its own planted activity
    macos_path: Path | None = None  # an EDR's ECS export from Macs
    security_path: Path | None = None  # the Security and Remote Desktop channels, with their planted events


class _BackgroundWriter:
    """Writes chunks on a second thread, so disk time overlaps generation (a write releases the GIL).

    The queue is bounded, so memory stays flat; a write error is re-raised in the caller on close.
    """

    def __init__(self, out: BinaryIO, depth: int = 8) -> None:
        self._out = out
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sysmon-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._out.write(chunk)
                except BaseException as exc:  # handed back to the producer in close()
                    self._error = exc

    def write(self, chunk: bytes) -> None:
        """Queue a chunk (blocks while the queue is full)."""
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def close(self) -> None:
        """Wait for every queued chunk to be written; raise the first write error, if any."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def _write_stream(
    out: _BackgroundWriter,
    table: list[Callable[[bytes, bytes], bytes]],
    rnd: Callable[[], float],
    planned: list[Planned],
    background: int,
    start: int,
    span: int,
) -> None:
    """Background events (drawn from a 100-slot `table`) on an even grid with jitter, planted events merged in
    by time, in chunks.

    The time strings are rendered inline (date part once per second): this loop runs once per event.
    """
    slot = span // max(background, 1)
    clock = Clock()
    queue = iter(planned)
    pending = next(queue, None)
    limit = pending.ticks if pending is not None else _NEVER
    buf: list[bytes] = []
    append = buf.append
    last_second = -1
    iso = utc = b""
    for i in range(background):
        ticks = start + i * span // background + int(rnd() * slot)
        while ticks >= limit and pending is not None:
            append(pending.render(*clock(pending.ticks), *pending.args))
            pending = next(queue, None)
            limit = pending.ticks if pending is not None else _NEVER
        second, frac = divmod(ticks, TICKS)
        if second != last_second:
            last_second = second
            iso = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)).encode()
            utc = iso.replace(b"T", b" ")
        digits = b"%07d" % frac
        append(table[int(rnd() * 100)](iso + digits, utc + digits[:3]))
        if len(buf) >= _CHUNK_LINES:
            out.write(b"".join(buf))
            buf.clear()
    while pending is not None:
        append(pending.render(*clock(pending.ticks), *pending.args))
        pending = next(queue, None)
    out.write(b"".join(buf))


def generate_sysmon(
    out_dir: Path, events: int = 20000, seed: int = 7, end: datetime | None = None, hours: float = 6.0
) -> GeneratedDataset:
    """Write `windows-sysmon.log` (exactly `events` events), `windows-security.log`, the Linux and macOS
    companions and `truth.json`.

    The same arguments always give byte-identical files. Time runs over `hours` ending at `end`
    (default ANCHOR; a naive datetime is UTC), in increasing order.
    """
    if events < MIN_EVENTS:
        raise ValueError(f"events must be at least {MIN_EVENTS} (the planted scenarios need room), got {events}")
    if not hours > 0:
        raise ValueError(f"hours must be positive, got {hours}")
    end_ticks = to_ticks(end or ANCHOR)
    span = int(hours * 3600 * TICKS)
    start = end_ticks - span
    rng = random.Random(seed)
    world = Sysmon(random.Random(rng.getrandbits(64)))
    plan = plan_scenarios(world, random.Random(rng.getrandbits(64)), start, span, events)
    planted = [item for item in plan.events if item.channel == "sysmon"]
    if len(planted) > events:
        raise ValueError(f"{events} events cannot hold the {len(planted)} planted ones")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOG_NAME
    _write_log(path, world.background_table(), world.rnd, planted, events - len(planted), start, span)
    security = world.security_background(random.Random(rng.getrandbits(64)))
    security_path = out_dir / SECURITY_NAME
    security_planted = [item for item in plan.events if item.channel == "security"]
    _write_log(security_path, security.table(), security.rnd, security_planted, events // _SECURITY_SHARE, start, span)
    truth = {"seed": seed, "events": events, "start": iso(start), "end": iso(end_ticks), **plan.truth()}
    unix = write_unix(out_dir, random.Random(rng.getrandbits(64)), start, span, max(events // _UNIX_SHARE, 100))
    for kind, name, entry in unix.truth:
        file_record(truth, kind, name, entry)
    for lists in truth["detections"].values():
        lists["matches"].sort(key=lambda entry: entry["time"])
    for lists in truth["tunnels"].values():
        lists["positives"].sort(key=lambda entry: entry["time"])
    truth_path = out_dir / TRUTH_NAME
    truth_path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return GeneratedDataset(
        path=path,
        events=events,
        truth_path=truth_path,
        linux_path=unix.linux_path,
        macos_path=unix.macos_path,
        security_path=security_path,
    )


def _write_log(
    path: Path,
    table: list[Callable[[bytes, bytes], bytes]],
    rnd: Callable[[], float],
    planted: list[Planned],
    background: int,
    start: int,
    span: int,
) -> None:
    with path.open("wb") as out:
        writer = _BackgroundWriter(out)
        try:
            _write_stream(writer, table, rnd, planted, background, start, span)
        finally:
            writer.close()
