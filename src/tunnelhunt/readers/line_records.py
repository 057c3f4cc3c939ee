"""Line-oriented formats parsed one line at a time into fields (Sysmon for Linux syslog, auditd).

`parsed_lines` does the part they share: blocks of lines, each line parsed by the format's function
into a dict of fields (a `ValueError` quarantines the line with its reason), the rows columnised with
each line kept as `_raw`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa

from tunnelhunt.readers.base import Position, QuarantinedRecord, RawBatch, excerpt, rows_to_table
from tunnelhunt.readers.lines import Utf8Stream, line_blocks
from tunnelhunt.readers.sources import Source

LineParser = Callable[[str], dict[str, str | None]]


def parsed_lines(
    source: Source, start: Position, final: bool, sourcetype: str, parse: LineParser
) -> Iterator[RawBatch]:
    """One batch per block of lines: the parsed rows (with `_raw`) and the lines `parse` rejected."""
    name = source.name
    with source.open() as raw:
        for block in line_blocks(Utf8Stream(raw), name, start, final):
            rows: list[dict[str, str | None]] = []
            offsets: list[int] = []
            texts: list[str] = []
            bad = list(block.quarantined)
            for number, line in zip(block.numbers.to_pylist(), block.lines.to_pylist(), strict=True):
                try:
                    rows.append(parse(line))
                except ValueError as exc:
                    bad.append(QuarantinedRecord(name, number, "line", str(exc), excerpt(line)))
                    continue
                offsets.append(number)
                texts.append(line)
            table = rows_to_table(rows, name, offsets).append_column("_raw", pa.array(texts, pa.string()))
            yield RawBatch(sourcetype, table, bad, "line", block.end)
