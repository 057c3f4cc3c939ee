"""Textual macro expansion, as Splunk does it before parsing: `name` or `name(arg, ...)`.

Macros are looked up by name and argument count; `$arg$` in a definition is replaced by the
argument text verbatim; expansion repeats until no backtick is left (with a depth limit).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tunnelhunt.spl.errors import MacroError

MAX_DEPTH = 50
_COMMENT = re.compile(r"```.*?```", re.DOTALL)


@dataclass(frozen=True)
class MacroDefinition:
    """What the expander needs of a macro: its text and the names of its arguments."""

    name: str
    definition: str
    arguments: tuple[str, ...] = ()


MacroLookup = Callable[[str, int], MacroDefinition | None]


def split_arguments(text: str) -> list[str]:
    """Split `a, "b,c", f(x,y)` on top-level commas, keeping quotes and brackets intact."""
    args: list[str] = []
    depth, quote, start = 0, "", 0
    for index, char in enumerate(text):
        if quote:
            if char == "\\":
                continue
            if char == quote and text[index - 1] != "\\":
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            args.append(text[start:index].strip())
            start = index + 1
    args.append(text[start:].strip())
    return args


def _parse_call(body: str, position: int) -> tuple[str, list[str]]:
    body = body.strip()
    if "(" not in body:
        return body, []
    if not body.endswith(")"):
        raise MacroError(f"malformed macro call `{body}`", position, body)
    name, _, rest = body.partition("(")
    inner = rest[:-1]
    return name.strip(), split_arguments(inner) if inner.strip() else []


def strip_comments(search: str) -> str:
    """Remove SPL comments (```like this```), which may themselves contain backticks."""
    return _COMMENT.sub(" ", search)


def expand_macros(search: str, lookup: MacroLookup) -> str:
    """Expand every backtick macro in `search`, recursively (comments are removed first)."""
    text = strip_comments(search)
    for _ in range(MAX_DEPTH):
        start = text.find("`")
        if start < 0:
            return text
        out: list[str] = []
        cursor = 0
        while start >= 0:
            end = text.find("`", start + 1)
            if end < 0:
                raise MacroError("unterminated macro backtick", start, text[start : start + 40])
            name, args = _parse_call(text[start + 1 : end], start)
            macro = lookup(name, len(args))
            if macro is None:
                raise MacroError(f"unknown macro `{name}` with {len(args)} argument(s)", start, name)
            body = macro.definition
            for arg_name, value in zip(macro.arguments, args, strict=True):
                body = body.replace(f"${arg_name}$", value)
            out.append(text[cursor:start])
            out.append(body)
            cursor = end + 1
            start = text.find("`", cursor)
        out.append(text[cursor:])
        text = "".join(out)
    raise MacroError(f"macro expansion deeper than {MAX_DEPTH} levels (recursive macro?)")
