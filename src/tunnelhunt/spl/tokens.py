r"""SPL tokenizer: words, quoted strings, operators and punctuation, each with its character position.

Adjacent quoted and unquoted pieces form one word (`"DNS".*` is `DNS.*`), as in Splunk. A backslash
escapes a backslash or a double quote in both (`*HKLM\\SAM*` and `"*HKLM\\SAM*"` both search for
`HKLM\SAM`); any other backslash stands for itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from tunnelhunt.spl.errors import SplSyntaxError


class Kind(Enum):
    WORD = "word"
    PIPE = "|"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    OP = "op"
    LBRACKET = "["
    EOF = "eof"


@dataclass(frozen=True)
class Token:
    kind: Kind
    value: str
    position: int
    quoted: bool = False

    def is_word(self, *values: str) -> bool:
        """A bare (unquoted) word equal, case-insensitively, to one of `values` (an SPL keyword)."""
        return self.kind is Kind.WORD and not self.quoted and self.value.upper() in {v.upper() for v in values}


_PUNCT = {"|": Kind.PIPE, "(": Kind.LPAREN, ")": Kind.RPAREN, ",": Kind.COMMA, "[": Kind.LBRACKET}
_OPERATORS = ("==", "!=", "<=", ">=", "=", "<", ">")
_WORD_STOP = set(' \t\r\n|(),=<>"[')


#: Deepest nesting of parentheses and brackets a search may have: the parsers and the SQL renderer
#: recurse once per level, and Python's stack is not unbounded.
MAX_NESTING = 64


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    index, length = 0, len(text)
    depth = 0
    while index < length:
        char = text[index]
        if char.isspace():
            index += 1
            continue
        if char in _PUNCT:
            depth = max(depth + (char in "([") - (char == ")"), 0)
            if depth > MAX_NESTING:
                raise SplSyntaxError(f"the search nests parentheses deeper than {MAX_NESTING} levels", index, char)
            tokens.append(Token(_PUNCT[char], char, index))
            index += 1
            continue
        if char == "`":
            raise SplSyntaxError("unexpanded macro", index, text[index : index + 30])
        operator = next((op for op in _OPERATORS if text.startswith(op, index)), None)
        if operator:
            tokens.append(Token(Kind.OP, operator, index))
            index += len(operator)
            continue
        start, parts, quoted = index, [], False
        while index < length:
            char = text[index]
            if char == '"':
                value, index = _read_quoted(text, index)
                parts.append(value)
                quoted = True
                if index < length and (text[index].isalnum() or text[index] == "_"):
                    break  # `"a"b=c`: a quoted value ends before the next field name
                continue
            if char == "(" and parts and text.startswith("()", index):
                parts.append("()")  # `*GetCurrent()*`: an empty pair inside a term is part of it
                index += 2
                continue
            if char in _WORD_STOP or (char == "!" and text.startswith("!=", index)):
                break
            if char == "\\" and text[index + 1 : index + 2] in ('"', "\\"):
                parts.append(text[index + 1])  # `\\` and `\"` unescape as inside quotes (Splunk does both)
                index += 2
                continue
            parts.append(char)
            index += 1
        tokens.append(Token(Kind.WORD, "".join(parts), start, quoted))
    tokens.append(Token(Kind.EOF, "", length))
    return tokens


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read a double-quoted string starting at `start`; `\\"` and `\\\\` are escapes."""
    out: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in '"\\':
            out.append(text[index + 1])
            index += 2
            continue
        if char == '"':
            return "".join(out), index + 1
        out.append(char)
        index += 1
    raise SplSyntaxError("unterminated quoted string", start, text[start : start + 30])


class TokenStream:
    """Cursor over the tokens of one search, with the look-ahead helpers the parse functions share.

    It keeps the search text so that commands with their own expression language (eval, where,
    regex) can take the raw text of their arguments.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
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

    def is_option(self, *names: str) -> bool:
        """The cursor is at `name=` for one of the given option names (case-insensitive)."""
        token = self.current
        return (
            token.kind is Kind.WORD
            and not token.quoted
            and token.value.lower() in names
            and self.peek().kind is Kind.OP
            and self.peek().value == "="
        )

    def read_option(self) -> tuple[str, str]:
        """Consume `name=value` and return both (the name lower-cased)."""
        key = self.advance().value.lower()
        self.advance()
        return key, self.expect_word(f"a value for {key}").value

    def rest_of_command(self) -> tuple[str, int]:
        """Consume everything up to the command's end; return its raw text and start position."""
        start = self.current.position
        while not self.at_command_end():
            self.advance()
        return self.text[start : self.current.position].strip(), start
