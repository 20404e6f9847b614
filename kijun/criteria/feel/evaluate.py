"""Compile FEEL expression trees into Python closures, once.

A compiled expression is a function `(input, env) -> value`: `input` is the
value `?` stands for and `env` maps other names to values. Nothing walks the
tree at evaluation time. While compiling, constant subtrees are folded, and
each node gets a static FEEL type where one is certain ("a number or null"),
so that a test which can never hold — comparing a number with a string — is
refused at compile time with `FeelTypeError` instead of silently never
matching.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from kijun.criteria.errors import FeelSyntaxError, FeelTypeError
from kijun.criteria.feel import ast
from kijun.criteria.feel import values as fv
from kijun.criteria.feel.functions import BUILTINS, Builtin, InvalidArgument, parse_date
from kijun.criteria.feel.lexer import line_starts, position

Env = Mapping[str, Any] | None
Fn = Callable[[Any, Env], Any]

_ARTICLE = {
    fv.NUMBER: "a number",
    fv.STRING: "a string",
    fv.BOOLEAN: "a boolean",
    fv.DATE: "a date",
    fv.NULL: "null",
    fv.LIST: "a list",
    fv.RANGE: "a range",
    fv.OTHER: "a value",
}


def a_type(t: str) -> str:
    """`number` → `a number`, for messages."""
    return _ARTICLE.get(t, t)


@dataclass(frozen=True, slots=True)
class Compiled:
    fn: Fn
    #: FEEL type of every non-null result (values.NUMBER …), or None if unknown
    type: str | None
    constant: bool = False
    value: Any = None


def constant(value: Any) -> Compiled:
    def fn(v: Any, env: Env) -> Any:
        return value

    return Compiled(fn, fv.type_of(value), True, value)


def _input(v: Any, env: Env) -> Any:
    return v


class ExpressionCompiler:
    """Compiles the expressions of one FEEL text.

    `input_type` is the static type of `?` (None: unknown); `subject` opens
    every type-error message (e.g. "unary test '< 5' on a string input") and
    `expected`, if given, closes it (e.g. "a string").
    """

    def __init__(
        self, text: str, *, input_type: str | None, subject: str, expected: str | None = None
    ) -> None:
        self.text = text
        self.input_type = input_type
        self.subject = subject
        self.expected = expected
        #: names read from the environment (everything but `?` and functions)
        self.names: set[str] = set()
        self._line_starts: list[int] | None = None

    # -- errors ---------------------------------------------------------------

    def source(self, node: ast.Node) -> str:
        return self.text[node.start : node.end]

    def clash(self, detail: str, expected: str | None = None) -> NoReturn:
        expected = expected or self.expected
        raise FeelTypeError(
            f"{self.subject}: {detail}" + (f"; expected {expected}" if expected else "")
        )

    def syntax_error(
        self, node: ast.Node, message: str, expected: tuple[str, ...] = ()
    ) -> FeelSyntaxError:
        if self._line_starts is None:
            self._line_starts = line_starts(self.text)
        line, column = position(self._line_starts, node.start)
        return FeelSyntaxError(message, text=self.text, line=line, column=column, expected=expected)

    # -- dispatch -------------------------------------------------------------

    def compile(self, node: ast.Node) -> Compiled:
        method = _DISPATCH.get(type(node))
        if method is None:
            raise self.syntax_error(node, f"{self.source(node)!r} is not an expression")
        return method(self, node)

    def _literal(self, node: ast.Number | ast.String | ast.Boolean) -> Compiled:
        return constant(node.value)

    def _null(self, node: ast.Null) -> Compiled:
        return constant(None)

    def _at(self, node: ast.At) -> Compiled:
        try:
            return constant(parse_date(node.text))
        except InvalidArgument as e:
            raise self.syntax_error(
                node,
                f"{self.source(node)} is not a date literal: {e} "
                "(only date literals are supported so far)",
            ) from None

    def _name(self, node: ast.Name) -> Compiled:
        if node.name == "?":
            return Compiled(_input, self.input_type)
        name = node.name
        self.names.add(name)

        def fn(v: Any, env: Env) -> Any:
            return None if env is None else env.get(name)

        return Compiled(fn, None)

    def _negation(self, node: ast.Negation) -> Compiled:
        operand = self.compile(node.operand)
        if operand.type not in (None, fv.NUMBER, fv.NULL):
            self.clash(f"{self.source(node)!r} negates {a_type(operand.type)}")
        if operand.constant:
            return constant(fv.negate(operand.value))
        negate = fv.negate
        f = operand.fn

        def fn(v: Any, env: Env) -> Any:
            return negate(f(v, env))

        return Compiled(fn, fv.NUMBER)

    def _arithmetic(self, node: ast.Arithmetic) -> Compiled:
        left = self.compile(node.left)
        right = self.compile(node.right)
        result = _arithmetic_type(node.op, left.type, right.type)
        if result is False:
            assert left.type is not None and right.type is not None
            self.clash(
                f"{self.source(node)!r} combines {a_type(left.type)} and {a_type(right.type)} "
                f"with '{node.op}'"
            )
        op = fv.ARITHMETIC[node.op]
        if left.constant and right.constant:
            return constant(op(left.value, right.value))
        return Compiled(_binary(op, left, right), result if isinstance(result, str) else None)

    def _comparison(self, node: ast.Comparison) -> Compiled:
        left = self.compile(node.left)
        right = self.compile(node.right)
        self.check_comparable(node, node.op, left.type, right.type)
        op = fv.COMPARE[node.op]
        if left.constant and right.constant:
            return constant(op(left.value, right.value))
        return Compiled(_binary(op, left, right), fv.BOOLEAN)

    def check_comparable(
        self, node: ast.Node, op: str, left: str | None, right: str | None
    ) -> None:
        """Refuse comparisons that are null whatever the values (FEEL would say null)."""
        for t in (left, right):
            if op not in ("=", "!=") and t is not None and t != fv.NULL and t not in fv.ORDERED:
                self.clash(f"{self.source(node)!r}: {a_type(t)} has no order")
        if left is None or right is None or fv.NULL in (left, right):
            return
        if left != right:
            self.clash(f"{self.source(node)!r} compares {a_type(left)} with {a_type(right)}")

    def _logical(self, node: ast.Logical) -> Compiled:
        left = self.compile(node.left)
        right = self.compile(node.right)
        for side, part in ((node.left, left), (node.right, right)):
            if part.type not in (None, fv.BOOLEAN, fv.NULL):
                self.clash(
                    f"'{node.op}' needs booleans, but {self.source(side)!r} is {a_type(part.type)}"
                )
        op = fv.conjunction if node.op == "and" else fv.disjunction
        if left.constant and right.constant:
            return constant(op(left.value, right.value))
        return Compiled(_binary(op, left, right), fv.BOOLEAN)

    def _list(self, node: ast.ListExpr) -> Compiled:
        items = [self.compile(item) for item in node.items]
        if all(i.constant for i in items):
            return constant([i.value for i in items])
        fns = tuple(i.fn for i in items)

        def fn(v: Any, env: Env) -> Any:
            return [f(v, env) for f in fns]

        return Compiled(fn, fv.LIST)

    def _range(self, node: ast.Range) -> Compiled:
        lo = self.compile(node.lo)
        hi = self.compile(node.hi)
        self.check_comparable(node, "<=", lo.type, hi.type)
        lo_closed, hi_closed = node.lo_closed, node.hi_closed
        if lo.constant and hi.constant:
            return constant(fv.FeelRange(lo.value, hi.value, lo_closed, hi_closed))
        lo_fn, hi_fn = lo.fn, hi.fn

        def fn(v: Any, env: Env) -> Any:
            return fv.FeelRange(lo_fn(v, env), hi_fn(v, env), lo_closed, hi_closed)

        return Compiled(fn, fv.RANGE)

    def _invocation(self, node: ast.Invocation) -> Compiled:
        builtin = self.builtin(node)
        if node.named:
            params = builtin.bind_named(tuple(n for n, _ in node.named))
            if params is None:
                raise self.syntax_error(
                    node,
                    f"no overload of {builtin.name}() takes the parameters "
                    f"{', '.join(n for n, _ in node.named)}",
                    (builtin.describe_signatures(),),
                )
            by_name = dict(node.named)
            arg_nodes = tuple(by_name[p] for p in params)
        else:
            if not builtin.bind_positional(len(node.args)):
                raise self.syntax_error(
                    node,
                    f"{builtin.name}() does not take {len(node.args)} argument"
                    f"{'' if len(node.args) == 1 else 's'}",
                    (builtin.describe_signatures(),),
                )
            arg_nodes = node.args
        args = [self.compile(a) for a in arg_nodes]
        impl = builtin.impl
        if all(a.constant for a in args):
            try:
                return constant(impl(*(a.value for a in args)))
            except InvalidArgument as e:
                raise self.syntax_error(node, f"{self.source(node)}: {e}") from None
        fns = tuple(a.fn for a in args)

        def fn(v: Any, env: Env) -> Any:
            try:
                return impl(*[f(v, env) for f in fns])
            except InvalidArgument:
                return None

        return Compiled(fn, builtin.result_type)

    def builtin(self, node: ast.Invocation) -> Builtin:
        callee = node.callee
        if isinstance(callee, ast.Name) and callee.name in BUILTINS:
            return BUILTINS[callee.name]
        known = ", ".join(f"{name}()" for name in sorted(BUILTINS))
        raise self.syntax_error(
            callee, f"unknown function {self.source(callee)!r}", (f"one of {known}",)
        )


def _arithmetic_type(op: str, left: str | None, right: str | None) -> str | bool | None:
    """The result type, None when unknown, False when the operands can never fit."""
    if left is None or right is None:
        return None
    if fv.NULL in (left, right):
        return fv.NULL
    if left == right == fv.NUMBER:
        return fv.NUMBER
    if op == "+" and left == right == fv.STRING:
        return fv.STRING
    # Dates combine with durations, which full FEEL adds; leave them unknown.
    if fv.DATE in (left, right) and op in ("+", "-"):
        return None
    return False


def _binary(op: Callable[[Any, Any], Any], left: Compiled, right: Compiled) -> Fn:
    if right.constant:
        lf, c = left.fn, right.value

        def with_constant(v: Any, env: Env) -> Any:
            return op(lf(v, env), c)

        return with_constant
    if left.constant:
        c, rf = left.value, right.fn

        def constant_with(v: Any, env: Env) -> Any:
            return op(c, rf(v, env))

        return constant_with
    lf, rf = left.fn, right.fn

    def both(v: Any, env: Env) -> Any:
        return op(lf(v, env), rf(v, env))

    return both


_DISPATCH: dict[type, Callable[[ExpressionCompiler, Any], Compiled]] = {
    ast.Number: ExpressionCompiler._literal,
    ast.String: ExpressionCompiler._literal,
    ast.Boolean: ExpressionCompiler._literal,
    ast.Null: ExpressionCompiler._null,
    ast.At: ExpressionCompiler._at,
    ast.Name: ExpressionCompiler._name,
    ast.Negation: ExpressionCompiler._negation,
    ast.Arithmetic: ExpressionCompiler._arithmetic,
    ast.Comparison: ExpressionCompiler._comparison,
    ast.Logical: ExpressionCompiler._logical,
    ast.ListExpr: ExpressionCompiler._list,
    ast.Range: ExpressionCompiler._range,
    ast.Invocation: ExpressionCompiler._invocation,
}
