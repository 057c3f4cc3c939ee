"""Beaconing (RITA's regularity score per host and destination) and DNS tunnelling by traffic (long, random
names under one zone), each with the near misses that must stay quiet, and the registered-zone split."""

from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.helpers import store_with
from tunnelhunt.cim import ALL_TRAFFIC, DNS
from tunnelhunt.content.behaviours import load_behaviours
from tunnelhunt.detect.beaconing import beacons
from tunnelhunt.detect.behaviour import hunt_behaviours
from tunnelhunt.detect.dns_tunnelling import tunnelling_zones
from tunnelhunt.detect.zones import split_zone
from tunnelhunt.rba.risk import risk_events
from tunnelhunt.spl.compiler import TimeWindow

T0 = datetime(2026, 11, 20, 10)


def periodic(
    count: int, seed: int, interval: float = 60.0, jitter: float = 2.0, start: datetime = T0
) -> list[datetime]:
    rng = random.Random(seed)
    times, at = [], start
    for _ in range(count):
        at += timedelta(seconds=interval + rng.uniform(-jitter, jitter))
        times.append(at)
    return times


def poisson(count: int, seed: int, mean: float = 60.0) -> list[datetime]:
    rng = random.Random(seed)
    times, at = [], T0
    for _ in range(count):
        at += timedelta(seconds=rng.expovariate(1 / mean))
        times.append(at)
    return times


def lookups(src: str, times: list[datetime], name: str = "c{i}.beacon.example.com") -> list[dict[str, Any]]:
    return [{"src": src, "query": name.format(i=i % 5), "_time": at} for i, at in enumerate(times)]


def scored(rows: list[dict[str, Any]], node: Any = DNS, **parameters: Any) -> list[dict[str, Any]]:
    with store_with(node, rows) as store:
        return beacons(store, parameters, None).to_pylist()


# --- beaconing ------------------------------------------------------------------------------------------


def test_a_sixty_second_beacon_to_one_zone_scores_high() -> None:
    [row] = scored(lookups("WKS-1", periodic(40, seed=1)))
    assert (row["src"], row["dest"], row["via"], row["count"], row["ticks"]) == (
        "wks-1", "example.com", "dns", 40, 40
    )  # fmt: skip
    assert 58 <= row["interval_seconds"] <= 62 and row["score"] >= 0.9 and row["ds_score"] is None
    assert row["firstTime"] < row["lastTime"]


def test_poisson_traffic_of_the_same_count_scores_low() -> None:
    for seed in range(5):
        rows = lookups("wks-1", poisson(40, seed=seed))
        assert scored(rows) == []
        [row] = scored(rows, threshold=0)
        assert row["score"] < 0.65, (seed, row)


def test_jitter_lowers_the_score_as_in_rita() -> None:
    """`sleep 60 20` (48 to 72 s) is found clearly; `sleep 60 50` (30 to 90 s, a deviation of about 15 s,
    half of RITA's 30 s cut-off and a quarter of the interval) scores about the threshold, as in RITA."""
    [row] = scored(lookups("wks-1", periodic(60, seed=8, jitter=12.0)))
    assert row["score"] > 0.85 and 57 <= row["interval_seconds"] <= 63
    halves = [scored(lookups("wks-1", periodic(60, seed=seed, jitter=30.0)), threshold=0)[0] for seed in range(8)]
    assert all(0.75 < r["score"] < 0.86 and 13 <= r["interval_madm_seconds"] <= 17 for r in halves)


def test_contacts_at_random_seconds_of_every_minute_are_not_a_beacon() -> None:
    """Two lookups a minute at random seconds: as many contacts as a 30 s beacon, none of its regularity."""
    rng = random.Random(9)
    times = sorted(T0 + timedelta(minutes=m, seconds=rng.randrange(60)) for m in range(60) for _ in range(2))
    [row] = scored(lookups("wks-1", times), threshold=0)
    assert row["score"] < 0.75


def test_a_fast_random_series_is_not_regular_because_its_deviation_is_small_in_seconds() -> None:
    """RITA's fixed 30 s cut-off alone would call deltas of a few seconds regular."""
    [row] = scored(lookups("wks-1", poisson(60, seed=3, mean=4.0)), threshold=0, min_interval_seconds=0)
    assert row["interval_madm_seconds"] < 5 and row["score"] < 0.7


def test_continuous_activity_at_one_second_resolution_is_not_a_beacon() -> None:
    """Lookups every second for minutes give deltas of exactly 1 s: regular to the score, but no timer."""
    burst = lookups("wks-1", [T0 + timedelta(seconds=s, milliseconds=m) for s in range(120) for m in (0, 400)])
    [row] = scored(burst, min_interval_seconds=0)
    assert (row["interval_seconds"], row["ticks"], row["score"]) == (1.0, 120, 1.0)
    assert scored(burst) == []


def test_too_few_contacts_are_not_scored_however_regular() -> None:
    assert scored(lookups("wks-1", periodic(19, seed=1)), threshold=0) == []
    assert len(scored(lookups("wks-1", periodic(19, seed=1)), min_count=10)) == 1


def test_hosts_do_not_mix() -> None:
    """Two hosts beaconing to one zone half a period apart: mixed, the interval would halve."""
    first = lookups("wks-1", periodic(30, seed=1))
    second = lookups("wks-2", periodic(30, seed=2, start=T0 + timedelta(seconds=30)))
    noise = lookups("wks-3", poisson(30, seed=4))
    rows = scored(first + second + noise)
    assert sorted((r["src"], r["dest"]) for r in rows) == [("wks-1", "example.com"), ("wks-2", "example.com")]
    assert all(58 <= r["interval_seconds"] <= 62 for r in rows)


def test_connections_count_each_second_once_and_leave_inbound_out() -> None:
    """Sysmon 3 and WFP 5156 log the same connection: two events in one second are one contact."""
    times = periodic(30, seed=5)
    both = [{"src": "WKS-1", "dest": "203.0.113.7", "dest_port": "443", "_time": at, "direction": "outbound"}
            for at in times for _ in range(2)]  # fmt: skip
    inbound = [{"src": "wks-1", "dest": "198.51.100.9", "dest_port": "3389", "_time": at, "direction": "inbound"}
               for at in times]  # fmt: skip
    [row] = scored(both + inbound, node=ALL_TRAFFIC)
    assert (row["dest"], row["via"], row["count"], row["ticks"]) == ("203.0.113.7:443", "connection", 60, 30)


def test_known_sizes_join_the_score() -> None:
    times = periodic(30, seed=6)
    steady = [{"src": "h", "dest": "203.0.113.7", "dest_port": "443", "_time": at, "bytes_out": "512"} for at in times]
    rng = random.Random(7)
    varied = [{**row, "bytes_out": str(rng.randint(100, 60_000))} for row in steady]
    [calm] = scored(steady, node=ALL_TRAFFIC)
    [noisy] = scored(varied, node=ALL_TRAFFIC, threshold=0)
    assert calm["ds_score"] >= 0.99 and noisy["ds_score"] < 0.6
    assert noisy["score"] < calm["score"] and noisy["score"] < 0.8


def test_the_window_bounds_the_contacts() -> None:
    times = periodic(40, seed=1)
    window = TimeWindow(earliest=T0, latest=T0 + timedelta(minutes=15))
    inside = sum(1 for at in times if at < T0 + timedelta(minutes=15))
    with store_with(DNS, lookups("wks-1", times)) as store:
        assert beacons(store, {}, window).num_rows == 0
        assert beacons(store, {"min_count": 10}, window).to_pylist()[0]["ticks"] == inside < 20


def test_values_from_the_logs_stay_literal() -> None:
    rows = lookups("wks'1", periodic(25, seed=1), name="x{i}.o'brien.example")  # no public suffix: last two labels
    assert [(r["src"], r["dest"]) for r in scored(rows)] == [("wks'1", "o'brien.example")]


# --- DNS tunnelling --------------------------------------------------------------------------------------


def _rng_bytes(rng: random.Random, size: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(size))


def iodine(src: str, count: int, zone: str = "tun.example.org") -> list[dict[str, Any]]:
    """iodine's upstream: base32 data in one long label under the tunnel's delegated zone, NULL records."""
    rng = random.Random(11)
    return [
        {"src": src, "query": "p" + base64.b32encode(_rng_bytes(rng, 35)).decode().lower().rstrip("=") + f".t1.{zone}",
         "record_type": ["NULL"], "_time": T0 + timedelta(seconds=i)}
        for i in range(count)
    ]  # fmt: skip


def dnscat2(src: str, count: int, zone: str = "dnscat.example.net") -> list[dict[str, Any]]:
    """dnscat2: hex-encoded packets split over labels, TXT/CNAME/MX queries."""
    rng = random.Random(12)
    return [
        {"src": src, "query": f"{_rng_bytes(rng, 31).hex()}.{_rng_bytes(rng, 12).hex()}.{zone}",
         "record_type": ["TXT" if i % 2 else "MX"], "_time": T0 + timedelta(seconds=i)}
        for i in range(count)
    ]  # fmt: skip


def tunnels(rows: list[dict[str, Any]], **parameters: Any) -> list[dict[str, Any]]:
    with store_with(DNS, rows) as store:
        return tunnelling_zones(store, parameters, None).to_pylist()


def test_iodine_like_base32_names_are_a_tunnel() -> None:
    [row] = tunnels(iodine("wks-1", 80))
    assert (row["src"], row["dest"], row["count"], row["subdomains"]) == ("wks-1", "example.org", 80, 80)
    assert row["mean_longest_label"] >= 50 and row["mean_entropy"] > 4.2 and row["tunnel_record_share"] == 1.0


def test_dnscat2_like_hex_names_are_a_tunnel() -> None:
    [row] = tunnels(dnscat2("wks-2", 60))
    assert (row["dest"], row["count"]) == ("example.net", 60)
    # hex alone carries at most 4 bits a character; the `dnscat` label adds a few letters
    assert 3.5 <= row["mean_entropy"] <= 4.2 and row["tunnel_record_share"] == 0.5


def test_near_misses_stay_quiet() -> None:
    cdn = [{"src": "wks-1", "query": f"e{i}.a.akamaiedge.net"} for i in range(200)]
    few = iodine("wks-2", 40)  # long and random, but fewer than 50 queries
    padded = [{"src": "wks-3", "query": f"session-{i:030d}.telemetry.example.com"} for i in range(100)]
    repeated = [{"src": "wks-4", "query": "a" * 40 + str(i % 40) + ".example.info"} for i in range(100)]
    assert tunnels(cdn + few + padded + repeated) == []
    relaxed = tunnels(cdn + few + padded + repeated, min_queries=1, min_subdomains=1, min_entropy=0, min_label_length=0)
    by_src = {row["src"]: row for row in relaxed}
    assert by_src["wks-1"]["mean_longest_label"] < 5 and by_src["wks-3"]["mean_entropy"] < 3.5
    assert by_src["wks-4"]["mean_entropy"] < 1 and by_src["wks-2"]["count"] == 40


def test_hosts_are_counted_apart_and_allow_listed_zones_are_never_reported() -> None:
    halves = [{**row, "src": f"wks-{i % 2}"} for i, row in enumerate(iodine("x", 80))]
    assert tunnels(halves) == []
    assert tunnels(iodine("wks-1", 80, zone="3.sophosxl.net"), allow_zones=["SophosXL.net."]) == []
    assert [r["dest"] for r in tunnels(iodine("wks-1", 80, zone="3.sophosxl.net"))] == ["sophosxl.net"]


def test_zones_are_registered_domains() -> None:
    assert split_zone("A.B.Example.CO.UK.") == ("example.co.uk", "a.b")
    assert split_zone("x.ngrok-free.app") == ("ngrok-free.app", "x")
    assert split_zone("_ldap._tcp.dc._msdcs.corp.local") == ("corp.local", "_ldap._tcp.dc._msdcs")
    assert split_zone("example.com") == ("example.com", "")
    for none in ("wpad", "localhost", "10.1.2.3", "fe80::1", "", None):
        assert split_zone(none) is None


# --- as shipped: risk on the source ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rows", "score"),
    [
        ("Host Beaconing to One Destination", lookups("wks-1", periodic(40, seed=1)), 30),
        ("DNS Tunnelling by Long Random Names Under One Zone", iodine("wks-1", 80), 56),
    ],
)
def test_shipped_analytics_raise_risk_on_the_source(name: str, rows: list[dict[str, Any]], score: int) -> None:
    [analytic] = [a for a in load_behaviours() if a.name == name]
    with store_with(DNS, rows) as store:
        [run] = hunt_behaviours(store, [], analytics=[analytic])
    assert run.error is None and len(run.rows) == 1
    [event] = risk_events(analytic, run.rows, T0)
    assert (event["risk_object"], event["risk_object_type"], event["risk_score"]) == ("wks-1", "system", score)
    assert "wks-1" in event["risk_message"] and "$" not in event["risk_message"]
