"""Run detections on their cron schedules over their relative windows, exactly once per event.

A tick is a minute at which a detection's `cron_schedule` fires. At a tick the detection searches its
window (`earliest_time`, `latest_time` resolved against the tick), minus whatever part of that window
it has already searched (`searched_windows`): overlapping windows, a repeated `run --at` or a catch-up
after a crash therefore never evaluate an event twice. Results, risk events, the searched spans, the
tick reached and the incident findings of the tick are committed in one transaction.

Identities: a result is `sha256(detection id, searched span, the result row)`; a risk event is
`sha256(result id, risk object field, risk object)`; a finding is `sha256(rule, object, tick, severity)`.
The tables are keyed by them, so even a replayed write adds nothing.

Sigma rules have no schedule of their own: each runs as a `SigmaDetection` on the default schedule
(`content.models.Schedule`: hourly over `[-70m@m, -10m@m)`), searched-window bookkeeping included. The
Sigma rules due at a tick that search the same span run together, sharing scans (`sigma.scan`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from croniter import croniter

from tunnelhunt import pipeline
from tunnelhunt.collector import no_collection
from tunnelhunt.content.behaviours import BehaviourAnalytic
from tunnelhunt.content.loader import MacroLibrary
from tunnelhunt.content.lookups import LookupLibrary
from tunnelhunt.content.models import Detection
from tunnelhunt.crashpoint import crashpoint
from tunnelhunt.detect.runner import DetectionRun, run_detection
from tunnelhunt.errors import TunnelhuntError
from tunnelhunt.rba.rules import RuleConfig, default_rules
from tunnelhunt.sigma import SigmaContent, sigma_detection
from tunnelhunt.sigma.results import run_sigma_rule
from tunnelhunt.sigma.rules import SigmaRuleKind
from tunnelhunt.sigma.scan import run_sigma
from tunnelhunt.spl import timemodifiers
from tunnelhunt.spl.window import TimeWindow
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore


class ScheduleError(TunnelhuntError, ValueError):
    """A detection's schedule cannot be used (bad cron expression or time modifier)."""


@dataclass
class DetectionTick:
    """What one detection did at one tick."""

    detection: Detection
    tick: datetime
    window: timemodifiers.Window | None = None
    searched: list[tuple[datetime, datetime]] = field(default_factory=list)
    results: int = 0
    risk_events: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class TickReport:
    """One tick: the detections that ran and the findings the incident rules raised."""

    at: datetime
    runs: list[DetectionTick] = field(default_factory=list)
    #: the behaviour analytics, run over the spans the tick's detections searched
    analytics: list[DetectionTick] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def risk_events(self) -> int:
        return sum(run.risk_events for run in self.runs + self.analytics)


def minute(moment: datetime) -> datetime:
    """The minute a moment falls in (cron's resolution), aware UTC."""
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def check_schedule(detection: Detection) -> None:
    """Raise ScheduleError when a detection's schedule is unusable."""
    schedule = detection.schedule
    if not croniter.is_valid(schedule.cron_schedule):
        raise ScheduleError(f"{detection.name}: invalid cron_schedule {schedule.cron_schedule!r}")
    now = datetime.now(UTC)
    try:
        timemodifiers.window(schedule.earliest_time, schedule.latest_time, now)
    except timemodifiers.TimeModifierError as exc:
        raise ScheduleError(f"{detection.name}: {exc}") from None


def is_due(detection: Detection, at: datetime, tz: tzinfo = UTC) -> bool:
    """True when the detection is enabled and its cron fires at this minute."""
    if detection.schedule.disabled:
        return False
    return bool(croniter.match(detection.schedule.cron_schedule, minute(at).astimezone(tz)))


def ticks(detection: Detection, after: datetime, until: datetime, tz: tzinfo = UTC) -> list[datetime]:
    """The cron fire times in `(after, until]`, as aware UTC minutes."""
    if detection.schedule.disabled:
        return []
    out: list[datetime] = []
    iterator = croniter(detection.schedule.cron_schedule, minute(after).astimezone(tz))
    while True:
        nxt = iterator.get_next(datetime).astimezone(UTC)
        if nxt > until:
            return out
        out.append(nxt)


class Scheduler:
    """Runs due detections against a store and records everything they produce."""

    def __init__(
        self,
        store: Store,
        detections: Iterable[Detection],
        macros: MacroLibrary,
        rules: RuleConfig | None = None,
        tz: tzinfo = UTC,
        lookups: LookupLibrary | None = None,
        analytics: list[BehaviourAnalytic] | None = None,
        sigma: SigmaContent | None = None,
    ) -> None:
        self.store = store
        self.analytics = analytics  # None: the shipped behaviour analytics
        self.lookups = lookups
        self.rba = RbaStore(store)
        self.detections: list[Detection] = []
        self.invalid: list[str] = []  # detections left out because their schedule is unusable
        #: Sigma rules by the id of the detection that schedules them
        self.sigma: dict[str, SigmaRuleKind] = {}
        for rule in sigma.runnable() if sigma else []:
            self.sigma[str(rule.id)] = rule
        #: converts the Sigma rules (through the content cache when the content has one), once per scheduler
        self.sigma_compiler = sigma.compiler() if sigma is not None and self.sigma else None
        for detection in [*detections, *(sigma_detection(rule) for rule in self.sigma.values())]:
            try:
                check_schedule(detection)
            except ScheduleError as exc:
                self.invalid.append(str(exc))
                continue
            self.detections.append(detection)
        self.macros = macros
        self.rules = rules or default_rules()
        self.tz = tz
        #: Sigma runs of the current tick, made together before the detections are walked one by one
        self._prepared: dict[tuple[str, datetime, datetime], DetectionRun] = {}

    def due(self, at: datetime) -> list[Detection]:
        return [d for d in self.detections if is_due(d, at, self.tz)]

    def run_at(self, at: datetime, detections: list[Detection] | None = None) -> TickReport:
        """Run the detections due at `at` (or the given ones), the behaviour analytics over what they
        searched, and the incident rules, in one transaction (`pipeline` records everything)."""
        tick = minute(at)
        chosen = self.due(tick) if detections is None else detections
        report = TickReport(tick)
        with self.rba.transaction():
            self._prepared = self._sigma_runs(chosen, tick)
            runs: list[DetectionRun] = []
            for detection in chosen:
                report.runs.append(self._run_one(detection, tick, runs))
            searched = [span for outcome in report.runs for span in outcome.searched]
            if searched:
                window = TimeWindow(min(s for s, _ in searched), max(e for _, e in searched))
                for run, recorded in pipeline.behaviours(self.rba, self.store, runs, window, tick, self.analytics):
                    report.analytics.append(_analytic_tick(run, recorded, tick, window))
            report.findings = pipeline.raise_findings(self.rba, tick, self.rules)
            crashpoint("tick-before-commit")
        return report

    def _run_one(self, detection: Detection, tick: datetime, runs: list[DetectionRun]) -> DetectionTick:
        outcome = DetectionTick(detection, tick)
        schedule = detection.schedule
        try:
            outcome.window = timemodifiers.window(schedule.earliest_time, schedule.latest_time, tick, self.tz)
        except timemodifiers.TimeModifierError as exc:
            outcome.error = str(exc)
            self.rba.set_last_tick(detection.id, tick)
            return outcome
        for start, end in self.rba.unsearched(detection.id, outcome.window.earliest, outcome.window.latest):
            window = TimeWindow(start, end)
            run = self._run(detection, window)
            outcome.warnings.extend(w for w in run.warnings if w not in outcome.warnings)
            if run.error:
                outcome.error = run.error
                break
            runs.append(run)
            recorded = pipeline.record(self.rba, run, window, tick)
            outcome.results += recorded.results
            outcome.risk_events += recorded.risk_events_added
            self.rba.mark_searched(detection.id, start, end)
            outcome.searched.append((start, end))
        self.rba.set_last_tick(detection.id, tick)
        return outcome

    def _sigma_runs(
        self, chosen: list[Detection], tick: datetime
    ) -> dict[tuple[str, datetime, datetime], DetectionRun]:
        """The due Sigma rules' runs over the spans they have not searched, rules of the same span together."""
        by_span: dict[tuple[datetime, datetime], list[tuple[str, SigmaRuleKind]]] = {}
        for detection in chosen:
            rule = self.sigma.get(detection.id)
            if rule is None:
                continue
            schedule = detection.schedule
            try:
                window = timemodifiers.window(schedule.earliest_time, schedule.latest_time, tick, self.tz)
            except timemodifiers.TimeModifierError:
                continue  # `_run_one` reports it
            for span in self.rba.unsearched(detection.id, window.earliest, window.latest):
                by_span.setdefault(span, []).append((detection.id, rule))
        prepared = {}
        with no_collection():  # converting rules builds a million sqlglot nodes, as in a hunt's pass
            for (start, end), members in by_span.items():
                rules = [rule for _, rule in members]
                runs = run_sigma(self.store, rules, TimeWindow(start, end), self.sigma_compiler)
                prepared.update({(ident, start, end): run for (ident, _), run in zip(members, runs, strict=True)})
        return prepared

    def _run(self, detection: Detection, window: TimeWindow) -> DetectionRun:
        assert window.earliest is not None and window.latest is not None
        prepared = self._prepared.pop((detection.id, window.earliest, window.latest), None)
        if prepared is not None:
            return prepared
        rule = self.sigma.get(detection.id)
        if rule is not None:
            with no_collection():
                return run_sigma_rule(self.store, rule, window, self.sigma_compiler)
        return run_detection(self.store, detection, self.macros, window, self.lookups)

    def pending(self, now: datetime, start: datetime | None = None) -> list[tuple[datetime, list[Detection]]]:
        """Ticks not yet run up to `now`, oldest first, each with its detections.

        A detection never run before starts at `start` (default: `now`, i.e. no backfill); that starting
        point is recorded so a crash before its first tick does not skip ticks.
        """
        by_tick: dict[datetime, list[Detection]] = {}
        origin = minute(start or now)
        for detection in self.detections:
            if detection.schedule.disabled:
                continue
            last = self.rba.last_tick(detection.id)
            if last is None:
                last = origin - timedelta(minutes=1)
                self.rba.set_last_tick(detection.id, last)
            for tick in ticks(detection, last, now, self.tz):
                by_tick.setdefault(tick, []).append(detection)
        return sorted(by_tick.items(), key=lambda item: item[0])

    def catch_up(
        self,
        now: datetime,
        start: datetime | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_tick: Callable[[TickReport], None] | None = None,
    ) -> list[TickReport]:
        """Run every tick due since the last one recorded (or since `start`), oldest first.

        `should_stop` is asked before each tick: a backfill of weeks is thousands of ticks (four seconds
        each for the shipped content), and a stop waits for the running one only. Each tick commits with
        its last-tick mark, so the next catch-up resumes at the first tick not run. `on_tick` hears of
        each tick as it commits, so a long backfill shows its progress."""
        reports = []
        for tick, detections in self.pending(now, start):
            if should_stop is not None and should_stop():
                break
            reports.append(self.run_at(tick, detections))
            if on_tick is not None:
                on_tick(reports[-1])
        return reports


def _analytic_tick(run: DetectionRun, recorded: pipeline.Recorded, tick: datetime, window: TimeWindow) -> DetectionTick:
    """A behaviour analytic's part of a tick, reported like a detection's."""
    outcome = DetectionTick(run.detection, tick, error=run.error, warnings=list(run.warnings))
    if window.earliest is not None and window.latest is not None:
        outcome.searched.append((window.earliest, window.latest))
    outcome.results, outcome.risk_events = recorded.results, recorded.risk_events_added
    return outcome
