"""Which readers an ingest tries: the built-in ones plus the layouts of the user's mapping files."""

from __future__ import annotations

from collections.abc import Sequence

from tunnelhunt.normalize.custom import CustomMapping
from tunnelhunt.readers.csv_file import custom_csv_layout
from tunnelhunt.readers.detect import ReaderSet, all_readers
from tunnelhunt.readers.jsonl import custom_layout


def build_readers(mappings: Sequence[CustomMapping] = ()) -> ReaderSet:
    """Built-in readers plus the JSON and CSV layouts of the user's mapping files."""
    first = [m for m in mappings if m.match]
    last = [m for m in mappings if not m.match]
    return ReaderSet(
        all_readers(
            json_first=[custom_layout(m.name, m.json.sourcetype, m.match) for m in first],
            json_last=[custom_layout(m.name, m.json.sourcetype, m.match) for m in last],
            csv_first=[custom_csv_layout(m.name, m.csv_sourcetype, m.match) for m in first],
            csv_last=[custom_csv_layout(m.name, m.csv_sourcetype, m.match) for m in last],
        )
    )
