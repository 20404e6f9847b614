"""Compile FEEL unary tests (decision-table input entries) into matchers and regions.

Semantics (DMN 1.5 §10.3.2.9 and grammar rules 14–17):

- `-` accepts everything, null included.
- Positive tests separated by commas: the entry holds when any test is true.
- `not(tests)` holds when their disjunction is false — not when it is null,
  so `not(< 5)` refuses null (`null < 5` is null) while `not(5)` accepts it
  (`null = 5` is false).
- `< e`, `<= e`, `> e`, `>= e`, `= e`, `!= e` compare the input with `e`;
  an interval `[a..b]` is `a <= ? and ? <= b` with its open or closed ends.
- Any other expression holds when it equals the input, contains it (a list or
  range), or — when it uses `?` — evaluates to true. A `?` expression giving
  null does not hold (`? > 5` must not accept a null input by "equality").

Each positive test gets a three-valued closure and, where it can be computed
exactly, the pair of regions on which it is true and false (null being
neither); the entry's region follows with set algebra: a disjunction is true
on the union of the true regions and false on the intersection of the false
ones, and `not` swaps the two.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NoReturn, Protocol

from kijun.criteria.feel import ast
from kijun.criteria.feel import values as fv
from kijun.criteria.feel.evaluate import Compiled, Env, ExpressionCompiler, a_type
from kijun.criteria.feel.parser import parse_unary_tests
from kijun.criteria.model import ValueType
from kijun.criteria.region import Interval, Region

Test = Callable[[Any, Env], bool | None]
#: (region where the test is true, region where it is false); null results are in neither
Truth = tuple[Region, Region]

_PY_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class Matcher(Protocol):
    def __call__(self, value: Any, env: Mapping[str, Any] | None = None, /) -> bool: ...


@dataclass(frozen=True, slots=True, eq=False)
class UnaryTest:
    """A compiled input entry.

    `matches(value, env=None)` says whether the entry accepts `value` (a
    normalised Python value: int/Decimal, str, bool, date or None); `env`
    supplies the other names the entry reads, listed in `names`. `region` is
    the exact set of accepted values, or None when it cannot be computed.
    """

    text: str
    type: ValueType
    ast: ast.UnaryTests
    is_any: bool
    region: Region | None
    names: frozenset[str]
    matches: Matcher = field(repr=False)


def _match_any(value: Any, env: Mapping[str, Any] | None = None, /) -> bool:
    return True


def compile_unary_tests(text: str, type: ValueType, names: Iterable[str] = ()) -> UnaryTest:
    """Parse `text` once and compile it for an input of `type`.

    `names` are the other names in scope (`< Max Age` reads `Max Age` from the
    env given to `matches`); multi-word ones are recognised in the text and
    they may be called as functions. Input entries may be any FEEL expression
    (`? > 3 and ? < 7`, `if x then 1 else 2`, …); only constant tests have a region.

    Raises FeelSyntaxError when the text does not parse (or calls an unknown
    function) and FeelTypeError when a test can never hold for `type`.
    """
    type = ValueType(type)
    known = tuple(names)
    tree = parse_unary_tests(text, known)
    if tree.is_any:
        return UnaryTest(text, type, tree, True, Region.any(type), frozenset(), _match_any)
    compiler = _UnaryCompiler(text, type, known)
    parts = [compiler.positive(t) for t in tree.tests]
    fns = tuple(fn for fn, _ in parts)
    truths = [truth for _, truth in parts]
    region: Region | None = None
    if all(t is not None for t in truths):
        true, false = _disjunction([t for t in truths if t is not None])
        region = false if tree.negated else true
    return UnaryTest(
        text,
        type,
        tree,
        False,
        region,
        frozenset(compiler.expressions.names),
        _matcher(fns, tree.negated),
    )


def _disjunction(truths: list[Truth]) -> Truth:
    true, false = truths[0]
    for t, f in truths[1:]:
        true = true.union(t)
        false = false.intersection(f)
    return true, false


def _matcher(fns: tuple[Test, ...], negated: bool) -> Matcher:
    if len(fns) == 1:
        (f,) = fns
        if negated:

            def not_one(value: Any, env: Mapping[str, Any] | None = None, /) -> bool:
                return f(value, env) is False

            return not_one

        def one(value: Any, env: Mapping[str, Any] | None = None, /) -> bool:
            return f(value, env) is True

        return one
    if negated:

        def not_any(value: Any, env: Mapping[str, Any] | None = None, /) -> bool:
            # A plain loop: cheaper than all() over a generator on the hot path.
            for f in fns:  # noqa: SIM110
                if f(value, env) is not False:
                    return False
            return True

        return not_any

    def any_of(value: Any, env: Mapping[str, Any] | None = None, /) -> bool:
        for f in fns:  # noqa: SIM110 - see not_any
            if f(value, env) is True:
                return True
        return False

    return any_of


class _UnaryCompiler:
    def __init__(self, text: str, type: ValueType, known: Iterable[str] = ()) -> None:
        self.text = text
        self.type = type
        self.tag = type.value  # FEEL's name for the type, as in values.NUMBER
        self.expressions = ExpressionCompiler(
            text,
            input_type=self.tag,
            subject=f"unary test {text!r} on {a_type(self.tag)} input",
            expected=a_type(self.tag),
            known=known,
        )
        self.all, self.nothing, self.null = _base_regions(type)

    def clash(self, detail: str) -> NoReturn:
        self.expressions.clash(detail)

    def check_value(self, node: ast.Node, value: Any, *, inside: bool = False) -> None:
        """A constant the input is compared with must be of the input's type (or null).

        A list or range may hold such values (`inside` them nothing but values).
        """
        t = fv.type_of(value)
        if t == fv.LIST and not inside:
            nodes = node.items if isinstance(node, ast.ListExpr) else (node,) * len(value)
            for item_node, item in zip(nodes, value, strict=True):
                self.check_value(item_node, item, inside=isinstance(item, list))
        elif t == fv.RANGE and not inside:
            self.check_order(node)
            lo, hi = (node.lo, node.hi) if isinstance(node, ast.Range) else (node, node)
            self.check_value(lo, value.lo, inside=True)
            self.check_value(hi, value.hi, inside=True)
        elif t != fv.NULL and t != self.tag:
            self.clash(f"{self.expressions.source(node)} is {a_type(t)}")

    def check_type(self, node: ast.Node, t: str | None) -> None:
        if t is not None and t not in (fv.NULL, fv.LIST, fv.RANGE) and t != self.tag:
            self.clash(f"{self.expressions.source(node)!r} is {a_type(t)}")

    def check_order(self, node: ast.Node) -> None:
        if self.tag == fv.BOOLEAN:
            source = self.expressions.source(node)
            where = "" if source == self.text else f"{source!r}: "
            self.expressions.clash(f"{where}booleans have no order", "true, false or null")

    # -- positive tests -------------------------------------------------------

    def positive(self, node: ast.Node) -> tuple[Test, Truth | None]:
        if isinstance(node, ast.UnaryComparison):
            return self.comparison(node)
        if isinstance(node, ast.Range):
            return self.interval(node)
        return self.expression(node)

    def comparison(self, node: ast.UnaryComparison) -> tuple[Test, Truth | None]:
        op = node.op
        if op not in ("=", "!="):
            self.check_order(node)
        endpoint = self.expressions.compile(node.endpoint)
        if endpoint.constant:
            c = endpoint.value
            if fv.type_of(c) in (fv.LIST, fv.RANGE):
                self.clash(f"{self.expressions.source(node.endpoint)!r} is {a_type(fv.type_of(c))}")
            self.check_value(node.endpoint, c)
            return _constant_compare(op, c), self.compare_truth(op, c)
        self.check_type(node.endpoint, endpoint.type)
        compare = fv.COMPARE[op]
        f = endpoint.fn

        def test(v: Any, env: Env) -> bool | None:
            return compare(v, f(v, env))

        return test, None

    def interval(self, node: ast.Range) -> tuple[Test, Truth | None]:
        self.check_order(node)
        lo = self.expressions.compile(node.lo)
        hi = self.expressions.compile(node.hi)
        for end, part in ((node.lo, lo), (node.hi, hi)):
            if part.constant:
                self.check_value(end, part.value)
            else:
                self.check_type(end, part.type)
        self.expressions.check_comparable(node, "<=", lo.type, hi.type)
        if lo.constant and hi.constant:
            r = fv.FeelRange(lo.value, hi.value, node.lo_closed, node.hi_closed)
            return _constant_range(r), self.range_truth(r)
        return _dynamic_range(lo, hi, node.lo_closed, node.hi_closed), None

    def expression(self, node: ast.Node) -> tuple[Test, Truth | None]:
        compiled = self.expressions.compile(node)
        if compiled.constant:
            c = compiled.value
            self.check_value(node, c)
            if isinstance(c, list):
                return _constant_list(c), self.list_truth(c)
            if isinstance(c, fv.FeelRange):
                return _constant_range(c), self.range_truth(c)
            return _constant_compare("=", c), self.compare_truth("=", c)
        f = compiled.fn
        if ast.uses_input(node):
            if compiled.type not in (None, fv.BOOLEAN):
                self.check_type(node, compiled.type)

            def predicate(v: Any, env: Env) -> bool | None:
                r = f(v, env)
                if r is True or r is False or r is None:
                    return r
                return _contains_or_equals(r, v)

            truth = self.predicate_truth(node) if compiled.type == fv.BOOLEAN else None
            return predicate, truth
        self.check_type(node, compiled.type)

        def value_test(v: Any, env: Env) -> bool | None:
            return _contains_or_equals(f(v, env), v)

        return value_test, None

    # -- regions --------------------------------------------------------------

    def compare_truth(self, op: str, c: Any) -> Truth | None:
        """Where `? op c` is true and where it is false, for a constant `c`."""
        if c is None:
            if op == "=":
                return self.null, self.all
            if op == "!=":
                return self.all, self.null
            return self.nothing, self.nothing
        if op in ("=", "!="):
            point = Region.of(self.type, c)
            others = point.complement_region(null=True)
            return (point, others) if op == "=" else (others, point)
        if self.tag == fv.STRING:
            return None  # string ranges are not regions (yet)
        true = Region("ordered", (_ray(op, c),))
        return true, true.complement_region(null=False)

    def range_truth(self, r: fv.FeelRange) -> Truth | None:
        if r.comparison == "=" or r.comparison == "!=":
            return self.compare_truth(r.comparison, r.lo)
        # values.FeelRange: the open side of `(< 10)` is unbounded (true for every
        # non-null value); any other end at null compares as null.
        unbounded = (self.all, self.nothing)
        low = (
            unbounded if r.lo_unbounded else self.compare_truth(">=" if r.lo_closed else ">", r.lo)
        )
        high = (
            unbounded if r.hi_unbounded else self.compare_truth("<=" if r.hi_closed else "<", r.hi)
        )
        if low is None or high is None:
            return None
        return low[0].intersection(high[0]), low[1].union(high[1])

    def list_truth(self, items: list[Any]) -> Truth | None:
        truths: list[Truth] = []
        for item in items:
            t = (
                self.range_truth(item)
                if isinstance(item, fv.FeelRange)
                else self.compare_truth("=", item)
            )
            if t is None:
                return None
            truths.append(t)
        if not truths:
            return self.nothing, self.all.union(self.null)
        return _disjunction(truths)

    def predicate_truth(self, node: ast.Node) -> Truth | None:
        """Truth regions of a boolean expression over `?` and constants, if it has them."""
        if isinstance(node, ast.Comparison):
            for mine, other, op in (
                (node.left, node.right, node.op),
                (node.right, node.left, fv.FLIPPED[node.op]),
            ):
                if isinstance(mine, ast.Name) and mine.name == "?":
                    c = self.expressions.compile(other)
                    if c.constant and fv.type_of(c.value) not in (fv.LIST, fv.RANGE):
                        return self.compare_truth(op, c.value)
            return None
        if isinstance(node, ast.Logical):
            left = self.predicate_truth(node.left)
            right = self.predicate_truth(node.right)
            if left is None or right is None:
                return None
            if node.op == "and":
                return left[0].intersection(right[0]), left[1].union(right[1])
            return left[0].union(right[0]), left[1].intersection(right[1])
        if (
            isinstance(node, ast.Invocation)
            and isinstance(node.callee, ast.Name)
            and node.callee.name == "not"
        ):
            args = node.args or tuple(a for _, a in node.named)
            inner = self.predicate_truth(args[0])
            return None if inner is None else (inner[1], inner[0])
        if isinstance(node, ast.Name) and node.name == "?" and self.tag == fv.BOOLEAN:
            return Region.of(self.type, True), Region.of(self.type, False)
        if not ast.uses_input(node):
            c = self.expressions.compile(node)
            if c.constant:
                everything = self.all.union(self.null)
                if c.value is True:
                    return everything, self.nothing
                if c.value is False:
                    return self.nothing, everything
                return self.nothing, self.nothing
        return None


@cache
def _base_regions(type: ValueType) -> tuple[Region, Region, Region]:
    """Every non-null value, nothing, and null alone: built once per type."""
    return Region.any(type, null=False), Region.empty(type), Region.only_null(type)


def _ray(op: str, c: Any) -> Interval:
    if op == "<":
        return Interval(None, False, c, False)
    if op == "<=":
        return Interval(None, False, c, True)
    if op == ">":
        return Interval(c, False, None, False)
    return Interval(c, True, None, False)


def _classes(c: Any) -> frozenset[type]:
    """The exact classes the fast path accepts as the same FEEL type as `c`."""
    return fv.NUMBER_CLASSES if c.__class__ in fv.NUMBER_CLASSES else frozenset({c.__class__})


def _constant_compare(op: str, c: Any) -> Test:
    generic = fv.COMPARE[op]
    if c is None:

        def with_null(v: Any, env: Env) -> bool | None:
            return generic(v, None)

        return with_null
    py = _PY_COMPARE[op]
    classes = _classes(c)

    def test(v: Any, env: Env) -> bool | None:
        if v.__class__ in classes:
            return py(v, c)
        return generic(v, c)

    return test


def _constant_range(r: fv.FeelRange) -> Test:
    lo, hi = r.lo, r.hi
    if lo is None or hi is None or r.comparison is not None or fv.type_of(lo) != fv.type_of(hi):
        includes = r.includes

        def odd(v: Any, env: Env) -> bool | None:
            return includes(v)

        return odd
    classes = _classes(lo) | _classes(hi)
    slow = r.includes
    # One closure per kind of ends keeps the hot path to one chained comparison.
    if r.lo_closed and r.hi_closed:

        def closed(v: Any, env: Env) -> bool | None:
            if v.__class__ in classes:
                return bool(lo <= v <= hi)
            return slow(v)

        return closed
    if r.lo_closed:

        def closed_open(v: Any, env: Env) -> bool | None:
            if v.__class__ in classes:
                return bool(lo <= v < hi)
            return slow(v)

        return closed_open
    if r.hi_closed:

        def open_closed(v: Any, env: Env) -> bool | None:
            if v.__class__ in classes:
                return bool(lo < v <= hi)
            return slow(v)

        return open_closed

    def open_(v: Any, env: Env) -> bool | None:
        if v.__class__ in classes:
            return bool(lo < v < hi)
        return slow(v)

    return open_


def _dynamic_range(lo: Compiled, hi: Compiled, lo_closed: bool, hi_closed: bool) -> Test:
    low = fv.less_equal if lo_closed else fv.less
    high = fv.less_equal if hi_closed else fv.less
    lo_fn, hi_fn = lo.fn, hi.fn

    def test(v: Any, env: Env) -> bool | None:
        return fv.conjunction(low(lo_fn(v, env), v), high(v, hi_fn(v, env)))

    return test


def _constant_list(items: list[Any]) -> Test:
    scalars = [i for i in items if i is not None and fv.type_of(i) in fv.ORDERED | {fv.BOOLEAN}]
    types = {fv.type_of(i) for i in scalars}
    if len(scalars) == len(items) and len(types) == 1:
        members = frozenset(items)
        classes = _classes(items[0])

        def member(v: Any, env: Env) -> bool | None:
            if v.__class__ in classes:
                return v in members
            return fv.contains(items, v)

        return member

    def general(v: Any, env: Env) -> bool | None:
        return fv.contains(items, v)

    return general


def _contains_or_equals(r: Any, v: Any) -> bool | None:
    if r.__class__ is list or r.__class__ is fv.FeelRange:
        return fv.contains(r, v)
    return fv.equal(v, r)
