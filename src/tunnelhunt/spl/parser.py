"""Recursive-descent parser from an expanded search to the SPL AST.

Each command has its own small parse function; a command tunnelhunt does not implement raises
`UnsupportedError` naming it and its position, so a search is never half-run.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tunnelhunt.spl import ast, parse_transforms
from tunnelhunt.spl.errors import SplError, SplSyntaxError, UnsupportedError
from tunnelhunt.spl.evalexpr import parse_eval_expression
from tunnelhunt.spl.search_expr import parse_search_expression
from tunnelhunt.spl.subsearch import closing_bracket
from tunnelhunt.spl.tokens import Kind, TokenStream

#: Default `convert timeformat` when a search gives none (Splunk's documented default).
DEFAULT_TIMEFORMAT = "%m/%d/%Y %H:%M:%S"
#: tstats options that only tune how Splunk reads its summaries; results do not depend on them here.
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
AGGREGATES = {
    "count",
    "min",
    "max",
    "dc",
    "distinct_count",
    "values",
    "list",
    "earliest",
    "latest",
    "sum",
    "avg",
    "mean",
    "stdev",
    "stdevp",
    "var",
    "varp",
    "range",
    "median",
}


#: `p95`, `perc95`, `exactperc95`, `upperperc95`: the 95th percentile.
PERCENTILE = re.compile(r"^(p|perc|exactperc|upperperc)(\d{1,2}(\.\d+)?)$")


def parse(search: str) -> ast.Pipeline:
    """Parse an expanded search (no macros left) into a pipeline."""
    stream = TokenStream(search)
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
        if token.kind is Kind.LBRACKET:
            raise UnsupportedError("subsearch [ ... ] is not supported", token.position, "[")
        raise SplSyntaxError(f"unexpected {token.value!r}", token.position, token.value)


# --- tstats -------------------------------------------------------------------------------------
def _parse_tstats(stream: TokenStream, position: int) -> ast.Tstats:
    options: dict[str, str] = {}
    while stream.is_option(*TSTATS_OPTIONS):
        key, value = stream.read_option()
        options[key] = value
    if options.get("prestats", "false").lower() in ("true", "t", "1"):
        raise UnsupportedError("tstats prestats=true is not supported", position, "prestats")
    if options.get("append", "false").lower() in ("true", "t", "1"):
        raise UnsupportedError("tstats append=true is not supported", position, "append")
    aggregates = parse_aggregates(stream, stop=("FROM", "WHERE", "BY"))
    datamodel: str | None = None
    where: ast.SearchExpr | None = None
    by: list[str] = []
    span: str | None = None
    while not stream.at_command_end():
        token = stream.current
        if token.is_word("FROM"):
            stream.advance()
            source = stream.expect_word("datamodel=")
            if source.value.lower() != "datamodel":
                raise UnsupportedError(
                    f"tstats FROM {source.value} is not supported (only datamodel=)", source.position, source.value
                )
            stream.expect(Kind.OP, "'='")
            datamodel = stream.expect_word("a data model name").value
        elif token.is_word("WHERE"):
            stream.advance()
            clause = parse_search_expression(stream, stop=("BY", "FROM"))
            where = clause if where is None else ast.And((where, clause))
        elif token.is_word("BY"):
            stream.advance()
            fields, span = _parse_by_fields(stream)
            by.extend(fields)
        else:
            raise SplSyntaxError(f"unexpected {token.value!r} in tstats", token.position, token.value)
    if not aggregates:
        raise SplSyntaxError("tstats needs at least one aggregate", position)
    return ast.Tstats(position, options, tuple(aggregates), datamodel, where, tuple(by), span)


def parse_aggregates(stream: TokenStream, stop: tuple[str, ...]) -> list[ast.Aggregate]:
    """`count`, `func(field) [AS alias]`, ... until a bare keyword in `stop` or the command's end."""
    aggregates: list[ast.Aggregate] = []
    while stream.current.kind is Kind.WORD and not stream.current.is_word(*stop):
        token = stream.advance()
        function = token.value.lower()
        field: str | None = None
        expression: ast.EvalExpr | None = None
        if stream.current.kind is Kind.LPAREN:
            stream.advance()
            if stream.current.is_word("eval") and stream.peek().kind is Kind.LPAREN:
                field, expression = _aggregate_eval(stream)
            else:
                field = stream.expect_word("a field name").value
            stream.expect(Kind.RPAREN, "')'")
        if function not in AGGREGATES and not PERCENTILE.match(function):
            raise UnsupportedError(f"aggregate function '{token.value}' is not supported", token.position, token.value)
        alias = None
        if stream.current.is_word("AS"):
            stream.advance()
            alias = stream.expect_word("an alias").value
        aggregates.append(ast.Aggregate(function, field, alias, token.position, expression))
        if stream.current.kind is Kind.COMMA:
            stream.advance()
    return aggregates


def _aggregate_eval(stream: TokenStream) -> tuple[str, ast.EvalExpr]:
    """`eval( expression )` inside an aggregate: its text (the default output name) and its parse."""
    opening = stream.peek()
    end = closing_bracket(stream.text, opening.position, "()")
    text = stream.text[opening.position + 1 : end]
    expression = parse_eval_expression(text, opening.position + 1)
    while stream.current.kind is not Kind.EOF and stream.current.position <= end:
        stream.advance()
    return f"eval({text})", expression


def _parse_by_fields(stream: TokenStream) -> tuple[list[str], str | None]:
    """By-clause fields; `_time span=1h` (or `span=1h _time`) gives the span of the time buckets."""
    fields: list[str] = []
    span: str | None = None
    span_position = 0
    while stream.current.kind in (Kind.WORD, Kind.COMMA) and not stream.current.is_word("FROM", "WHERE", "BY"):
        if stream.current.kind is Kind.COMMA:
            stream.advance()
        elif stream.is_option("span"):
            span_position = stream.current.position
            _, span = stream.read_option()
        else:
            token = stream.advance()
            if stream.current.kind is Kind.OP and stream.current.value == "=":
                raise UnsupportedError(
                    f"by-clause option '{token.value}=' is not supported", token.position, token.value
                )
            fields.append(token.value)
    if span is not None and "_time" not in fields:
        raise UnsupportedError("span= needs _time in the by-clause", span_position, "span")
    return fields, span


# --- search, rename, convert ------------------------------------------------------------------------
def _parse_search_command(stream: TokenStream, position: int) -> ast.Search:
    if stream.at_command_end():
        return ast.Search(position, ast.MatchAll())
    return ast.Search(position, parse_search_expression(stream))


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
        if stream.is_option("timeformat"):
            _, timeformat = stream.read_option()
            continue
        token = stream.expect_word("a conversion")
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
        if stream.current.kind is Kind.COMMA:
            stream.advance()
    if not conversions:
        raise SplSyntaxError("convert needs a conversion such as ctime(field)", position)
    return ast.Convert(position, timeformat, tuple(conversions))


def _parse_stats(stream: TokenStream, position: int) -> ast.Stats:
    return _stats_like(stream, position, keep_events=False)


def _parse_eventstats(stream: TokenStream, position: int) -> ast.Stats:
    return _stats_like(stream, position, keep_events=True)


def _stats_like(stream: TokenStream, position: int, keep_events: bool) -> ast.Stats:
    while stream.is_option("allnum", "delim", "partitions"):
        stream.read_option()
    aggregates = parse_aggregates(stream, stop=("BY",))
    if not aggregates:
        raise SplSyntaxError("stats needs at least one aggregate", position)
    by: list[str] = []
    if stream.current.is_word("BY"):
        stream.advance()
        fields, span = _parse_by_fields(stream)
        if span is not None:
            raise UnsupportedError("stats by _time span= is not supported (use bin first)", position, "span")
        by = fields
    return ast.Stats(position, tuple(aggregates), tuple(by), keep_events)


CommandParser = Callable[[TokenStream, int], ast.Command]


def _parse_join(stream: TokenStream, position: int) -> ast.Join:
    """`join` options and its field list, then its subsearch (parsed as a search of its own).

    Splunk takes an option after the fields too (`join malicious_id type=inner [...]`, production ESCU).
    """
    options: dict[str, str] = {}
    fields: list[str] = []
    while stream.current.kind in (Kind.WORD, Kind.COMMA):
        if stream.current.kind is Kind.WORD and stream.peek().kind is Kind.OP and stream.peek().value == "=":
            key = stream.advance().value.lower()
            stream.advance()
            options[key] = stream.expect_word(f"a value for {key}=").value
            continue
        token = stream.advance()
        if token.kind is Kind.WORD:
            fields.append(token.value)
    bracket = stream.current
    if bracket.kind is not Kind.LBRACKET:
        raise SplSyntaxError("join needs a subsearch [ ... ]", bracket.position, bracket.value)
    end = closing_bracket(stream.text, bracket.position)
    inner = stream.text[bracket.position + 1 : end]
    try:
        subsearch = parse(inner)
    except SplError as exc:
        where = None if exc.position is None else exc.position + bracket.position + 1
        raise type(exc)(exc.message, where, exc.token) from None
    while stream.current.kind is not Kind.EOF and stream.current.position <= end:
        stream.advance()
    kind = options.pop("type", "inner").lower()
    if kind not in ("inner", "left", "outer"):
        raise SplSyntaxError(f"join type must be inner, left or outer, not {kind!r}", position, kind)
    max_text = options.pop("max", "1")
    if not max_text.isdigit():
        raise SplSyntaxError(f"join max must be a whole number, not {max_text!r}", position, max_text)
    overwrite = options.pop("overwrite", "true").lower() not in ("false", "f", "0", "no")
    unknown = set(options) - {"usetime", "earlier"}
    if unknown or options.get("usetime", "false").lower() in ("true", "t", "1"):
        name = next(iter(unknown), "usetime")
        raise UnsupportedError(f"join option '{name}' is not supported", position, name)
    if not fields:
        raise UnsupportedError("join without a field list is not supported", position, "join")
    return ast.Join(position, tuple(fields), subsearch, "left" if kind == "outer" else kind, int(max_text), overwrite)


_COMMANDS: dict[str, CommandParser] = {
    "join": _parse_join,
    "tstats": _parse_tstats,
    "rename": _parse_rename,
    "convert": _parse_convert,
    "search": _parse_search_command,
    "stats": _parse_stats,
    "eventstats": _parse_eventstats,
    "eval": parse_transforms.parse_eval,
    "where": parse_transforms.parse_where,
    "table": parse_transforms.parse_table,
    "fields": parse_transforms.parse_fields,
    "dedup": parse_transforms.parse_dedup,
    "sort": parse_transforms.parse_sort,
    "head": parse_transforms.parse_head,
    "rex": parse_transforms.parse_rex,
    "regex": parse_transforms.parse_regex,
    "lookup": parse_transforms.parse_lookup,
    "inputlookup": parse_transforms.parse_inputlookup,
    "fillnull": parse_transforms.parse_fillnull,
    "bin": parse_transforms.parse_bin,
    "bucket": parse_transforms.parse_bin,
}
