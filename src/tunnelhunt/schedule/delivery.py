"""Hand new risk events and findings to every configured sink; one failing sink never stops the others."""

from __future__ import annotations

from dataclasses import dataclass

from tunnelhunt.sinks.outbox import Sink
from tunnelhunt.store.rba_store import RbaStore


@dataclass
class Delivery:
    sink: str
    taken: int = 0
    pending: int = 0
    error: str | None = None


def deliver_all(sinks: list[Sink], rba: RbaStore) -> list[Delivery]:
    outcomes = []
    for sink in sinks:
        outcome = Delivery(sink.key)
        try:
            outcome.taken = sink.deliver(rba)
        except OSError as exc:  # a full disk or a missing directory: report, retry next time
            outcome.error = f"{exc.strerror or exc}"
        spool = getattr(sink, "spool", None)
        if spool is not None:
            outcome.pending = spool.pending
            outcome.error = outcome.error or (getattr(sink, "last_error", None) if outcome.pending else None)
        outcomes.append(outcome)
    return outcomes
