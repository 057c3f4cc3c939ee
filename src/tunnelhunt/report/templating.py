"""The one Jinja2 environment: autoescaping always on (every field value may come from an attacker)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import jinja2


def when(value: Any) -> str:
    """A time as the pages show it: UTC, to the second."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


def text(value: Any) -> str:
    """A cell's text: lists joined by commas, None empty (escaping is the environment's job)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(text(v) for v in value)
    return when(value)


@cache
def environment(*packages: str) -> jinja2.Environment:
    """Templates of `packages` first (the web pages), then the report's (its style sheet)."""
    loaders = [jinja2.PackageLoader(name, "templates") for name in (*packages, "tunnelhunt.report")]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,  # not select_autoescape: every template here is HTML, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["text"] = text
    return env
