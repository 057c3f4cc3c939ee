"""Where a subsearch `[ ... ]` (or an `eval( ... )` inside an aggregate) ends in the search text:
brackets nest, quoted text does not count."""

from __future__ import annotations

from tunnelhunt.spl.errors import SplSyntaxError


def closing_bracket(text: str, start: int, pair: str = "[]") -> int:
    """The index of the closing character matching the opening one at `start` (`[]` or `()`)."""
    opening, closing = pair[0], pair[1]
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
        elif char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise SplSyntaxError(f"'{opening}' is never closed", start, opening)
