"""Parser for Splunk's eval expression language (used by `eval` and `where`).

It has its own lexer because eval's lexical rules differ from the search language: `.` is string
concatenation, `'single quotes'` name a field, `"double quotes"` are string literals, and `-`, `*`,
`/` are operators. Precedence, loosest first: OR/XOR, AND, NOT, comparison (= == != < <= > >= LIKE),
+ - ., * / %, unary minus, then calls, literals, fields and parentheses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tunnelhunt.spl import ast
from tunnelhunt.spl.errors import SplSyntaxError

_NUMBER = re.compile(r"(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("==", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", ".", "(", ")", ",")
_KEYWORDS = {"AND", "OR", "XOR", "NOT", "LIKE", "IN"}


@dataclass(frozen=True)
class _Tok:
    kind: str  # num, str, field, ident, op, kw, eof
    value: str
    position: int


def _lex(text: str, offset: int) -> list[_Tok]:
    tokens: list[_Tok] = []
    index = 0
    while index < len(text):
        char = text[index]
        at = offset + index
        if char.isspace():
            index += 1
            continue
        if char == '"' or char == "'":
            value, index = _read_string(text, index, offset)
            tokens.append(_Tok("str" if char == '"' else "field", value, at))
            continue
        number = _NUMBER.match(text, index)
        if number and (char.isdigit() or (char == "." and number.end() > index + 1)):
            tokens.append(_Tok("num", number.group(0), at))
            index = number.end()
            continue
        ident = _IDENT.match(text, index)
        if ident:
            word = ident.group(0)
            kind = "kw" if word.upper() in _KEYWORDS else "ident"
            tokens.append(_Tok(kind, word.upper() if kind == "kw" else word, at))
            index = ident.end()
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, index)), None)
        if operator is None:
            raise SplSyntaxError(f"unexpected character {char!r} in eval expression", at, char)
        tokens.append(_Tok("op", operator, at))
        index += len(operator)
    tokens.append(_Tok("eof", "", offset + len(text)))
    return tokens


def _read_string(text: str, start: int, offset: int) -> tuple[str, int]:
    """A quoted string or field name; `\\"` and `\\\\` are escapes, other backslashes stay."""
    quote = text[start]
    out: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in (quote, "\\"):
            out.append(text[index + 1])
            index += 2
            continue
        if char == quote:
            return "".join(out), index + 1
        out.append(char)
        index += 1
    raise SplSyntaxError("unterminated quoted string in eval expression", offset + start, text[start : start + 30])


class _Parser:
    def __init__(self, text: str, offset: int) -> None:
        self.tokens = _lex(text, offset)
        self.index = 0

    @property
    def current(self) -> _Tok:
        return self.tokens[self.index]

    def advance(self) -> _Tok:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def at(self, kind: str, *values: str) -> bool:
        token = self.current
        return token.kind == kind and (not values or token.value in values)

    def expect_op(self, value: str) -> _Tok:
        if not self.at("op", value):
            token = self.current
            raise SplSyntaxError(f"expected '{value}', found {token.value or 'end'!r}", token.position, token.value)
        return self.advance()

    # precedence climbing, loosest first
    def parse_or(self) -> ast.EvalExpr:
        left = self.parse_and()
        while self.at("kw", "OR", "XOR"):
            op = self.advance()
            left = ast.BinaryOp(op.value, left, self.parse_and(), op.position)
        return left

    def parse_and(self) -> ast.EvalExpr:
        left = self.parse_not()
        while self.at("kw", "AND"):
            op = self.advance()
            left = ast.BinaryOp("AND", left, self.parse_not(), op.position)
        return left

    def parse_not(self) -> ast.EvalExpr:
        if self.at("kw", "NOT"):
            op = self.advance()
            return ast.UnaryOp("NOT", self.parse_not(), op.position)
        return self.parse_comparison()

    def parse_comparison(self) -> ast.EvalExpr:
        left = self.parse_additive()
        while self.at("op", "=", "==", "!=", "<", "<=", ">", ">=") or self.at("kw", "LIKE", "IN"):
            if self.at("kw", "IN"):  # `x IN ("a", "b")` is in(x, "a", "b")
                keyword = self.advance()
                self.expect_op("(")
                options = [self.parse_or()]
                while self.at("op", ","):
                    self.advance()
                    options.append(self.parse_or())
                self.expect_op(")")
                left = ast.Call("in", (left, *options), keyword.position)
                continue
            op = self.advance()
            name = "=" if op.value == "==" else op.value
            left = ast.BinaryOp(name, left, self.parse_additive(), op.position)
        return left

    def parse_additive(self) -> ast.EvalExpr:
        left = self.parse_multiplicative()
        while self.at("op", "+", "-", "."):
            op = self.advance()
            left = ast.BinaryOp(op.value, left, self.parse_multiplicative(), op.position)
        return left

    def parse_multiplicative(self) -> ast.EvalExpr:
        left = self.parse_unary()
        while self.at("op", "*", "/", "%"):
            op = self.advance()
            left = ast.BinaryOp(op.value, left, self.parse_unary(), op.position)
        return left

    def parse_unary(self) -> ast.EvalExpr:
        if self.at("op", "-"):
            op = self.advance()
            operand = self.parse_unary()
            if isinstance(operand, ast.Literal) and isinstance(operand.value, int | float):
                return ast.Literal(-operand.value, op.position)
            return ast.UnaryOp("-", operand, op.position)
        if self.at("op", "+"):
            self.advance()
            return self.parse_unary()
        return self.parse_primary()

    def parse_primary(self) -> ast.EvalExpr:
        token = self.current
        if token.kind == "op" and token.value == "(":
            self.advance()
            inner = self.parse_or()
            self.expect_op(")")
            return inner
        if token.kind == "num":
            self.advance()
            text = token.value
            is_float = any(c in text for c in ".eE")
            return ast.Literal(float(text) if is_float else int(text), token.position)
        if token.kind == "str":
            self.advance()
            return ast.Literal(token.value, token.position)
        if token.kind == "field":
            self.advance()
            return ast.FieldRef(token.value, token.position)
        if token.kind == "ident":
            self.advance()
            if self.at("op", "("):
                return self.parse_call(token)
            return ast.FieldRef(token.value, token.position)
        if token.kind == "kw" and token.value in ("LIKE", "IN") and self.tokens[self.index + 1].value == "(":
            self.advance()  # like(x, p) and in(x, a, b): functions named like the operators
            return self.parse_call(_Tok("ident", token.value.lower(), token.position))
        raise SplSyntaxError(
            f"expected a value in eval expression, found {token.value or 'end'!r}", token.position, token.value
        )

    def parse_call(self, name: _Tok) -> ast.Call:
        self.expect_op("(")
        args: list[ast.EvalExpr] = []
        if not self.at("op", ")"):
            args.append(self.parse_or())
            while self.at("op", ","):
                self.advance()
                args.append(self.parse_or())
        self.expect_op(")")
        return ast.Call(name.value.lower(), tuple(args), name.position)


def parse_eval_expression(text: str, offset: int = 0) -> ast.EvalExpr:
    """Parse one eval expression; positions are reported relative to the whole search via `offset`."""
    parser = _Parser(text, offset)
    if parser.at("eof"):
        raise SplSyntaxError("empty eval expression", offset)
    expression = parser.parse_or()
    if not parser.at("eof"):
        token = parser.current
        raise SplSyntaxError(f"unexpected {token.value!r} in eval expression", token.position, token.value)
    return expression


def parse_assignments(text: str, offset: int = 0) -> list[tuple[str, ast.EvalExpr, int]]:
    """`a=expr, b=expr` as (field, expression, position) triples, split on top-level commas."""
    parser = _Parser(text, offset)
    out: list[tuple[str, ast.EvalExpr, int]] = []
    while not parser.at("eof"):
        target = parser.current
        if target.kind not in ("ident", "field", "str"):
            raise SplSyntaxError(f"expected a field name to assign, found {target.value!r}", target.position)
        parser.advance()
        if not parser.at("op", "="):
            token = parser.current
            raise SplSyntaxError(f"expected '=' after {target.value}, found {token.value!r}", token.position)
        parser.advance()
        out.append((target.value, parser.parse_or(), target.position))
        if parser.at("op", ","):
            parser.advance()
        elif not parser.at("eof"):
            token = parser.current
            raise SplSyntaxError(f"unexpected {token.value!r} after eval assignment", token.position, token.value)
    if not out:
        raise SplSyntaxError("eval needs at least one assignment", offset)
    return out
