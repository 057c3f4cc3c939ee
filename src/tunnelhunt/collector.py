"""The cyclic garbage collector paused while a great many long-lived objects are built (issue 20).

Each generation-2 pass of the collector walks every object built so far; when a step builds a great many
objects of which none is garbage, its passes are pure cost:
- a command's start-up imports (`cli/app.py`, `cli/hunt.py`): modules, classes, functions, the type tables
  of pydantic, pyarrow and duckdb; about 0.07 CPU s of a small hunt's start;
- loading and converting Sigma rules: SigmaHQ's predicates are 860,000 sqlglot nodes, 4.2 CPU s with the
  collector running, 1.1 s without.
The collector runs as before afterwards (its next passes see those objects once). Not `gc.freeze`: a test
process runs many commands, and frozen garbage of earlier tests would never be collected. What is
collected, and when, changes nothing a command does.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_collection() -> Iterator[None]:
    """The collector paused inside (and enabled after only if it was before)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
