"""Find input files and pick the reader for each, from content first (not only the extension)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from tunnelhunt.readers.base import Reader, ReaderError
from tunnelhunt.readers.sysmon_xml import SysmonXmlReader

SNIFF_BYTES = 64 * 1024


def all_readers() -> list[Reader]:
    """Every reader, most specific first; sniffing tries them in this order."""
    return [SysmonXmlReader()]


def reader_by_name(name: str) -> Reader:
    for reader in all_readers():
        if reader.format_name == name:
            return reader
    known = ", ".join(r.format_name for r in all_readers())
    raise ValueError(f"unknown format {name!r} (known: {known})")


def walk(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named directly, and every file below named directories, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        else:
            yield path


def choose_reader(path: Path, forced: str | None = None) -> Reader:
    """The reader for a file: the forced one (checked), or the first whose sniff accepts its head."""
    try:
        with path.open("rb") as stream:
            head = stream.read(SNIFF_BYTES)
    except OSError as exc:
        raise ReaderError(str(path), f"cannot open: {exc.strerror or exc}") from None
    if forced:
        reader = reader_by_name(forced)
        if head.strip() and not reader.sniff(head, path):
            raise ReaderError(str(path), f"does not look like format '{forced}'")
        return reader
    for reader in all_readers():
        if reader.sniff(head, path):
            return reader
    if not head.strip():
        raise ReaderError(str(path), "empty file")
    raise ReaderError(str(path), "format not recognised (use --format to force one)")
