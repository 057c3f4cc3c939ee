"""Cron ticks, windows [earliest, latest), no duplicates across overlapping windows, catch-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.helpers import dns_event
from tunnelhunt.content.loader import ContentSet, load_content
from tunnelhunt.content.models import Detection, Schedule
from tunnelhunt.ingest.run import ingest
from tunnelhunt.schedule.scheduler import Scheduler, is_due, ticks
from tunnelhunt.store.duckdb_store import Store

DNS_RULE = "Ngrok Reverse Proxy on Network"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture(scope="module")
def content() -> ContentSet:
    return load_content()


def dns_detection(content: ContentSet, **schedule: object) -> Detection:
    seed = next(d for d in content.detections if d.name == DNS_RULE)
    return seed.model_copy(update={"schedule": Schedule.model_validate(schedule)})


def store_with_hits(tmp_path: Path, times: list[str], hosts: list[str] | None = None) -> Store:
    log = tmp_path / "dns.log"
    hosts = hosts or ["h1"] * len(times)
    log.write_text(
        "\n".join(dns_event("a.ngrok.io", computer=h, time=t) for t, h in zip(times, hosts, strict=True)) + "\n"
    )
    store = Store()
    assert ingest([log], store).total("ingested") == len(times)
    return store


def test_seed_schedules_come_from_yaml(content: ContentSet) -> None:
    by_name = {d.name: d.schedule for d in content.detections}
    assert by_name[DNS_RULE] == Schedule(cron_schedule="0 * * * *", earliest_time="-70m@m", latest_time="-10m@m")
    assert by_name["Windows Ngrok Reverse Proxy Usage"].disabled is True


def test_due_only_at_cron_minutes_and_never_when_disabled(content: ContentSet) -> None:
    detection = dns_detection(content)
    assert is_due(detection, utc(2026, 11, 20, 10, 0, 42))
    assert not is_due(detection, utc(2026, 11, 20, 10, 1))
    assert not is_due(dns_detection(content, disabled=True), utc(2026, 11, 20, 10, 0))
    assert ticks(detection, utc(2026, 11, 20, 9, 0), utc(2026, 11, 20, 12, 0)) == [
        utc(2026, 11, 20, 10),
        utc(2026, 11, 20, 11),
        utc(2026, 11, 20, 12),
    ]


def test_cron_is_read_in_the_given_time_zone(content: ContentSet) -> None:
    daily = dns_detection(content, cron_schedule="0 6 * * *")
    assert is_due(daily, utc(2026, 11, 20, 5, 0), ZoneInfo("Europe/Paris"))  # 06:00 in Paris is 05:00 UTC
    assert not is_due(daily, utc(2026, 11, 20, 6, 0), ZoneInfo("Europe/Paris"))


def test_window_is_half_open(content: ContentSet, tmp_path: Path) -> None:
    # at 11:00 the window is [09:50, 10:50): 09:50:00 is in, 10:50:00 belongs to the next window
    store = store_with_hits(tmp_path, ["2026-11-20T09:49:59Z", "2026-11-20T09:50:00Z", "2026-11-20T10:50:00Z"])
    scheduler = Scheduler(store, [dns_detection(content)], content.macros, analytics=[])  # detections alone
    first = scheduler.run_at(utc(2026, 11, 20, 11))
    assert first.runs[0].searched == [(utc(2026, 11, 20, 9, 50), utc(2026, 11, 20, 10, 50))]
    assert first.risk_events == 1
    assert scheduler.run_at(utc(2026, 11, 20, 12)).risk_events == 1


def test_overlapping_windows_never_count_an_event_twice(content: ContentSet, tmp_path: Path) -> None:
    # every 30 minutes over a 60-minute window: each window overlaps the previous one by 30 minutes
    times = [f"2026-11-20T{h:02d}:{m:02d}:00Z" for h in range(8, 12) for m in (5, 35)]
    store = store_with_hits(tmp_path, times, [f"h{n}" for n in range(len(times))])  # one result per hit
    scheduler = Scheduler(
        store, [dns_detection(content, cron_schedule="*/30 * * * *")], content.macros, analytics=[]
    )  # detections alone
    reports = [scheduler.run_at(utc(2026, 11, 20, 9) + timedelta(minutes=30 * n)) for n in range(7)]
    assert sum(r.risk_events for r in reports) == 8  # 8 hits, each counted once ([07:50, 11:50) covered)
    spans = [span for r in reports for span in r.runs[0].searched]
    assert all(b - a == timedelta(minutes=30) for a, b in spans[1:])  # only the new half is searched
    total = store.query("SELECT count(*) AS n FROM risk_events").column("n")[0].as_py()
    assert total == 8


def test_running_the_same_time_again_adds_nothing(content: ContentSet, tmp_path: Path) -> None:
    store = store_with_hits(tmp_path, ["2026-11-20T10:15:00Z"])
    scheduler = Scheduler(store, [dns_detection(content)], content.macros, analytics=[])  # detections alone
    assert scheduler.run_at(utc(2026, 11, 20, 11)).risk_events == 1
    again = scheduler.run_at(utc(2026, 11, 20, 11))
    assert again.risk_events == 0 and again.runs[0].searched == []


def test_catch_up_runs_missed_ticks_in_order_once(content: ContentSet, tmp_path: Path) -> None:
    store = store_with_hits(tmp_path, [f"2026-11-20T{h:02d}:15:00Z" for h in range(9, 14)])
    scheduler = Scheduler(store, [dns_detection(content)], content.macros, analytics=[])  # detections alone
    reports = scheduler.catch_up(utc(2026, 11, 20, 15, 30), start=utc(2026, 11, 20, 9, 30))
    assert [r.at.hour for r in reports] == [10, 11, 12, 13, 14, 15]
    assert [r.risk_events for r in reports] == [1, 1, 1, 1, 1, 0]
    assert scheduler.catch_up(utc(2026, 11, 20, 15, 59)) == []  # nothing new is due
    assert [r.at.hour for r in scheduler.catch_up(utc(2026, 11, 20, 16, 0))] == [16]


def test_first_start_without_backfill_begins_now(content: ContentSet, tmp_path: Path) -> None:
    store = store_with_hits(tmp_path, ["2026-11-20T08:15:00Z"])
    scheduler = Scheduler(store, [dns_detection(content)], content.macros, analytics=[])  # detections alone
    assert scheduler.catch_up(utc(2026, 11, 20, 10, 30)) == []
    assert [r.at.hour for r in scheduler.catch_up(utc(2026, 11, 20, 11, 0))] == [11]


def test_broken_schedules_are_reported_and_others_still_run(content: ContentSet, tmp_path: Path) -> None:
    store = store_with_hits(tmp_path, ["2026-11-20T10:15:00Z"])
    bad_time = dns_detection(content, earliest_time="-70x").model_copy(update={"id": "bad-time"})
    bad_cron = dns_detection(content, cron_schedule="61 * * * *").model_copy(update={"id": "bad-cron"})
    scheduler = Scheduler(
        store, [bad_time, bad_cron, dns_detection(content)], content.macros, analytics=[]
    )  # detections alone
    assert len(scheduler.invalid) == 2
    assert "invalid time modifier '-70x'" in scheduler.invalid[0] and "invalid cron_schedule" in scheduler.invalid[1]
    report = scheduler.run_at(utc(2026, 11, 20, 11))
    assert [r.detection.id for r in report.runs] == [dns_detection(content).id] and report.risk_events == 1


def test_scheduled_ticks_compute_the_behaviour_analytics_once(content: ContentSet, tmp_path: Path) -> None:
    # the shipped analytics run over what the tick's detections searched, exactly as in a hunt
    store = store_with_hits(tmp_path, ["2026-11-20T10:00:00Z", "2026-11-20T10:05:00Z"], hosts=["h1", "h2"])
    scheduler = Scheduler(store, [dns_detection(content)], content.macros)
    first = scheduler.run_at(utc(2026, 11, 20, 11))
    by_name = {tick.detection.name: tick for tick in first.analytics}
    assert {"Tunnel Service Domain First Seen on Host", "Tunnel Service Domain First Seen in Fleet"} <= set(by_name)
    assert by_name["Tunnel Service Domain First Seen on Host"].results == 2  # h1 and h2 each looked up ngrok first
    assert by_name["Tunnel Service Domain First Seen in Fleet"].results == 1
    assert all(t.searched == [(utc(2026, 11, 20, 9, 50), utc(2026, 11, 20, 10, 50))] for t in first.analytics)
    again = scheduler.run_at(utc(2026, 11, 20, 11))
    assert again.analytics == [] and again.risk_events == 0  # nothing unsearched: nothing recomputed
    host_analytic = by_name["Tunnel Service Domain First Seen on Host"].detection
    stored = store.con.execute("SELECT count(*) FROM detection_results WHERE detection_id = ?", [host_analytic.id])
    assert stored.fetchone() == (2,)
