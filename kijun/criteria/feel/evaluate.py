"""Compile FEEL expression trees into Python closures, once.

A compiled expression is a function `(input, env) -> value`: `input` is the
value `?` stands for and `env` maps other names to values. Nothing walks the
tree at evaluation time. While compiling, constant subtrees are folded, and
each node gets a static FEEL type where one is certain ("a number or null").

Two modes. `strict` (unary tests of a typed column): a test which can never
hold — comparing a number with a string, calling an unknown function — is
refused at compile time with `FeelTypeError`/`FeelSyntaxError` instead of
silently never matching. Lenient (`compile_expression`): FEEL's own rule
applies, a mismatch is null at run time, and only syntax errors are raised.

Names introduced by the expression itself (context entries, `for`/`some`/
`every` variables, function parameters, a filter's `item`) live in a `Scope`
chained to the caller's environment, so evaluation never copies `env`.
Contexts are Python dicts; user-defined functions are `UserFunction` values,
which are also plain Python callables so that built-ins (`sort`) can call them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from kijun.criteria.errors import FeelSyntaxError, FeelTypeError
from kijun.criteria.feel import ast
from kijun.criteria.feel import values as fv
from kijun.criteria.feel.functions import BUILTINS, Builtin, InvalidArgument, parse_date
from kijun.criteria.feel.lexer import line_starts, position
from kijun.criteria.feel.parser import parse_expression, parse_type

Env = Mapping[str, Any] | None
Fn = Callable[[Any, Env], Any]
#: `x instance of T` for the types a model declares (DMN item definitions): the
#: check for type name T, or None when the model does not declare T
TypeResolver = Callable[[str], Callable[[Any], bool] | None]

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


class Scope(Mapping[str, Any]):
    """Names bound by the expression itself, in front of the enclosing environment."""

    __slots__ = ("local", "parent")

    def __init__(self, local: dict[str, Any], parent: Env) -> None:
        self.local = local
        self.parent = parent

    def __getitem__(self, key: str) -> Any:
        if key in self.local:
            return self.local[key]
        if self.parent is None:
            raise KeyError(key)
        return self.parent[key]

    def get(self, key: str, default: Any = None) -> Any:
        local = self.local
        if key in local:
            return local[key]
        parent = self.parent
        return default if parent is None else parent.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.local or (self.parent is not None and key in self.parent)

    def __iter__(self) -> Iterator[str]:
        yield from self.local
        if self.parent is not None:
            for key in self.parent:
                if key not in self.local:
                    yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)


class UserFunction:
    """A function defined in FEEL (`function(a, b) a + b`), closed over its scope."""

    __slots__ = ("body", "env", "input", "parameters")

    def __init__(self, parameters: tuple[str, ...], body: Fn, input: Any, env: Env) -> None:
        self.parameters = parameters
        self.body = body
        self.input = input
        self.env = env

    def __call__(self, *args: Any) -> Any:
        """Positional invocation; a wrong number of arguments gives null, as in FEEL."""
        if len(args) != len(self.parameters):
            return None
        return self.body(self.input, Scope(dict(zip(self.parameters, args, strict=True)), self.env))

    def call_named(self, named: Mapping[str, Any]) -> Any:
        if any(n not in self.parameters for n in named):
            return None
        # A parameter left out is null (DMN 1.5 §10.3.2.13.2).
        local = {p: named.get(p) for p in self.parameters}
        return self.body(self.input, Scope(local, self.env))

    def __repr__(self) -> str:
        return f"function({', '.join(self.parameters)})"


class ExpressionCompiler:
    """Compiles the expressions of one FEEL text.

    `input_type` is the static type of `?` (None: unknown); `subject` opens
    every type-error message (e.g. "unary test '< 5' on a string input") and
    `expected`, if given, closes it (e.g. "a string").
    """

    def __init__(
        self,
        text: str,
        *,
        input_type: str | None,
        subject: str,
        expected: str | None = None,
        strict: bool = True,
        known: Iterable[str] = (),
        types: TypeResolver | None = None,
    ) -> None:
        self.text = text
        #: the declared types `instance of` may name beside FEEL's own
        self.types = types
        self.input_type = input_type
        self.subject = subject
        self.expected = expected
        self.strict = strict
        #: names the caller declared in scope; they shadow built-in functions
        self.known = frozenset(known)
        #: names bound inside the expression (context entries, loop variables …), innermost last
        self.scopes: list[frozenset[str]] = []
        #: names read from the environment (everything but `?`, locals and built-ins)
        self.names: set[str] = set()
        self._line_starts: list[int] | None = None

    def is_local(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    def compile_in(self, node: ast.Node, names: Iterable[str]) -> Compiled:
        """Compile `node` with `names` bound by the expression itself."""
        self.scopes.append(frozenset(names))
        try:
            return self.compile(node)
        finally:
            self.scopes.pop()

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
        if _parse_temporal is not None:
            value = _parse_temporal(node.text)
            if value is not None or not self.strict:
                return constant(value)
            raise self.syntax_error(node, f"{self.source(node)} is not a temporal literal")
        try:
            return constant(parse_date(node.text))
        except InvalidArgument as e:
            if not self.strict:
                return constant(None)
            raise self.syntax_error(
                node,
                f"{self.source(node)} is not a date literal: {e} "
                "(only date literals are supported so far)",
            ) from None

    def _name(self, node: ast.Name) -> Compiled:
        if node.name == "?":
            return Compiled(_input, self.input_type)
        name = node.name
        if self.is_local(name):
            builtin = None
        else:
            self.names.add(name)
            builtin = None if name in self.known else BUILTINS.get(name)
        if builtin is not None:
            # A built-in named as a value (`sort(xs, abs)`, `f(sqrt)`), unless the
            # environment supplies a value of that name after all.
            function = builtin

            def builtin_value(v: Any, env: Env) -> Any:
                value = None if env is None else env.get(name)
                return function if value is None else value

            return Compiled(builtin_value, None)

        def fn(v: Any, env: Env) -> Any:
            return None if env is None else env.get(name)

        return Compiled(fn, None)

    def _negation(self, node: ast.Negation) -> Compiled:
        operand = self.compile(node.operand)
        if self.strict and operand.type not in (None, fv.NUMBER, fv.NULL):
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
        if result is False and self.strict:
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
        op = COMPARE[node.op]
        if left.constant and right.constant:
            return constant(op(left.value, right.value))
        return Compiled(_binary(op, left, right), fv.BOOLEAN)

    def check_comparable(
        self, node: ast.Node, op: str, left: str | None, right: str | None
    ) -> None:
        """Refuse comparisons that are null whatever the values (FEEL would say null)."""
        if not self.strict:
            return
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
            if self.strict and part.type not in (None, fv.BOOLEAN, fv.NULL):
                self.clash(
                    f"'{node.op}' needs booleans, but {self.source(side)!r} is {a_type(part.type)}"
                )
        op = fv.conjunction if node.op == "and" else fv.disjunction
        if left.constant and right.constant:
            return constant(op(left.value, right.value))
        lf, rf = left.fn, right.fn
        # Short-circuit: `false and x` is false and `true or x` is true whatever x is.
        if node.op == "and":

            def conj(v: Any, env: Env) -> Any:
                a = lf(v, env)
                return False if a is False else fv.conjunction(a, rf(v, env))

            return Compiled(conj, fv.BOOLEAN)

        def disj(v: Any, env: Env) -> Any:
            a = lf(v, env)
            return True if a is True else fv.disjunction(a, rf(v, env))

        return Compiled(disj, fv.BOOLEAN)

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

    def _unary_comparison(self, node: ast.UnaryComparison) -> Compiled:
        """`(< 10)` in an expression: the range the unary test denotes."""
        endpoint = self.compile(node.endpoint)
        op = node.op
        make = fv.comparison_range
        if endpoint.constant:
            return constant(make(op, endpoint.value))
        f = endpoint.fn

        def fn(v: Any, env: Env) -> Any:
            return make(op, f(v, env))

        return Compiled(fn, fv.RANGE)

    def _invocation(self, node: ast.Invocation) -> Compiled:
        callee = node.callee
        if isinstance(callee, ast.Name) and not self.is_local(callee.name):
            name = callee.name
            if name not in self.known and name in BUILTINS:
                return self.builtin_call(node, BUILTINS[name])
            if self.strict and name not in self.known:
                known = ", ".join(f"{b}()" for b in sorted(BUILTINS))
                raise self.syntax_error(
                    callee, f"unknown function {self.source(callee)!r}", (f"one of {known}",)
                )
        # Anything else is a value called at run time: a user-defined function, a
        # function from the environment, or a built-in passed around as a value.
        target = self.compile(callee).fn
        if node.named:
            keys = tuple(k for k, _ in node.named)
            named_fns = tuple(self.compile(a).fn for _, a in node.named)

            def call_named(v: Any, env: Env) -> Any:
                return invoke(
                    target(v, env), (), dict(zip(keys, [f(v, env) for f in named_fns], strict=True))
                )

            return Compiled(call_named, None)
        fns = tuple(self.compile(a).fn for a in node.args)

        def call(v: Any, env: Env) -> Any:
            return invoke(target(v, env), [f(v, env) for f in fns], None)

        return Compiled(call, None)

    def builtin_call(self, node: ast.Invocation, builtin: Builtin) -> Compiled:
        if node.named:
            params = builtin.bind_named(tuple(n for n, _ in node.named))
            if params is None:
                if not self.strict:
                    return constant(None)
                raise self.syntax_error(
                    node,
                    f"no overload of {builtin.name}() takes the parameters "
                    f"{', '.join(n for n, _ in node.named)}",
                    (builtin.describe_signatures(),),
                )
            by_name = dict(node.named)
            arg_nodes = tuple(by_name[p] for p in params)
            impl = builtin.impl_for(params)
        else:
            impl = builtin.impl
            if not builtin.bind_positional(len(node.args)):
                if not self.strict:
                    return constant(None)
                raise self.syntax_error(
                    node,
                    f"{builtin.name}() does not take {len(node.args)} argument"
                    f"{'' if len(node.args) == 1 else 's'}",
                    (builtin.describe_signatures(),),
                )
            arg_nodes = node.args
        args = [self.compile(a) for a in arg_nodes]
        # No folding without arguments: `today()` and `now()` change between evaluations.
        if args and all(a.constant for a in args):
            try:
                return constant(impl(*(a.value for a in args)))
            except InvalidArgument as e:
                if not self.strict:
                    return constant(None)
                raise self.syntax_error(node, f"{self.source(node)}: {e}") from None
            except Exception:  # FEEL maps any failure of a built-in to null
                return constant(None)
        fns = tuple(a.fn for a in args)

        def fn(v: Any, env: Env) -> Any:
            try:
                return impl(*[f(v, env) for f in fns])
            except Exception:  # FEEL: a failing built-in is null, never an error
                return None

        return Compiled(fn, builtin.result_type)

    # -- full FEEL ------------------------------------------------------------

    def _context(self, node: ast.ContextExpr) -> Compiled:
        keys = [k for k, _ in node.entries]
        if len(set(keys)) != len(keys):
            # DMN 1.5 §10.3.2.6: the keys of a context are distinct; a repeated one is an error.
            duplicate = next(k for i, k in enumerate(keys) if k in keys[:i])
            if self.strict:
                raise self.syntax_error(node, f"context key {duplicate!r} is repeated")
            return constant(None)
        parts = [self.compile_in(e, keys[:i]) for i, (_, e) in enumerate(node.entries)]
        if all(p.constant for p in parts):
            value = dict(zip(keys, (p.value for p in parts), strict=True))
            return Compiled(lambda v, env: dict(value), None, True, value)
        entries = tuple(zip(keys, (p.fn for p in parts), strict=True))

        def fn(v: Any, env: Env) -> Any:
            result: dict[str, Any] = {}
            # Later entries see the earlier ones through the scope, as it fills.
            scope = Scope(result, env)
            for key, f in entries:
                result[key] = f(v, scope)
            return result

        return Compiled(fn, None)

    def _path(self, node: ast.Path) -> Compiled:
        base = self.compile(node.base).fn
        name = node.name

        def fn(v: Any, env: Env) -> Any:
            return path_of(base(v, env), name)

        return Compiled(fn, None)

    def _filter(self, node: ast.Filter) -> Compiled:
        base = self.compile(node.base).fn
        condition = self.compile_in(node.condition, ("item",))
        cond = condition.fn
        if condition.constant and fv.type_of(condition.value) == fv.NUMBER:
            index = condition.value

            def at_index(v: Any, env: Env) -> Any:
                return index_of(base(v, env), index)

            return Compiled(at_index, None)
        boolean = isinstance(node.condition, _BOOLEAN_NODES)

        def fn(v: Any, env: Env) -> Any:
            items = base(v, env)
            if items is None:
                return None
            if items.__class__ is not list:
                items = [items]  # a single value filters as a singleton list (§10.3.2.5)
            if not items and not boolean:
                r = cond(v, env)
                return index_of(items, r) if fv.type_of(r) == fv.NUMBER else []
            kept = []
            for i, item in enumerate(items):
                # A context's own entries come first: `[{item: 1}][item = 1]` reads the entry.
                local = {"item": item}
                if item.__class__ is dict:
                    local.update(item)
                r = cond(v, Scope(local, env))
                if r is True:
                    kept.append(item)
                elif i == 0 and not boolean and fv.type_of(r) == fv.NUMBER:
                    return index_of(items, r)
            return kept

        return Compiled(fn, fv.LIST if boolean else None)

    def _if(self, node: ast.If) -> Compiled:
        condition = self.compile(node.condition)
        then = self.compile(node.then)
        otherwise = self.compile(node.otherwise)
        if condition.constant:
            return then if condition.value is True else otherwise
        c, t, o = condition.fn, then.fn, otherwise.fn

        def fn(v: Any, env: Env) -> Any:
            # Not true (false, null or not a boolean) takes the else branch.
            return t(v, env) if c(v, env) is True else o(v, env)

        same = then.type if then.type == otherwise.type else None
        return Compiled(fn, same)

    def iterations(self, iterations: tuple[ast.Iteration, ...]) -> list[tuple[str, Fn, Fn | None]]:
        """Compile each source in the scope of the variables before it; pushes one scope."""
        compiled: list[tuple[str, Fn, Fn | None]] = []
        bound: list[str] = []
        for it in iterations:
            source = self.compile_in(it.source, bound).fn
            until = None if it.until is None else self.compile_in(it.until, bound).fn
            compiled.append((it.name, source, until))
            bound.append(it.name)
        return compiled

    def _for(self, node: ast.For) -> Compiled:
        loops = self.iterations(node.iterations)
        body = self.compile_in(node.body, [name for name, _, _ in loops] + ["partial"]).fn

        def fn(v: Any, env: Env) -> Any:
            results: list[Any] = []

            def visit(scope: Scope) -> bool:
                results.append(body(v, scope))
                return True

            # `partial` is the very list being built: the body sees the results so far.
            ok = _nested(loops, v, env, {"partial": results}, visit)
            return results if ok else None

        return Compiled(fn, fv.LIST)

    def _quantified(self, node: ast.Quantified) -> Compiled:
        loops = self.iterations(node.iterations)
        cond = self.compile_in(node.condition, [name for name, _, _ in loops]).fn
        some = node.quantifier == "some"

        def fn(v: Any, env: Env) -> Any:
            # `some` stops at the first true, `every` at the first that is not true.
            found = [not some]

            def visit(scope: Scope) -> bool:
                if (cond(v, scope) is True) is some:
                    found[0] = some
                    return False
                return True

            _nested(loops, v, env, {}, visit)
            return found[0]

        return Compiled(fn, fv.BOOLEAN)

    def _between(self, node: ast.Between) -> Compiled:
        value = self.compile(node.value).fn
        low = self.compile(node.low).fn
        high = self.compile(node.high).fn

        def fn(v: Any, env: Env) -> Any:
            x = value(v, env)
            return fv.conjunction(fv.less_equal(low(v, env), x), fv.less_equal(x, high(v, env)))

        return Compiled(fn, fv.BOOLEAN)

    def _in(self, node: ast.In) -> Compiled:
        value = self.compile(node.value).fn
        tests = tuple(self.positive_test(t) for t in node.tests)

        def fn(v: Any, env: Env) -> Any:
            x = value(v, env)
            result: bool | None = False
            for test in tests:
                r = test(x, env)
                if r is True:
                    return True
                if r is None:
                    result = None
            return result

        return Compiled(fn, fv.BOOLEAN)

    def positive_test(self, node: ast.Node) -> Callable[[Any, Env], bool | None]:
        """A positive unary test on the right of `in`; its `?` is the left-hand value."""
        if isinstance(node, ast.UnaryComparison):
            compare = COMPARE[node.op]
            endpoint = self.compile(node.endpoint).fn

            def comparison(x: Any, env: Env) -> bool | None:
                return compare(x, endpoint(x, env))

            return comparison
        f = self.compile(node).fn
        uses_input = ast.uses_input(node)

        def expression(x: Any, env: Env) -> bool | None:
            r = f(x, env)
            if uses_input and (r is True or r is False):
                return r
            if r.__class__ is list:
                return list_holds(r, x)
            if r.__class__ is fv.FeelRange:
                return r.includes(x)
            return equal(x, r)

        return expression

    def _instance_of(self, node: ast.InstanceOf) -> Compiled:
        value = self.compile(node.value).fn
        check = self.type_check(node.type)

        def fn(v: Any, env: Env) -> Any:
            return check(value(v, env))

        return Compiled(fn, fv.BOOLEAN)

    def type_check(self, t: ast.TypeRef) -> Callable[[Any], bool]:
        name = t.name
        if name == "Any":
            return lambda x: x is not None
        if name == "Null":
            return lambda x: x is None
        if name in ("list", "range") and t.parameters:
            inner = self.type_check(t.parameters[0])
            if name == "list":
                # null conforms to every type inside a collection.
                return lambda x: x.__class__ is list and all(i is None or inner(i) for i in x)
            return lambda x: (
                x.__class__ is fv.FeelRange and all(e is None or inner(e) for e in (x.lo, x.hi))
            )
        if name == "context" and t.fields:
            checks = tuple((k, self.type_check(ft)) for k, ft in t.fields)
            return lambda x: (
                x.__class__ is dict and all(k in x and (x[k] is None or c(x[k])) for k, c in checks)
            )
        if name == "function" and (t.parameters or t.result is not None):
            arity = len(t.parameters)
            return lambda x: (
                (x.__class__ is UserFunction and len(x.parameters) == arity)
                or (x.__class__ is not UserFunction and type_name(x) == "function")
            )
        if name not in _TYPE_NAMES and self.types is not None:
            declared = self.types(name)
            if declared is not None:
                return declared
        if name not in _TYPE_NAMES:
            if self.strict:
                raise self.syntax_error(t, f"unknown type {name!r}", ("a FEEL type",))
            return lambda x: False

        def check(x: Any) -> bool:
            return x is not None and type_name(x) == name

        return check

    def _function(self, node: ast.FunctionDef) -> Compiled:
        parameters = node.parameters
        body = self.compile_in(node.body, parameters).fn

        def fn(v: Any, env: Env) -> Any:
            return UserFunction(parameters, body, v, env)

        return Compiled(fn, None)


_BOOLEAN_NODES = (
    ast.Comparison,
    ast.Logical,
    ast.Between,
    ast.In,
    ast.InstanceOf,
    ast.Quantified,
    ast.Boolean,
)

_TYPE_NAMES = frozenset(
    {
        "number", "string", "boolean", "date", "time", "date and time",
        "days and time duration", "years and months duration", "list", "context",
        "range", "function",
    }
)  # fmt: skip

# The function colleague's `values.parse_temporal(text)` parses `@"…"` literals of
# every temporal type; until it exists, only dates are read (with parse_date).
_parse_temporal: Callable[[str], Any] | None = getattr(fv, "parse_temporal", None)


def _nested(
    loops: list[tuple[str, Fn, Fn | None]],
    v: Any,
    env: Env,
    local: dict[str, Any],
    visit: Callable[[Scope], bool],
) -> bool:
    """Run `visit` for every combination of the loop variables, the first varying slowest.

    Returns False when a source is not iterable (the whole expression is then
    null) or when `visit` asks to stop.
    """

    def level(k: int, bound: dict[str, Any]) -> bool:
        scope = Scope(bound, env)
        if k == len(loops):
            return visit(scope)
        name, source, until = loops[k]
        if until is None:
            items = iteration_items(source(v, scope), None)
        else:
            start = source(v, scope)
            end = until(v, scope)
            items = None if start is None or end is None else _steps(start, end)
        if items is None:
            return False
        return all(level(k + 1, {**bound, name: item}) for item in items)

    return level(0, local)


def _integer(x: Any) -> int | None:
    if fv.type_of(x) != fv.NUMBER:
        return None
    d = Decimal(x)
    return int(d) if d == d.to_integral_value() else None


def iteration_items(source: Any, until: Any) -> list[Any] | range | None:
    """What `x in source` (or `x in source..until`) iterates over; None if nothing sensible.

    `source..until` counts from one integer (or date) to the other, up or down;
    a range literal iterates its integers (or days) from start to end, and a
    descending one (`[2..1]`) is invalid: null. A list iterates its items and
    any other value is a list of itself.
    """
    if until is not None:
        return _steps(source, until)
    if source is None:
        return None
    if source.__class__ is list:
        return source
    if source.__class__ is fv.FeelRange:
        return _range_steps(source)
    return [source]


_DAY = dt.timedelta(days=1)


def _steps(lo: Any, hi: Any) -> list[Any] | range | None:
    """`lo..hi` of an iteration: integers or dates, ascending or descending."""
    a, b = _integer(lo), _integer(hi)
    if a is not None and b is not None:
        return range(a, b + 1) if a <= b else range(a, b - 1, -1)
    if lo.__class__ is dt.date and hi.__class__ is dt.date:
        days = (hi - lo).days
        step = _DAY if days >= 0 else -_DAY
        return [lo + step * i for i in range(abs(days) + 1)]
    return None


def _range_steps(r: fv.FeelRange) -> list[Any] | range | None:
    if r.comparison is not None or r.lo is None or r.hi is None:
        return None
    order = fv.compare(r.lo, r.hi)
    if order is None or order > 0:
        return None  # not ordered, or descending: not a range
    lo, hi = _integer(r.lo), _integer(r.hi)
    if lo is not None and hi is not None:
        return range(lo + (0 if r.lo_closed else 1), hi + (1 if r.hi_closed else 0))
    if r.lo.__class__ is dt.date and r.hi.__class__ is dt.date:
        first = r.lo if r.lo_closed else r.lo + _DAY
        last = r.hi if r.hi_closed else r.hi - _DAY
        return [first + _DAY * i for i in range((last - first).days + 1)]
    return None


def list_holds(items: list[Any], x: Any) -> bool:
    """`x in [a, b, …]`: whether an item equals `x` (or, a range, includes it).

    Like `list contains`, an item of another type simply does not hold:
    `true in [false, 2]` is false, not null.
    """
    for item in items:
        r = item.includes(x) if item.__class__ is fv.FeelRange else equal(x, item)
        if r is True:
            return True
    return False


def index_of(items: Any, index: Any) -> Any:
    """`list[n]`: 1-based, negative from the end, null outside."""
    if items is None:
        return None
    if items.__class__ is not list:
        items = [items]
    i = _integer(index)
    if i is None or i == 0 or abs(i) > len(items):
        return None
    return items[i - 1] if i > 0 else items[i]


_RANGE_PROPERTIES = {
    "start": lambda r: r.lo,
    "end": lambda r: r.hi,
    "start included": lambda r: r.lo_closed,
    "end included": lambda r: r.hi_closed,
}

_DATE_PROPERTIES = {
    "year": lambda d: d.year,
    "month": lambda d: d.month,
    "day": lambda d: d.day,
    "weekday": lambda d: d.isoweekday(),
}

_TIME_PROPERTIES = {
    "hour": lambda t: t.hour,
    "minute": lambda t: t.minute,
    "second": lambda t: t.second,
}

# values.property knows the properties of every temporal value; the fallback
# below (dates and times only) keeps paths working without it.
_property_of: Callable[[Any, str], Any] | None = getattr(fv, "property", None)


def path_of(value: Any, name: str) -> Any:
    """`value.name`: a context entry, mapped over a list, or a property of a value."""
    cls = value.__class__
    if cls is dict:
        return value.get(name)
    if cls is list:
        return [path_of(item, name) for item in value]
    if value is None:
        return None
    if cls is fv.FeelRange:
        prop = _RANGE_PROPERTIES.get(name)
        return None if prop is None else prop(value)
    if _property_of is not None:
        return _property_of(value, name)
    if isinstance(value, dt.date):
        prop = _DATE_PROPERTIES.get(name)
        if prop is not None:
            return prop(value)
    if isinstance(value, dt.datetime | dt.time):
        prop = _TIME_PROPERTIES.get(name)
        if prop is not None:
            return prop(value)
    if isinstance(value, Mapping):
        return value.get(name)
    return None


def type_name(x: Any) -> str:
    """The FEEL type name of a non-null value, as `instance of` spells it."""
    t = fv.type_of(x)
    if t != fv.OTHER:
        return t
    if x.__class__ is dict or isinstance(x, Mapping):
        return "context"
    if isinstance(x, UserFunction | Builtin) or callable(x):
        return "function"
    return t


def equal(a: Any, b: Any) -> bool | None:
    """FEEL `=`, extended to contexts (shim until values.equal knows them)."""
    if a.__class__ is dict and b.__class__ is dict:
        if a.keys() != b.keys():
            return False
        results = [equal(a[k], b[k]) for k in a]
        if all(r is True for r in results):
            return True
        return False if any(r is False for r in results) else None
    if a.__class__ is list and b.__class__ is list and len(a) == len(b):
        results = [equal(x, y) for x, y in zip(a, b, strict=True)]
        if all(r is True for r in results):
            return True
        return False if any(r is False for r in results) else None
    return fv.equal(a, b)


def not_equal(a: Any, b: Any) -> bool | None:
    r = equal(a, b)
    return None if r is None else not r


COMPARE: dict[str, Callable[[Any, Any], bool | None]] = {
    **fv.COMPARE,
    "=": equal,
    "!=": not_equal,
}


def invoke(f: Any, args: list[Any] | tuple[Any, ...], named: dict[str, Any] | None) -> Any:
    """Call a function value at run time; anything that fails is null."""
    try:
        if f.__class__ is UserFunction:
            return f(*args) if named is None else f.call_named(named)
        if isinstance(f, Builtin):
            if named is None:
                return f.impl(*args) if f.bind_positional(len(args)) else None
            params = f.bind_named(tuple(named))
            return None if params is None else f.impl_for(params)(*(named[p] for p in params))
        if named is not None:
            # values.FeelFunction (built-ins as values) binds names itself.
            call_named = getattr(f, "call_named", None)
            return None if call_named is None else call_named(named)
        if callable(f):
            return f(*args)
    except Exception:  # FEEL: a failing invocation is null, never an error
        return None
    return None


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
    ast.UnaryComparison: ExpressionCompiler._unary_comparison,
    ast.Invocation: ExpressionCompiler._invocation,
    ast.ContextExpr: ExpressionCompiler._context,
    ast.Path: ExpressionCompiler._path,
    ast.Filter: ExpressionCompiler._filter,
    ast.If: ExpressionCompiler._if,
    ast.For: ExpressionCompiler._for,
    ast.Quantified: ExpressionCompiler._quantified,
    ast.Between: ExpressionCompiler._between,
    ast.In: ExpressionCompiler._in,
    ast.InstanceOf: ExpressionCompiler._instance_of,
    ast.FunctionDef: ExpressionCompiler._function,
}


@dataclass(frozen=True, slots=True, eq=False)
class Expression:
    """A compiled FEEL expression: `evaluate(env)` many times, no parsing or tree walking.

    `names` are the names it reads from `env` (for dependency analysis).
    """

    text: str
    ast: ast.Node
    names: frozenset[str]
    _fn: Fn

    def evaluate(self, env: Mapping[str, Any] | None = None) -> Any:
        return self._fn(None, env)


def compile_type(text: str, types: TypeResolver | None = None) -> Callable[[Any], bool]:
    """`x instance of <text>` as a predicate on x; `types` resolves declared type names.

    Raises FeelSyntaxError when `text` is not a type.
    """
    compiler = ExpressionCompiler(
        text, input_type=None, subject=f"type {text!r}", strict=False, types=types
    )
    return compiler.type_check(parse_type(text))


def compile_expression(
    text: str, names: Iterable[str] = (), types: TypeResolver | None = None
) -> Expression:
    """Parse and compile one FEEL expression.

    `names` are the names in scope (input data, decisions, BKMs, context
    entries …): multi-word and keyword-containing ones are recognised in the
    text, and they shadow built-in functions of the same name. Names not
    declared are still read from `env` at evaluation time. `types` resolves
    the type names a model declares, for `instance of`. Raises
    FeelSyntaxError (with line, column and what was expected); evaluation
    never raises: type mismatches give null, as FEEL says.
    """
    known = tuple(names)
    tree = parse_expression(text, known)
    compiler = ExpressionCompiler(
        text,
        input_type=None,
        subject=f"expression {text!r}",
        strict=False,
        known=known,
        types=types,
    )
    compiled = compiler.compile(tree)
    return Expression(text, tree, frozenset(compiler.names), compiled.fn)
