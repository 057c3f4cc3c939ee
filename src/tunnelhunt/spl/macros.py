"""Textual macro expansion, as Splunk does it before parsing: `name` or `name(arg, ...)`.

Macros are looked up by name and argument count; `$arg$` in a definition is replaced by the
argument text verbatim; expansion repeats until no macro call is left (with a depth limit).
As Splunk documents, backticks inside a double-quoted value are literal, not macro calls.
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


@dataclass(frozen=True)
class MacroCall:
    """One backtick macro call: its name, arguments and the span it occupies in the text."""

    name: str
    arguments: tuple[str, ...]
    start: int
    end: int  # one past the closing backtick


def macro_calls(text: str) -> list[MacroCall]:
    """The macro calls in `text`, outside double-quoted values; raises MacroError when malformed."""
    calls: list[MacroCall] = []
    index, quoted = 0, False
    while index < len(text):
        char = text[index]
        if quoted:
            if char == "\\":
                index += 2
                continue
            if char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "`":
            end = text.find("`", index + 1)
            if end < 0:
                raise MacroError("unterminated macro backtick", index, text[index : index + 40])
            name, args = _parse_call(text[index + 1 : end], index)
            calls.append(MacroCall(name, tuple(args), index, end + 1))
            index = end + 1
            continue
        index += 1
    return calls


def expand_macros(search: str, lookup: MacroLookup) -> str:
    """Expand every backtick macro in `search`, recursively (comments are removed first)."""
    text = strip_comments(search)
    for _ in range(MAX_DEPTH):
        calls = macro_calls(text)
        if not calls:
            return text
        out: list[str] = []
        cursor = 0
        for call in calls:
            macro = lookup(call.name, len(call.arguments))
            if macro is None:
                raise MacroError(
                    f"unknown macro `{call.name}` with {len(call.arguments)} argument(s)", call.start, call.name
                )
            body = macro.definition
            for arg_name, value in zip(macro.arguments, call.arguments, strict=True):
                body = body.replace(f"${arg_name}$", value)
            out.append(text[cursor : call.start])
            out.append(body)
            cursor = call.end
        out.append(text[cursor:])
        text = "".join(out)
    raise MacroError(f"macro expansion deeper than {MAX_DEPTH} levels (recursive macro?)")
