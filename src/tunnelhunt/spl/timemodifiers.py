"""Splunk's time syntax, one grammar for every use: time modifiers (`earliest=` / `latest=`, schedules,
`--since`, `run --at`, eval's `relative_time()`) resolved against a reference time, and bucket spans
(`span=1h` of tstats and bin).

Grammar, as Splunk documents it:

    modifier  := "now" | "now()" | absolute | epoch | [ "rt" ] relative
    relative  := offset* [ "@" snap offset* ]
    offset    := ("+" | "-") [integer] unit          (no integer means 1: `-d` is `-1d`)
    snap      := unit | "w0" … "w7"                   (`@w` and `@w0`, `@w7` are Sunday)
    unit      := s|sec|secs|second|seconds  m|min|mins|minute|minutes  h|hr|hrs|hour|hours
                 d|day|days  w|week|weeks  mon|month|months  q|qtr|qtrs|quarter|quarters
                 y|yr|yrs|year|years
    absolute  := %m/%d/%Y:%H:%M:%S (fields may be one digit) | ISO 8601
    epoch     := seconds since 1970 (a bare number; `0` is the start of time)

Offsets before the snap move the reference time, the snap rounds down to the start of its unit, and
offsets after it move the snapped time (`@d+3h` is 03:00 today). Snapping happens in the given time zone
(Splunk uses the searching user's; tunnelhunt's default is UTC). Month, quarter and year offsets keep the
day of month, clamped to the month's length. A search window is `[earliest, latest)`.

    span      := [integer] unit                      (seconds to weeks: months and years are uneven)

Every malformed modifier raises `TimeModifierError`, a `SplSyntaxError` (so it carries the position in
the search when one is known) that is also a `ValueError`; an instant outside the years 1-9999 raises
its subclass `TimeRangeError`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from tunnelhunt.spl.errors import SplSyntaxError, UnsupportedError

_UNITS: dict[str, str] = {}
for _canonical, _names in {
    "s": ("s", "sec", "secs", "second", "seconds"),
    "m": ("m", "min", "mins", "minute", "minutes"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "d": ("d", "day", "days"),
    "w": ("w", "week", "weeks"),
    "mon": ("mon", "month", "months"),
    "q": ("q", "qtr", "qtrs", "quarter", "quarters"),
    "y": ("y", "yr", "yrs", "year", "years"),
}.items():
    for _name in _names:
        _UNITS[_name] = _canonical

_OFFSET = re.compile(r"([+-])(\d*)([a-z]+)")
_WEEKDAY_SNAP = re.compile(r"w([0-7])")
_SPLUNK_ABSOLUTE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?::(\d{1,2}):(\d{1,2}):(\d{1,2}))?$")
_EPOCH = re.compile(r"^\d+(\.\d+)?$")


_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SPAN = re.compile(r"^(\d+)?([a-z]+)$")


class TimeModifierError(SplSyntaxError, ValueError):
    """A time modifier Splunk would reject, with the text at fault."""

    def __init__(self, modifier: str, reason: str, position: int | None = None) -> None:
        super().__init__(f"invalid time modifier {modifier!r}: {reason}", position, modifier)
        self.modifier = modifier
        self.reason = reason


class TimeRangeError(TimeModifierError):
    """A well-formed modifier whose instant falls outside the representable years (1-9999)."""


def span_seconds(span: str, position: int | None = None) -> int:
    """`1h` → 3600, `30m` → 1800; months, quarters and years (uneven lengths) are not supported."""
    match = _SPAN.match(span.strip().lower())
    if not match:
        raise SplSyntaxError(f"invalid span {span!r}", position, span)
    count = int(match.group(1) or 1)
    unit = _UNITS.get(match.group(2))
    if unit is None:
        raise SplSyntaxError(f"invalid span {span!r}: unknown time unit {match.group(2)!r}", position, span)
    if unit not in _SECONDS:
        raise UnsupportedError(f"span unit {match.group(2)!r} is not supported", position, span)
    if count <= 0:
        raise SplSyntaxError(f"invalid span {span!r}", position, span)
    return count * _SECONDS[unit]


@dataclass(frozen=True)
class Window:
    """A resolved search window `[earliest, latest)` in UTC."""

    earliest: datetime
    latest: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.earliest <= moment < self.latest


def resolve(modifier: str, now: datetime, tz: tzinfo = UTC, position: int | None = None) -> datetime:
    """The instant a time modifier names, relative to `now`; returned as an aware UTC datetime.

    `position` is where the modifier stands in a search, for the error a malformed one raises.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    try:
        return _resolve(modifier, now, tz)
    except TimeModifierError as exc:
        if position is None:
            raise
        raise type(exc)(exc.modifier, exc.reason, position) from None
    except (OverflowError, ValueError, OSError) as exc:  # datetime arithmetic beyond year 1 or 9999
        raise TimeRangeError(modifier, f"the time is out of range ({exc})", position) from None


def _resolve(modifier: str, now: datetime, tz: tzinfo) -> datetime:
    text = modifier.strip()
    if not text:
        raise TimeModifierError(modifier, "empty")
    lowered = text.lower()
    if lowered in ("now", "now()", "rt"):
        return now.astimezone(UTC)
    absolute = _absolute(text, tz)
    if absolute is not None:
        return absolute
    if lowered.startswith("rt"):
        lowered = lowered[2:]  # real-time windows resolve like their historical form
    relative, _, snapped = lowered.partition("@")
    local = now.astimezone(tz)
    local = _apply_offsets(local, relative, modifier)
    if "@" in lowered:
        snap, after = _split_snap(snapped)
        local = _snap(local, snap, modifier)
        local = _apply_offsets(local, after, modifier)
    return local.astimezone(UTC)


def window(earliest: str, latest: str, now: datetime, tz: tzinfo = UTC) -> Window:
    """Resolve a pair of modifiers into `[earliest, latest)`; rejects a window that ends before it starts."""
    start, end = resolve(earliest, now, tz), resolve(latest, now, tz)
    if end < start:
        raise TimeModifierError(f"{earliest} .. {latest}", "latest is before earliest")
    return Window(start, end)


def _absolute(text: str, tz: tzinfo) -> datetime | None:
    match = _SPLUNK_ABSOLUTE.match(text)
    if match:
        month, day, year = int(match[1]), int(match[2]), int(match[3])
        hour, minute, second = (int(match[i]) if match[i] else 0 for i in (4, 5, 6))
        try:
            local = datetime(year, month, day, hour, minute, second, tzinfo=tz)
        except ValueError as exc:
            raise TimeModifierError(text, str(exc)) from None
        return local.astimezone(UTC)
    if _EPOCH.match(text):
        return datetime.fromtimestamp(float(text), UTC)
    if re.match(r"^\d{4}-\d{2}-\d{2}", text):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise TimeModifierError(text, str(exc)) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=tz)
        return parsed.astimezone(UTC)
    return None


def _apply_offsets(moment: datetime, text: str, modifier: str) -> datetime:
    position = 0
    while position < len(text):
        match = _OFFSET.match(text, position)
        if not match:
            raise TimeModifierError(modifier, f"expected +N<unit> or -N<unit> at {text[position:]!r}")
        sign = -1 if match[1] == "-" else 1
        amount = int(match[2]) if match[2] else 1
        unit = _UNITS.get(match[3])
        if unit is None:
            raise TimeModifierError(modifier, f"unknown time unit {match[3]!r}")
        moment = _shift(moment, sign * amount, unit)
        position = match.end()
    return moment


def _shift(moment: datetime, amount: int, unit: str) -> datetime:
    if unit in ("mon", "q", "y"):
        months = amount * {"mon": 1, "q": 3, "y": 12}[unit]
        return _add_months(moment, months)
    seconds = _SECONDS[unit]
    if unit in ("d", "w"):
        # calendar days keep the wall-clock time across daylight-saving changes, as Splunk does
        naive = moment.replace(tzinfo=None) + timedelta(seconds=amount * seconds)
        return _localize(naive, moment.tzinfo)
    return (moment.astimezone(UTC) + timedelta(seconds=amount * seconds)).astimezone(moment.tzinfo)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return _localize(moment.replace(tzinfo=None, year=year, month=month + 1, day=day), moment.tzinfo)


def _localize(naive: datetime, zone: tzinfo | None) -> datetime:
    return naive.replace(tzinfo=zone)


def _split_snap(text: str) -> tuple[str, str]:
    """`d+3h` → (`d`, `+3h`): the snap unit and the offsets chained after it."""
    for index, char in enumerate(text):
        if char in "+-":
            return text[:index], text[index:]
    return text, ""


def _snap(moment: datetime, snap: str, modifier: str) -> datetime:
    weekday = _WEEKDAY_SNAP.fullmatch(snap)
    if weekday or snap == "w" or snap in ("week", "weeks"):
        target = int(weekday[1]) % 7 if weekday else 0  # 0 = Sunday … 6 = Saturday; 7 is Sunday again
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        days_back = (start.isoweekday() % 7 - target) % 7  # isoweekday: Monday 1 … Sunday 7
        return _localize(start.replace(tzinfo=None) - timedelta(days=days_back), moment.tzinfo)
    unit = _UNITS.get(snap)
    if unit is None:
        raise TimeModifierError(modifier, f"unknown snap unit {snap!r}" if snap else "nothing to snap to after '@'")
    if unit == "s":
        return moment.replace(microsecond=0)
    if unit == "m":
        return moment.replace(second=0, microsecond=0)
    if unit == "h":
        return moment.replace(minute=0, second=0, microsecond=0)
    day_start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "d":
        return day_start
    if unit == "mon":
        return day_start.replace(day=1)
    if unit == "q":
        return day_start.replace(month=(moment.month - 1) // 3 * 3 + 1, day=1)
    return day_start.replace(month=1, day=1)  # y
