"""How hard a network sink tries. Apart from `sinks/http.py` so that every command can build its sink
options without importing the HTTP client (`urllib.request`, `ssl`): a hunt with no network sink never needs it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts per flush, back-off between them and between flushes."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 60.0
    timeout: float = 10.0

    def delay(self, failures: int) -> float:
        return float(min(self.max_delay, self.base_delay * (2 ** max(0, failures - 1))))
