"""The FEEL lexer: source text to tokens with 1-based line and column positions.

Hand-written rather than generated, like the parser: FEEL's names may contain
spaces and (with a scope) operator characters, so deciding what a word means
is the parser's job. The lexer therefore emits every word as a NAME token —
keywords included — and the parser joins adjacent words into multi-word names.

Numbers follow DMN 1.5 (`5`, `1.5`, `.5`) plus the exponent form the TCK uses
(`1.23e4`); a leading minus is the parser's unary minus. `..` is one token, so
`1..5` lexes as `1`, `..`, `5`. Comments `// …` and `/* … */` are skipped.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from kijun.criteria.errors import FeelSyntaxError


class TokenKind(StrEnum):
    NUMBER = "number"
    STRING = "string"
    NAME = "name"
    PUNCT = "punct"
    EOF = "end of input"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    #: Decimal for numbers, the decoded text for strings, the word for names,
    #: the operator itself for punctuation
    value: Any
    start: int  # offset of the first character in the source
    end: int  # offset just past the last character
    line: int
    column: int

    def describe(self) -> str:
        """The token as an error message shows it."""
        if self.kind is TokenKind.EOF:
            return "end of input"
        if self.kind is TokenKind.STRING:
            return "a string"
        if self.kind is TokenKind.NUMBER:
            return f"number {self.value}"
        return f"'{self.value}'"


# Two-character operators are tried first, so that `<=` wins over `<` and `..` over `.`.
_PUNCT_2 = frozenset({"..", "**", "<=", ">=", "!="})
_PUNCT_1 = frozenset("()[]{},.:=<>+-*/@")

_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}

# FEEL whitespace (DMN 1.5 grammar rules 61–62) beyond what str.isspace covers.
_EXTRA_SPACE = frozenset("\u200b\ufeff")


def _is_name_start(c: str) -> bool:
    """DMN 1.5 grammar rule 28 (name start char)."""
    o = ord(c)
    if o < 0x80:
        return c.isalpha() or c == "_" or c == "?"
    return (
        0xC0 <= o <= 0xD6
        or 0xD8 <= o <= 0xF6
        or 0xF8 <= o <= 0x2FF
        or 0x370 <= o <= 0x37D
        or 0x37F <= o <= 0x1FFF
        or 0x200C <= o <= 0x200D
        or 0x2070 <= o <= 0x218F
        or 0x2C00 <= o <= 0x2FEF
        or 0x3001 <= o <= 0xD7FF
        or 0xF900 <= o <= 0xFDCF
        or 0xFDF0 <= o <= 0xFFFD
        or 0x10000 <= o <= 0xEFFFF
    )


# Apostrophes inside a name (`Student's name`): DMN's additional name symbols
# include the typographic one, and models write the ASCII one. Neither can
# mean anything else in FEEL (strings are double-quoted), so the lexer keeps
# them in the word.
_NAME_APOSTROPHES = frozenset("'\u2019")


def _is_name_part(c: str) -> bool:
    """DMN 1.5 grammar rule 29 (name part char), plus apostrophes."""
    if _is_name_start(c) or "0" <= c <= "9" or c in _NAME_APOSTROPHES:
        return True
    o = ord(c)
    return o == 0xB7 or 0x300 <= o <= 0x36F or 0x203F <= o <= 0x2040


def _is_space(c: str) -> bool:
    return c.isspace() or c in _EXTRA_SPACE


class _Lexer:
    __slots__ = ("line_starts", "pos", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line_starts = line_starts(text)
        self.tokens: list[Token] = []

    def error(self, message: str, at: int, expected: tuple[str, ...] = ()) -> FeelSyntaxError:
        line, column = position(self.line_starts, at)
        return FeelSyntaxError(message, text=self.text, line=line, column=column, expected=expected)

    def emit(self, kind: TokenKind, value: Any, start: int) -> None:
        line, column = position(self.line_starts, start)
        self.tokens.append(Token(kind, value, start, self.pos, line, column))

    def run(self) -> list[Token]:
        text = self.text
        n = len(text)
        while True:
            self.skip_space_and_comments()
            if self.pos >= n:
                break
            c = text[self.pos]
            start = self.pos
            if "0" <= c <= "9" or (c == "." and self.peek_digit(self.pos + 1)):
                self.number()
            elif c == '"':
                self.string()
            elif _is_name_start(c):
                self.pos += 1
                while self.pos < n and _is_name_part(text[self.pos]):
                    self.pos += 1
                self.emit(TokenKind.NAME, text[start : self.pos], start)
            elif (two := text[start : start + 2]) in _PUNCT_2:
                self.pos += 2
                self.emit(TokenKind.PUNCT, two, start)
            elif c in _PUNCT_1:
                self.pos += 1
                self.emit(TokenKind.PUNCT, c, start)
            else:
                expected = ("'!='",) if c == "!" else ()
                raise self.error(f"unexpected character {c!r}", start, expected)
        self.emit(TokenKind.EOF, None, self.pos)
        return self.tokens

    def peek_digit(self, i: int) -> bool:
        return i < len(self.text) and "0" <= self.text[i] <= "9"

    def skip_space_and_comments(self) -> None:
        text = self.text
        n = len(text)
        while self.pos < n:
            c = text[self.pos]
            if _is_space(c):
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("unterminated comment", self.pos, ("'*/'",))
                self.pos = end + 2
            else:
                return

    def number(self) -> None:
        text = self.text
        start = self.pos
        while self.peek_digit(self.pos):
            self.pos += 1
        # `1..5` is a range, so a dot only continues a number when a digit follows.
        if self.pos < len(text) and text[self.pos] == "." and self.peek_digit(self.pos + 1):
            self.pos += 1
            while self.peek_digit(self.pos):
                self.pos += 1
        if self.pos < len(text) and text[self.pos] in "eE":
            i = self.pos + 1
            if i < len(text) and text[i] in "+-":
                i += 1
            # Without digits the `e` starts a name, which the parser then refuses.
            if self.peek_digit(i):
                self.pos = i
                while self.peek_digit(self.pos):
                    self.pos += 1
        self.emit(TokenKind.NUMBER, Decimal(text[start : self.pos]), start)

    def string(self) -> None:
        text = self.text
        n = len(text)
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= n:
                raise self.error("unterminated string", start, ("'\"'",))
            c = text[self.pos]
            if c == '"':
                self.pos += 1
                break
            if c != "\\":
                out.append(c)
                self.pos += 1
                continue
            if self.pos + 1 >= n:
                raise self.error("unterminated string", start, ("'\"'",))
            e = text[self.pos + 1]
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                self.pos += 2
            elif e == "u":
                out.append(chr(self.hex_digits(4)))
            elif e == "U":
                code = self.hex_digits(6)
                if code > 0x10FFFF:
                    raise self.error("escape is beyond the last Unicode code point", self.pos - 8)
                out.append(chr(code))
            else:
                # Kept as written, as other engines do: regular expressions for
                # matches()/replace()/split() need `\\s`, `\\1`, `\\p{…}`.
                out.append(text[self.pos : self.pos + 2])
                self.pos += 2
        self.emit(TokenKind.STRING, _join_surrogates(out), start)

    def hex_digits(self, count: int) -> int:
        """Read `\\u` or `\\U` and its hex digits; the position ends after them."""
        begin = self.pos
        digits = self.text[begin + 2 : begin + 2 + count]
        if len(digits) != count or any(d not in "0123456789abcdefABCDEF" for d in digits):
            raise self.error(
                f"'\\{self.text[begin + 1]}' needs {count} hex digits",
                begin,
                (f"{count} hex digits",),
            )
        self.pos = begin + 2 + count
        return int(digits, 16)


def _join_surrogates(chars: list[str]) -> str:
    """Combine `\\uD83D\\uDCA9`-style UTF-16 pairs into one code point, as FEEL does."""
    out: list[str] = []
    i = 0
    while i < len(chars):
        c = chars[i]
        if (
            "\ud800" <= c <= "\udbff"
            and i + 1 < len(chars)
            and "\udc00" <= chars[i + 1] <= "\udfff"
        ):
            high = ord(c) - 0xD800
            low = ord(chars[i + 1]) - 0xDC00
            out.append(chr(0x10000 + (high << 10) + low))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def line_starts(text: str) -> list[int]:
    """Offsets where each line begins; `\\r\\n`, `\\r` and `\\n` end a line."""
    starts = [0]
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\n" or (c == "\r" and text[i + 1 : i + 2] != "\n"):
            starts.append(i + 1)
        i += 1
    return starts


def position(starts: list[int], offset: int) -> tuple[int, int]:
    """1-based (line, column) of `offset`, given `line_starts(text)`."""
    line = bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


def tokenize(text: str) -> list[Token]:
    """Every token of `text`, ending with an EOF token."""
    return _Lexer(text).run()
