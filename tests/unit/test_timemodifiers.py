"""Splunk time modifiers, checked against the examples in Splunk's Search Manual and near misses.

One grammar serves schedules, `--since`/`run --at` (`resolve`) and eval's `relative_time()`; each
documented example is checked through both doors, and spans (`span=1h`) share its unit names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import pytest

from tunnelhunt.spl.compiler import compile_search
from tunnelhunt.spl.errors import SplError, SplSyntaxError, UnsupportedError
from tunnelhunt.spl.timemodifiers import TimeModifierError, TimeRangeError, resolve, span_seconds, window
from tunnelhunt.store.duckdb_store import Store


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# Wednesday 2026-11-18 11:59:30 UTC
NOW = utc(2026, 11, 18, 11, 59, 30)


DOCUMENTED = [
    # the Search Manual's table of relative time examples
    ("now", NOW),
    ("now()", NOW),
    ("-60m", utc(2026, 11, 18, 10, 59, 30)),
    ("-1h@h", utc(2026, 11, 18, 10, 0, 0)),  # "1 hour ago, to the hour": at 11:59 that is 10:00
    ("-1d@d", utc(2026, 11, 17)),  # yesterday
    ("-24h", utc(2026, 11, 17, 11, 59, 30)),
    ("-7d@d", utc(2026, 11, 11)),
    ("-7d@m", utc(2026, 11, 11, 11, 59)),
    ("@w0", utc(2026, 11, 15)),  # beginning of the current week (Sunday)
    ("+1d@d", utc(2026, 11, 19)),  # tomorrow
    ("+24h", utc(2026, 11, 19, 11, 59, 30)),
    # "if it is 11:59:00 and you snap to hours, you snap to 11:00, not 12:00"
    ("@h", utc(2026, 11, 18, 11)),
    # "@d-2h: snap to the beginning of today and subtract 2 hours" (10 PM yesterday)
    ("@d-2h", utc(2026, 11, 17, 22)),
    # chained offsets after a snap
    ("@d+3h", utc(2026, 11, 18, 3)),
    ("-1d@d+8h+30m", utc(2026, 11, 17, 8, 30)),
    # the integer may be left out: `-d` is `-1d`, `-h@h` is `-1h@h`
    ("-d", utc(2026, 11, 17, 11, 59, 30)),
    ("-h@h", utc(2026, 11, 18, 10)),
    # weekday snaps: @w1 is Monday of this week, @w7 Sunday like @w0, @w Sunday
    ("@w1", utc(2026, 11, 16)),
    ("@w3", utc(2026, 11, 18)),  # today is Wednesday: snaps to today's start
    ("@w5", utc(2026, 11, 13)),  # Friday is after today, so the previous Friday
    ("@w7", utc(2026, 11, 15)),
    ("@w", utc(2026, 11, 15)),
    ("-7d@w1", utc(2026, 11, 9)),
    # month, quarter and year snaps (quarters start Jan 1, Apr 1, Jul 1, Oct 1)
    ("@mon", utc(2026, 11, 1)),
    ("@q", utc(2026, 10, 1)),
    ("@y", utc(2026, 1, 1)),
    ("-1mon@mon", utc(2026, 10, 1)),
    ("-1q@q", utc(2026, 7, 1)),
    ("-1y@y", utc(2025, 1, 1)),
    # the seeds' schedule
    ("-70m@m", utc(2026, 11, 18, 10, 49)),
    ("-10m@m", utc(2026, 11, 18, 11, 49)),
    # long unit names
    ("-2hours", utc(2026, 11, 18, 9, 59, 30)),
    ("-30seconds", utc(2026, 11, 18, 11, 59)),
    ("-1week@days", utc(2026, 11, 11)),
    ("-2qtrs", utc(2026, 5, 18, 11, 59, 30)),
    ("+1yr", utc(2027, 11, 18, 11, 59, 30)),
    ("-5mins@min", utc(2026, 11, 18, 11, 54)),
    ("-1months", utc(2026, 10, 18, 11, 59, 30)),
    ("-1sec@s", utc(2026, 11, 18, 11, 59, 29)),
    # absolute times: %m/%d/%Y:%H:%M:%S (the manual's 10/19/2009:0:0:0), epoch seconds, ISO 8601
    ("10/19/2009:0:0:0", utc(2009, 10, 19)),
    ("10/27/2009:13:05:09", utc(2009, 10, 27, 13, 5, 9)),
    ("0", utc(1970, 1, 1)),
    ("1763467170", utc(2025, 11, 18, 11, 59, 30)),
    ("2026-11-18T09:00:00Z", utc(2026, 11, 18, 9)),
    # real-time forms resolve like their historical counterpart
    ("rt-5m", utc(2026, 11, 18, 11, 54, 30)),
    ("rt", NOW),
    # snap then offset, every weekday snap, +/- on each unit
    ("-1d@d+2h", utc(2026, 11, 17, 2)),
    ("@w0", utc(2026, 11, 15)),
    ("@w2", utc(2026, 11, 17)),
    ("@w4", utc(2026, 11, 12)),
    ("@w6", utc(2026, 11, 14)),
    ("@w1+1d", utc(2026, 11, 17)),
    ("+1w", utc(2026, 11, 25, 11, 59, 30)),
    ("+2mon@mon", utc(2027, 1, 1)),
    ("+1q@q", utc(2027, 1, 1)),
    ("-30s", utc(2026, 11, 18, 11, 59)),
    ("+5m@m", utc(2026, 11, 18, 12, 4)),
]
#: the relative ones, which eval's relative_time(now(), ...) accepts too
RELATIVE = [(m, e) for m, e in DOCUMENTED if not m[:1].isdigit() and m not in ("rt",) and not m.startswith("rt")]


@pytest.mark.parametrize(("modifier", "expected"), DOCUMENTED)
def test_documented_examples(modifier: str, expected: datetime) -> None:
    assert resolve(modifier, NOW) == expected


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    with Store() as store:
        yield store


def _relative_time(store: Store, modifier: str, now: datetime = NOW, tz: tzinfo = UTC) -> datetime | None:
    search = f'| tstats count from datamodel=Endpoint.Processes | eval t=relative_time(now(), "{modifier}")'
    rows = store.query(compile_search(search, now=now, tz=tz).sql("duckdb")).to_pylist()
    value = rows[0]["t"]  # printed as Splunk prints a time outside _time: epoch seconds
    return None if value is None else datetime.fromtimestamp(int(value), UTC)


@pytest.mark.parametrize(("modifier", "expected"), RELATIVE)
def test_eval_relative_time_uses_the_same_grammar(store: Store, modifier: str, expected: datetime) -> None:
    assert _relative_time(store, modifier) == expected


def test_eval_relative_time_snaps_in_the_compile_time_zone(store: Store) -> None:
    assert _relative_time(store, "@d", tz=ZoneInfo("Europe/Paris")) == utc(2026, 11, 17, 23)


@pytest.mark.parametrize("bad", ["soon", "-5x", "@w8", "-1h@h+", "--5m"])
def test_eval_relative_time_with_a_malformed_modifier_is_null(store: Store, bad: str) -> None:
    assert _relative_time(store, bad) is None  # Splunk gives null rather than failing the search


def test_eval_relative_time_out_of_range_is_a_compile_error_with_position() -> None:
    search = '| tstats count from datamodel=Endpoint.Processes | eval t=relative_time(now(), "-9999999d")'
    with pytest.raises(TimeRangeError) as caught:
        compile_search(search, now=NOW)
    assert isinstance(caught.value, SplError) and caught.value.position == search.index("relative_time")


def test_out_of_range_modifiers_are_typed_errors() -> None:
    for text in ("-9999999d", "+99999y", "99999999999999999999", "-999999999999mon"):
        with pytest.raises(TimeRangeError):
            resolve(text, NOW)


@pytest.mark.parametrize(
    ("span", "seconds"),
    [("1h", 3600), ("30m", 1800), ("15min", 900), ("1d", 86400), ("2days", 172800), ("w", 604800), ("10s", 10)],
)
def test_spans_use_the_same_unit_names(span: str, seconds: int) -> None:
    assert span_seconds(span) == seconds


@pytest.mark.parametrize(
    ("span", "error"),
    [
        ("1mon", UnsupportedError),
        ("1q", UnsupportedError),
        ("0h", SplSyntaxError),
        ("1x", SplSyntaxError),
        ("-1h", SplSyntaxError),
    ],
)
def test_bad_or_uneven_spans_are_rejected(span: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        span_seconds(span, 7)


def test_month_offsets_clamp_to_the_end_of_shorter_months() -> None:
    assert resolve("-1mon", utc(2026, 3, 31, 12)) == utc(2026, 2, 28, 12)
    assert resolve("+1y", utc(2028, 2, 29)) == utc(2029, 2, 28)


def test_snapping_happens_in_the_given_time_zone() -> None:
    paris = ZoneInfo("Europe/Paris")  # UTC+1 in November
    assert resolve("@d", NOW, paris) == utc(2026, 11, 17, 23)
    assert resolve("11/18/2026:00:00:00", NOW, paris) == utc(2026, 11, 17, 23)


def test_day_offsets_keep_wall_clock_time_across_daylight_saving() -> None:
    paris = ZoneInfo("Europe/Paris")
    after_change = datetime(2026, 3, 30, 12, 0, tzinfo=paris)  # the clocks went forward on 29 March
    assert resolve("-1d", after_change, paris) == datetime(2026, 3, 29, 12, 0, tzinfo=paris).astimezone(UTC)


@pytest.mark.parametrize(
    "bad",
    ["", "-5x", "5m", "-m@", "@", "@w8", "-1h@foo", "yesterday", "-1h@h+", "13/01/2026:0:0:0", "--5m"],
)
def test_malformed_modifiers_are_rejected(bad: str) -> None:
    with pytest.raises(TimeModifierError) as caught:
        resolve(bad, NOW)
    assert isinstance(caught.value, SplSyntaxError) and caught.value.modifier == bad
    with pytest.raises(TimeModifierError) as placed:
        resolve(bad, NOW, position=42)
    assert placed.value.position == 42


def test_near_miss_units_are_not_confused() -> None:
    # `m` is minutes, `mon` months: -1m and -1mon are very different times
    assert resolve("-1m", NOW) == utc(2026, 11, 18, 11, 58, 30)
    assert resolve("-1mon", NOW) == utc(2026, 10, 18, 11, 59, 30)


def test_window_is_half_open_and_ordered() -> None:
    span = window("-70m@m", "-10m@m", NOW)
    assert span.earliest == utc(2026, 11, 18, 10, 49) and span.latest == utc(2026, 11, 18, 11, 49)
    assert span.earliest in span and span.latest not in span
    with pytest.raises(TimeModifierError):
        window("now", "-1h", NOW)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):
        resolve("now", datetime(2026, 1, 1))
