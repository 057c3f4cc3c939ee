"""What several actions share: opening the store, loading content and mappings, checking options."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import duckdb

from tunnelhunt.content.cache import ContentCache
from tunnelhunt.content.files import ContentError, yaml_files
from tunnelhunt.content.loader import ContentSet, load_content, load_macro
from tunnelhunt.errors import Location, TunnelhuntError
from tunnelhunt.ingest.formats import build_readers
from tunnelhunt.normalize.custom import CustomMapping, load_mapping
from tunnelhunt.rba.rules import RuleConfig, default_rules
from tunnelhunt.readers.detect import format_names
from tunnelhunt.sigma import SigmaContent
from tunnelhunt.sigma import load_content as load_sigma_content
from tunnelhunt.store.duckdb_store import Store


class OptionError(TunnelhuntError):
    """Options that cannot work together, or a value no command accepts."""


def resolve_time(text: str, tz: tzinfo = UTC, now: datetime | None = None) -> datetime:
    """A time option as every command and page reads it: absolute (ISO 8601, Splunk's %m/%d/%Y:%H:%M:%S,
    epoch) or a Splunk modifier such as `-1h@h`, resolved at `now` in `tz`; a wrong one is an OptionError."""
    from tunnelhunt.spl import timemodifiers

    try:
        return timemodifiers.resolve(text.strip(), now or datetime.now(UTC), tz)
    except timemodifiers.TimeModifierError as exc:
        raise OptionError(str(exc)) from None


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


def default_spool(db: Path | None) -> Path:
    """Where network sinks spool undelivered items unless told: beside the database, else here."""
    return db.with_name(db.name + ".spool") if db else Path(".tunnelhunt-spool")


def open_store(db: Path | None) -> Store:
    try:
        return Store(db)
    except duckdb.Error as exc:  # duckdb raises its own IOException types
        raise StoreError(db, str(exc)) from None


def kept(db: Path) -> Path:
    """A database the command only reads must already exist (opening it would create an empty one)."""
    if not db.exists():
        raise OptionError(f"no database at {db}")
    return db


def check_exist(paths: Sequence[Path]) -> None:
    """A path the user named that is not there is a mistake to say, not a thing to skip."""
    for path in paths:
        if not path.exists():
            raise OptionError(f"{path}: no such file or directory")


def load(
    detections: Sequence[Path] = (),
    macros: Sequence[Path] = (),
    allow_empty: bool = False,
    filters: bool = True,
    cache: ContentCache | None = None,
) -> ContentSet:
    """Shipped content with the user's layered on top; the files that failed stay in `errors`. Each file
    is validated once and kept in `cache` when one is given.

    With `filters`, a `*_filter` macro of the user's that no detection calls is an error (see
    `check_filter_macros`)."""
    check_exist([*detections, *macros])
    content = load_content(list(detections), list(macros), cache=cache)
    if content.errors and not content.detections and not (allow_empty or content.sigma):
        raise NoContentError("no detection could be loaded: " + "; ".join(str(e) for e in content.errors[:3]))
    if filters and not content.errors:  # a detection that failed to load would look like a typo
        check_filter_macros(content, macros)
    return content


def check_filter_macros(content: ContentSet, macros: Sequence[Path]) -> None:
    """A filter macro in `--macros` that no detection calls is almost always a misspelt name: the
    allow-list it holds would silently not apply, so it is refused with the closest real name."""
    called = {d.filter_macro for d in content.detections}
    searches = [d.search for d in content.detections]
    for root in macros:
        for path in yaml_files(root):
            try:
                name = load_macro(path).name
            except ContentError:
                continue  # reported among the content errors
            if not name.endswith("_filter") or name in called or any(f"`{name}`" in s for s in searches):
                continue
            near = difflib.get_close_matches(name, sorted(called), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise OptionError(f"{path}: macro {name!r} is the filter of no detection{hint}")


def load_sigma(paths: Sequence[Path], cache: ContentCache | None = None) -> SigmaContent:
    """Sigma rule files and folders (given with --sigma, or found among the detections); their conversions
    kept in `cache` when one is given."""
    check_exist(paths)
    content = load_sigma_content(paths, cache) if paths else SigmaContent()
    content.cache = cache
    return content


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
    return default_rules() if path is None else RuleConfig.from_file(path)
