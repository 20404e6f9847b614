"""FEEL syntax trees: plain frozen dataclasses.

Every node records the source span it came from (`start`, `end` offsets),
excluded from equality so that trees compare by meaning; error messages quote
the span. Unary tests (`UnaryTests`, `UnaryComparison`) stand at the top of
an input entry and on the right of `in`; a `UnaryComparison` in parentheses,
`(< 10)`, is also an expression: the range the test denotes. Everything else
is an expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
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
    """A simple positive unary test `< e`, `<= e`, `> e`, `>= e`, `= e`, `!= e`.

    In an expression (written in parentheses, `(< 10)`) it is a range value.
    """

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


@dataclass(frozen=True, slots=True)
class ContextExpr(Node):
    """`{a: 1, "b c": a + 1}`: each entry may read the entries before it."""

    entries: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Filter(Node):
    """`list[condition]`: a boolean filter (with `item` in scope) or a 1-based index."""

    base: Node
    condition: Node


@dataclass(frozen=True, slots=True)
class Path(Node):
    """`e.name`: a context entry, a property, or the entry of every context of a list."""

    base: Node
    name: str


@dataclass(frozen=True, slots=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Iteration(Node):
    """`name in source` or `name in source..until` (an integer range) of `for`, `some`, `every`."""

    name: str
    source: Node
    until: Node | None = None


@dataclass(frozen=True, slots=True)
class For(Node):
    iterations: tuple[Iteration, ...]
    body: Node


@dataclass(frozen=True, slots=True)
class Quantified(Node):
    """`some`/`every name in list satisfies condition`."""

    quantifier: Literal["some", "every"]
    iterations: tuple[Iteration, ...]
    condition: Node


@dataclass(frozen=True, slots=True)
class Between(Node):
    value: Node
    low: Node
    high: Node


@dataclass(frozen=True, slots=True)
class In(Node):
    """`value in tests`: the tests are positive unary tests, any of which may hold."""

    value: Node
    tests: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class TypeRef(Node):
    """A type after `instance of`: `number`, `list<T>`, `context<k: T>`, `function<T>->T` …"""

    name: str
    parameters: tuple[TypeRef, ...] = ()
    fields: tuple[tuple[str, TypeRef], ...] = ()
    result: TypeRef | None = None


@dataclass(frozen=True, slots=True)
class InstanceOf(Node):
    value: Node
    type: TypeRef


@dataclass(frozen=True, slots=True)
class FunctionDef(Node):
    """`function(a, b: number) body`; parameter types are parsed but not checked."""

    parameters: tuple[str, ...]
    body: Node


def uses_input(node: Node) -> bool:
    """Whether `?` occurs in `node`."""
    return "?" in names(node)


def names(node: Node) -> frozenset[str]:
    """Every name `node` reads (including `?` and the names of called functions)."""
    found: set[str] = set()
    _collect_names(node, found)
    return frozenset(found)


def _collect_names(node: Node, found: set[str]) -> None:
    # Generic over the dataclass fields, so that new node kinds need no case here.
    if isinstance(node, Name):
        found.add(node.name)
        return
    for f in fields(node):
        _collect_value(getattr(node, f.name), found)


def _collect_value(value: object, found: set[str]) -> None:
    if isinstance(value, Node):
        _collect_names(value, found)
    elif isinstance(value, tuple):
        for item in value:
            _collect_value(item, found)
