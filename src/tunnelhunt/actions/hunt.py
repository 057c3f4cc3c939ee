"""`hunt`: ingest files (or take a lake as it is), then one detection pass over all of it.

The pass is `pipeline.hunt_pass`, the same sequence a scheduled tick runs, so `hunt --db FILE` leaves the
results, risk events and findings in the database for `risk` and `findings`, and hunting the same files
again adds nothing.

Output before state: a caller's `publish` writes the hunt's output while the pass is uncommitted, so an
output that cannot be written (or a crash after it) leaves the store as it was and the next hunt gives
the same output again (issue 19, item 9).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunnelhunt import pipeline
from tunnelhunt.actions import results
from tunnelhunt.actions.common import (
    OptionError,
    check_format,
    default_spool,
    load,
    load_mappings,
    load_rules,
    load_sigma,
    open_store,
)
from tunnelhunt.content.cache import open_cache
from tunnelhunt.content.loader import ContentSet
from tunnelhunt.crashpoint import crashpoint
from tunnelhunt.detect.runner import DetectionRun, QueryEngine
from tunnelhunt.errors import TunnelhuntError
from tunnelhunt.ingest.report import IngestReport, ProgressCallback, QuarantineSink
from tunnelhunt.ingest.run import ingest
from tunnelhunt.normalize.custom import CustomMapping
from tunnelhunt.sigma import SigmaContent
from tunnelhunt.spl.window import TimeWindow
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore

if TYPE_CHECKING:
    from tunnelhunt.actions.report import ReportData
    from tunnelhunt.schedule.delivery import Delivery
    from tunnelhunt.sinks.outbox import Sink
    from tunnelhunt.sinks.spec import SinkOptions

ENGINES = ("duckdb", "spark")


#: Sigma rules from which a hunt compresses its in-memory store first (`Store.compress`): compressing cost
#: ~0.5 CPU s per 70,000 EVTX events and saved ~1.5 ms per rule of SigmaHQ's Windows set on them, so it
#: pays from a few hundred rules (not for a handful, such as the 4 ngrok rules of the peer bench).
COMPRESS_FROM_RULES = 300


@dataclass
class HuntOptions:
    """Everything `hunt` can be told; the CLI fills it from its options, a web page from a form."""

    paths: list[Path] = field(default_factory=list)
    detections: list[Path] = field(default_factory=list)
    macros: list[Path] = field(default_factory=list)
    sigma: list[Path] = field(default_factory=list)
    mappings: list[Path] = field(default_factory=list)
    rules: Path | None = None
    db: Path | None = None
    lake: Path | None = None
    engine: str = "duckdb"
    spark_master: str = "local[*]"
    fmt: str | None = None
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    workers: int | None = None
    window: TimeWindow | None = None
    #: `--sink` specifications: risk events and findings delivered as `run` delivers them
    sinks: list[str] = field(default_factory=list)
    sink_options: SinkOptions | None = None
    #: gather the HTML report's data (`--html`) while the store is open
    report: bool = False
    #: keep compiled detections and converted Sigma rules between runs (`--no-cache` turns it off), in
    #: `cache_dir` (`--cache-dir`) or the user's cache directory
    cache: bool = True
    cache_dir: Path | None = None


def _sinks(options: HuntOptions) -> list[Sink]:
    """The `--sink` sinks, built (their specifications checked) before anything is read."""
    if not options.sinks:
        return []
    from tunnelhunt.sinks.spec import SinkOptions, build_sink  # only with a sink: a plain hunt's start-up

    sink_options = options.sink_options or SinkOptions(default_spool(options.db))
    return [build_sink(spec, sink_options) for spec in options.sinks]


def _deliver(sinks: list[Sink], state: Store) -> list[Delivery]:
    """The new risk events and findings handed to every sink."""
    if not sinks:
        return []
    from tunnelhunt.schedule.delivery import deliver_all  # only with a sink: a plain hunt's start-up

    return deliver_all(sinks, RbaStore(state))


@dataclass
class HuntResult:
    """What a hunt read, which content it ran, and the pass's runs, risk events and findings."""

    content: ContentSet
    sigma: SigmaContent
    ingest: IngestReport | None
    passed: pipeline.PassReport
    deliveries: list[Delivery] = field(default_factory=list)
    window: TimeWindow | None = None
    report: ReportData | None = None

    @property
    def runs(self) -> list[DetectionRun]:
        return self.passed.runs

    @property
    def failed_runs(self) -> list[DetectionRun]:
        return [run for run in self.passed.runs if run.error]

    def entries(self, min_score: float = 0) -> list[results.Entry]:
        """Every result with its time, host, risk score and severity (those scoring `min_score` or more)."""
        every = results.entries(self.runs, self.passed.risk_events, self.window)
        return [entry for entry in every if entry.score >= min_score]


class OutputError(TunnelhuntError):
    """The hunt's output could not be written; nothing of the pass was committed."""


#: Writes a hunt's output (files, a response) before the pass commits; raising OSError commits nothing.
Publish = Callable[[HuntResult], None]


def check(options: HuntOptions) -> None:
    """Refuse option combinations that cannot work, before anything is read."""
    if options.engine not in ENGINES:
        raise OptionError(f"--engine must be duckdb or spark, not {options.engine!r}")
    if options.engine == "spark" and options.lake is None:
        raise OptionError("--engine spark runs over a Parquet lake: give --lake DIR")
    if options.lake is not None and options.db is not None:
        raise OptionError("--lake and --db are two different stores: give one")
    if not options.paths and options.lake is None:
        raise OptionError("give log files to hunt, or --lake DIR to hunt a lake written before")
    if not options.paths and options.lake is not None:
        from tunnelhunt.store.lake import lake_has_data  # pyarrow.dataset: only when a lake is used

        if not lake_has_data(options.lake):
            raise OptionError(
                f"{options.lake} holds no events (write it first: tunnelhunt hunt LOGS --lake {options.lake})"
            )


def hunt(
    options: HuntOptions,
    on_progress: ProgressCallback | None = None,
    on_quarantine: QuarantineSink | None = None,
    now: datetime | None = None,
    publish: Publish | None = None,
) -> HuntResult:
    """Ingest `options.paths` (if any) and run every detection and analytic once over everything.

    `publish` gets the result before the pass's state commits (see the module's docstring)."""
    check(options)
    mappings = load_mappings(options.mappings)
    check_format(options.fmt, mappings)
    cache = open_cache(options.cache_dir, options.cache)
    content = load(options.detections, options.macros, allow_empty=bool(options.sigma), cache=cache)
    # the cache keeps DuckDB's SQL only; a window is in the SQL, and a relative one (--earliest -7d) would
    # add entries on every run that no later run finds
    content.cache = cache if options.engine == "duckdb" and options.window is None else None
    sigma = load_sigma([*options.sigma, *content.sigma], cache)
    rules = load_rules(options.rules)
    sinks = _sinks(options)
    at = now or datetime.now(UTC)
    with ExitStack() as stack:
        report = None
        if options.lake is not None:
            if options.paths:  # the lake is written first, then read through views of what it holds
                report = _ingest_lake(options, mappings, on_progress, on_quarantine)
            state = stack.enter_context(_lake_store(options.lake))
        else:
            state = stack.enter_context(open_store(options.db))
            if options.paths:
                report = ingest(
                    options.paths, state, options.fmt, incremental=True, mappings=mappings,
                    **_ingest_options(options, on_progress, on_quarantine),
                )  # fmt: skip
        if len(sigma.runnable()) >= COMPRESS_FROM_RULES and options.lake is None:
            state.compress()
        engine: QueryEngine = state
        if options.engine == "spark":
            from tunnelhunt.detect.spark import SparkEngine

            engine = stack.enter_context(SparkEngine(options.lake, options.spark_master))  # type: ignore[arg-type,assignment]  # runs compiled searches only: no cache with Spark

        def before_commit(passed: pipeline.PassReport) -> None:
            if publish is None:
                return
            try:
                publish(HuntResult(content, sigma, report, passed, [], options.window))
            except OSError as exc:
                where = f"{exc.filename}: " if exc.filename else ""
                raise OutputError(
                    f"cannot write the output: {where}{exc.strerror or exc}; no result, risk event or finding "
                    "of this hunt was recorded, so the next hunt gives them again"
                ) from exc
            crashpoint("hunt-after-output")

        passed = pipeline.hunt_pass(engine, state, content, at, rules, options.window, sigma, before_commit)
        deliveries = _deliver(sinks, state)
        gathered = None
        if options.report:
            from tunnelhunt.actions.report import gather  # the drilldown compiler: only for a report

            where = str(options.db or options.lake or "hunt (in memory)")
            gathered = gather(state, content, where, report, passed.runs)
    return HuntResult(content, sigma, report, passed, deliveries, options.window, gathered)


@contextmanager
def _lake_store(root: Path) -> Iterator[Store]:
    from tunnelhunt.store.lake import LakeStore

    with LakeStore(root) as store:
        yield store


def _ingest_options(
    options: HuntOptions, on_progress: ProgressCallback | None, on_quarantine: QuarantineSink | None
) -> dict[str, Any]:
    return {
        "include": options.include,
        "exclude": options.exclude,
        "on_progress": on_progress,
        "on_quarantine": on_quarantine,
        "workers": options.workers,
    }


def _ingest_lake(
    options: HuntOptions,
    mappings: list[CustomMapping],
    on_progress: ProgressCallback | None,
    on_quarantine: QuarantineSink | None,
) -> IngestReport:
    """The lake keeps no checkpoints: each run adds its files."""
    from tunnelhunt.store.lake import LakeWriter

    assert options.lake is not None
    with LakeWriter(options.lake) as writer:
        return ingest(
            options.paths, writer, options.fmt, incremental=False, mappings=mappings,
            **_ingest_options(options, on_progress, on_quarantine),
        )  # fmt: skip
