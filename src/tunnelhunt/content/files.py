"""Reading content files: YAML with errors that name the file and the key at fault."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from tunnelhunt.errors import Location, TunnelhuntError


class ContentError(TunnelhuntError):
    """A content file that cannot be loaded, with the file and the key at fault."""

    def __init__(self, path: Path, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        #: (key, message) pairs, one per schema problem; a whole-file problem has the key "file"
        self.problems = problems or [("file", message)]

    @property
    def location(self) -> Location:
        return Location(file=str(self.path))

    @classmethod
    def from_validation(cls, path: Path, exc: ValidationError) -> ContentError:
        problems = [(".".join(str(p) for p in err["loc"]) or "file", err["msg"]) for err in exc.errors()]
        return cls(path, describe(exc), problems)


def read_yaml(path: Path) -> dict[str, object]:
    import yaml  # only for a file not in the content cache (`content/validated.py`): a warm run never parses

    try:  # libyaml's safe loader when PyYAML was built with it (much faster on a large corpus)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ContentError(path, f"not readable as YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ContentError(path, "top level is not a mapping")
    return data


def describe(exc: ValidationError) -> str:
    """Pydantic errors as `key.path: message; ...`."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())


def yaml_files(directory: Path) -> Iterator[Path]:
    """Every `.yml` below a folder, or the file itself when one file is given."""
    if directory.is_file():
        yield directory
        return
    yield from sorted(p for p in directory.rglob("*.yml") if p.is_file())
