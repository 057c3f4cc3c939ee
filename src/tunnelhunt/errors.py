"""The root of every error tunnelhunt raises on purpose, with where it happened.

Lower layers raise subclasses (`ReaderError`, `SplError`, `ContentError`, `MappingError`, …); results keep
the error object; only `cli/` turns it into one line and an exit code. Every subclass pickles intact (a
reader's error crosses the ingest process pool), whatever its constructor's signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Location:
    """Where an error is: a file and offset (line, record or byte), or a detection and a search position."""

    file: str | None = None
    offset: int | None = None
    offset_kind: str | None = None
    detection: str | None = None
    position: int | None = None
    token: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file + (f":{self.offset_kind or ''}{self.offset}" if self.offset is not None else ""))
        if self.detection:
            parts.append(f"detection {self.detection!r}")
        if self.position is not None:
            parts.append(f"position {self.position}" + (f" ({self.token!r})" if self.token else ""))
        return ", ".join(parts)


def _restore(cls: type[TunnelhuntError], args: tuple[Any, ...], state: dict[str, Any]) -> TunnelhuntError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class TunnelhuntError(Exception):
    """Base of every deliberate error; `location` is None when the error is about no place in particular."""

    @property
    def location(self) -> Location | None:
        return None

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))
