"""Typed compile errors that carry the offending token and its position in the (expanded) search."""

from __future__ import annotations

from tunnelhunt.errors import Location, TunnelhuntError


class SplError(TunnelhuntError):
    """Base for everything that stops a search from compiling."""

    def __init__(self, message: str, position: int | None = None, token: str | None = None) -> None:
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"{message}{where}")
        self.message = message
        self.position = position
        self.token = token

    @property
    def location(self) -> Location | None:
        return Location(position=self.position, token=self.token) if self.position is not None else None


class SplSyntaxError(SplError):
    """The search text is not valid SPL."""


class UnsupportedError(SplError):
    """Valid SPL that tunnelhunt cannot run (yet): a command, function or option it does not implement."""


class MacroError(SplError):
    """A macro is unknown, called with the wrong number of arguments, or recursive."""
