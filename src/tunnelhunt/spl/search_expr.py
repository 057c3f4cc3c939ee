"""Parser for the search language's boolean expressions (`tstats ... where`, `search`, `inputlookup ... where`).

`a=b c=d` is an implicit AND; OR binds tighter than AND (Splunk's order for the search command);
NOT binds to the next term; values may
hold `*` wildcards and are matched case-insensitively later, by the compiler's semantics module.
"""

from __future__ import annotations

from tunnelhunt.spl import ast
from tunnelhunt.spl.errors import UnsupportedError
from tunnelhunt.spl.tokens import Kind, Token, TokenStream


def parse_search_expression(stream: TokenStream, stop: tuple[str, ...] = ()) -> ast.SearchExpr:
    """Parse until the command ends or a bare keyword in `stop` (such as BY) is reached.

    Splunk's search language evaluates OR before AND (explicit or implied): `a b OR c` is
    `a AND (b OR c)`. (eval and where use the usual order; see evalexpr.py.)
    """
    items = [_parse_or(stream, stop)]
    while True:
        if stream.current.is_word("AND"):
            stream.advance()
        elif not _starts_term(stream.current, stop):
            break
        items.append(_parse_or(stream, stop))
    return items[0] if len(items) == 1 else ast.And(tuple(items))


def _starts_term(token: Token, stop: tuple[str, ...]) -> bool:
    if token.kind in (Kind.LPAREN, Kind.LBRACKET):
        return True
    return token.kind is Kind.WORD and not token.is_word("OR", "AND", *stop)


def _parse_or(stream: TokenStream, stop: tuple[str, ...]) -> ast.SearchExpr:
    items = [_parse_not(stream, stop)]
    while stream.current.is_word("OR"):
        stream.advance()
        items.append(_parse_not(stream, stop))
    return items[0] if len(items) == 1 else ast.Or(tuple(items))


def _parse_not(stream: TokenStream, stop: tuple[str, ...]) -> ast.SearchExpr:
    if stream.current.is_word("NOT"):
        stream.advance()
        return ast.Not(_parse_not(stream, stop))
    return _parse_primary(stream, stop)


def _parse_primary(stream: TokenStream, stop: tuple[str, ...]) -> ast.SearchExpr:
    token = stream.current
    if token.kind is Kind.LPAREN:
        stream.advance()
        inner = parse_search_expression(stream, stop)
        stream.expect(Kind.RPAREN, "')'")
        return inner
    if token.kind is Kind.LBRACKET:
        raise UnsupportedError("subsearch [ ... ] is not supported", token.position, "[")
    word = stream.expect_word("a search term")
    following = stream.current
    if following.kind is Kind.OP:
        stream.advance()
        value = stream.expect_word(f"a value after {word.value}{following.value}")
        return ast.Compare(word.value, "=" if following.value == "==" else following.value, value.value, word.position)
    if following.is_word("IN") and stream.peek().kind is Kind.LPAREN:
        stream.advance()
        stream.advance()
        values: list[str] = []
        while stream.current.kind is not Kind.RPAREN:
            if stream.current.kind is Kind.COMMA:  # `("a",, "b")`: Splunk ignores the empty entry
                stream.advance()
                continue
            values.append(stream.expect_word("a value in IN (...)").value)
        stream.advance()
        return ast.InList(word.value, tuple(values), word.position)
    if word.value == "*" and not word.quoted:
        return ast.MatchAll()
    return ast.FreeText(word.value, word.position)
