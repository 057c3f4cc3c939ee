"""SPL tokenizer: words, quoted strings, operators and punctuation, each with its character position.

Adjacent quoted and unquoted pieces form one word (`"DNS".*` is `DNS.*`), as in Splunk.
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


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char.isspace():
            index += 1
            continue
        if char in _PUNCT:
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
                continue
            if char in _WORD_STOP or (char == "!" and text.startswith("!=", index)):
                break
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
