"""Hand new risk events and findings to every configured sink; one failing sink never stops the others."""

from __future__ import annotations

from dataclasses import dataclass

from tunnelhunt.sinks.outbox import Sink
from tunnelhunt.store.rba_store import RbaStore


@dataclass
class Delivery:
    """What one sink did with the new items. `sink` is its redacted name (no credentials).

    `write_failed` means the items could not even be written locally (the file sink's file or a
    network sink's spool: a full disk, a missing directory): nothing holds them but the store, and
    the command must end with an error. A receiver that is down is not that: the items wait spooled.
    """

    sink: str
    taken: int = 0
    pending: int = 0
    error: str | None = None
    write_failed: bool = False


def deliver_all(sinks: list[Sink], rba: RbaStore) -> list[Delivery]:
    outcomes = []
    for sink in sinks:
        outcome = Delivery(sink.key)
        try:
            outcome.taken = sink.deliver(rba)
        except OSError as exc:  # a full disk or a missing directory: report, retry next time
            outcome.error = f"{exc.strerror or exc}"
            outcome.write_failed = True
        spool = getattr(sink, "spool", None)
        if spool is not None:
            outcome.pending = spool.pending
            outcome.error = outcome.error or (getattr(sink, "last_error", None) if outcome.pending else None)
        outcomes.append(outcome)
    return outcomes
