"""Macro expansion as Splunk does it: textual, by name and argument count, recursive, with clear errors."""

from __future__ import annotations

import pytest

from tunnelhunt.content.loader import SHIPPED, load_macros
from tunnelhunt.spl.errors import MacroError
from tunnelhunt.spl.macros import MacroDefinition, expand_macros, split_arguments

LIBRARY = {
    ("plain", 0): MacroDefinition("plain", "summariesonly=`inner`"),
    ("inner", 0): MacroDefinition("inner", "false"),
    ("wrap", 2): MacroDefinition("wrap", "eval $a$=$b$", ("a", "b")),
    ("loop", 0): MacroDefinition("loop", "`loop`"),
}


def lookup(name: str, count: int) -> MacroDefinition | None:
    return LIBRARY.get((name, count))


def test_nested_and_argument_macros() -> None:
    assert expand_macros("| tstats `plain` count", lookup) == "| tstats summariesonly=false count"
    assert expand_macros('`wrap(x, "a,b")`', lookup) == 'eval x="a,b"'


def test_argument_splitting_respects_quotes_and_brackets() -> None:
    assert split_arguments('a, "b, c", f(1, 2)') == ["a", '"b, c"', "f(1, 2)"]


def test_unknown_macro_and_wrong_arity_are_named() -> None:
    with pytest.raises(MacroError, match=r"unknown macro `nope` with 0 argument\(s\) at position 7"):
        expand_macros("search `nope`", lookup)
    with pytest.raises(MacroError, match="`wrap` with 1 argument"):
        expand_macros("`wrap(x)`", lookup)


def test_recursive_macro_is_stopped() -> None:
    with pytest.raises(MacroError, match="deeper than"):
        expand_macros("`loop`", lookup)


def test_shipped_seed_macros_expand_to_the_splunk_defaults() -> None:
    library = load_macros([SHIPPED / "macros"])
    text = expand_macros(
        '| tstats `security_content_summariesonly` count | `drop_dm_object_name("DNS")` '
        "| `security_content_ctime(firstTime)` | `ngrok_reverse_proxy_on_network_filter`",
        library.lookup,
    )
    assert text == (
        "| tstats summariesonly=false allow_old_summaries=true fillnull_value=null count "
        '| rename "DNS".* AS * | convert timeformat="%Y-%m-%dT%H:%M:%S" ctime(firstTime) | search *'
    )
