"""The FEEL parser: recursive descent for unary tests, Pratt parsing for expressions.

Written by hand rather than generated: FEEL is context-sensitive (a name may
contain spaces and, given a scope, operator characters; `[` opens a list, a
range or — later — a filter; `not(` opens negated unary tests or calls the
`not` function), and a hand-written parser resolves those locally and reports
errors with the exact position and what was expected.

Binding powers, loosest first (DMN 1.5 §10.3.1.2, checked against the TCK:
`-3 ** 2` is 9 and `3 ** 4 ** 5` is (3 ** 4) ** 5):

    or < and < comparison < + - < * / < ** < unary minus < invocation

`between`, `in` and `instance of` sit at the comparison level (as in the
other engines: `1 + 1 instance of number` is true); `if`, `for`, `some`,
`every` and `function` extend as far to the right as they can.

Names: the parser is given the names in scope (plus the built-in function
names) and, at a word, first matches the longest known name token by token,
so that names containing keywords or the extra name symbols (`date and time`,
`Loan-to-value`) are recognised — however they are spaced or broken across
lines, and even when they start with digits; otherwise adjacent non-reserved
words are joined into one name (`Applicant Age`), as before. A context key
may contain the extra name symbols (`{foo+bar: 1}`) and is then known to the
rest of the text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Literal, TypeVar, cast

from kijun.criteria.errors import FeelSyntaxError
from kijun.criteria.feel.ast import (
    Arithmetic,
    ArithmeticOp,
    At,
    Between,
    Boolean,
    Comparison,
    ComparisonOp,
    ContextExpr,
    Filter,
    For,
    FunctionDef,
    If,
    In,
    InstanceOf,
    Invocation,
    Iteration,
    ListExpr,
    Logical,
    LogicalOp,
    Name,
    Negation,
    Node,
    Null,
    Number,
    Path,
    Quantified,
    Range,
    String,
    TypeRef,
    UnaryComparison,
    UnaryTests,
)
from kijun.criteria.feel.functions import BUILTINS
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
#: DMN 1.5 grammar rule 30 (additional name symbols) that the lexer reads as operators
_NAME_SYMBOLS = frozenset({".", "/", "-", "+", "*"})
_INFIX: dict[str, int] = {
    "or": _OR,
    "and": _AND,
    **{op: _COMPARISON for op in _COMPARISON_OPS},
    "+": _ADDITIVE,
    "-": _ADDITIVE,
    "*": _MULTIPLICATIVE,
    "/": _MULTIPLICATIVE,
    "**": _EXPONENT,
    "between": _COMPARISON,
    "in": _COMPARISON,
    "instance": _COMPARISON,
}

# Built-in type names of more than one word, matched before single-word types.
_MULTI_WORD_TYPES = (
    ("days", "and", "time", "duration"),
    ("years", "and", "months", "duration"),
    ("date", "and", "time"),
)

T = TypeVar("T")

_EXPRESSION = "an expression"
_END = "end of input"


@lru_cache(maxsize=65536)
def _name_tokens(name: str) -> tuple[str, ...] | None:
    """A name of more than one token as its tokens' texts; None for one-token names.

    Cached: the same names (built-ins, a model's variables) are declared to
    every expression of a model.
    """
    try:
        tokens = tokenize(name)[:-1]
    except FeelSyntaxError:
        return None  # a name FEEL text cannot spell is never matched
    if len(tokens) < 2:
        return None  # one-token names are read as they are
    return tuple(name[t.start : t.end] for t in tokens)


_BUILTIN_KNOWN: dict[str, list[tuple[tuple[str, ...], str]]] = {}


def _builtin_known() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    if not _BUILTIN_KNOWN:
        table: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for name in BUILTINS:
            seq = _name_tokens(name)
            if seq is not None:
                entries = table.setdefault(seq[0], [])
                if all(s != seq for s, _ in entries):
                    entries.append((seq, name))
        for entries in table.values():
            entries.sort(key=lambda e: len(e[0]), reverse=True)
        _BUILTIN_KNOWN.update(table)
    return _BUILTIN_KNOWN


class Parser:
    __slots__ = ("i", "known", "no_filter", "text", "tokens")

    def __init__(self, text: str, names: Iterable[str] = ()) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        #: while parsing a range's high end, `[` closes the range (`[1..5[`), never filters
        self.no_filter = False
        #: known names of more than one token, by the text of their first token,
        #: longest first: the longest match wins; each with the name as declared
        # The built-ins' table is shared by every parser; a list is copied on first change.
        self.known: dict[str, list[tuple[tuple[str, ...], str]]] = dict(_builtin_known())
        for name in names:
            self.add_known(name)

    def add_known(self, name: str) -> None:
        seq = _name_tokens(name)
        if seq is None:
            return
        entries = self.known.get(seq[0])
        if entries is None:
            self.known[seq[0]] = [(seq, name)]
            return
        if any(s == seq for s, _ in entries):
            return
        if entries is _builtin_known().get(seq[0]):
            entries = self.known[seq[0]] = list(entries)
        entries.append((seq, name))
        entries.sort(key=lambda e: len(e[0]), reverse=True)

    def known_name(self) -> tuple[int, str]:
        """Tokens in the longest known name at the cursor and that name; (0, "") if none.

        The tokens may be spaced differently from the declaration (`date and\\n time`);
        the name is returned as declared.
        """
        first = self.peek()
        if first.kind is TokenKind.EOF:
            return 0, ""
        candidates = self.known.get(self.text[first.start : first.end])
        if not candidates:
            return 0, ""
        for seq, name in candidates:
            for k, part in enumerate(seq):
                tok = self.peek(k)
                if tok.kind is TokenKind.EOF or self.text[tok.start : tok.end] != part:
                    break
            else:
                return len(seq), name
        return 0, ""

    def known_name_length(self) -> int:
        """Tokens in the longest known name at the cursor, 0 if none."""
        return self.known_name()[0]

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

    def expect_word(self, word: str, *also: str) -> Token:
        if self.at_word(word):
            return self.advance()
        raise self.error_here((f"'{word}'", *also))

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

    def positive_unary_test(self, min_power: int = 0) -> Node:
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
        return self.expression(min_power)

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
            op = tok.value
            if op == "between":
                low = self.expression(_ADDITIVE)
                self.expect_word("and", "an operator")
                high = self.expression(_ADDITIVE)
                left = Between(left, low, high, start=left.start, end=high.end)
                continue
            if op == "in":
                tests = self.in_tests()
                left = In(left, tests, start=left.start, end=self.previous_end())
                continue
            if op == "instance":
                self.expect_word("of")
                type_ = self.type_ref()
                left = InstanceOf(left, type_, start=left.start, end=type_.end)
                continue
            # Every binary operator is left-associative (FEEL: `3 ** 4 ** 5` = 81 ** 5).
            right = self.expression(power + 1)
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

    def in_tests(self) -> tuple[Node, ...]:
        """The right of `in`: `(test, test …)` or one positive unary test."""
        if self.at("("):
            mark = self.i
            try:
                self.advance()
                tests = self.positive_unary_tests()
                if self.at(")"):
                    self.advance()
                    return tests
            except FeelSyntaxError:
                pass
            # Not a list of tests: `(1..5)` is an open range, `(a) + 1` an expression.
            self.i = mark
        # Tighter than `and`/`or`: `x in [1..5] and y` is `(x in [1..5]) and y`.
        return (self.positive_unary_test(_COMPARISON + 1),)

    def type_ref(self) -> TypeRef:
        tok = self.peek()
        for words in _MULTI_WORD_TYPES:
            if all(self.at_word(w, k) for k, w in enumerate(words)):
                for _ in words:
                    self.advance()
                return TypeRef(" ".join(words), start=tok.start, end=self.previous_end())
        if tok.kind is not TokenKind.NAME:
            raise self.error_here(("a type",))
        self.advance()
        name = tok.value
        # Qualified names of item definitions: `tns.Person`.
        while self.at(".") and self.peek(1).kind is TokenKind.NAME:
            self.advance()
            name += "." + self.advance().value
        if not self.at("<") or name not in ("list", "range", "context", "function"):
            return TypeRef(name, start=tok.start, end=self.previous_end())
        self.advance()
        if name in ("list", "range"):
            inner = self.type_ref()
            self.expect(">")
            return TypeRef(name, (inner,), start=tok.start, end=self.previous_end())
        if name == "context":
            entries: list[tuple[str, TypeRef]] = []
            while not self.at(">"):
                key = self.name_words()
                if not key:
                    raise self.error_here(("an entry name", "'>'"))
                self.expect(":")
                entries.append((key, self.type_ref()))
                if not self.at(","):
                    break
                self.advance()
            self.expect(">", "','")
            return TypeRef(name, fields=tuple(entries), start=tok.start, end=self.previous_end())
        parameters: list[TypeRef] = []
        while not self.at(">"):
            parameters.append(self.type_ref())
            if not self.at(","):
                break
            self.advance()
        self.expect(">", "','")
        self.expect("-", "'->'")
        self.expect(">", "'->'")
        result = self.type_ref()
        return TypeRef(
            name, tuple(parameters), result=result, start=tok.start, end=self.previous_end()
        )

    def prefix(self) -> Node:
        tok = self.peek()
        if self.at("-"):
            self.advance()
            operand = self.prefix()
            return Negation(operand, start=tok.start, end=operand.end)
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            if self.at("("):
                node = self.invocation(node)
            elif self.at("[") and not self.no_filter:
                self.advance()
                condition = self.enclosed(self.expression)
                self.expect("]", "an operator")
                node = Filter(node, condition, start=node.start, end=self.previous_end())
            elif self.at(".") and self.peek(1).kind is TokenKind.NAME:
                self.advance()
                name = self.name()
                node = Path(node, name, start=node.start, end=self.previous_end())
            else:
                return node

    def enclosed(self, parse: Callable[[], T]) -> T:
        """Parse inside brackets, where `[` may filter again even within a range's end."""
        saved = self.no_filter
        self.no_filter = False
        try:
            return parse()
        finally:
            self.no_filter = saved

    def invocation(self, callee: Node) -> Invocation:
        self.advance()
        args: list[Node] = []
        named: list[tuple[str, Node]] = []
        saved = self.no_filter
        self.no_filter = False
        if not self.at(")"):
            while True:
                if self.peek().kind is TokenKind.NAME and self.named_argument_ahead():
                    if args:
                        raise self.error_here(
                            (_EXPRESSION,), "cannot mix positional and named arguments"
                        )
                    name = self.name()
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
        self.no_filter = saved
        return Invocation(
            callee, tuple(args), tuple(named), start=callee.start, end=self.previous_end()
        )

    def named_argument_ahead(self) -> bool:
        """Whether the words at the cursor are a parameter name followed by `:`."""
        k = self.known_name_length()
        if k == 0:
            while self.peek(k).kind is TokenKind.NAME and self.peek(k).value not in RESERVED:
                k += 1
        return k > 0 and self.at(":", k)

    def name_words(self) -> str:
        words = []
        while self.peek().kind is TokenKind.NAME and self.peek().value not in RESERVED:
            words.append(self.advance().value)
        return " ".join(words)

    def name(self) -> str:
        """A known (possibly keyword-containing) name, else the adjacent non-reserved words."""
        k, known = self.known_name()
        if k:
            for _ in range(k):
                self.advance()
            return known
        tok = self.peek()
        if tok.kind is TokenKind.NAME and tok.value in RESERVED:
            raise self.error_here(("a name",), f"'{tok.value}' is a keyword, not a name")
        name = self.name_words()
        if not name:
            raise self.error_here(("a name",))
        return name

    def primary(self) -> Node:
        tok = self.peek()
        kind = tok.kind
        if kind is TokenKind.NUMBER:
            if self.known_name_length():
                # A declared name that starts with digits (`18歳年度末経過`): FEEL's
                # grammar has none, but models declare them and mean the name.
                name = self.name()
                return Name(name, start=tok.start, end=self.previous_end())
            self.advance()
            return Number(tok.value, start=tok.start, end=tok.end)
        if kind is TokenKind.STRING:
            self.advance()
            return String(tok.value, start=tok.start, end=tok.end)
        if kind is TokenKind.NAME:
            if self.known_name_length():
                name = self.name()
                return Name(name, start=tok.start, end=self.previous_end())
            word = tok.value
            if word == "true" or word == "false":
                self.advance()
                return Boolean(word == "true", start=tok.start, end=tok.end)
            if word == "null":
                self.advance()
                return Null(start=tok.start, end=tok.end)
            if word == "if":
                return self.if_expression()
            if word == "for":
                return self.for_expression()
            if word == "some" or word == "every":
                return self.quantified()
            if word == "function" and self.at("(", 1):
                return self.function_definition()
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
                return self.enclosed(self.parenthesis_or_range)
            if p == "[":
                return self.enclosed(self.list_or_range)
            if p == "]":
                self.advance()
                return self.range_rest(tok, lo_closed=False, lo=self.enclosed(self.expression))
            if p == "{":
                return self.enclosed(self.context)
        raise self.error_here((_EXPRESSION,))

    # -- textual expressions: they extend as far right as they can -------------

    def if_expression(self) -> If:
        first = self.advance()
        condition = self.expression()
        self.expect_word("then", "an operator")
        then = self.expression()
        self.expect_word("else", "an operator")
        otherwise = self.expression()
        return If(condition, then, otherwise, start=first.start, end=otherwise.end)

    def iterations(self, closing: str) -> tuple[Iteration, ...]:
        found: list[Iteration] = []
        while True:
            tok = self.peek()
            name = self.name()
            self.expect_word("in")
            source = self.expression()
            end = None
            if self.at(".."):
                self.advance()
                end = self.expression()
            found.append(Iteration(name, source, end, start=tok.start, end=self.previous_end()))
            if not self.at(","):
                break
            self.advance()
        self.expect_word(closing, "','", "an operator")
        return tuple(found)

    def for_expression(self) -> For:
        first = self.advance()
        iterations = self.iterations("return")
        body = self.expression()
        return For(iterations, body, start=first.start, end=body.end)

    def quantified(self) -> Quantified:
        first = self.advance()
        iterations = self.iterations("satisfies")
        condition = self.expression()
        quantifier = cast(Literal["some", "every"], first.value)
        return Quantified(quantifier, iterations, condition, start=first.start, end=condition.end)

    def function_definition(self) -> FunctionDef:
        first = self.advance()
        self.advance()
        parameters: list[str] = []
        while not self.at(")"):
            parameters.append(self.name())
            if self.at(":"):
                self.advance()
                self.type_ref()  # documented, not checked
            if not self.at(","):
                break
            self.advance()
        self.expect(")", "','")
        if self.at_word("external"):
            raise self.error_here((_EXPRESSION,), "external functions are not supported")
        body = self.expression()
        return FunctionDef(tuple(parameters), body, start=first.start, end=body.end)

    def context(self) -> ContextExpr:
        open_ = self.advance()
        entries: list[tuple[str, Node]] = []
        while not self.at("}"):
            tok = self.peek()
            if tok.kind is TokenKind.STRING:
                self.advance()
                key = str(tok.value)
            else:
                key = self.symbol_key() or self.name()
            # Later entries (and paths) may spell the key with keywords in it.
            self.add_known(key)
            self.expect(":")
            entries.append((key, self.expression()))
            if not self.at(","):
                break
            self.advance()
        self.expect("}", "','", "an operator")
        return ContextExpr(tuple(entries), start=open_.start, end=self.previous_end())

    def symbol_key(self) -> str:
        """A context key with DMN's additional name symbols (`foo+bar`, `a.b`, `x-y`), else "".

        Before the `:` of a context entry nothing else can stand, so the words
        and symbols up to it are one name, written as in the source (runs of
        whitespace as one space). The cursor moves past the key only when found.
        """
        tok = self.peek()
        if tok.kind is not TokenKind.NAME:
            return ""
        k = 1
        symbols = False
        while True:
            nxt = self.peek(k)
            if nxt.kind is TokenKind.PUNCT and nxt.value in _NAME_SYMBOLS:
                symbols = True
            elif nxt.kind is not TokenKind.NAME and nxt.kind is not TokenKind.NUMBER:
                break
            k += 1
        if not symbols or not self.at(":", k):
            return ""
        last = self.peek(k - 1)
        for _ in range(k):
            self.advance()
        return " ".join(self.text[tok.start : last.end].split())

    def parenthesis_or_range(self) -> Node:
        open_ = self.advance()
        tok = self.peek()
        if tok.kind is TokenKind.PUNCT and tok.value in _COMPARISON_OPS:
            # `(< 10)`: a positive unary test as a range value (DMN 1.5 §10.3.2.7).
            self.advance()
            endpoint = self.expression(_ADDITIVE)
            self.expect(")", "an operator")
            return UnaryComparison(
                cast(ComparisonOp, tok.value),
                endpoint,
                start=open_.start,
                end=self.previous_end(),
            )
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
        saved = self.no_filter
        self.no_filter = True
        try:
            hi = self.expression()
        finally:
            self.no_filter = saved
        tok = self.peek()
        if tok.kind is TokenKind.PUNCT and tok.value in ("]", ")", "["):
            self.advance()
            return Range(
                lo, hi, lo_closed, tok.value == "]", start=open_.start, end=self.previous_end()
            )
        raise self.error_here(("']'", "')'", "'['", "an operator"))


def parse_unary_tests(text: str, names: Iterable[str] = ()) -> UnaryTests:
    """Parse a decision-table input entry; raises FeelSyntaxError with the position."""
    return Parser(text, names).unary_tests()


def parse_expression(text: str, names: Iterable[str] = ()) -> Node:
    """Parse one FEEL expression; `names` are the (multi-word) names in scope."""
    parser = Parser(text, names)
    node = parser.expression()
    if parser.peek().kind is not TokenKind.EOF:
        raise parser.error_here(("an operator", _END))
    return node


def parse_type(text: str) -> TypeRef:
    """Parse a FEEL type (`number`, `list<string>`, `context<a: number>`, an item definition)."""
    parser = Parser(text)
    node = parser.type_ref()
    if parser.peek().kind is not TokenKind.EOF:
        raise parser.error_here((_END,))
    return node
