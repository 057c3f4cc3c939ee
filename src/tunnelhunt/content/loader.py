"""Load detections, macros and lookups from YAML, layering user directories over the shipped content.

Later layers win: a user's `<name>_filter` macro replaces the shipped one, which is how an
organisation tunes out its allowed ngrok use without editing a detection. A detection whose filter
macro is defined nowhere gets contentctl's default (`search *`), as contentctl generates one at build.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from tunnelhunt.content.cache import ContentCache
from tunnelhunt.content.files import ContentError, read_yaml, yaml_files
from tunnelhunt.content.lookups import LookupLibrary, load_lookups
from tunnelhunt.content.models import Detection, Macro
from tunnelhunt.content.validated import cached_model
from tunnelhunt.spl.macros import MacroDefinition

SHIPPED = Path(str(resources.files("tunnelhunt.content")))
#: contentctl's definition of a filter macro nobody wrote.
DEFAULT_FILTER = "search *"
_CONTENT_DIRS = ("macros", "lookups", "data", "stories", "data_sources", "deployments", "baselines")


class SigmaFile(Exception):
    """A YAML file in a detections folder that is a Sigma rule: the Sigma stage reads it instead."""


def is_sigma(data: dict[str, object]) -> bool:
    """Sigma rules (and correlation/filter rules) have `logsource`/`detection` or `correlation`/`filter`,
    and no SPL `search`."""
    return "search" not in data and (("detection" in data and "logsource" in data) or "correlation" in data)


def _validate_detection(path: Path) -> Detection:
    data = read_yaml(path)
    if is_sigma(data):
        raise SigmaFile(str(path))
    try:
        return Detection.model_validate(data)
    except ValidationError as exc:
        raise ContentError.from_validation(path, exc) from None


def load_detection(path: Path, cache: ContentCache | None = None) -> Detection:
    """A detection file (validated once, then from `cache` when given: `content/validated.py`)."""
    detection = cached_model(path, Detection, cache, _validate_detection)
    detection.__dict__["source_path"] = path
    return detection


def source_path(detection: Detection) -> Path | None:
    """The YAML file a detection was loaded from (None for detections built in code)."""
    path = detection.__dict__.get("source_path")
    return path if isinstance(path, Path) else None


def _validate_macro(path: Path) -> Macro:
    try:
        return Macro.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise ContentError.from_validation(path, exc) from None


def load_macro(path: Path, cache: ContentCache | None = None) -> Macro:
    return cached_model(path, Macro, cache, _validate_macro)


@dataclass
class MacroLibrary:
    """Macros by (name, argument count), the key Splunk resolves a macro call by."""

    macros: dict[tuple[str, int], Macro] = field(default_factory=dict)
    default_filters: bool = True

    def add(self, macro: Macro) -> None:
        self.macros[(macro.name, len(macro.arguments))] = macro

    def lookup(self, name: str, argument_count: int) -> MacroDefinition | None:
        macro = self.macros.get((name, argument_count))
        if macro is None:
            if self.default_filters and argument_count == 0 and name.endswith("_filter"):
                return MacroDefinition(name, DEFAULT_FILTER)
            return None
        return MacroDefinition(macro.name, macro.definition, tuple(macro.arguments))

    def defines(self, name: str, argument_count: int) -> bool:
        """True when a macro file defines it (a defaulted filter macro does not count)."""
        return (name, argument_count) in self.macros

    def __contains__(self, name: str) -> bool:
        return any(key[0] == name for key in self.macros)


def load_macros(
    directories: Iterable[Path], errors: list[ContentError] | None = None, cache: ContentCache | None = None
) -> MacroLibrary:
    """Macros from every directory in order (later ones win); bad files go to `errors` or raise."""
    library = MacroLibrary()
    for directory in directories:
        for path in yaml_files(directory):
            try:
                library.add(load_macro(path, cache))
            except ContentError as exc:
                if errors is None:
                    raise
                errors.append(exc)
    return library


@dataclass
class ContentSet:
    """The detections, macros and lookups a run uses, and the files that failed to load."""

    detections: list[Detection]
    macros: MacroLibrary
    lookups: LookupLibrary = field(default_factory=LookupLibrary)
    errors: list[ContentError] = field(default_factory=list)
    #: detections that share an id with another one of the same layer: (id, first path, second path)
    duplicates: list[tuple[str, Path, Path]] = field(default_factory=list)
    #: Sigma rule files found among the detections (the Sigma stage compiles them)
    sigma: list[Path] = field(default_factory=list)
    #: where compiled detections are kept between runs (None: compiled on every run); DuckDB only
    cache: ContentCache | None = None


def detection_files(root: Path) -> list[Path]:
    """A detection file, or every YAML below a folder (its `detections/` when it has one)."""
    if root.is_file():
        return [root]
    base = root / "detections" if (root / "detections").is_dir() else root
    return [p for p in yaml_files(base) if not any(part in _CONTENT_DIRS for part in p.relative_to(base).parts)]


def _content_root(root: Path) -> Path | None:
    """The folder holding a detection root's macros/ and lookups/: the root itself, or the folder
    above its `detections/` when the root is (inside) one."""
    current = root.parent if root.is_file() else root
    while True:
        if (current / "macros").is_dir() or (current / "lookups").is_dir():
            return current
        if current.name != "detections" and current.parent.name != "detections":
            return None
        if current.parent == current:
            return None
        current = current.parent


def load_content(
    detection_roots: Iterable[Path] = (),
    macro_dirs: Iterable[Path] = (),
    include_shipped: bool = True,
    lookup_dirs: Iterable[Path] = (),
    shipped_detections: bool = True,
    cache: ContentCache | None = None,
) -> ContentSet:
    """Shipped content, then each given root (detections + its macros and lookups), then extra dirs.

    `include_shipped=False` leaves out everything shipped; `shipped_detections=False` keeps the
    shipped macros and lookups (the environment detections run in) but not the shipped detections.
    With `cache`, each file is validated once and read from the cache after (`content/validated.py`).
    """
    roots = list(detection_roots)
    macro_layers: list[Path] = [SHIPPED / "macros"] if include_shipped else []
    lookup_layers: list[Path] = [SHIPPED / "lookups"] if include_shipped else []
    detection_layers: list[Path] = [SHIPPED / "detections"] if include_shipped and shipped_detections else []
    for root in roots:
        detection_layers.append(root)
        base = _content_root(root)
        if base is None:
            continue
        for layers, name in ((macro_layers, "macros"), (lookup_layers, "lookups")):
            candidate = base / name
            if candidate.is_dir() and candidate not in layers:
                layers.append(candidate)
    macro_layers.extend(macro_dirs)
    lookup_layers.extend(lookup_dirs)
    errors: list[ContentError] = []
    macros = load_macros(macro_layers, errors, cache)
    lookups = load_lookups([d for d in lookup_layers if d.is_dir()], errors, cache)
    detections: dict[str, Detection] = {}
    duplicates: list[tuple[str, Path, Path]] = []
    sigma: list[Path] = []
    for layer in detection_layers:
        seen: dict[str, Path] = {}
        for path in detection_files(layer):
            try:
                detection = load_detection(path, cache)
            except SigmaFile:
                sigma.append(path)
                continue
            except ContentError as exc:
                errors.append(exc)
                continue
            if detection.id in seen:
                duplicates.append((detection.id, seen[detection.id], path))
                continue
            seen[detection.id] = path
            detections[detection.id] = detection
    return ContentSet(list(detections.values()), macros, lookups, errors, duplicates, sigma)
