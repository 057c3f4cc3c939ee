"""`cli/values.py`: every parameter of every command converts a value as typer's own (pydantic) conversion
does, or hands it to typer: the same value of the same types, or the same refusal with the same words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer._click import Context
from typer._click.exceptions import ClickException
from typer._coercion import build_runtime_param

from tunnelhunt.cli.values import QuickValue
from tunnelhunt.cli.words import command


def _params() -> list[tuple[Any, Any]]:
    group = command()
    subs = [group, *group.commands.values()]
    return [(sub, param) for sub in subs for param in [*sub.params, sub.get_help_option(Context(sub))]]


def _samples(tmp_path: Path) -> list[Any]:
    file, folder = tmp_path / "a.log", tmp_path / "dir"
    file.write_text("x")
    folder.mkdir()
    texts = ["x", "", " 1", "table", "TABLE", "jsonl", "csv", "duckdb", "0", "1", "-1", "+1", "007", "1.5", "-0.5",
             "1e3", "inf", "nan", "1_000", "abc", "99999999999999999999999", str(file), str(folder),
             str(tmp_path / "missing"), "a\x00b", "true"]  # fmt: skip
    return [None, True, False, 0, 1, -1, 2.5, *texts, (), tuple(texts[:4]), (str(file), str(folder)), ("x", "")]


def _outcome(convert: Any, value: Any, param: Any, ctx: Context) -> tuple[str, Any]:
    try:
        result = convert.coerce(value, param=param, ctx=ctx)
    except ClickException as exc:
        return ("refused", (type(exc), exc.format_message()))
    except Exception as exc:  # noqa: BLE001 - the same failure either way is what is checked
        return ("raised", (type(exc), str(exc)))
    return ("value", (_types(result), result))


def _types(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return (type(value), [_types(item) for item in value])
    return type(value)


def test_every_parameter_converts_as_typer_does(tmp_path: Path) -> None:
    samples = _samples(tmp_path)
    checked = quick = 0
    for sub, param in _params():
        ctx = Context(sub)
        typers = build_runtime_param(param.type_descriptor)
        for value in samples:
            mine = QuickValue(param)
            expected = _outcome(typers, value, param, ctx)
            assert _outcome(mine, value, param, ctx) == expected, (sub.name, param.name, value)
            checked += 1
            quick += mine._typers is None  # converted without typer's adapter
    assert checked > 1000 and quick > checked / 3  # many parameters, and most plain values stay quick


@pytest.mark.parametrize(
    ("arguments", "plain", "score"),
    [(["a.log", "--out", "x.jsonl", "--min-score", "2", "--workers", "3", "-o", "csv"], True, 2.0),
     (["a.log", "--min-score", "1e3"], False, 1000.0)],
)  # fmt: skip
def test_a_run_converts_plain_values_without_typers_adapters(arguments: list[str], plain: bool, score: float) -> None:
    """The parameters of the command that runs (its help option included) convert without typer's
    adapters (so without importing pydantic), unless a value is not plain."""
    hunt = command(["hunt", *arguments]).commands["hunt"]
    ctx = hunt.make_context("hunt", list(arguments))
    converters = [p._runtime_param for p in [*hunt.params, hunt.get_help_option(ctx)]]
    assert all(isinstance(c, QuickValue) for c in converters)
    assert all(c._typers is None for c in converters) == plain
    assert ctx.params["min_score"] == score and type(ctx.params["min_score"]) is float
