"""A built-in reader known by its format name, offset kind and sniff until an input of its format is read.

Why: choosing a reader sniffs every format, but reading needs only the chosen one; its module (and
what it imports: lxml, the evtx parser) loads on the first `read`, `fingerprint_region` or `cut_points`
(issue 20). The sniffs are the reader's own (`sniffing.py`); `tests/unit/test_readers.py`
checks that name, offset kind, sniff and fits are the ones of the class it stands for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any, BinaryIO

from tunnelhunt.readers.base import START, OffsetKind, Position, RawBatch, Reader
from tunnelhunt.readers.sources import Source

Sniff = Callable[[bytes], bool]


class LazyReader(Reader):
    """Stands for `module.cls` (a module under `tunnelhunt.readers`) until that reader is needed."""

    def __init__(
        self, format_name: str, offset_kind: OffsetKind, where: str, sniff: Sniff, fits: Sniff | None = None
    ) -> None:
        self.format_name = format_name
        self.offset_kind = offset_kind
        self.where = where
        self._sniff, self._fits = sniff, fits

    @cached_property
    def real(self) -> Reader:
        """The reader itself, its module imported now."""
        module, name = self.where.split(":")
        reader: Reader = getattr(importlib.import_module(f"tunnelhunt.readers.{module}"), name)()
        return reader

    def sniff(self, head: bytes) -> bool:
        return self._sniff(head)

    def fits(self, head: bytes) -> bool:
        return self._fits(head) if self._fits is not None else False

    def read(self, source: Source, start: Position = START, final: bool = True) -> Iterator[RawBatch]:
        return self.real.read(source, start, final)

    def fingerprint_region(self, head: bytes) -> bytes:
        return self.real.fingerprint_region(head)

    def cut_points(self, stream: BinaryIO, size: int, unit_bytes: int) -> list[int] | None:
        return self.real.cut_points(stream, size, unit_bytes)

    def __getattr__(self, name: str) -> Any:
        """Anything else a reader has (its `sourcetype`) is the real reader's."""
        if name.startswith("_") or name == "real":
            raise AttributeError(name)
        return getattr(self.real, name)
