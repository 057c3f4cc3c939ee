"""Sinks: where risk events and findings go, each item once and in order; and the plain file writers.

- `outbox.py`: the `Sink` protocol (`key`, `deliver(rba)`) and `pages()`, everything after a sink's
  cursor in the store's `seq` order.
- `file_sink.py` (`jsonl:DIR`, `csv:DIR`), `http.py` (`hec:URL`, `webhook:URL`) with `spool.py`, the disk
  spool that keeps batches until the receiver accepts them.
- `spec.py`: `build_sink()` turns a `--sink kind:target` into a sink.
- `files.py` (JSON lines and CSV of results, `hunt --out` and `--risk`) and `junit.py` (`test --junit`).

To add a sink: implement `deliver` reading `pages(rba, kind, rba.cursor(key, kind)[0])` and recording
`rba.set_cursor(...)` only once the items are durably delivered; declare a crash point between the two
in `crashpoint.POINTS` and test a kill there; then parse its `kind:` in `spec.build_sink`. See
docs/rba-and-scheduling.md and docs/extending.md.
"""
