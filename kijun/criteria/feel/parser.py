"""The FEEL parser: recursive descent for unary tests, Pratt parsing for expressions.

Written by hand rather than generated: FEEL is context-sensitive (a name may
contain spaces and, given a scope, operator characters; `[` opens a list, a
range or — later — a filter; `not(` opens negated unary tests or calls the
`not` function), and a hand-written parser resolves those locally and reports
errors with the exact position and what was expected.

Binding powers, loosest first (DMN 1.5 §10.3.1.2, checked against the TCK:
`-3 ** 2` is 9 and `3 ** 4 ** 5` is (3 ** 4) ** 5):

    or < and < comparison < + - < * / < ** < unary minus < invocation

Words are joined into multi-word names (`Applicant Age`) unless a word is
reserved. Without a scope, names containing keywords (`date and time`) or the
extra name symbols (`. / - ' + *`) cannot be recognised yet; full FEEL will
pass the names in scope and match the longest known name.
"""

from __future__ import annotations

from typing import cast

from kijun.criteria.errors import FeelSyntaxError
from kijun.criteria.feel.ast import (
    Arithmetic,
    ArithmeticOp,
    At,
    Boolean,
    Comparison,
    ComparisonOp,
    Invocation,
    ListExpr,
    Logical,
    LogicalOp,
    Name,
    Negation,
    Node,
    Null,
    Number,
    Range,
    String,
    UnaryComparison,
    UnaryTests,
)
from kijun.criteria.feel.lexer import Token, TokenKind, tokenize

# Words that never start or continue a name.
RESERVED = frozenset(
    {
        "and", "or", "true", "false", "null", "between", "in", "instance", "of",
        "if", "then", "else", "for", "return", "some", "every", "satisfies",
        "function", "external",
    }
)  # fmt: skip

_OR = 1
_AND = 2
_COMPARISON = 3
_ADDITIVE = 4
_MULTIPLICATIVE = 5
_EXPONENT = 6
_PREFIX = 7

_COMPARISON_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_INFIX: dict[str, int] = {
    "or": _OR,
    "and": _AND,
    **{op: _COMPARISON for op in _COMPARISON_OPS},
    "+": _ADDITIVE,
    "-": _ADDITIVE,
    "*": _MULTIPLICATIVE,
    "/": _MULTIPLICATIVE,
    "**": _EXPONENT,
}

_EXPRESSION = "an expression"
_END = "end of input"


class Parser:
    __slots__ = ("i", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers --------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        i = self.i + ahead
        tokens = self.tokens
        return tokens[i] if i < len(tokens) else tokens[-1]

    def at(self, punct: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind is TokenKind.PUNCT and tok.value == punct

    def at_word(self, word: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind is TokenKind.NAME and tok.value == word

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind is not TokenKind.EOF:
            self.i += 1
        return tok

    def previous_end(self) -> int:
        return self.tokens[self.i - 1].end if self.i else 0

    def expect(self, punct: str, *also: str) -> Token:
        if self.at(punct):
            return self.advance()
        raise self.error_here((f"'{punct}'", *also))

    def error_here(self, expected: tuple[str, ...], message: str | None = None) -> FeelSyntaxError:
        tok = self.peek()
        if message is None:
            message = f"unexpected {tok.describe()}"
        return FeelSyntaxError(
            message, text=self.text, line=tok.line, column=tok.column, expected=expected
        )

    # -- unary tests (DMN 1.5 grammar rules 14–17) ----------------------------

    def unary_tests(self) -> UnaryTests:
        first = self.peek()
        if first.kind is TokenKind.EOF:
            raise self.error_here(("'-'", _EXPRESSION), "empty unary test")
        if self.at("-") and self.peek(1).kind is TokenKind.EOF:
            self.advance()
            return UnaryTests((), is_any=True, start=first.start, end=first.end)
        if self.at_word("not") and self.at("(", 1):
            negated = self.negated_tests()
            if negated is not None:
                return negated
        tests = self.positive_unary_tests()
        if self.at(".."):
            raise self.error_here(
                ("','", _END), "unexpected '..': an interval needs brackets, as in [1..5]"
            )
        if self.peek().kind is not TokenKind.EOF:
            raise self.error_here(("','", _END))
        return UnaryTests(tests, start=first.start, end=self.previous_end())

    def negated_tests(self) -> UnaryTests | None:
        """`not(tests)` spanning the whole text, else None (then `not` is a function call)."""
        mark = self.i
        first = self.advance()
        self.advance()
        tests = self.positive_unary_tests()
        self.expect(")", "','")
        if self.peek().kind is TokenKind.EOF:
            return UnaryTests(tests, negated=True, start=first.start, end=self.previous_end())
        self.i = mark
        return None

    def positive_unary_tests(self) -> tuple[Node, ...]:
        tests = [self.positive_unary_test()]
        while self.at(","):
            self.advance()
            tests.append(self.positive_unary_test())
        return tuple(tests)

    def positive_unary_test(self) -> Node:
        tok = self.peek()
        if tok.kind is TokenKind.PUNCT and tok.value in _COMPARISON_OPS:
            self.advance()
            # The endpoint binds tighter than comparison: `< 5, > 9` are two tests.
            endpoint = self.expression(_ADDITIVE)
            return UnaryComparison(
                cast(ComparisonOp, tok.value), endpoint, start=tok.start, end=endpoint.end
            )
        if self.at("-") and self.peek(1).kind is TokenKind.PUNCT and self.peek(1).value in ",)":
            raise self.error_here(
                (_EXPRESSION,), "'-' (any value) must be the whole entry, not one of several tests"
            )
        return self.expression()

    # -- expressions ----------------------------------------------------------

    def expression(self, min_power: int = 0) -> Node:
        left = self.prefix()
        while True:
            tok = self.peek()
            if tok.kind is TokenKind.PUNCT or tok.kind is TokenKind.NAME:
                power = _INFIX.get(tok.value)
            else:
                power = None
            if power is None or power < min_power:
                return left
            self.advance()
            # Every binary operator is left-associative (FEEL: `3 ** 4 ** 5` = 81 ** 5).
            right = self.expression(power + 1)
            op = tok.value
            if power == _COMPARISON:
                left = Comparison(
                    cast(ComparisonOp, op), left, right, start=left.start, end=right.end
                )
            elif power <= _AND:
                left = Logical(cast(LogicalOp, op), left, right, start=left.start, end=right.end)
            else:
                left = Arithmetic(
                    cast(ArithmeticOp, op), left, right, start=left.start, end=right.end
                )

    def prefix(self) -> Node:
        tok = self.peek()
        if self.at("-"):
            self.advance()
            operand = self.prefix()
            return Negation(operand, start=tok.start, end=operand.end)
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        # Filters `e[...]` and paths `e.name` join here in full FEEL; a range's
        # closing `[` (as in `[1..5[`) must then not be read as a filter.
        while self.at("("):
            node = self.invocation(node)
        return node

    def invocation(self, callee: Node) -> Invocation:
        self.advance()
        args: list[Node] = []
        named: list[tuple[str, Node]] = []
        if not self.at(")"):
            while True:
                if self.peek().kind is TokenKind.NAME and self.named_argument_ahead():
                    if args:
                        raise self.error_here(
                            (_EXPRESSION,), "cannot mix positional and named arguments"
                        )
                    name = self.name_words()
                    self.expect(":")
                    named.append((name, self.expression()))
                else:
                    if named:
                        raise self.error_here(
                            ("a parameter name",), "cannot mix positional and named arguments"
                        )
                    args.append(self.expression())
                if self.at(","):
                    self.advance()
                    continue
                break
        self.expect(")", "','")
        return Invocation(
            callee, tuple(args), tuple(named), start=callee.start, end=self.previous_end()
        )

    def named_argument_ahead(self) -> bool:
        """Whether the words at the cursor are a parameter name followed by `:`."""
        k = 0
        while self.peek(k).kind is TokenKind.NAME and self.peek(k).value not in RESERVED:
            k += 1
        return k > 0 and self.at(":", k)

    def name_words(self) -> str:
        words = []
        while self.peek().kind is TokenKind.NAME and self.peek().value not in RESERVED:
            words.append(self.advance().value)
        return " ".join(words)

    def primary(self) -> Node:
        tok = self.peek()
        kind = tok.kind
        if kind is TokenKind.NUMBER:
            self.advance()
            return Number(tok.value, start=tok.start, end=tok.end)
        if kind is TokenKind.STRING:
            self.advance()
            return String(tok.value, start=tok.start, end=tok.end)
        if kind is TokenKind.NAME:
            word = tok.value
            if word == "true" or word == "false":
                self.advance()
                return Boolean(word == "true", start=tok.start, end=tok.end)
            if word == "null":
                self.advance()
                return Null(start=tok.start, end=tok.end)
            if word in RESERVED:
                raise self.error_here(
                    (_EXPRESSION,), f"'{word}' is a keyword and cannot start an expression"
                )
            name = self.name_words()
            return Name(name, start=tok.start, end=self.previous_end())
        if kind is TokenKind.PUNCT:
            p = tok.value
            if p == "@":
                self.advance()
                s = self.peek()
                if s.kind is not TokenKind.STRING:
                    raise self.error_here(("a string",))
                self.advance()
                return At(s.value, start=tok.start, end=s.end)
            if p == "(":
                return self.parenthesis_or_range()
            if p == "[":
                return self.list_or_range()
            if p == "]":
                self.advance()
                return self.range_rest(tok, lo_closed=False, lo=self.expression())
            if p == "{":
                raise self.error_here((_EXPRESSION,), "contexts ({...}) are not supported yet")
        raise self.error_here((_EXPRESSION,))

    def parenthesis_or_range(self) -> Node:
        open_ = self.advance()
        inner = self.expression()
        if self.at(".."):
            return self.range_rest(open_, lo_closed=False, lo=inner)
        self.expect(")", "'..'", "an operator")
        return inner

    def list_or_range(self) -> Node:
        open_ = self.advance()
        if self.at("]"):
            self.advance()
            return ListExpr((), start=open_.start, end=self.previous_end())
        first = self.expression()
        if self.at(".."):
            return self.range_rest(open_, lo_closed=True, lo=first)
        items = [first]
        expected: tuple[str, ...] = ("'..'", "','", "']'")
        while True:
            if self.at(","):
                self.advance()
                items.append(self.expression())
                expected = ("','", "']'")
                continue
            if self.at("]"):
                self.advance()
                return ListExpr(tuple(items), start=open_.start, end=self.previous_end())
            raise self.error_here(expected)

    def range_rest(self, open_: Token, *, lo_closed: bool, lo: Node) -> Range:
        """After the start bracket and low endpoint: `.. hi` and the end bracket."""
        self.expect("..", "an operator")
        hi = self.expression()
        tok = self.peek()
        if tok.kind is TokenKind.PUNCT and tok.value in ("]", ")", "["):
            self.advance()
            return Range(
                lo, hi, lo_closed, tok.value == "]", start=open_.start, end=self.previous_end()
            )
        raise self.error_here(("']'", "')'", "'['", "an operator"))


def parse_unary_tests(text: str) -> UnaryTests:
    """Parse a decision-table input entry; raises FeelSyntaxError with the position."""
    return Parser(text).unary_tests()


def parse_expression(text: str) -> Node:
    """Parse one FEEL expression (the subset implemented so far)."""
    parser = Parser(text)
    node = parser.expression()
    if parser.peek().kind is not TokenKind.EOF:
        raise parser.error_here(("an operator", _END))
    return node
