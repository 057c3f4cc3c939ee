r"""Splunk's PCRE regular expressions, checked and rewritten for the engines' RE2/Java-style regex.

Named groups `(?<name>...)` / `(?P<name>...)` become plain groups whose numbers the compiler
extracts by; constructs RE2 lacks (look-around, back-references, atomic or possessive groups)
fail compilation by name rather than at run time.

End anchors: in PCRE (Splunk) `$` and `\Z` match at the end and also before a final newline; RE2
(DuckDB) takes `$` as the very end and rejects `\Z`, and Java (Spark) also stops before a final `\r`,
`\u2028`... So outside multiline mode both become `(?:\n?\z)`, which means PCRE's rule on every engine
(the newline is consumed: a capture group that ends in `$` keeps a final newline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tunnelhunt.spl.errors import UnsupportedError

_UNSUPPORTED = (
    (re.compile(r"\(\?<?[=!]"), "look-around (?= (?! (?<= (?<!"),
    (re.compile(r"\(\?>"), "atomic group (?>"),
    (re.compile(r"\\[1-9]"), "back-reference \\1"),
    (re.compile(r"\\k<"), "named back-reference \\k<"),
    (re.compile(r"[*+?}]\+"), "possessive quantifier"),
    (re.compile(r"\(\?\("), "conditional (?("),
    (re.compile(r"\\[QE]"), "quoting \\Q...\\E"),
    (re.compile(r"\(\?R\)|\(\?\d\)"), "recursion"),
)


#: PCRE's `$` outside multiline mode: the end, or just before a newline that ends the text.
END_OF_TEXT = "(?:\\n?\\z)"
_MULTILINE = re.compile(r"\(\?[a-zA-Z]*m[a-zA-Z-]*[:)]")


@dataclass(frozen=True)
class Regex:
    """A rewritten pattern and the capture-group number of each named group."""

    pattern: str
    groups: dict[str, int]


def _strip_escapes(pattern: str) -> str:
    """The pattern with escaped characters and character classes blanked, for structural scans."""
    out: list[str] = []
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            nxt = pattern[index + 1]
            out.append("\\" + nxt if nxt.isdigit() or nxt in "kQEZ" else "__")
            index += 2
            continue
        if in_class:
            out.append("_")
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            out.append("_")
            if pattern[index + 1 : index + 2] == "]":  # `[]...]`: a leading ] is literal
                out.append("_")
                index += 1
            elif pattern[index + 1 : index + 3] == "^]":
                out.append("__")
                index += 2
        else:
            out.append(char)
        index += 1
    return "".join(out)


def translate(pattern: str, position: int | None = None) -> Regex:
    """Check `pattern` and rewrite its named groups; raise UnsupportedError for RE2-incompatible parts."""
    scan = _strip_escapes(pattern)
    for check, name in _UNSUPPORTED:
        if check.search(scan):
            raise UnsupportedError(f"regular expression feature {name} is not supported", position, name)
    groups: dict[str, int] = {}
    out: list[str] = []
    number = 0
    index = 0
    multiline = _MULTILINE.search(scan) is not None
    while index < len(pattern):
        if not multiline and (scan[index] == "$" or scan.startswith("\\Z", index)):
            out.append(END_OF_TEXT)
            index += 1 if scan[index] == "$" else 2
            continue
        if scan[index] == "(":
            rest = pattern[index:]
            named = re.match(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>", rest)
            if named:
                number += 1
                groups[named.group(1)] = number
                out.append("(")
                index += named.end()
                continue
            if not rest.startswith("(?"):
                number += 1
        out.append(pattern[index])
        index += 1
    return Regex("".join(out), groups)
