"""Command-line values converted without pydantic when they are plainly valid (issue 20).

Why: typer (0.16 and later) converts every parameter's value, a default or a missing one included,
through a pydantic `TypeAdapter` it builds on first use: importing pydantic and building a dozen
adapters was a sixth of a small hunt's start-up. Most values need no judgement: a text, a path, a
whole number within bounds, one of the choices spelt exactly. `QuickValue` converts those as typer
does and hands anything else to typer's own conversion (built then), so every refusal, message and
exit code stays typer's. `tests/unit/test_cli_values.py` checks both give the same on every parameter.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

#: What `QuickValue` returns when it leaves a value to typer.
_LEAVE = object()
_WHOLE = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,6})?")
#: The `ParameterInfo` settings under which typer turns a path's text into `Path(text)` and checks only
#: that an existing path is readable (`typer._param_types.coerce_cli_path`).
_PLAIN_PATH = {"exists": False, "file_okay": True, "dir_okay": True, "writable": False, "readable": True,
               "resolve_path": False, "allow_dash": False, "path_type": None, "parser": None}  # fmt: skip


class QuickValue:
    """typer's runtime conversion of one parameter (`coerce(value, param, ctx)`), quick where it is plain."""

    def __init__(self, param: Any) -> None:
        self._param = param
        descriptor = param.type_descriptor
        self._annotation = descriptor.annotation
        self._info = descriptor.parameter_info
        self._typers: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        """The value typer would give; typer's own conversion for anything not plainly valid."""
        if value is None:  # typer: nothing given is None, or () for a parameter taking several
            return () if param.multiple or param.nargs == -1 else None
        converted = self._convert(value, ctx)
        if converted is _LEAVE:
            return self._typer().coerce(value, param=param, ctx=ctx)
        return converted

    def _typer(self) -> Any:
        if self._typers is None:
            from typer._coercion import build_runtime_param  # imports pydantic

            self._typers = build_runtime_param(self._param.type_descriptor)
        return self._typers

    def _convert(self, value: Any, ctx: Any) -> Any:
        if get_origin(self._annotation) is list:
            if type(value) not in (list, tuple):
                return _LEAVE
            (item_type,) = get_args(self._annotation)
            items = [self._one(item_type, item, ctx) for item in value]
            return _LEAVE if any(item is _LEAVE for item in items) else items
        if self._param.multiple or self._param.nargs != 1:
            return _LEAVE
        return self._one(self._annotation, value, ctx)

    def _one(self, kind: Any, value: Any, ctx: Any) -> Any:
        info = self._info
        if getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None:
            return _LEAVE
        if kind is str:
            return value if type(value) is str else _LEAVE
        if kind is Path:
            return self._path(value)
        if kind in (int, float) and not getattr(info, "clamp", False):
            return _number(kind, value, info.min, info.max)
        exact = info.case_sensitive and (ctx is None or ctx.token_normalize_func is None)
        if get_origin(kind) is Literal and type(value) is str and value in get_args(kind) and exact:
            return value  # a choice spelt exactly
        return _LEAVE

    def _path(self, value: Any) -> Any:
        info = self._info
        if type(value) is not str or not value or any(getattr(info, k, v) != v for k, v in _PLAIN_PATH.items()):
            return _LEAVE
        if "\x00" in value:
            return _LEAVE  # typer's stat raises on it
        path = Path(value)
        if os.path.exists(path) and not os.access(path, os.R_OK):
            return _LEAVE  # typer says it is not readable
        return path


def _number(kind: type[Any], value: Any, low: float | None, high: float | None) -> Any:
    text = type(value) is str and (_WHOLE if kind is int else _DECIMAL).fullmatch(value)
    if not (text or type(value) is int or (kind is float and type(value) is float)):
        return _LEAVE
    number = kind(value)
    if (low is not None and number < low) or (high is not None and number > high):
        return _LEAVE  # typer words the refusal
    return number


def convert_quickly(command: Any, help_names: list[str]) -> None:
    """Let `command`'s parameters (its help option too, made now as the run would make it with
    `help_names`) convert plain values without pydantic; nothing on a typer that converts otherwise
    (before 0.16: click's own types)."""
    params = list(command.params)
    if hasattr(command, "get_help_option"):
        from typer._click import Context

        names = command.context_settings.get("help_option_names", help_names)
        params.append(command.get_help_option(Context(command, help_option_names=names)))
    for param in params:
        if hasattr(param, "type_descriptor") and getattr(param, "_runtime_param", False) is None:
            param._runtime_param = QuickValue(param)
