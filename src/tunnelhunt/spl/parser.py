"""Recursive-descent parser from tokens to the SPL AST.

Each command has its own small parse function; a command tunnelhunt does not implement raises
`UnsupportedError` naming it and its position, so a search is never half-run.
"""

from __future__ import annotations

from collections.abc import Callable

from tunnelhunt.spl import ast
from tunnelhunt.spl.errors import SplSyntaxError, UnsupportedError
from tunnelhunt.spl.tokens import Kind, Token, tokenize

#: Default `convert timeformat` when a search gives none (Splunk's documented default).
DEFAULT_TIMEFORMAT = "%m/%d/%Y %H:%M:%S"
TSTATS_OPTIONS = {
    "summariesonly",
    "allow_old_summaries",
    "fillnull_value",
    "prestats",
    "local",
    "append",
    "chunk_size",
    "include_reduced_buckets",
}
AGGREGATES = {"count", "min", "max", "dc", "values", "earliest", "latest", "sum", "avg"}


class TokenStream:
    """Cursor over tokens with the look-ahead helpers the parse functions share."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind is not Kind.EOF:
            self.index += 1
        return token

    def expect(self, kind: Kind, what: str) -> Token:
        token = self.current
        if token.kind is not kind:
            raise SplSyntaxError(
                f"expected {what}, found {token.value or token.kind.value!r}", token.position, token.value
            )
        return self.advance()

    def expect_word(self, what: str) -> Token:
        return self.expect(Kind.WORD, what)

    def at_command_end(self) -> bool:
        return self.current.kind in (Kind.PIPE, Kind.EOF)


def parse(search: str) -> ast.Pipeline:
    """Parse an expanded search (no macros left) into a pipeline."""
    stream = TokenStream(tokenize(search))
    commands: list[ast.Command] = []
    if stream.current.kind is Kind.PIPE:
        stream.advance()
    elif not stream.at_command_end():
        start = stream.current.position
        if stream.current.is_word("search"):
            stream.advance()
        commands.append(_parse_search_command(stream, start))  # a search without a leading pipe
        _end_command(stream)
    while stream.current.kind is not Kind.EOF:
        if commands:
            stream.expect(Kind.PIPE, "'|'")
        token = stream.current
        if token.kind is Kind.LBRACKET:
            raise UnsupportedError("subsearch [ ... ] is not supported", token.position, "[")
        name = stream.expect_word("a command name")
        parser = _COMMANDS.get(name.value.lower())
        if parser is None:
            raise UnsupportedError(f"command '{name.value}' is not supported", name.position, name.value)
        commands.append(parser(stream, name.position))
        _end_command(stream)
    if not commands:
        raise SplSyntaxError("empty search", 0)
    return ast.Pipeline(tuple(commands))


def _end_command(stream: TokenStream) -> None:
    if not stream.at_command_end():
        token = stream.current
        raise SplSyntaxError(f"unexpected {token.value!r}", token.position, token.value)


# --- tstats -------------------------------------------------------------------------------------
def _parse_tstats(stream: TokenStream, position: int) -> ast.Tstats:
    options: dict[str, str] = {}
    while (
        stream.current.kind is Kind.WORD
        and stream.peek().kind is Kind.OP
        and stream.peek().value == "="
        and stream.current.value.lower() in TSTATS_OPTIONS
    ):
        key = stream.advance().value.lower()
        stream.advance()
        options[key] = stream.expect_word(f"a value for {key}").value
    aggregates = _parse_aggregates(stream)
    datamodel: str | None = None
    where: ast.SearchExpr | None = None
    by: list[str] = []
    while not stream.at_command_end():
        token = stream.current
        if token.is_word("FROM"):
            stream.advance()
            key = stream.expect_word("datamodel=")
            if key.value.lower() != "datamodel":
                raise UnsupportedError(
                    f"tstats FROM {key.value} is not supported (only datamodel=)", key.position, key.value
                )
            stream.expect(Kind.OP, "'='")
            datamodel = stream.expect_word("a data model name").value
        elif token.is_word("WHERE"):
            stream.advance()
            where = _parse_or(stream, stop=("BY", "FROM"))
        elif token.is_word("BY"):
            stream.advance()
            by.extend(_parse_field_list(stream))
        else:
            raise SplSyntaxError(f"unexpected {token.value!r} in tstats", token.position, token.value)
    if not aggregates:
        raise SplSyntaxError("tstats needs at least one aggregate", position)
    return ast.Tstats(position, options, tuple(aggregates), datamodel, where, tuple(by))


def _parse_aggregates(stream: TokenStream) -> list[ast.Aggregate]:
    aggregates: list[ast.Aggregate] = []
    while stream.current.kind is Kind.WORD and not stream.current.is_word("FROM", "WHERE", "BY"):
        token = stream.advance()
        function = token.value.lower()
        field: str | None = None
        if stream.current.kind is Kind.LPAREN:
            stream.advance()
            field = stream.expect_word("a field name").value
            stream.expect(Kind.RPAREN, "')'")
        if function not in AGGREGATES:
            raise UnsupportedError(f"aggregate function '{token.value}' is not supported", token.position, token.value)
        alias = None
        if stream.current.is_word("AS"):
            stream.advance()
            alias = stream.expect_word("an alias").value
        aggregates.append(ast.Aggregate(function, field, alias, token.position))
        if stream.current.kind is Kind.COMMA:
            stream.advance()
    return aggregates


def _parse_field_list(stream: TokenStream) -> list[str]:
    fields: list[str] = []
    while stream.current.kind is Kind.WORD and not stream.current.is_word("FROM", "WHERE", "BY"):
        token = stream.advance()
        if stream.current.kind is Kind.OP and stream.current.value == "=":
            raise UnsupportedError(f"by-clause option '{token.value}=' is not supported", token.position, token.value)
        fields.append(token.value)
        if stream.current.kind is Kind.COMMA:
            stream.advance()
    return fields


# --- search expressions ---------------------------------------------------------------------------
def _parse_or(stream: TokenStream, stop: tuple[str, ...] = ()) -> ast.SearchExpr:
    items = [_parse_and(stream, stop)]
    while stream.current.is_word("OR"):
        stream.advance()
        items.append(_parse_and(stream, stop))
    return items[0] if len(items) == 1 else ast.Or(tuple(items))


def _starts_term(token: Token, stop: tuple[str, ...]) -> bool:
    if token.kind in (Kind.LPAREN, Kind.LBRACKET):
        return True
    return token.kind is Kind.WORD and not token.is_word("OR", *stop)


def _parse_and(stream: TokenStream, stop: tuple[str, ...]) -> ast.SearchExpr:
    items = [_parse_not(stream, stop)]
    while True:
        if stream.current.is_word("AND"):
            stream.advance()
        elif not _starts_term(stream.current, stop):
            break
        items.append(_parse_not(stream, stop))
    return items[0] if len(items) == 1 else ast.And(tuple(items))


def _parse_not(stream: TokenStream, stop: tuple[str, ...]) -> ast.SearchExpr:
    if stream.current.is_word("NOT"):
        stream.advance()
        return ast.Not(_parse_not(stream, stop))
    return _parse_primary(stream, stop)


def _parse_primary(stream: TokenStream, stop: tuple[str, ...]) -> ast.SearchExpr:
    token = stream.current
    if token.kind is Kind.LPAREN:
        stream.advance()
        inner = _parse_or(stream, stop)
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
            values.append(stream.expect_word("a value in IN (...)").value)
            if stream.current.kind is Kind.COMMA:
                stream.advance()
        stream.advance()
        return ast.InList(word.value, tuple(values), word.position)
    if word.value == "*" and not word.quoted:
        return ast.MatchAll()
    return ast.FreeText(word.value, word.position)


# --- other commands ---------------------------------------------------------------------------------
def _parse_search_command(stream: TokenStream, position: int) -> ast.Search:
    if stream.at_command_end():
        return ast.Search(position, ast.MatchAll())
    return ast.Search(position, _parse_or(stream))


def _parse_rename(stream: TokenStream, position: int) -> ast.Rename:
    pairs: list[tuple[str, str]] = []
    while not stream.at_command_end():
        source = stream.expect_word("a field to rename").value
        as_token = stream.expect_word("AS")
        if not as_token.is_word("AS"):
            raise SplSyntaxError(f"expected AS, found {as_token.value!r}", as_token.position, as_token.value)
        target = stream.expect_word("a new field name").value
        if source.count("*") != target.count("*"):
            raise SplSyntaxError("rename wildcards must match in number", position, source)
        pairs.append((source, target))
        if stream.current.kind is Kind.COMMA:
            stream.advance()
    if not pairs:
        raise SplSyntaxError("rename needs at least one 'X AS Y'", position)
    return ast.Rename(position, tuple(pairs))


def _parse_convert(stream: TokenStream, position: int) -> ast.Convert:
    timeformat = DEFAULT_TIMEFORMAT
    conversions: list[ast.Conversion] = []
    while not stream.at_command_end():
        token = stream.expect_word("a conversion")
        if stream.current.kind is Kind.OP and token.value.lower() == "timeformat":
            stream.advance()
            timeformat = stream.expect_word("a time format").value
            continue
        function = token.value.lower()
        if function not in ("ctime",):
            raise UnsupportedError(f"convert function '{token.value}' is not supported", token.position, token.value)
        stream.expect(Kind.LPAREN, "'('")
        field = stream.expect_word("a field").value
        stream.expect(Kind.RPAREN, "')'")
        alias = None
        if stream.current.is_word("AS"):
            stream.advance()
            alias = stream.expect_word("an alias").value
        conversions.append(ast.Conversion(function, field, alias))
    if not conversions:
        raise SplSyntaxError("convert needs a conversion such as ctime(field)", position)
    return ast.Convert(position, timeformat, tuple(conversions))


CommandParser = Callable[[TokenStream, int], ast.Command]
_COMMANDS: dict[str, CommandParser] = {
    "tstats": _parse_tstats,
    "rename": _parse_rename,
    "convert": _parse_convert,
    "search": _parse_search_command,
}
