"""`run --at TIME` and `watch PATH...`: scheduled hunting over a kept database.

Both ingest only what is new (`schedule/follow.py`), run the detections due at each cron tick over their
windows through `pipeline` (detections → behaviour analytics → risk events → incident rules, recorded
exactly once), then deliver what the sinks have not had yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from tunnelhunt.actions.common import (
    OptionError,
    check_exist,
    default_spool,
    load,
    load_rules,
    load_sigma,
    open_store,
)
from tunnelhunt.content.cache import open_cache
from tunnelhunt.content.loader import ContentSet
from tunnelhunt.ingest.report import IngestReport
from tunnelhunt.schedule.delivery import Delivery, deliver_all
from tunnelhunt.schedule.follow import Follower
from tunnelhunt.schedule.scheduler import Scheduler, TickReport
from tunnelhunt.schedule.watch import Clock, StepReport, Watcher
from tunnelhunt.sigma import SigmaContent
from tunnelhunt.sinks.outbox import Sink
from tunnelhunt.sinks.spec import SinkOptions, build_sink
from tunnelhunt.store.duckdb_store import Store


@dataclass
class ScheduleOptions:
    """What `run` and `watch` share: the database, the content, the rules, the sinks."""

    db: Path
    paths: list[Path] = field(default_factory=list)
    detections: list[Path] = field(default_factory=list)
    macros: list[Path] = field(default_factory=list)
    rules: Path | None = None
    sinks: list[str] = field(default_factory=list)
    sink_options: SinkOptions | None = None
    tz: tzinfo = UTC
    fmt: str | None = None
    #: Sigma rule files and folders (`--sigma`); Sigma YAML among the detections runs too
    sigma: list[Path] = field(default_factory=list)
    #: keep converted Sigma rules in the content cache (`cache_dir`, else the default one)
    cache: bool = True
    cache_dir: Path | None = None

    def build_sinks(self) -> list[Sink]:
        options = self.sink_options or SinkOptions(default_spool(self.db))
        return [build_sink(spec, options) for spec in self.sinks]


@dataclass
class RunResult:
    """One `run --at`: what was ingested first, the tick, what the sinks got."""

    content: ContentSet
    sigma: SigmaContent
    invalid: list[str]
    ingest: IngestReport | None
    tick: TickReport
    deliveries: list[Delivery]


@dataclass
class Scheduling:
    """What `run` and `watch` both set up: content (ESCU and Sigma), sinks, the open store and its scheduler."""

    content: ContentSet
    sigma: SigmaContent
    sinks: list[Sink]
    store: Store
    scheduler: Scheduler


@contextmanager
def _scheduling(options: ScheduleOptions, store: Store | None = None) -> Iterator[Scheduling]:
    """`store` is one opened already (`serve --watch`: a cursor of the served database), closed at the end."""
    content = load(options.detections, options.macros, allow_empty=bool(options.sigma))
    sigma = load_sigma([*options.sigma, *content.sigma], open_cache(options.cache_dir, options.cache))
    rules = load_rules(options.rules)
    sinks = options.build_sinks()
    with store if store is not None else open_store(options.db) as store:
        scheduler = Scheduler(
            store, content.detections, content.macros, rules, options.tz, lookups=content.lookups, sigma=sigma
        )
        yield Scheduling(content, sigma, sinks, store, scheduler)


def run_at(options: ScheduleOptions, at: datetime) -> RunResult:
    """Ingest what is new in `options.paths`, run the tick at `at`, deliver."""
    check_exist(options.paths)
    with _scheduling(options) as setup:
        ingested = Follower(setup.store, options.fmt).poll(options.paths) if options.paths else None
        tick = setup.scheduler.run_at(at)
        deliveries = deliver_all(setup.sinks, setup.scheduler.rba)
    return RunResult(setup.content, setup.sigma, setup.scheduler.invalid, ingested, tick, deliveries)


@dataclass
class WatchSession:
    """A watch being set up: what the CLI reports before the loop starts."""

    content: ContentSet
    sigma: SigmaContent
    invalid: list[str]
    detections: int
    #: named files that do not exist yet (their folder does): followed once they appear
    waiting: list[Path] = field(default_factory=list)


def waiting_paths(paths: list[Path]) -> list[Path]:
    """The named files that are not there yet. A file may appear later (a rotated name, a log not
    written yet), but only in a folder that exists: a path under a missing folder is a mistake."""
    waiting = []
    for path in paths:
        if path.exists():
            continue
        if not path.parent.is_dir():
            raise OptionError(f"{path}: no such file or directory (and no folder {path.parent} to appear in)")
        waiting.append(path)
    return waiting


def watch(
    options: ScheduleOptions,
    clock: Callable[[], Clock],
    should_stop: Callable[[], bool],
    interval: float,
    start: datetime | None = None,
    until: datetime | None = None,
    on_start: Callable[[WatchSession], None] | None = None,
    on_step: Callable[[StepReport], None] | None = None,
    store: Store | None = None,
    on_tick: Callable[[TickReport], None] | None = None,
) -> int:
    """Follow the paths and run due ticks until `should_stop()` or `until`; returns the steps taken.

    `clock` is called once the store is open and the content compiled, so a replay's clock starts with
    the watching, not during set-up. `store`: see `_scheduling`.
    """
    waiting = waiting_paths(options.paths)
    with _scheduling(options, store) as setup:
        scheduler = setup.scheduler
        watcher = Watcher(options.paths, Follower(setup.store, options.fmt), scheduler, setup.sinks, start)
        if on_start:
            on_start(WatchSession(setup.content, setup.sigma, scheduler.invalid, len(scheduler.detections), waiting))
        return watcher.run(clock(), should_stop, interval, until, on_step, on_tick=on_tick)
