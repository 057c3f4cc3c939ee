"""Parse functions for the commands that transform results: eval, where, table, fields, dedup,
sort, head, rex, regex, lookup, inputlookup, fillnull and bin."""

from __future__ import annotations

from tunnelhunt.spl import ast
from tunnelhunt.spl.errors import SplSyntaxError, UnsupportedError
from tunnelhunt.spl.evalexpr import parse_assignments, parse_eval_expression
from tunnelhunt.spl.search_expr import parse_search_expression
from tunnelhunt.spl.tokens import Kind, TokenStream

_TRUE = ("true", "t", "1", "yes")


def _is_true(value: str) -> bool:
    return value.lower() in _TRUE


def _field_list(stream: TokenStream, what: str) -> list[str]:
    """Space- or comma-separated field names up to the end of the command."""
    fields: list[str] = []
    while not stream.at_command_end():
        token = stream.current
        if token.kind is Kind.COMMA:
            stream.advance()
            continue
        fields.append(stream.expect_word(what).value)
    return fields


def _integer(value: str, position: int, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise SplSyntaxError(f"{what} must be a whole number, not {value!r}", position, value) from None


def parse_eval(stream: TokenStream, position: int) -> ast.Eval:
    text, start = stream.rest_of_command()
    assignments = parse_assignments(text, start)
    return ast.Eval(position, tuple((name, expression) for name, expression, _ in assignments))


def parse_where(stream: TokenStream, position: int) -> ast.Where:
    text, start = stream.rest_of_command()
    if not text:
        raise SplSyntaxError("where needs an expression", position)
    return ast.Where(position, parse_eval_expression(text, start))


def parse_table(stream: TokenStream, position: int) -> ast.Table:
    fields = _field_list(stream, "a field name")
    if not fields:
        raise SplSyntaxError("table needs at least one field", position)
    return ast.Table(position, tuple(fields))


def parse_fields(stream: TokenStream, position: int) -> ast.Fields:
    remove = False
    token = stream.current
    if token.kind is Kind.WORD and not token.quoted and token.value in ("+", "-"):
        remove = token.value == "-"
        stream.advance()
    elif token.kind is Kind.WORD and not token.quoted and token.value[:1] in ("+", "-") and len(token.value) > 1:
        # `fields -x` and `fields - x` mean the same
        remove = token.value[0] == "-"
        stream.tokens[stream.index] = type(token)(token.kind, token.value[1:], token.position + 1, token.quoted)
    fields = _field_list(stream, "a field name")
    if not fields:
        raise SplSyntaxError("fields needs at least one field", position)
    return ast.Fields(position, tuple(fields), remove)


def parse_dedup(stream: TokenStream, position: int) -> ast.Dedup:
    count = 1
    keep_empty = False
    fields: list[str] = []
    token = stream.current
    if token.kind is Kind.WORD and not token.quoted and token.value.isdigit():
        count = int(stream.advance().value)
    while not stream.at_command_end():
        if stream.is_option("keepempty", "consecutive", "keepevents"):
            option = stream.current.position
            key, value = stream.read_option()
            if key == "keepempty":
                keep_empty = _is_true(value)
            elif _is_true(value):
                raise UnsupportedError(f"dedup {key}=true is not supported", option, key)
            continue
        if stream.current.is_word("sortby"):
            raise UnsupportedError("dedup sortby is not supported", stream.current.position, "sortby")
        if stream.current.kind is Kind.COMMA:
            stream.advance()
            continue
        fields.append(stream.expect_word("a field name").value)
    if not fields:
        raise SplSyntaxError("dedup needs at least one field", position)
    return ast.Dedup(position, tuple(fields), count, keep_empty)


def parse_sort(stream: TokenStream, position: int) -> ast.Sort:
    limit: int | None = 10000
    token = stream.current
    if token.kind is Kind.WORD and not token.quoted and token.value.isdigit():
        limit = int(stream.advance().value) or None
    keys: list[ast.SortKey] = []
    descending = False
    while not stream.at_command_end():
        token = stream.current
        if stream.is_option("limit"):
            _, value = stream.read_option()
            limit = _integer(value, token.position, "sort limit") or None
            continue
        if token.kind is Kind.COMMA:
            stream.advance()
            continue
        word = stream.expect_word("a sort field")
        value = word.value
        if value in ("+", "-") and not word.quoted:
            descending = value == "-"
            continue
        if not word.quoted and value[:1] in ("+", "-"):
            descending, value = value[0] == "-", value[1:]
        if word.is_word("desc", "d") and keys:
            keys[-1] = ast.SortKey(keys[-1].field, not keys[-1].descending, keys[-1].mode)
            continue
        mode = "auto"
        if stream.current.kind is Kind.LPAREN and value.lower() in ("num", "str", "ip", "auto"):
            if value.lower() == "ip":
                raise UnsupportedError("sort ip(...) is not supported", word.position, "ip")
            mode = value.lower()
            stream.advance()
            value = stream.expect_word("a field").value
            stream.expect(Kind.RPAREN, "')'")
        keys.append(ast.SortKey(value, descending, mode))
        descending = False
    if not keys:
        raise SplSyntaxError("sort needs at least one field", position)
    return ast.Sort(position, tuple(keys), limit)


def parse_head(stream: TokenStream, position: int) -> ast.Head:
    count = 10
    while not stream.at_command_end():
        token = stream.current
        if stream.is_option("limit"):
            _, value = stream.read_option()
            count = _integer(value, token.position, "head limit")
        elif stream.is_option("null", "keeplast"):
            stream.read_option()
        elif token.kind is Kind.WORD and token.value.isdigit():
            count = int(stream.advance().value)
        else:
            raise UnsupportedError("head with an expression is not supported", token.position, "head")
    return ast.Head(position, count)


def parse_rex(stream: TokenStream, position: int) -> ast.Rex:
    field = "_raw"
    pattern: str | None = None
    while not stream.at_command_end():
        token = stream.current
        if stream.is_option("field"):
            _, field = stream.read_option()
        elif stream.is_option("mode"):
            _, mode = stream.read_option()
            if mode.lower() == "sed":
                raise UnsupportedError("rex mode=sed is not supported", token.position, "mode=sed")
        elif stream.is_option("max_match"):
            _, value = stream.read_option()
            if value != "1":
                raise UnsupportedError(f"rex max_match={value} is not supported", token.position, "max_match")
        elif stream.is_option("offset_field"):
            raise UnsupportedError("rex offset_field is not supported", token.position, "offset_field")
        elif token.kind is Kind.WORD and pattern is None:
            pattern = stream.advance().value
        else:
            raise SplSyntaxError(f"unexpected {token.value!r} in rex", token.position, token.value)
    if pattern is None:
        raise SplSyntaxError("rex needs a regular expression", position)
    if field == "_raw":
        raise UnsupportedError("rex over _raw is not supported (raw events are not kept)", position, "rex")
    return ast.Rex(position, field, pattern)


def parse_regex(stream: TokenStream, position: int) -> ast.Regex:
    token = stream.current
    following = stream.peek()
    if token.kind is not Kind.WORD or following.kind is not Kind.OP or following.value not in ("=", "!="):
        raise UnsupportedError("regex over _raw is not supported (raw events are not kept)", position, "regex")
    field = stream.advance().value
    negate = stream.advance().value == "!="
    value_token = stream.current
    if value_token.kind is Kind.WORD and value_token.quoted:
        stream.advance()
        pattern = value_token.value
    else:
        pattern, _ = stream.rest_of_command()
    return ast.Regex(position, field, pattern, negate)


def _field_pairs(stream: TokenStream, stop: tuple[str, ...]) -> list[tuple[str, str]]:
    """`a [AS b], c [AS d] ...` until a bare keyword in `stop` or the command's end."""
    pairs: list[tuple[str, str]] = []
    while not stream.at_command_end() and not stream.current.is_word(*stop):
        if stream.current.kind is Kind.COMMA:
            stream.advance()
            continue
        source = stream.expect_word("a field name").value
        target = source
        if stream.current.is_word("AS"):
            stream.advance()
            target = stream.expect_word("a field name").value
        pairs.append((source, target))
    return pairs


def parse_lookup(stream: TokenStream, position: int) -> ast.Lookup:
    while stream.is_option("local", "update", "event_time_field"):
        stream.read_option()
    table = stream.expect_word("a lookup name").value
    inputs = _field_pairs(stream, stop=("OUTPUT", "OUTPUTNEW"))
    if not inputs:
        raise SplSyntaxError("lookup needs at least one input field", position)
    outputs: list[tuple[str, str]] = []
    output_new = False
    if stream.current.is_word("OUTPUT", "OUTPUTNEW"):
        output_new = stream.advance().value.upper() == "OUTPUTNEW"
        outputs = _field_pairs(stream, stop=())
        if not outputs:
            raise SplSyntaxError("OUTPUT needs at least one field", position)
    return ast.Lookup(position, table, tuple(inputs), tuple(outputs), output_new)


def parse_inputlookup(stream: TokenStream, position: int) -> ast.InputLookup:
    while stream.is_option("append", "start", "max"):
        option = stream.current.position
        key, value = stream.read_option()
        if key == "append" and _is_true(value):
            raise UnsupportedError("inputlookup append=true is not supported", option, key)
        if key in ("start", "max"):
            raise UnsupportedError(f"inputlookup {key}= is not supported", option, key)
    table = stream.expect_word("a lookup name").value
    where: ast.SearchExpr | None = None
    if stream.current.is_word("WHERE"):
        stream.advance()
        where = parse_search_expression(stream)
    return ast.InputLookup(position, table, where)


def parse_fillnull(stream: TokenStream, position: int) -> ast.FillNull:
    value = "0"
    fields: list[str] = []
    while not stream.at_command_end():
        if stream.is_option("value"):
            _, value = stream.read_option()
        elif stream.current.kind is Kind.COMMA:
            stream.advance()
        else:
            fields.append(stream.expect_word("a field name").value)
    return ast.FillNull(position, value, tuple(fields))


def parse_bin(stream: TokenStream, position: int) -> ast.Bin:
    span: str | None = None
    field: str | None = None
    alias: str | None = None
    while not stream.at_command_end():
        token = stream.current
        if stream.is_option("span"):
            _, span = stream.read_option()
        elif stream.is_option("bins", "minspan", "start", "end", "aligntime"):
            raise UnsupportedError(f"bin {token.value}= is not supported", token.position, token.value)
        elif token.is_word("AS"):
            stream.advance()
            alias = stream.expect_word("a field name").value
        else:
            field = stream.expect_word("a field name").value
    if field is None or span is None:
        raise UnsupportedError("bin needs a field and span=", position, "bin")
    return ast.Bin(position, field, span, alias)
