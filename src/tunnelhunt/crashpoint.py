"""Deliberate SIGKILL at named points, for crash-consistency tests of a real process.

`TUNNELHUNT_CRASHPOINT=<name>:<n>` makes the process kill itself with SIGKILL the n-th time it reaches
`crashpoint("<name>")`: the worst moments (rows written, commit not yet done; file written, cursor not yet
recorded) can be hit exactly instead of by luck. Unset, `crashpoint` does nothing.

Every point is declared in `POINTS`, the one list: reaching an undeclared name raises, and a setting that
names an undeclared point stops the process at its first crash point with an error, so a misspelt name in a
test fails that test instead of silently never crashing.
"""

from __future__ import annotations

import os
import signal

#: Every crash point in the program, with the moment it stands for.
POINTS = {
    "ingest-before-commit": "a batch's rows and checkpoint are written, the transaction not committed",
    "tick-before-commit": "a tick's results, risk events and findings are written, not committed",
    "sink-after-write": "a file sink wrote its rows, its cursor is not yet recorded",
    "hunt-after-output": "hunt wrote its --out/--risk files, the pass's state is not committed",
}

_seen: dict[str, int] = {}


class UnknownCrashPoint(RuntimeError):
    """A crash point name that `POINTS` does not declare (a typo in code or in a test's setting)."""


def parse_setting(setting: str) -> tuple[str, int]:
    """`name:n` → (name, n); raises UnknownCrashPoint for a name not in `POINTS`."""
    wanted, _, count = setting.partition(":")
    if wanted not in POINTS:
        raise UnknownCrashPoint(f"TUNNELHUNT_CRASHPOINT names {wanted!r}; known points: {', '.join(POINTS)}")
    return wanted, int(count or 1)


def crashpoint(name: str) -> None:
    if name not in POINTS:
        raise UnknownCrashPoint(f"crashpoint({name!r}) is not declared in crashpoint.POINTS")
    setting = os.environ.get("TUNNELHUNT_CRASHPOINT")
    if not setting:
        return
    wanted, count = parse_setting(setting)
    if wanted != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] >= count:
        os.kill(os.getpid(), signal.SIGKILL)
