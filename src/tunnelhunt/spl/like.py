"""Splunk and Sigma wildcard patterns as SQL string tests, without sqlglot.

The shape decision (`pattern_shape`) is made here once: `semantics.pattern_match` builds sqlglot
expressions from it for the compilers, and `pattern_sql` writes DuckDB text from it for content that
builds SQL text itself (the tunnel-service catalogue), so a warm hunt needs no sqlglot for either.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

#: The escape character of every LIKE pattern tunnelhunt writes (`ESCAPE '!'`): `!` behaves the same
#: in DuckDB and Spark (a backslash would not).
LIKE_ESCAPE = "!"
#: Characters a LIKE pattern must escape to keep literal: `%`, `_`, the escape itself, and a backslash
#: (Spark's default escape; DuckDB has none).
_LIKE_SPECIAL = ("%", "_", LIKE_ESCAPE, "\\")


class Wildcard(enum.Enum):
    """A wildcard among a pattern's parts: any run of characters (`*`), or exactly one (Sigma's `?`)."""

    ANY = "%"
    ONE = "_"


#: A pattern: literal text (in the case to compare) and wildcards, in order.
Pattern = Sequence[str | Wildcard]


class Shape(enum.Enum):
    """The cheapest test with a pattern's matches. DuckDB runs the affix tests and plain LIKE on a
    column's dictionary, while `LIKE ... ESCAPE` it evaluates row by row (2.0 s instead of 0.04 s over
    4 M stored DNS names), so the escape is named only when the text needs it."""

    EQUALS = "equals"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    CONTAINS = "contains"
    LIKE = "like"
    LIKE_ESCAPED = "like_escaped"


def like_literal(text: str) -> str:
    """`text` as literal LIKE pattern text: `%`, `_` and the escape itself escaped."""
    return "".join(LIKE_ESCAPE + char if char in ("%", "_", LIKE_ESCAPE) else char for char in text)


def wildcard_to_like(value: str) -> str:
    """Turn a Splunk wildcard value into a LIKE pattern: `*` → `%`, literal `%`, `_`, `!` escaped."""
    return "%".join(like_literal(piece) for piece in value.split("*"))


def wildcard_parts(value: str) -> list[str | Wildcard]:
    """A Splunk wildcard value (every `*` a wildcard) as pattern parts."""
    parts: list[str | Wildcard] = []
    for index, piece in enumerate(value.split("*")):
        parts += [Wildcard.ANY, piece] if index else [piece]
    return parts


def simplified(parts: Pattern) -> list[str | Wildcard]:
    """The same pattern with adjacent texts joined, empty texts dropped and runs of `*` made one."""
    out: list[str | Wildcard] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += part
                continue
        elif part is Wildcard.ANY and out and out[-1] is Wildcard.ANY:
            continue
        out.append(part)
    return out


_AFFIX = {(True, False): Shape.SUFFIX, (False, True): Shape.PREFIX, (True, True): Shape.CONTAINS}


def pattern_shape(parts: Pattern) -> tuple[Shape, str]:
    """The test a whole-value match of `parts` takes, and its operand: the literal text for `=` and the
    affix tests (`*text`, `text*`, `*text*`), the LIKE pattern otherwise."""
    parts = simplified(parts)
    texts = [part for part in parts if isinstance(part, str)]
    if len(texts) == len(parts):
        return Shape.EQUALS, "".join(texts)
    if len(texts) == 1 and Wildcard.ONE not in parts:
        return _AFFIX[(parts[0] is Wildcard.ANY, parts[-1] is Wildcard.ANY)], texts[0]
    pattern = "".join(part.value if isinstance(part, Wildcard) else like_literal(part) for part in parts)
    escaped = any(char in value for value in texts for char in _LIKE_SPECIAL)
    return (Shape.LIKE_ESCAPED if escaped else Shape.LIKE), pattern


def sql_text(text: str) -> str:
    """A DuckDB string literal holding `text`."""
    return "'" + text.replace("'", "''") + "'"


_DUCKDB_TEXT = {
    Shape.EQUALS: "{0} = {1}",
    Shape.PREFIX: "starts_with({0}, {1})",
    Shape.SUFFIX: "ends_with({0}, {1})",
    Shape.CONTAINS: "contains({0}, {1})",
    Shape.LIKE: "{0} LIKE {1}",
    Shape.LIKE_ESCAPED: "{0} LIKE {1} ESCAPE '" + LIKE_ESCAPE + "'",
}


def pattern_sql(column: str, parts: Pattern) -> str:
    """DuckDB SQL text: `column` (SQL text, already in the case to compare) matches the whole pattern;
    the same test `semantics.pattern_match` builds."""
    shape, operand = pattern_shape(parts)
    return _DUCKDB_TEXT[shape].format(column, sql_text(operand))
