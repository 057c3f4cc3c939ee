"""The eval expression parser: precedence, literals, field names, functions and errors with positions."""

from __future__ import annotations

import pytest

from tunnelhunt.spl import ast
from tunnelhunt.spl.errors import SplSyntaxError
from tunnelhunt.spl.evalexpr import parse_assignments, parse_eval_expression
from tunnelhunt.spl.parser import parse


def test_arithmetic_binds_tighter_than_comparison_and_boolean_operators() -> None:
    tree = parse_eval_expression("a + 2 * 3 > 4 AND NOT b OR c")
    assert isinstance(tree, ast.BinaryOp) and tree.op == "OR"
    left = tree.left
    assert isinstance(left, ast.BinaryOp) and left.op == "AND"
    comparison = left.left
    assert isinstance(comparison, ast.BinaryOp) and comparison.op == ">"
    addition = comparison.left
    assert isinstance(addition, ast.BinaryOp) and addition.op == "+"
    assert isinstance(addition.right, ast.BinaryOp) and addition.right.op == "*"
    assert isinstance(left.right, ast.UnaryOp) and left.right.op == "NOT"


def test_dot_concatenates_and_single_quotes_name_a_field() -> None:
    tree = parse_eval_expression("\"*\" . 'Processes.process_name'")
    assert tree == ast.BinaryOp(".", ast.Literal("*", 0), ast.FieldRef("Processes.process_name", 6), 4)


def test_string_escapes_keep_regex_backslashes() -> None:
    tree = parse_eval_expression(r'match(process, "(?i)cmd\.exe\s+\"x\\y")')
    assert isinstance(tree, ast.Call) and tree.name == "match"
    assert tree.args[1] == ast.Literal('(?i)cmd\\.exe\\s+"x\\y', 15)


def test_numbers_negative_literals_and_function_names_are_case_insensitive() -> None:
    tree = parse_eval_expression("IF(x == -1.5, 10, 2e3)")
    assert isinstance(tree, ast.Call) and tree.name == "if"
    condition = tree.args[0]
    assert isinstance(condition, ast.BinaryOp) and condition.op == "="
    assert condition.right == ast.Literal(-1.5, 8)
    assert tree.args[1] == ast.Literal(10, 14)
    assert tree.args[2] == ast.Literal(2000.0, 18)


def test_in_operator_is_the_in_function() -> None:
    tree = parse_eval_expression('execution_type IN ("a", "b")')
    assert tree == ast.Call("in", (ast.FieldRef("execution_type", 0), ast.Literal("a", 19), ast.Literal("b", 24)), 15)


def test_assignments_split_on_top_level_commas_only() -> None:
    out = parse_assignments('a=if(x>1, "y,z", 2), b = a . "!"')
    assert [name for name, _, _ in out] == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("x = ", "expected a value"),
        ("f(1, 2", "expected ')'"),
        ('"unterminated', "unterminated quoted string"),
        ("a @ b", "unexpected character '@'"),
        ("a b", "unexpected 'b'"),
    ],
)
def test_syntax_errors_name_the_problem_and_position(text: str, fragment: str) -> None:
    with pytest.raises(SplSyntaxError) as info:
        parse_eval_expression(text, offset=100)
    assert fragment in str(info.value)
    assert info.value.position is not None and info.value.position >= 100


def test_where_position_is_reported_relative_to_the_whole_search() -> None:
    search = "| tstats count from datamodel=Endpoint.Processes | where count >"
    with pytest.raises(SplSyntaxError) as info:
        parse(search)
    assert info.value.position == len(search)
