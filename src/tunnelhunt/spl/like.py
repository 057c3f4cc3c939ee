"""Splunk wildcards as SQL LIKE patterns: plain text, so that content building SQL text (the tunnel-service
catalogue) needs no sqlglot; `semantics.wildcard_match` builds the expressions from it."""

from __future__ import annotations

#: The escape character of every LIKE pattern tunnelhunt writes (`ESCAPE '!'`).
LIKE_ESCAPE = "!"


def wildcard_to_like(value: str) -> str:
    """Turn a Splunk wildcard value into a LIKE pattern: `*` → `%`, literal `%`, `_`, `!` escaped."""
    out = []
    for char in value:
        if char == "*":
            out.append("%")
        elif char in ("%", "_", LIKE_ESCAPE):
            out.append(LIKE_ESCAPE + char)
        else:
            out.append(char)
    return "".join(out)
