"""FEEL syntax trees: plain frozen dataclasses.

Every node records the source span it came from (`start`, `end` offsets),
excluded from equality so that trees compare by meaning; error messages quote
the span. Unary tests (`UnaryTests`, `UnaryComparison`) exist only at the top
of an input entry; everything else is an expression and will stay one when
the parser grows into full FEEL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

ArithmeticOp = Literal["+", "-", "*", "/", "**"]
ComparisonOp = Literal["=", "!=", "<", "<=", ">", ">="]
LogicalOp = Literal["and", "or"]


@dataclass(frozen=True, slots=True)
class Node:
    start: int = field(default=0, compare=False, repr=False, kw_only=True)
    end: int = field(default=0, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Number(Node):
    value: Decimal


@dataclass(frozen=True, slots=True)
class String(Node):
    value: str


@dataclass(frozen=True, slots=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True, slots=True)
class Null(Node):
    pass


@dataclass(frozen=True, slots=True)
class At(Node):
    """A temporal literal `@"2024-10-01"`; `text` is the string's content."""

    text: str


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A (possibly multi-word) name; `?` is the unary-test input placeholder."""

    name: str


@dataclass(frozen=True, slots=True)
class Negation(Node):
    """Arithmetic negation `-e`."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Arithmetic(Node):
    op: ArithmeticOp
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Comparison(Node):
    op: ComparisonOp
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Logical(Node):
    """`and` / `or` with FEEL's three-valued logic."""

    op: LogicalOp
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class ListExpr(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Range(Node):
    """`[a..b]`, `(a..b]`, `]a..b[` …: an interval test, and a range literal in an expression."""

    lo: Node
    hi: Node
    lo_closed: bool
    hi_closed: bool


@dataclass(frozen=True, slots=True)
class Invocation(Node):
    """`f(a, b)` or `f(x: a, y: b)`: positional `args` or `named` ones, never both."""

    callee: Node
    args: tuple[Node, ...] = ()
    named: tuple[tuple[str, Node], ...] = ()


@dataclass(frozen=True, slots=True)
class UnaryComparison(Node):
    """A simple positive unary test `< e`, `<= e`, `> e`, `>= e`, `= e`, `!= e`."""

    op: ComparisonOp
    endpoint: Node


@dataclass(frozen=True, slots=True)
class UnaryTests(Node):
    """An input entry: `-` (`is_any`), positive tests (any may hold), or `not(...)` of them.

    A positive test is a `UnaryComparison`, a `Range` (interval), or any other
    expression, which holds when it equals the input, contains it (list or
    range), or — when it uses `?` — evaluates to true.
    """

    tests: tuple[Node, ...]
    negated: bool = False
    is_any: bool = False


def uses_input(node: Node) -> bool:
    """Whether `?` occurs in `node`."""
    return "?" in names(node)


def names(node: Node) -> frozenset[str]:
    """Every name `node` reads (including `?` and the names of called functions)."""
    found: set[str] = set()
    _collect_names(node, found)
    return frozenset(found)


def _collect_names(node: Node, found: set[str]) -> None:
    if isinstance(node, Name):
        found.add(node.name)
    elif isinstance(node, Negation):
        _collect_names(node.operand, found)
    elif isinstance(node, Arithmetic | Comparison | Logical):
        _collect_names(node.left, found)
        _collect_names(node.right, found)
    elif isinstance(node, ListExpr):
        for item in node.items:
            _collect_names(item, found)
    elif isinstance(node, Range):
        _collect_names(node.lo, found)
        _collect_names(node.hi, found)
    elif isinstance(node, Invocation):
        _collect_names(node.callee, found)
        for arg in node.args:
            _collect_names(arg, found)
        for _, arg in node.named:
            _collect_names(arg, found)
    elif isinstance(node, UnaryComparison):
        _collect_names(node.endpoint, found)
    elif isinstance(node, UnaryTests):
        for test in node.tests:
            _collect_names(test, found)
