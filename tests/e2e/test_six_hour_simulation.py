"""Done-when: a six-hour run over a log that grows every minute, driven by an injected clock.

Each simulated minute the events of the previous minute are appended to the log, then the watcher steps:
ingest what is new, run due detections, deliver to a JSON lines sink. Expected risk events are worked out
independently from the hits' times and the schedule; each must appear exactly once, in the store and in
the sink, and the 24-hour rule must fire at the tick that brings a host's third ngrok hit.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers import dns_event, process_event
from tunnelhunt.content.loader import ContentSet, load_content
from tunnelhunt.rba.rules import SCORE_RULE
from tunnelhunt.schedule.follow import Follower
from tunnelhunt.schedule.scheduler import Scheduler
from tunnelhunt.schedule.watch import Watcher
from tunnelhunt.sinks.file_sink import FileSink
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
MINUTES = 6 * 60
DNS_SEARCH = "ESCU - Ngrok Reverse Proxy on Network - Rule"

#: (time, host) of every ngrok DNS lookup; one answer each, so one lookup is one result of 50 risk.
HITS = [
    (START + timedelta(minutes=20), "wks-a"),  # 08:20 → tick 09:00
    (START + timedelta(minutes=90), "wks-a"),  # 09:30 → tick 10:00
    (START + timedelta(minutes=160), "wks-a"),  # 10:40 → tick 11:00: third hit, 150 > 100
    (START + timedelta(minutes=65), "wks-b"),  # 09:05 → tick 10:00
    (START + timedelta(minutes=135), "wks-b"),  # 10:15 → tick 11:00: 100 is not above 100
    (START + timedelta(minutes=270), "wks-c"),  # 12:30 → tick 13:00
    (START + timedelta(minutes=355), "wks-c"),  # 13:55 → tick 15:00, after the run ends
]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def minute_of_events(minute: datetime) -> list[str]:
    """Background noise, near misses now and then, and the planned hits. The noise lookups come in about one
    minute in two at a random second: a lookup at the same second of every minute would be a beacon."""
    lines = [process_event("notepad.exe a.txt", image="C:\\Windows\\notepad.exe", time=_stamp(minute))]
    chance = random.Random(minute.isoformat())
    if chance.random() < 0.5:
        at = minute + timedelta(seconds=chance.randrange(60))
        lines.append(dns_event("login.example.com", computer="wks-a", time=_stamp(at)))
    if minute.minute % 17 == 0:
        near = dns_event("ngrok.io.evil.com", computer="wks-a", time=_stamp(minute + timedelta(seconds=9)))
        lines.append(near)  # `*.ngrok.io` must not match this
    for when, host in HITS:
        if minute <= when < minute + timedelta(minutes=1):
            # only the seed's `*.ngrok.com` matches this name: one hit is one seed risk event, whatever else ships
            lines.append(dns_event("assets.ngrok.com", "::ffff:3.20.27.198;", computer=host, time=_stamp(when)))
    return lines


def expected_ticks(latest_lag: timedelta, end: datetime) -> Counter[tuple[str, datetime]]:
    """(host, tick) of every risk event: the first hourly tick whose window [t-70m, t-lag) holds the hit."""
    expected: Counter[tuple[str, datetime]] = Counter()
    for when, host in HITS:
        tick = when.replace(minute=0, second=0) + timedelta(hours=1)
        while not (tick - timedelta(minutes=70) <= when < tick - latest_lag):
            tick += timedelta(hours=1)
        if tick <= end:
            expected[(host, tick)] += 1
    return expected


def simulate(tmp_path: Path, content: ContentSet, poll_every: int = 1) -> tuple[Store, Path]:
    log, out = tmp_path / "logs" / "sysmon.log", tmp_path / "out"
    log.parent.mkdir()
    log.touch()
    store = Store(tmp_path / "hunt.duckdb")
    scheduler = Scheduler(store, content.detections, content.macros)
    watcher = Watcher([log.parent], Follower(store), scheduler, [FileSink(out, "jsonl")], start=START)
    for step in range(1, MINUTES + 1):
        now = START + timedelta(minutes=step)
        with log.open("a") as stream:
            stream.write("\n".join(minute_of_events(now - timedelta(minutes=1))) + "\n")
        if step % poll_every == 0:
            watcher.step(now)
    return store, out


def risk_seen(store: Store) -> Counter[tuple[str, datetime]]:
    rows = RbaStore(store).rows("SELECT risk_object, _time FROM risk_events")
    return Counter((r["risk_object"], r["_time"]) for r in rows)


def test_six_hours_of_growing_log_give_each_risk_event_once(tmp_path: Path) -> None:
    store, out = simulate(tmp_path, load_content())
    end = START + timedelta(minutes=MINUTES)
    expected = expected_ticks(timedelta(minutes=10), end)
    assert sum(expected.values()) == 6  # the 13:55 hit is for the 15:00 tick, after the end
    assert risk_seen(store) == expected
    sink_lines = [json.loads(line) for line in (out / "risk_events.jsonl").read_text().splitlines()]
    assert Counter((r["risk_object"], datetime.fromisoformat(r["_time"])) for r in sink_lines) == expected
    assert len({r["risk_event_id"] for r in sink_lines}) == len(sink_lines)
    assert all(r["search_name"] == DNS_SEARCH and r["risk_score"] == 50 for r in sink_lines)
    # the 24-hour rule fires once, at 11:00, when wks-a's third hit lands; wks-b stays at 100
    findings = [json.loads(line) for line in (out / "findings.jsonl").read_text().splitlines()]
    assert [(f["rule"], f["risk_object"], f["severity"], f["risk_score"], f["_time"]) for f in findings] == [
        (SCORE_RULE, "wks-a", "medium", 150, "2026-11-20T11:00:00+00:00")
    ]
    store.close()


def test_windows_overlapping_by_ten_minutes_still_give_each_event_once(tmp_path: Path) -> None:
    # a variant of the seed whose window is [-70m@m, now): each hourly window overlaps the last by 10 minutes
    seed = Path(__file__).parents[2] / "src/tunnelhunt/content/detections/ngrok_reverse_proxy_on_network.yml"
    custom = tmp_path / "content" / "detections"
    custom.mkdir(parents=True)
    text = seed.read_text().replace("latest_time: -10m@m", "latest_time: now")
    assert "latest_time: now" in text
    (custom / "overlap.yml").write_text(text)
    content = load_content([tmp_path / "content"], include_shipped=False)
    content.macros = load_content().macros
    store, _ = simulate(tmp_path, content, poll_every=10)  # the log still grows every minute
    expected = expected_ticks(timedelta(0), START + timedelta(minutes=MINUTES))
    assert sum(expected.values()) == 7
    assert risk_seen(store) == expected
    store.close()
