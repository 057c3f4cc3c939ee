"""What several actions share: opening the store, loading content and mappings, checking options."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from tunnelhunt.content.loader import ContentSet, load_content
from tunnelhunt.errors import Location, TunnelhuntError
from tunnelhunt.ingest.formats import build_readers
from tunnelhunt.normalize.custom import CustomMapping, load_mapping
from tunnelhunt.rba.rules import RuleConfig
from tunnelhunt.readers.detect import format_names
from tunnelhunt.sigma import SigmaContent
from tunnelhunt.sigma import load_content as load_sigma_content
from tunnelhunt.store.duckdb_store import Store


class OptionError(TunnelhuntError):
    """Options that cannot work together, or a value no command accepts."""


class StoreError(TunnelhuntError):
    """The database cannot be opened (locked by another process, not a DuckDB file, unwritable)."""

    def __init__(self, path: Path | None, reason: str) -> None:
        super().__init__(f"cannot open database {path}: {reason}")
        self.path = path

    @property
    def location(self) -> Location:
        return Location(file=str(self.path))


class NoContentError(TunnelhuntError):
    """Not one detection could be loaded (every file failed)."""


def open_store(db: Path | None) -> Store:
    try:
        return Store(db)
    except duckdb.Error as exc:  # duckdb raises its own IOException types
        raise StoreError(db, str(exc)) from None


def load(detections: Sequence[Path] = (), macros: Sequence[Path] = (), allow_empty: bool = False) -> ContentSet:
    """Shipped content with the user's layered on top; the files that failed stay in `errors`."""
    for path in [*detections, *macros]:
        if not path.exists():
            raise OptionError(f"{path}: no such file or directory")
    content = load_content(list(detections), list(macros))
    if content.errors and not content.detections and not (allow_empty or content.sigma):
        raise NoContentError("no detection could be loaded: " + "; ".join(str(e) for e in content.errors[:3]))
    return content


def load_sigma(paths: Sequence[Path]) -> SigmaContent:
    """Sigma rule files and folders (given with --sigma, or found among the detections)."""
    for path in paths:
        if not path.exists():
            raise OptionError(f"{path}: no such file or directory")
    return load_sigma_content(paths) if paths else SigmaContent()


def load_mappings(paths: Sequence[Path]) -> list[CustomMapping]:
    """The user's mapping files (a bad one raises MappingError naming it)."""
    return [load_mapping(path) for path in paths]


def check_format(fmt: str | None, mappings: Sequence[CustomMapping]) -> None:
    if fmt is None:
        return
    known = format_names(build_readers(mappings).readers)
    if fmt not in known:
        raise OptionError(f"unknown --format {fmt!r}; known formats: {', '.join(known)}")


def load_rules(path: Path | None) -> RuleConfig:
    return RuleConfig() if path is None else RuleConfig.from_file(path)
