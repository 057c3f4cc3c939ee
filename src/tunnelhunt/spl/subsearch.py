"""Where a subsearch `[ ... ]` ends in the search text: brackets nest, quoted text does not count."""

from __future__ import annotations

from tunnelhunt.spl.errors import SplSyntaxError


def closing_bracket(text: str, start: int) -> int:
    """The index of the `]` matching the `[` at `start`."""
    depth, index, quoted = 0, start, False
    while index < len(text):
        char = text[index]
        if quoted:
            if char == "\\":
                index += 2
                continue
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise SplSyntaxError("subsearch '[' is never closed", start, "[")
