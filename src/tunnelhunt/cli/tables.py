"""Tables a person can read at 80 columns: each column as wide as its content, one line per row.

A row never wraps: when the table is wider than the terminal, the widest text columns give way first
and their values end in `…` (the full values are in `-o jsonl` / `-o csv`); times and numbers keep
their width, so a timestamp is never cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from tunnelhunt.cli.common import plain, terminal_text

_BREAKS = re.compile(r"[\n\t]+")
#: No text column grows past this on a wide terminal (a command line, a message).
MAX_TEXT = 72
#: A text column is never squeezed below this: when the columns cannot all have it, the last columns
#: (the least important: callers list them by importance) are left out and named under the table.
MIN_TEXT = 14


@dataclass(frozen=True)
class Col:
    """A column: the row key, the header, and whether it may be shortened (`text`) or not."""

    key: str
    label: str
    text: bool = True
    right: bool = False


def cell(value: Any) -> str:
    """One value on one line: times to the second, whole floats as integers, lists comma-joined."""
    from tunnelhunt.rba.risk import render_value  # imports the content models: only once there are rows

    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(render_value(v) for v in value)
    return _BREAKS.sub(" ", render_value(value))  # a value's newlines and tabs: one line (other controls
    # are shown escaped by `plain`)


def fit(natural: list[int], shrinkable: list[bool], available: int) -> list[int]:
    """Column widths that fit `available` characters of content: the widest shrinkable column gives
    way one character at a time (never below MIN_TEXT, or its natural width when smaller)."""
    widths = list(natural)
    while sum(widths) > available:
        candidates = [i for i, w in enumerate(widths) if shrinkable[i] and w > min(MIN_TEXT, natural[i])]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def _room(count: int, width: int) -> int:
    return width - (3 * count + 1)  # borders and one space of padding each side of every column


def print_table(console: Console, title: str, columns: list[Col], rows: list[dict[str, Any]]) -> None:
    """The rows as one table fitted to the console (values printed literally, never as markup)."""
    cells = [[terminal_text(cell(row.get(c.key))) for c in columns] for row in rows]  # widths as shown
    natural = [
        max([len(c.label), *(len(line[i]) for line in cells)]) if not c.text else
        min(MAX_TEXT, max([len(c.label), *(len(line[i]) for line in cells)]))
        for i, c in enumerate(columns)
    ]  # fmt: skip
    least = [min(MIN_TEXT, n) if c.text else n for c, n in zip(columns, natural, strict=True)]
    shown = len(columns)
    while shown > 1 and sum(least[:shown]) > _room(shown, console.width):
        shown -= 1
    hidden = [c.label for c in columns[shown:]]
    columns, natural = columns[:shown], natural[:shown]
    cells = [line[:shown] for line in cells]
    widths = fit(natural, [c.text for c in columns], _room(shown, console.width))
    table = Table(title=plain(title, style="bold"), title_justify="left")
    for column, width in zip(columns, widths, strict=True):
        table.add_column(
            plain(column.label), width=width, no_wrap=True, overflow="ellipsis",
            justify="right" if column.right else "left",
        )  # fmt: skip
    for line in cells:
        table.add_row(*[plain(value) for value in line])
    console.print(table)
    if hidden and rows:
        console.print(plain(f"(hidden at this width: {', '.join(hidden)}; -o csv has every column)", style="dim"))
