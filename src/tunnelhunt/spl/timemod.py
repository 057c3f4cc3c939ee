"""Splunk time syntax: bucket spans (`span=1h`) and relative time modifiers (`-70m@m`)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from tunnelhunt.spl.errors import SplSyntaxError, UnsupportedError

_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_SPAN = re.compile(r"^(\d+)?([a-z]+)$")
_MODIFIER = re.compile(r"^(?P<offset>[+-]\d*[a-z]+)?(?:@(?P<snap>[a-z]+\d*))?$")


def span_seconds(span: str, position: int | None = None) -> int:
    """`1h` → 3600; months and years (uneven lengths) are not supported."""
    match = _SPAN.match(span.strip().lower())
    if not match:
        raise SplSyntaxError(f"invalid span {span!r}", position, span)
    count = int(match.group(1) or 1)
    unit = match.group(2)
    if unit not in _UNITS:
        raise UnsupportedError(f"span unit {unit!r} is not supported", position, span)
    if count <= 0:
        raise SplSyntaxError(f"invalid span {span!r}", position, span)
    return count * _UNITS[unit]


def _snap(value: datetime, unit: str, position: int | None) -> datetime:
    if unit in ("s", "sec", "second"):
        return value.replace(microsecond=0)
    if unit in ("m", "min", "minute"):
        return value.replace(second=0, microsecond=0)
    if unit in ("h", "hr", "hour"):
        return value.replace(minute=0, second=0, microsecond=0)
    if unit in ("d", "day"):
        return value.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit in ("w", "w0", "week"):
        day = value.replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=(day.weekday() + 1) % 7)  # Splunk weeks start on Sunday
    if unit in ("mon", "month"):
        return value.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit in ("y", "year"):
        return value.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    raise UnsupportedError(f"time snap unit {unit!r} is not supported", position, unit)


def relative(now: datetime, modifier: str, position: int | None = None) -> datetime:
    """Apply a relative time modifier such as `-70m@m`, `-1d@d`, `@h` or `now` to `now`."""
    text = modifier.strip().lower()
    if text in ("now", ""):
        return now
    match = _MODIFIER.match(text)
    if not match or (match.group("offset") is None and match.group("snap") is None):
        raise SplSyntaxError(f"invalid relative time modifier {modifier!r}", position, modifier)
    value = now
    offset = match.group("offset")
    if offset:
        sign = -1 if offset[0] == "-" else 1
        amount = re.match(r"^[+-](\d*)([a-z]+)$", offset)
        assert amount is not None
        count = int(amount.group(1) or 1)
        unit = amount.group(2)
        if unit in ("mon", "month", "months"):
            month = value.month - 1 + sign * count
            value = value.replace(year=value.year + month // 12, month=month % 12 + 1)
        elif unit in ("y", "year", "years"):
            value = value.replace(year=value.year + sign * count)
        elif unit in _UNITS:
            value = value + timedelta(seconds=sign * count * _UNITS[unit])
        else:
            raise UnsupportedError(f"time unit {unit!r} is not supported", position, modifier)
    snap = match.group("snap")
    if snap:
        value = _snap(value, snap, position)
    return value
