"""Start-up imports with the cyclic garbage collector paused (issue 20).

A command's imports build a few hundred thousand long-lived objects (modules, classes, functions, the type
tables of pydantic, pyarrow and duckdb), and none of them is garbage; with the collector running, each of
its passes during start-up walked all those built so far again: about a tenth of a CPU second of a small
hunt's start. While a command's modules are imported the collector is paused, then it runs as before:
its next passes see the imports' objects once instead of during every step of the start. (Not frozen with
`gc.freeze`: a test process runs many commands, and frozen garbage of earlier tests would never be
collected.) What is collected, and when, changes nothing a command does.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def importing() -> Iterator[None]:
    """Import inside, the collector paused meanwhile (and enabled after only if it was before)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
