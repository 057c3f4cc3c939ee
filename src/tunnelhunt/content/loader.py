"""Load detections and macros from YAML, layering user directories over the shipped content.

Later layers win: a user's `<name>_filter` macro replaces the shipped empty one, which is how an
organisation tunes out its allowed ngrok use without editing a detection.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from tunnelhunt.content.models import Detection, Macro
from tunnelhunt.spl.macros import MacroDefinition

SHIPPED = Path(str(resources.files("tunnelhunt.content")))


class ContentError(Exception):
    """A content file that cannot be loaded, with the file and the key at fault."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


def _read_yaml(path: Path) -> dict[str, object]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(path, f"not readable as YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ContentError(path, "top level is not a mapping")
    return data


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())


def load_detection(path: Path) -> Detection:
    try:
        detection = Detection.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise ContentError(path, _describe(exc)) from None
    detection.__dict__["source_path"] = path
    return detection


def load_macro(path: Path) -> Macro:
    try:
        return Macro.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise ContentError(path, _describe(exc)) from None


def _yaml_files(directory: Path) -> Iterator[Path]:
    yield from sorted(p for p in directory.rglob("*.yml") if p.is_file())


@dataclass
class MacroLibrary:
    """Macros by (name, argument count), the key Splunk resolves a macro call by."""

    macros: dict[tuple[str, int], Macro] = field(default_factory=dict)

    def add(self, macro: Macro) -> None:
        self.macros[(macro.name, len(macro.arguments))] = macro

    def lookup(self, name: str, argument_count: int) -> MacroDefinition | None:
        macro = self.macros.get((name, argument_count))
        if macro is None:
            return None
        return MacroDefinition(macro.name, macro.definition, tuple(macro.arguments))

    def __contains__(self, name: str) -> bool:
        return any(key[0] == name for key in self.macros)


def load_macros(directories: Iterable[Path]) -> MacroLibrary:
    library = MacroLibrary()
    for directory in directories:
        for path in _yaml_files(directory):
            library.add(load_macro(path))
    return library


@dataclass
class ContentSet:
    """The detections and macros a run uses, and the files that failed to load."""

    detections: list[Detection]
    macros: MacroLibrary
    errors: list[ContentError] = field(default_factory=list)


def _detection_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    base = root / "detections" if (root / "detections").is_dir() else root
    return [p for p in _yaml_files(base) if "macros" not in p.parts and "lookups" not in p.parts]


def _macro_dirs(root: Path) -> list[Path]:
    if root.is_file():
        root = root.parent
    candidates = [root / "macros", root.parent / "macros"]
    return [c for c in candidates if c.is_dir()]


def load_content(
    detection_roots: Iterable[Path] = (),
    macro_dirs: Iterable[Path] = (),
    include_shipped: bool = True,
) -> ContentSet:
    """Shipped content, then each given root (detections + its macros), then extra macro dirs."""
    roots = list(detection_roots)
    macro_layers: list[Path] = [SHIPPED / "macros"] if include_shipped else []
    detection_layers: list[Path] = [SHIPPED / "detections"] if include_shipped else []
    for root in roots:
        detection_layers.append(root)
        macro_layers.extend(d for d in _macro_dirs(root) if d not in macro_layers)
    macro_layers.extend(macro_dirs)
    macros = load_macros(macro_layers)
    detections: dict[str, Detection] = {}
    errors: list[ContentError] = []
    for layer in detection_layers:
        for path in _detection_files(layer):
            try:
                detection = load_detection(path)
            except ContentError as exc:
                errors.append(exc)
                continue
            detections[detection.id] = detection
    return ContentSet(list(detections.values()), macros, errors)
