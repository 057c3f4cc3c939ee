"""Crash points are declared in one place; a misspelt one fails loudly instead of never firing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tunnelhunt import crashpoint as cp

SRC = Path(__file__).resolve().parents[2] / "src" / "tunnelhunt"


def _called_names() -> set[str]:
    names = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "crashpoint" and node.args:
                argument = node.args[0]
                assert isinstance(argument, ast.Constant), f"{path}: crash point names are literals"
                names.add(argument.value)
    return names


def test_every_point_in_the_code_is_declared_and_every_declared_point_is_used() -> None:
    assert _called_names() == set(cp.POINTS)


def test_a_misspelt_setting_is_an_error_not_a_silent_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNNELHUNT_CRASHPOINT", "ingest-befor-commit:1")
    with pytest.raises(cp.UnknownCrashPoint, match="ingest-befor-commit"):
        cp.crashpoint("ingest-before-commit")


def test_an_undeclared_point_in_code_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUNNELHUNT_CRASHPOINT", raising=False)
    with pytest.raises(cp.UnknownCrashPoint):
        cp.crashpoint("no-such-point")
    cp.crashpoint("tick-before-commit")  # declared and unset: nothing happens


def test_settings_parse_with_and_without_a_count() -> None:
    assert cp.parse_setting("sink-after-write") == ("sink-after-write", 1)
    assert cp.parse_setting("tick-before-commit:3") == ("tick-before-commit", 3)
