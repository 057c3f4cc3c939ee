"""Splunk wildcards as SQL LIKE patterns: plain text, so that content building SQL text (the tunnel-service
catalogue) needs no sqlglot; `semantics.wildcard_match` builds the expressions from it."""

from __future__ import annotations

#: The escape character of every LIKE pattern tunnelhunt writes (`ESCAPE '!'`).
LIKE_ESCAPE = "!"


def like_literal(text: str) -> str:
    """`text` as literal LIKE pattern text: `%`, `_` and the escape itself escaped."""
    return "".join(LIKE_ESCAPE + char if char in ("%", "_", LIKE_ESCAPE) else char for char in text)


def wildcard_to_like(value: str) -> str:
    """Turn a Splunk wildcard value into a LIKE pattern: `*` → `%`, literal `%`, `_`, `!` escaped."""
    return "%".join(like_literal(piece) for piece in value.split("*"))
