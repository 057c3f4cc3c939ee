"""Compiler limits: hostile or broken SPL fails with a typed SplError and a position, never a raw
Python exception (RecursionError, OverflowError, ...).

The fuzz test mutates real ESCU searches (../shared/datasets/security_content) with hypothesis:
slices dropped, duplicated or swapped, SPL punctuation inserted. Each mutant must compile (and render)
or raise SplError. It is a short run (200 examples, fixed seed) that guards the parser's edges.
"""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED_DATASETS, shared_dataset
from tunnelhunt.content.loader import SHIPPED, load_macros
from tunnelhunt.content.lookups import load_lookups
from tunnelhunt.spl.compiler import compile_search
from tunnelhunt.spl.errors import SplError, SplSyntaxError
from tunnelhunt.spl.macros import expand_macros
from tunnelhunt.spl.timemodifiers import TimeRangeError
from tunnelhunt.spl.tokens import MAX_NESTING

TSTATS = "| tstats count from datamodel=Endpoint.Processes by Processes.dest"


def test_deep_parentheses_are_a_syntax_error_at_the_paren() -> None:
    search = f"{TSTATS} | where " + "(" * 250 + "count > 1" + ")" * 250
    with pytest.raises(SplSyntaxError) as caught:
        compile_search(search)
    assert caught.value.position == search.index("(") + MAX_NESTING
    search_language = "| tstats count from datamodel=Endpoint.Processes where " + "(" * 250 + "Processes.dest=x"
    with pytest.raises(SplSyntaxError):
        compile_search(search_language + ")" * 250)


def test_nesting_up_to_the_limit_compiles() -> None:
    depth = MAX_NESTING
    compiled = compile_search(f"{TSTATS} | where " + "(" * depth + "count > 1" + ")" * depth)
    assert "count" in compiled.sql("spark")


@pytest.mark.parametrize(
    "tail",
    ["| where " + "NOT " * 1500 + "count > 1", "| eval x=" + "+".join(["count"] * 2000)],
    ids=["not chain", "operator chain"],
)
def test_deep_expressions_without_parentheses_are_typed_errors(tail: str) -> None:
    with pytest.raises(SplSyntaxError, match="nested too deeply") as caught:
        compile_search(f"{TSTATS} {tail}")
    assert caught.value.position == 0


def test_relative_time_overflow_is_typed_with_position() -> None:
    search = f'{TSTATS} | eval t=relative_time(now(), "-9999999d")'
    with pytest.raises(TimeRangeError) as caught:
        compile_search(search)
    assert caught.value.position is not None and search[caught.value.position :].startswith("relative_time")


@pytest.mark.parametrize("rename", ['rename Processes.dest as ""', 'rename "" as x', 'rename Processes.* as " "'])
def test_rename_to_an_empty_name_is_a_syntax_error(rename: str) -> None:
    search = f"{TSTATS} | {rename}"
    with pytest.raises(SplSyntaxError) as caught:
        compile_search(search)
    assert caught.value.position == search.index("rename")


# --- fuzzing real searches ---------------------------------------------------------------------------
_INSERTS = [
    "(",
    ")",
    '"',
    "'",
    "|",
    "=",
    "!=",
    "\\",
    "\\\\",
    "*",
    " NOT ",
    " OR ",
    "[",
    "]",
    "`",
    ",",
    "$",
    " by ",
    " as ",
    "eval ",
    "where ",
    "(?<",
    "%",
    "\n",
    "-9999999999d",
    "99999999999999999999",
    "\x00",
    "é",
]


@cache
def _corpus() -> tuple[list[str], object, object]:
    root = shared_dataset("security_content")
    paths = sorted((root / "detections").rglob("*.yml"))[::7]  # a spread of the corpus, read once
    searches = [_yaml_search(path) for path in paths]
    macros = load_macros([SHIPPED / "macros", root / "macros"])
    lookups = load_lookups([root / "lookups"], [])
    return [s for s in searches if s], macros, lookups


def _yaml_search(path: Path) -> str:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
    return str(data.get("search") or "") if isinstance(data, dict) else ""


@st.composite
def _mutant(draw: st.DrawFn) -> str:
    searches, _, _ = _corpus()
    text = searches[draw(st.integers(0, len(searches) - 1))]
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(1, 4))):
        a, b = sorted(rng.randrange(len(text) + 1) for _ in range(2))
        kind = draw(st.sampled_from(["drop", "insert", "duplicate", "swap", "repeat"]))
        if kind == "drop":
            text = text[:a] + text[b:]
        elif kind == "insert":
            text = text[:a] + draw(st.sampled_from(_INSERTS)) + text[a:]
        elif kind == "duplicate":
            text = text[:b] + text[a:b] + text[b:]
        elif kind == "swap":
            c = rng.randrange(len(text) + 1)
            text = text[:a] + text[b:c] + text[a:b] + text[c:] if c > b else text
        else:
            text = text[:a] + draw(st.sampled_from(["(", "NOT ", "-"])) * draw(st.integers(50, 400)) + text[a:]
    return text


@pytest.mark.shared
@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(_mutant())
def test_mutated_escu_searches_compile_or_raise_spl_error(search: str) -> None:
    _, macros, lookups = _corpus()
    try:
        expanded = expand_macros(search, macros.lookup)  # type: ignore[attr-defined]
        compile_search(expanded, lookups=lookups.resolve).sql("spark")  # type: ignore[attr-defined]
    except SplError as error:
        assert error.position is None or error.position >= 0


def test_the_corpus_is_there_to_fuzz() -> None:
    if not (SHARED_DATASETS / "security_content").exists():
        pytest.skip("shared dataset missing")
    searches, _, _ = _corpus()
    assert len(searches) > 100
