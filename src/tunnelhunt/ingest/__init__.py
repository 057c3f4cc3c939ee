"""Ingest stage: files → readers → normaliser → a node-table sink, with an account of every record.

- `run.py`: `ingest(paths, sink, ...)`, the one entry point (exactly once, checkpoints, accounting).
- `plan.py`: work units (whole inputs, byte ranges of large files, groups of small ones), pool size.
- `workers.py`: reading and normalising units, inline or in a process pool that lives only here.
- `formats.py`: the reader set (built-in readers plus the user's mapping layouts).
- `report.py`: `IngestReport` / `FileReport`, the per-input account.

To add an input format, write a reader (see `readers/__init__.py`) and a mapping (see
`normalize/__init__.py`); nothing here changes.
"""

from tunnelhunt.ingest.report import FileReport, IngestProgress, IngestReport
from tunnelhunt.ingest.run import ingest

__all__ = ["FileReport", "IngestProgress", "IngestReport", "ingest"]
