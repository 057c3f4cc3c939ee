"""Deliberate SIGKILL at named points, for crash-consistency tests of a real process.

`TUNNELHUNT_CRASHPOINT=<name>:<n>` makes the process kill itself with SIGKILL the n-th time it reaches
`crashpoint("<name>")`: the worst moments (rows written, commit not yet done; file written, cursor not yet
recorded) can be hit exactly instead of by luck. Unset, `crashpoint` does nothing.
"""

from __future__ import annotations

import os
import signal

_seen: dict[str, int] = {}


def crashpoint(name: str) -> None:
    setting = os.environ.get("TUNNELHUNT_CRASHPOINT")
    if not setting:
        return
    wanted, _, count = setting.partition(":")
    if wanted != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
