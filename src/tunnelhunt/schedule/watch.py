"""Continuous hunting: follow files, run detections when due, deliver, until told to stop.

Each step: ingest what the files gained, run every cron tick that came due since the last recorded one
(so a watcher that was stopped or killed catches up), then deliver to the sinks. The clock is injected:
`tunnelhunt watch` uses the wall clock (or an accelerated one for replays), tests drive it minute by minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tunnelhunt.ingest.run import IngestReport
from tunnelhunt.schedule.delivery import Delivery, deliver_all
from tunnelhunt.schedule.follow import Follower
from tunnelhunt.schedule.scheduler import Scheduler, TickReport
from tunnelhunt.sinks.outbox import Sink

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


def scaled_clock(start: datetime, speed: float, monotonic: Callable[[], float] = time.monotonic) -> Clock:
    """A clock that starts at `start` and runs `speed` times faster than real time (for replays)."""
    origin = monotonic()
    return lambda: start + timedelta(seconds=(monotonic() - origin) * speed)


@dataclass
class StepReport:
    now: datetime
    ingest: IngestReport
    ticks: list[TickReport] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)


class Watcher:
    """Ingest → due detections → sinks, one step at a time."""

    def __init__(
        self,
        paths: Iterable[Path],
        follower: Follower,
        scheduler: Scheduler,
        sinks: list[Sink],
        start: datetime | None = None,
    ) -> None:
        self.paths = list(paths)
        self.follower = follower
        self.scheduler = scheduler
        self.sinks = sinks
        self.start = start

    def step(
        self,
        now: datetime,
        should_stop: Callable[[], bool] | None = None,
        on_tick: Callable[[TickReport], None] | None = None,
    ) -> StepReport:
        """Ingest, run the due ticks (stopping between two when `should_stop()`), deliver what committed."""
        report = StepReport(now, self.follower.poll(self.paths))
        report.ticks = self.scheduler.catch_up(now, self.start, should_stop, on_tick)
        report.deliveries = deliver_all(self.sinks, self.scheduler.rba)
        return report

    def run(
        self,
        clock: Clock,
        should_stop: Callable[[], bool],
        interval: float = 5.0,
        until: datetime | None = None,
        on_step: Callable[[StepReport], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_tick: Callable[[TickReport], None] | None = None,
    ) -> int:
        """Step every `interval` seconds until `should_stop()` or the clock passes `until`; returns steps."""
        steps = 0
        while not should_stop():
            now = clock()
            if until is not None and now > until:
                now = until
            report = self.step(now, should_stop, on_tick)
            steps += 1
            if on_step:
                on_step(report)
            if until is not None and now >= until:
                break
            waited = 0.0
            while waited < interval and not should_stop():
                pause = min(0.1, interval - waited)
                sleep(pause)
                waited += pause
        return steps
