"""CSV lookups: `lookups/<name>.yml` definitions beside their `.csv` files.

A search may name a lookup by its definition name (`lookup attacker_tools ...`) or by its file
(`lookup attacker_tools.csv ...`). KV-store and model lookups have no CSV and cannot be used here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from tunnelhunt.content.cache import ContentCache
from tunnelhunt.content.files import ContentError, read_yaml
from tunnelhunt.content.models import Lookup
from tunnelhunt.content.validated import cached_model
from tunnelhunt.spl.lookup_table import DEFAULT_MAX_MATCHES, MAX_MATCHES_LIMIT, LookupTable

#: Header lines longer than this are not a CSV header we can trust (bounded reads of user files).
MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class LookupDefinition:
    """A loaded lookup definition, its CSV file and the CSV's columns."""

    model: Lookup
    definition_path: Path
    csv_path: Path | None
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.model.name

    def table(self) -> LookupTable:
        """The compiler's view of this lookup."""
        return LookupTable(
            name=self.name,
            columns=self.columns,
            path=self.csv_path,
            case_sensitive=self.model.case_sensitive_match is not False,
            wildcard_fields=self.model.fields_matched_by("WILDCARD"),
            cidr_fields=self.model.fields_matched_by("CIDR"),
            # transforms.conf: default_match fills in only when fewer than min_matches (default 0) rows match
            default_match=self.model.default_match if (self.model.min_matches or 0) >= 1 else None,
            max_matches=min(max(self.model.max_matches or DEFAULT_MAX_MATCHES, 1), MAX_MATCHES_LIMIT),
        )


def read_header(path: Path) -> tuple[str, ...]:
    """The column names of a CSV file (first line), without a UTF-8 byte-order mark."""
    with path.open("r", encoding="utf-8-sig", newline="") as stream:
        line = stream.readline(MAX_HEADER_BYTES)
    row = next(csv.reader([line]), [])
    return tuple(name.strip() for name in row if name.strip())


@dataclass
class LookupLibrary:
    """Lookup definitions by name; later layers replace earlier ones."""

    definitions: dict[str, LookupDefinition] = field(default_factory=dict)

    def add(self, definition: LookupDefinition) -> None:
        self.definitions[definition.name] = definition

    def find(self, name: str) -> LookupDefinition | None:
        found = self.definitions.get(name)
        if found is not None:
            return found
        for definition in self.definitions.values():
            if definition.model.filename and definition.model.filename == name:
                return definition
        return None

    def resolve(self, name: str) -> LookupTable | None:
        """A usable CSV lookup by definition or file name; None when unknown or not a CSV lookup."""
        definition = self.find(name)
        if definition is None or definition.csv_path is None:
            return None
        return definition.table()

    def __contains__(self, name: str) -> bool:
        return self.find(name) is not None


def _validate_lookup(path: Path) -> Lookup:
    try:
        return Lookup.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise ContentError.from_validation(path, exc) from None


def load_lookup(path: Path, cache: ContentCache | None = None) -> LookupDefinition:
    """A lookup definition (validated once, then from `cache` when given) and its CSV file's header."""
    model = cached_model(path, Lookup, cache, _validate_lookup)
    csv_path: Path | None = None
    columns: tuple[str, ...] = ()
    if model.filename and model.filename.lower().endswith(".csv"):
        candidate = path.parent / model.filename
        if not candidate.is_file():
            missing = f"{model.filename} does not exist beside the definition"
            raise ContentError(path, f"filename: {missing}", [("filename", missing)])
        try:
            columns = read_header(candidate)
        except (OSError, UnicodeDecodeError) as exc:
            raise ContentError(candidate, f"not readable as CSV: {exc}") from None
        if not columns:
            raise ContentError(candidate, "CSV file has no header row")
        csv_path = candidate
    return LookupDefinition(model, path, csv_path, columns)


def load_lookups(
    directories: Iterable[Path], errors: list[ContentError], cache: ContentCache | None = None
) -> LookupLibrary:
    library = LookupLibrary()
    for directory in directories:
        for path in sorted(p for p in directory.glob("*.yml") if p.is_file()):
            try:
                library.add(load_lookup(path, cache))
            except ContentError as exc:
                errors.append(exc)
    return library
