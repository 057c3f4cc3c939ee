"""Tokenizer and parser: words, quoting, keywords, and errors that name the token and its position."""

from __future__ import annotations

import pytest

from tunnelhunt.spl import ast
from tunnelhunt.spl.errors import SplSyntaxError, UnsupportedError
from tunnelhunt.spl.parser import parse
from tunnelhunt.spl.tokens import Kind, tokenize


def test_adjacent_quoted_and_bare_pieces_form_one_word() -> None:
    tokens = tokenize('rename "DNS".* AS *')
    assert [(t.kind, t.value) for t in tokens[:4]] == [
        (Kind.WORD, "rename"),
        (Kind.WORD, "DNS.*"),
        (Kind.WORD, "AS"),
        (Kind.WORD, "*"),
    ]
    assert tokens[1].quoted and not tokens[2].quoted


def test_quoted_escapes_operators_and_positions() -> None:
    tokens = tokenize('x!="a \\"b\\" c" y>=3')
    assert [(t.kind, t.value, t.position) for t in tokens[:6]] == [
        (Kind.WORD, "x", 0),
        (Kind.OP, "!=", 1),
        (Kind.WORD, 'a "b" c', 3),
        (Kind.WORD, "y", 15),
        (Kind.OP, ">=", 16),
        (Kind.WORD, "3", 18),
    ]


def test_tstats_parse_with_case_insensitive_keywords() -> None:
    pipeline = parse(
        "| tstats summariesonly=false fillnull_value=null count min(_time) AS firstTime "
        "FROM datamodel=Endpoint.Processes WHERE Processes.process_name=ngrok.exe BY Processes.dest Processes.user"
    )
    [tstats] = pipeline.commands
    assert isinstance(tstats, ast.Tstats)
    assert tstats.options == {"summariesonly": "false", "fillnull_value": "null"}
    assert [a.output_name for a in tstats.aggregates] == ["count", "firstTime"]
    assert tstats.datamodel == "Endpoint.Processes"
    assert tstats.where == ast.Compare("Processes.process_name", "=", "ngrok.exe", tstats.where.position)  # type: ignore[union-attr]
    assert tstats.by == ("Processes.dest", "Processes.user")


def test_search_expression_precedence_implicit_and() -> None:
    # Splunk's search command evaluates OR before AND: `a b OR c` is `a AND (b OR c)`
    [search] = parse('search a=1 b=2 OR NOT c IN (x, "y")').commands
    assert isinstance(search, ast.Search)
    expression = search.expression
    assert isinstance(expression, ast.And)
    first, rest = expression.items
    assert isinstance(first, ast.Compare) and first.field == "a"
    assert isinstance(rest, ast.Or)
    left, right = rest.items
    assert isinstance(left, ast.Compare) and left.field == "b"
    assert isinstance(right, ast.Not) and isinstance(right.item, ast.InList)
    assert right.item.values == ("x", "y")


def test_unsupported_command_names_itself_and_position() -> None:
    with pytest.raises(UnsupportedError) as info:
        parse("| tstats count from datamodel=Endpoint.Processes | transaction dest")
    assert "transaction" in str(info.value)
    assert info.value.position == 51
    assert info.value.token == "transaction"


def test_syntax_errors_point_at_the_token() -> None:
    with pytest.raises(SplSyntaxError) as info:
        parse("| rename a b")
    assert info.value.position == 11
    with pytest.raises(SplSyntaxError, match="unterminated quoted string at position 9"):
        parse('search x="abc')


def test_subsearch_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedError, match="subsearch"):
        parse("search a=1 [ search b=2 ]")
