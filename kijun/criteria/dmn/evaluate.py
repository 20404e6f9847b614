"""Evaluate DMN decisions, BKMs and decision services.

`DmnModels(definitions)` compiles every boxed expression of a set of models
(one folder: a model and the models it imports) into closures once; each
call to `evaluate` then runs only closures. Values are FEEL values (see
`kijun.criteria.feel.values`), contexts are dicts, functions are callables
with `call_named`.

DMN's error rule is applied throughout: an expression that fails, a value that
does not conform to its declared type, a UNIQUE table with two hits — all
give null for that element, and evaluation goes on.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kijun.criteria.dmn import model as m
from kijun.criteria.dmn.model import DmnError
from kijun.criteria.errors import CriteriaError
from kijun.criteria.feel import ast, compile_expression, parse_unary_tests
from kijun.criteria.feel import evaluate as fe
from kijun.criteria.feel import values as fv

Env = Mapping[str, Any]
Eval = Callable[[Env], Any]
#: (value, env) -> whether a unary test accepts the value
Test = Callable[[Any, Env], bool]
Coerce = Callable[[Any], Any]

#: Marks a value that does not conform to a type (null is a conforming value).
_INVALID = object()

_BASE_TYPES = {
    "number": fv.NUMBER,
    "string": fv.STRING,
    "boolean": fv.BOOLEAN,
    "date": fv.DATE,
    "time": fv.TIME,
    "date and time": fv.DATE_TIME,
    "dateTime": fv.DATE_TIME,
    "days and time duration": fv.DT_DURATION,
    "dayTimeDuration": fv.DT_DURATION,
    "years and months duration": fv.YM_DURATION,
    "yearMonthDuration": fv.YM_DURATION,
    "context": "context",
    "list": fv.LIST,
    "range": fv.RANGE,
    "function": "function",
}


def _null_on_error(f: Eval) -> Eval:
    """A boxed expression that raises gives null (DMN: errors are null, evaluation goes on)."""

    def safe(env: Env) -> Any:
        try:
            return f(env)
        except (ArithmeticError, TypeError, ValueError, KeyError, IndexError, AttributeError):
            return None

    return safe


def compile_feel(
    text: str,
    names: Iterable[str],
    where: str,
    lenient: bool = False,
    types: fe.TypeResolver | None = None,
) -> Eval:
    """A FEEL expression as a closure over an env; empty text is null.

    `lenient`: a syntax error is raised when the expression is evaluated rather
    than now, so one bad expression spoils only what depends on it. `types`
    resolves the model's item definitions for `instance of`.
    """
    if not text.strip():
        return lambda env: None
    try:
        expr = compile_expression(text, names=tuple(names), types=types)
    except CriteriaError as e:
        error = DmnError(f"{where}: FEEL {text.strip()!r}: {e}")
        if lenient:
            return _raising(error)
        raise error from None
    return _null_on_error(expr.evaluate)


def _raising(error: DmnError) -> Eval:
    def fail(env: Env) -> Any:
        raise error

    return fail


def compile_tests(text: str, names: Iterable[str], where: str, lenient: bool = False) -> Test:
    """Unary tests (an input entry, input or output values, allowed values) in FEEL's lenient mode.

    Unlike `compile_unary_tests` for kijun tables, a test that can never hold for
    the column's type is not refused: a DMN model may contain one, and it then
    simply never matches.
    """
    known = tuple(names)
    try:
        tree = parse_unary_tests(text, known)
        compiler = fe.ExpressionCompiler(
            text, input_type=None, subject=f"unary tests {text!r}", strict=False, known=known
        )
        parts = tuple(_positive(compiler, t) for t in tree.tests)
    except CriteriaError as e:
        error = DmnError(f"{where}: unary tests {text.strip()!r}: {e}")
        if not lenient:
            raise error from None
        raising = _raising(error)
        return lambda v, env: bool(raising(env))
    if tree.is_any:
        return lambda v, env: True
    if tree.negated:

        def negated(v: Any, env: Env) -> bool:
            results = [p(v, env) for p in parts]
            return all(r is False for r in results)

        return negated

    def any_of(v: Any, env: Env) -> bool:
        return any(p(v, env) is True for p in parts)

    return any_of


def _positive(compiler: fe.ExpressionCompiler, node: ast.Node) -> Callable[[Any, Env], Any]:
    if isinstance(node, ast.UnaryComparison):
        op = fe.COMPARE[node.op]
        end = compiler.compile(node.endpoint).fn
        return lambda v, env: _safe(lambda: op(v, end(v, env)))
    if isinstance(node, ast.Range):
        lo, hi = compiler.compile(node.lo).fn, compiler.compile(node.hi).fn
        lo_closed, hi_closed = node.lo_closed, node.hi_closed
        return lambda v, env: _safe(
            lambda: fv.FeelRange(lo(v, env), hi(v, env), lo_closed, hi_closed).includes(v)
        )
    f = compiler.compile(node).fn
    uses_input = ast.uses_input(node)

    def test(v: Any, env: Env) -> Any:
        r = _safe(lambda: f(v, env))
        if uses_input and (r is True or r is False or r is None):
            return r
        return _contains_or_equals(r, v)

    return test


def _safe(f: Callable[[], Any]) -> Any:
    try:
        return f()
    except (ArithmeticError, TypeError, ValueError, KeyError, IndexError, AttributeError):
        return None


def _contains_or_equals(r: Any, v: Any) -> Any:
    if r.__class__ is list:
        if v.__class__ is list:
            eq = fe.equal(v, r)
            if eq is True:
                return True
        return _safe(lambda: fv.contains(r, v))
    if r.__class__ is fv.FeelRange:
        return _safe(lambda: r.includes(v))
    if r is True and v.__class__ is not bool:
        # A boolean expression not about `?` (e.g. a function of other names) holds by itself.
        return True
    return fe.equal(v, r)


# -- types ----------------------------------------------------------------------


class Types:
    """Item definitions of one model, turned into coercion functions on demand."""

    def __init__(self, models: DmnModels, definitions: m.Definitions) -> None:
        self.models = models
        self.lenient = models.lenient
        self.definitions = definitions
        self.items = {t.name: t for t in definitions.item_definitions}
        self.cache: dict[str, Coerce] = {}
        self.checks: dict[str, Callable[[Any], bool] | None] = {}

    def instance_check(self, name: str) -> Callable[[Any], bool] | None:
        """`x instance of name` for an item definition (or `import.name`); None if undeclared.

        Only the structure counts: the base type, collection, components (more
        entries are fine) and function-ness; allowed values do not, so `256
        instance of t255` holds for a `number` restricted to [0..255].
        """
        if name in self.checks:
            return self.checks[name]
        if name not in self.items:
            prefix, dot, rest = name.partition(".")
            other = self.models.imported(self.definitions, prefix) if dot else None
            check = None if other is None else self.models.types(other).instance_check(rest)
            self.checks[name] = check
            return check
        # Recursive item definitions: the entry resolves to the check once it is built.
        built: list[Callable[[Any], bool]] = []
        self.checks[name] = lambda x: built[0](x)
        check = self._item_check(self.items[name])
        built.append(check)
        self.checks[name] = check
        return check

    def _item_check(self, t: m.TypeDef) -> Callable[[Any], bool]:
        element: Callable[[Any], bool]
        if t.is_function:
            element = _is_function
        elif t.components:
            fields = tuple((c.name, self._item_check(c)) for c in t.components)

            def structure(x: Any) -> bool:
                return isinstance(x, Mapping) and all(
                    k in x and (x[k] is None or c(x[k])) for k, c in fields
                )

            element = structure
        elif t.type_ref is None:
            element = _not_null
        else:
            element = self._ref_check(t.type_ref)
        if not t.is_collection:
            return element
        item = element

        def collection(x: Any) -> bool:
            return x.__class__ is list and all(i is None or item(i) for i in x)

        return collection

    def _ref_check(self, type_ref: str) -> Callable[[Any], bool]:
        declared = self.instance_check(type_ref)
        if declared is not None:
            return declared
        base = _BASE_TYPES.get(type_ref)
        if base is not None:

            def of_base(x: Any) -> bool:
                return x is not None and fe.type_name(x) == base

            return of_base
        try:
            return fe.compile_type(type_ref, self.instance_check)
        except CriteriaError:
            return _never

    def coercer(self, type_ref: str | None) -> Coerce | None:
        """value → conforming value, or `_INVALID`; None when anything goes."""
        if type_ref is None or type_ref in ("Any", "any"):
            return None
        if type_ref in self.cache:
            return self.cache[type_ref]
        # Recursive item definitions: a placeholder breaks the cycle.
        self.cache[type_ref] = _anything
        c = self._build_ref(type_ref)
        self.cache[type_ref] = c or _anything
        return c

    def _build_ref(self, type_ref: str) -> Coerce | None:
        if type_ref in self.items:
            return self.build(self.items[type_ref])
        if "." in type_ref:
            prefix, rest = type_ref.split(".", 1)
            other = self.models.imported(self.definitions, prefix)
            if other is not None:
                return self.models.types(other).coercer(rest)
        base = _BASE_TYPES.get(type_ref)
        if base is None:
            if type_ref.startswith(("list<", "context<", "range<", "function<")):
                return None
            raise DmnError(
                f"model {self.definitions.name!r}: unknown type {type_ref!r} "
                "(not a FEEL type nor an item definition)"
            )
        return _base(base)

    def build(self, t: m.TypeDef) -> Coerce | None:
        if t.is_function:
            element: Coerce | None = _base("function")
        elif t.components:
            fields = tuple((c.name, self.build(c)) for c in t.components)
            element = _structure(fields)
        else:
            element = self.coercer(t.type_ref)
        if t.allowed is not None:
            test = compile_tests(
                t.allowed, (), f"item definition {t.name!r} allowed values", self.lenient
            )
            element = _restricted(element, test)
        if t.is_collection:
            return _collection(element)
        return element


def _anything(v: Any) -> Any:
    return v


def _is_function(x: Any) -> bool:
    return x is not None and fe.type_name(x) == "function"


def _not_null(x: Any) -> bool:
    return x is not None


def _never(x: Any) -> bool:
    return False


def _base(type_name: str) -> Coerce:
    def coerce(v: Any) -> Any:
        if v is None:
            return None
        if fe.type_name(v) == type_name:
            return v
        # A singleton list stands for its element (DMN 1.5 §10.3.2.9.4).
        if v.__class__ is list and len(v) == 1 and type_name != fv.LIST:
            return coerce(v[0])
        return _INVALID

    return coerce


def _structure(fields: tuple[tuple[str, Coerce | None], ...]) -> Coerce:
    def coerce(v: Any) -> Any:
        if v is None:
            return None
        if v.__class__ is list and len(v) == 1:
            return coerce(v[0])
        if not isinstance(v, Mapping):
            return _INVALID
        out = dict(v)
        for name, c in fields:
            if name not in v:
                return _INVALID
            if c is not None:
                x = c(v[name])
                if x is _INVALID:
                    return _INVALID
                out[name] = x
        return out

    return coerce


def _restricted(element: Coerce | None, test: Test) -> Coerce:
    def coerce(v: Any) -> Any:
        x = v if element is None else element(v)
        if x is None or x is _INVALID:
            return x
        return x if test(x, {}) else _INVALID

    return coerce


def _collection(element: Coerce | None) -> Coerce:
    def coerce(v: Any) -> Any:
        if v is None:
            return None
        items = v if v.__class__ is list else [v]
        if element is None:
            return list(items)
        out = []
        for i in items:
            x = element(i)
            if x is _INVALID:
                return _INVALID
            out.append(x)
        return out

    return coerce


def conform(c: Coerce | None, v: Any) -> Any:
    """Apply a coercion; a non-conforming value is null."""
    if c is None:
        return v
    x = c(v)
    return None if x is _INVALID else x


# -- functions ----------------------------------------------------------------------


class DmnFunction:
    """A function from a BKM, a function definition box or a decision service.

    Positional and named calls both bind to `parameters`; arguments are
    coerced to the parameters' types and a wrong arity gives null.
    """

    __slots__ = ("body", "coercers", "env", "name", "parameters", "result")

    def __init__(
        self,
        name: str,
        parameters: tuple[str, ...],
        coercers: tuple[Coerce | None, ...],
        body: Eval,
        env: Env,
        result: Coerce | None = None,
    ) -> None:
        self.name = name
        self.parameters = parameters
        self.coercers = coercers
        self.body = body
        self.env = env
        self.result = result

    def __call__(self, *args: Any) -> Any:
        if len(args) != len(self.parameters):
            return None
        return self._run(dict(zip(self.parameters, args, strict=True)))

    def call_named(self, named: Mapping[str, Any]) -> Any:
        if any(n not in self.parameters for n in named):
            return None
        return self._run({p: named.get(p) for p in self.parameters})

    def _run(self, local: dict[str, Any]) -> Any:
        for p, c in zip(self.parameters, self.coercers, strict=True):
            if c is not None:
                x = c(local[p])
                if x is _INVALID:
                    return None
                local[p] = x
        return conform(self.result, self.body(fe.Scope(local, self.env)))

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(self.parameters)})"


# -- boxed expressions ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Output:
    name: str | None
    coerce: Coerce | None
    allowed: Test | None
    order: tuple[Any, ...]
    default: Eval | None


class BoxCompiler:
    """Compiles the boxed expressions of one model."""

    def __init__(self, types: Types) -> None:
        self.types = types
        self.lenient = types.lenient

    def feel(self, text: str, names: Iterable[str], where: str) -> Eval:
        return compile_feel(text, names, where, self.lenient, self.types.instance_check)

    def tests(self, text: str, names: Iterable[str], where: str) -> Test:
        return compile_tests(text, names, where, self.lenient)

    def compile(self, expr: m.Expr | None, names: tuple[str, ...], where: str) -> Eval:
        if expr is None:
            return lambda env: None
        f = self._compile(expr, names, where)
        c = self.types.coercer(expr.type_ref) if not isinstance(expr, m.FunctionDef) else None
        if c is None:
            return f
        return lambda env: conform(c, f(env))

    def _compile(self, expr: m.Expr, names: tuple[str, ...], where: str) -> Eval:
        if isinstance(expr, m.Literal):
            return self.feel(expr.text, names, where)
        if isinstance(expr, m.Context):
            return self._context(expr, names, where)
        if isinstance(expr, m.ListBox):
            items = tuple(self.compile(i, names, where) for i in expr.items)
            return lambda env: [f(env) for f in items]
        if isinstance(expr, m.Relation):
            cols = tuple(c for c, _ in expr.columns)
            coercers = tuple(self.types.coercer(t) for _, t in expr.columns)
            rows = tuple(tuple(self.compile(c, names, where) for c in row) for row in expr.rows)

            def relation(env: Env) -> Any:
                return [
                    {
                        c: conform(k, f(env))
                        for c, k, f in zip(cols, coercers, row, strict=True)
                    }
                    for row in rows
                ]

            return relation
        if isinstance(expr, m.Invocation):
            return self._invocation(expr, names, where)
        if isinstance(expr, m.FunctionDef):
            return self._function(expr, names, where, None)
        if isinstance(expr, m.Conditional):
            cond = self.compile(expr.if_, names, where)
            then = self.compile(expr.then, names, where)
            other = self.compile(expr.else_, names, where)

            def conditional(env: Env) -> Any:
                c = cond(env)
                if c is True:
                    return then(env)
                # null selects the else branch, as in FEEL's `if`; any other value is an error.
                return other(env) if c is False or c is None else None

            return conditional
        if isinstance(expr, m.FilterBox):
            return self._filter(expr, names, where)
        if isinstance(expr, m.Iterator):
            return self._iterator(expr, names, where)
        if isinstance(expr, m.DecisionTable):
            return self._table(expr, names, where)
        raise DmnError(f"{where}: {type(expr).__name__} is not supported")

    def _context(self, expr: m.Context, names: tuple[str, ...], where: str) -> Eval:
        entries: list[tuple[str | None, Eval]] = []
        scope = names
        for entry in expr.entries:
            f = self.compile(entry.value, scope, f"{where} context entry {entry.name!r}")
            c = self.types.coercer(entry.type_ref)
            if c is not None:
                f = _coerced(f, c)
            entries.append((entry.name, f))
            if entry.name is not None:
                scope = (*scope, entry.name)
        final = tuple(entries)

        def context(env: Env) -> Any:
            local: dict[str, Any] = {}
            inner = fe.Scope(local, env)
            for name, f in final:
                value = f(inner)
                if name is None:
                    return value
                local[name] = value
            return local

        return context

    def _invocation(self, expr: m.Invocation, names: tuple[str, ...], where: str) -> Eval:
        callee = self.feel(expr.callee, names, f"{where} invocation")
        bindings = tuple(
            (p, self.compile(e, names, f"{where} binding {p!r}")) for p, e in expr.bindings
        )

        def invocation(env: Env) -> Any:
            f = callee(env)
            if f is None:
                return None
            return fe.invoke(f, (), {p: b(env) for p, b in bindings})

        return invocation

    def _function(
        self, expr: m.FunctionDef, names: tuple[str, ...], where: str, result: Coerce | None
    ) -> Eval:
        params = tuple(p for p, _ in expr.parameters)
        coercers = tuple(self.types.coercer(t) for _, t in expr.parameters)
        if expr.kind.upper() != "FEEL":
            # Java and PMML functions are outside kijun: calling one gives null.
            def external(env: Env) -> Any:
                return DmnFunction(where, params, coercers, lambda e: None, env, result)

            return external
        body = self.compile(expr.body, (*names, *params), where)

        def function(env: Env) -> Any:
            return DmnFunction(where, params, coercers, body, env, result)

        return function

    def _filter(self, expr: m.FilterBox, names: tuple[str, ...], where: str) -> Eval:
        source = self.compile(expr.in_, names, where)
        match = self.compile(expr.match, (*names, "item"), where)

        def filter_(env: Env) -> Any:
            items = source(env)
            if items is None:
                return None
            if items.__class__ is not list:
                items = [items]
            out = []
            for item in items:
                local = dict(item) if isinstance(item, dict) else {}
                local["item"] = item
                if match(fe.Scope(local, env)) is True:
                    out.append(item)
            return out

        return filter_

    def _iterator(self, expr: m.Iterator, names: tuple[str, ...], where: str) -> Eval:
        source = self.compile(expr.in_, names, where)
        body = self.compile(expr.body, (*names, expr.variable), where)
        var, kind = expr.variable, expr.kind

        def iterate(env: Env) -> Any:
            items = source(env)
            if items is None:
                return None
            if items.__class__ is fv.FeelRange or not isinstance(items, list | range):
                got = fe.iteration_items(items, None) if items.__class__ is fv.FeelRange else None
                items = got if got is not None else [items]
            results = [body(fe.Scope({var: i}, env)) for i in items]
            if kind == "for":
                return results
            if any(r is not None and r.__class__ is not bool for r in results):
                return None
            if kind == "some":
                if any(r is True for r in results):
                    return True
                return False if all(r is False for r in results) else None
            if all(r is True for r in results):
                return True
            return False if any(r is False for r in results) else None

        return iterate

    # -- decision tables -------------------------------------------------------------

    def _table(self, dt: m.DecisionTable, names: tuple[str, ...], where: str) -> Eval:
        inputs = []
        for i, clause in enumerate(dt.inputs, 1):
            w = f"{where} input {i}"
            inputs.append(
                (
                    self.feel(clause.text, names, w),
                    None if clause.allowed is None else self.tests(clause.allowed, names, w),
                )
            )
        outputs = []
        for o in dt.outputs:
            w = f"{where} output {o.name or dt.label or ''}".rstrip()
            order: tuple[Any, ...] = ()
            if o.allowed is not None:
                try:
                    listed = compile_expression(f"[{o.allowed}]", names=names).evaluate({})
                    order = tuple(listed) if isinstance(listed, list) else ()
                except CriteriaError:
                    order = ()
            outputs.append(
                _Output(
                    o.name,
                    self.types.coercer(o.type_ref),
                    None if o.allowed is None else self.tests(o.allowed, names, w),
                    order,
                    None if o.default is None else self.feel(o.default, names, w),
                )
            )
        rules: list[tuple[tuple[Test, ...], tuple[Eval, ...]]] = []
        for r in dt.rules:
            w = f"{where} rule {r.id or len(rules) + 1}"
            tests = tuple(self.tests(t, names, w) for t in r.inputs)
            results = tuple(self.feel(t, names, w) for t in r.outputs)
            rules.append((tests, results))
        return _TableRunner(
            dt.hit_policy, dt.aggregation, tuple(inputs), tuple(outputs), tuple(rules)
        ).run


def _located(err: DmnError, where: str) -> DmnError:
    """Prefix `where` to an error's message unless it already starts with it."""
    return err if str(err).startswith(where) else DmnError(f"{where}: {err}")


def _coerced(f: Eval, c: Coerce) -> Eval:
    return lambda env: conform(c, f(env))


class _TableRunner:
    def __init__(
        self,
        hit_policy: str,
        aggregation: str | None,
        inputs: tuple[tuple[Eval, Test | None], ...],
        outputs: tuple[_Output, ...],
        rules: tuple[tuple[tuple[Test, ...], tuple[Eval, ...]], ...],
    ) -> None:
        self.hit_policy = hit_policy
        self.aggregation = aggregation
        self.inputs = inputs
        self.outputs = outputs
        self.rules = rules
        self.single = len(outputs) == 1

    def _output_value(self, out: _Output, f: Eval, env: Env) -> Any:
        value = conform(out.coerce, f(env))
        if value is not None and out.allowed is not None and not out.allowed(value, env):
            raise _TableError
        return value

    def _row(self, results: tuple[Eval, ...], env: Env) -> Any:
        values = [
            self._output_value(o, f, env) for o, f in zip(self.outputs, results, strict=True)
        ]
        if self.single:
            return values[0]
        return {o.name: v for o, v in zip(self.outputs, values, strict=True)}

    def _priority(self, results: tuple[Eval, ...], env: Env) -> tuple[int, ...]:
        key = []
        for o, f in zip(self.outputs, results, strict=True):
            if not o.order:
                continue
            value = conform(o.coerce, f(env))
            rank = len(o.order)
            for i, allowed in enumerate(o.order):
                if fe.equal(value, allowed) is True:
                    rank = i
                    break
            key.append(rank)
        return tuple(key)

    def run(self, env: Env) -> Any:
        try:
            return self._run(env)
        except _TableError:
            return None

    def _run(self, env: Env) -> Any:
        values = []
        for f, allowed in self.inputs:
            v = f(env)
            if allowed is not None and v is not None and not allowed(v, env):
                return None
            values.append(v)
        matched = [
            results
            for tests, results in self.rules
            if all(t(v, env) for t, v in zip(tests, values, strict=True))
        ]
        policy = self.hit_policy
        if not matched:
            return self._default(env)
        if policy == "UNIQUE":
            return self._row(matched[0], env) if len(matched) == 1 else None
        if policy == "FIRST":
            return self._row(matched[0], env)
        if policy == "ANY":
            rows = [self._row(r, env) for r in matched]
            return rows[0] if all(fe.equal(rows[0], r) is True for r in rows) else None
        if policy in ("PRIORITY", "OUTPUT ORDER"):
            ordered = sorted(matched, key=lambda r: self._priority(r, env))
            if policy == "PRIORITY":
                return self._row(ordered[0], env)
            return [self._row(r, env) for r in ordered]
        rows = [self._row(r, env) for r in matched]
        if policy == "RULE ORDER" or self.aggregation is None:
            return rows
        return _aggregate(self.aggregation, rows)

    def _default(self, env: Env) -> Any:
        if self.aggregation == "COUNT":
            return 0
        if all(o.default is None for o in self.outputs):
            return None
        values = [conform(o.coerce, o.default(env)) if o.default else None for o in self.outputs]
        if self.single:
            return values[0]
        return {o.name: v for o, v in zip(self.outputs, values, strict=True)}


class _TableError(Exception):
    """A decision table result breaks its output values: the table's value is null."""


def _aggregate(aggregation: str, rows: list[Any]) -> Any:
    if aggregation == "COUNT":
        return len(rows)
    values = [r for r in rows if r is not None]
    if not values:
        return None
    try:
        if aggregation == "SUM":
            if not all(fv.type_of(v) == fv.NUMBER for v in values):
                return None
            total = Decimal(0)
            for v in values:
                total = fv.CONTEXT.add(total, Decimal(v))
            return total
        first = fv.type_of(values[0])
        if first not in fv.ORDERED or any(fv.type_of(v) != first for v in values):
            return None
        return min(values) if aggregation == "MIN" else max(values)
    except (decimal.InvalidOperation, TypeError):
        return None


# -- the model set ---------------------------------------------------------------------


Key = tuple[str, str]  # (namespace, id)


@dataclass(frozen=True, slots=True)
class _Node:
    """A DRG element with the model it belongs to."""

    kind: str  # "input", "decision", "bkm", "service"
    element: Any
    owner: m.Definitions


class DmnModels:
    """A set of DMN models (one folder), compiled once, evaluated many times."""

    def __init__(self, definitions: Sequence[m.Definitions], *, lenient: bool = False) -> None:
        """Compile `definitions` (the main model first, then the models it imports).

        Strict (the default) refuses a model with a FEEL syntax error anywhere;
        `lenient` defers such an error to the evaluation of the element holding
        it, as a TCK run needs to test the rest of the model.
        """
        self.lenient = lenient
        self.definitions = tuple(definitions)
        self.by_namespace: dict[str, m.Definitions] = {}
        self.by_name: dict[str, m.Definitions] = {}
        for d in self.definitions:
            self.by_namespace.setdefault(d.namespace, d)
            self.by_name.setdefault(d.name, d)
        self.nodes: dict[Key, _Node] = {}
        for d in self.definitions:
            for kind, elements in (
                ("input", d.inputs),
                ("decision", d.decisions),
                ("bkm", d.bkms),
                ("service", d.services),
            ):
                for e in elements:
                    self.nodes[(d.namespace, e.id)] = _Node(kind, e, d)
        self._types: dict[str, Types] = {}
        self.decisions: dict[Key, Eval] = {}
        self.input_types: dict[Key, Coerce | None] = {}
        self.decision_types: dict[Key, Coerce | None] = {}
        #: per element: the names it sees, as (name in scope, import prefix or None, key)
        self.scopes: dict[Key, tuple[tuple[str, str | None, Key], ...]] = {}
        self.functions: dict[Key, DmnFunction] = {}
        self._compile()

    # -- lookup ----------------------------------------------------------------------

    def types(self, d: m.Definitions) -> Types:
        t = self._types.get(d.namespace)
        if t is None:
            t = self._types[d.namespace] = Types(self, d)
        return t

    def imported(self, d: m.Definitions, name: str) -> m.Definitions | None:
        for i in d.imports:
            if i.name == name:
                return self.by_namespace.get(i.namespace)
        return None

    def resolve(self, owner: m.Definitions, href: str, where: str) -> Key:
        namespace, _, ident = href.partition("#")
        key = (namespace or owner.namespace, ident)
        if key not in self.nodes:
            raise DmnError(f"{where}: reference {href!r} points to no element of the loaded models")
        return key

    def key_of(self, name: str, model: m.Definitions | None = None) -> Key:
        """The element called `name` in `model` (default: the first model)."""
        d = model or self.definitions[0]
        for key, node in self.nodes.items():
            if node.owner is d and node.element.name == name:
                return key
        raise KeyError(f"model {d.name!r} has no decision, BKM or decision service named {name!r}")

    # -- compilation --------------------------------------------------------------

    def _scope(self, d: m.Definitions, key: Key, hrefs: Iterable[str], where: str) -> None:
        seen = []
        for href in hrefs:
            k = self.resolve(d, href, where)
            node = self.nodes[k]
            prefix = None
            if node.owner is not d:
                prefix = next(
                    (i.name for i in d.imports if i.namespace == node.owner.namespace), None
                )
            seen.append((node.element.name, prefix, k))
        self.scopes[key] = tuple(seen)

    @staticmethod
    def _visible(scope: Iterable[tuple[str, str | None, Key]]) -> tuple[str, ...]:
        names: list[str] = []
        for name, prefix, _ in scope:
            if prefix:
                names.extend((prefix, f"{prefix}.{name}"))
            else:
                names.append(name)
        return tuple(names)

    def _compile(self) -> None:
        # Scopes first: a BKM's function needs the functions it calls, all created here.
        for key, node in self.nodes.items():
            d, e = node.owner, node.element
            where = f"{node.kind} {e.name!r} (id {e.id}) in model {d.name!r}"
            if node.kind == "decision":
                self._scope(d, key, (*e.information, *e.knowledge), where)
            elif node.kind == "bkm":
                self._scope(d, key, e.knowledge, where)
        for key, node in self.nodes.items():
            d, e = node.owner, node.element
            types = self.types(d)
            where = f"{node.kind} {e.name!r} (id {e.id}) in model {d.name!r}"
            try:
                if node.kind == "decision":
                    self.decision_types[key] = types.coercer(e.type_ref)
                elif node.kind == "input":
                    self.input_types[key] = types.coercer(e.type_ref)
            except DmnError as err:
                raise _located(err, where) from None
        for key, node in self.nodes.items():
            d, e = node.owner, node.element
            types = self.types(d)
            where = f"{node.kind} {e.name!r} (id {e.id}) in model {d.name!r}"
            try:
                if node.kind == "input":
                    pass
                elif node.kind == "bkm":
                    self._bkm(key, e, types, where)
                elif node.kind == "service":
                    self._service(key, e, d, types, where)
            except DmnError as err:
                raise _located(err, where) from None
        for key, node in self.nodes.items():
            if node.kind != "decision":
                continue
            d, e = node.owner, node.element
            where = f"decision {e.name!r} (id {e.id}) in model {d.name!r}"
            types = self.types(d)
            boxes = BoxCompiler(types)
            names = self._visible(self.scopes[key])
            self.decisions[key] = boxes.compile(e.expression, names, where)
        for f in self.functions.values():
            f.env = self._static_env(f.env)

    def _bkm(self, key: Key, e: m.Bkm, types: Types, where: str) -> None:
        boxes = BoxCompiler(types)
        names = self._visible(self.scopes[key])
        if e.function is None:
            self.functions[key] = DmnFunction(e.name, (), (), lambda env: None, {})
            return
        params = tuple(p for p, _ in e.function.parameters)
        coercers = tuple(types.coercer(t) for _, t in e.function.parameters)
        body = lambda env: None  # noqa: E731 - replaced below for FEEL functions
        if e.function.kind.upper() == "FEEL":
            body = boxes.compile(e.function.body, (*names, *params), where)
        result = types.coercer(e.type_ref) if e.type_ref else None
        # The env is filled in once every function exists (BKMs may call each other).
        self.functions[key] = DmnFunction(
            e.name, params, coercers, body, {"__scope__": key}, result
        )

    def _service(
        self, key: Key, e: m.DecisionService, d: m.Definitions, types: Types, where: str
    ) -> None:
        data = tuple(self.resolve(d, h, where) for h in e.input_data)
        decisions = tuple(self.resolve(d, h, where) for h in e.input_decisions)
        outputs = tuple(self.resolve(d, h, where) for h in e.outputs)
        params = tuple(self.nodes[k].element.name for k in (*data, *decisions))
        coercers = tuple(
            self.input_types.get(k) if self.nodes[k].kind == "input" else self.decision_types.get(k)
            for k in (*data, *decisions)
        )
        models = self

        def body(env: Env) -> Any:
            overrides = {k: env.get(self.nodes[k].element.name) for k in (*data, *decisions)}
            session = Session(models, {}, overrides=overrides)
            results = {self.nodes[k].element.name: session.decision(k) for k in outputs}
            if len(outputs) == 1:
                return next(iter(results.values()))
            return results

        self.functions[key] = DmnFunction(
            e.name, params, coercers, body, {}, types.coercer(e.type_ref)
        )

    def _static_env(self, env: Env) -> Env:
        key = env.get("__scope__")
        if key is None:
            return env
        out: dict[str, Any] = {}
        for name, prefix, k in self.scopes[key]:
            f = self.functions.get(k)
            if f is None:
                continue
            if prefix:
                out.setdefault(prefix, {})[name] = f
                out[f"{prefix}.{name}"] = f
            else:
                out[name] = f
        return out

    # -- evaluation ------------------------------------------------------------------

    def session(
        self,
        inputs: Mapping[str, Any],
        namespaced: Mapping[tuple[str, str], Any] | None = None,
        model: m.Definitions | None = None,
    ) -> Session:
        return Session(self, inputs, namespaced=namespaced, model=model)

    def evaluate(self, decision: str, inputs: Mapping[str, Any]) -> Any:
        """The value of the decision named `decision` of the first model, given input data."""
        key = self.key_of(decision)
        if self.nodes[key].kind != "decision":
            raise KeyError(f"{decision!r} is not a decision")
        return self.session(inputs).decision(key)

    def invoke(self, name: str, arguments: Mapping[str, Any]) -> Any:
        """Call a BKM or decision service of the first model with named arguments."""
        f = self.functions.get(self.key_of(name))
        if f is None:
            raise KeyError(f"{name!r} is not a BKM or decision service")
        return f.call_named({k: v for k, v in arguments.items() if k in f.parameters})


class Session:
    """One evaluation: input values and the decisions computed so far."""

    def __init__(
        self,
        models: DmnModels,
        inputs: Mapping[str, Any],
        *,
        namespaced: Mapping[tuple[str, str], Any] | None = None,
        overrides: Mapping[Key, Any] | None = None,
        model: m.Definitions | None = None,
    ) -> None:
        self.models = models
        self.inputs = inputs
        self.namespaced = namespaced or {}
        self.values: dict[Key, Any] = dict(overrides or {})
        self.top = model or models.definitions[0]
        self.active: set[Key] = set()

    def _path(self, namespace: str) -> list[str] | None:
        """Import names leading from the top model to `namespace` (breadth first)."""
        todo: list[tuple[m.Definitions, list[str]]] = [(self.top, [])]
        seen = {self.top.namespace}
        while todo:
            d, path = todo.pop(0)
            if d.namespace == namespace:
                return path
            for i in d.imports:
                nxt = self.models.by_namespace.get(i.namespace)
                if nxt is not None and nxt.namespace not in seen:
                    seen.add(nxt.namespace)
                    todo.append((nxt, [*path, i.name]))
        return None

    def input(self, key: Key) -> Any:
        node = self.models.nodes[key]
        name = node.element.name
        if (key[0], name) in self.namespaced:
            raw = self.namespaced[(key[0], name)]
        elif node.owner is self.top:
            raw = self.inputs.get(name)
        else:
            raw = None
            path = self._path(key[0])
            if path is not None:
                holder: Any = self.inputs
                for p in path:
                    holder = holder.get(p) if isinstance(holder, Mapping) else None
                raw = holder.get(name) if isinstance(holder, Mapping) else None
                if raw is None and path:
                    raw = self.inputs.get(".".join([*path, name]))
        return conform(self.models.input_types.get(key), raw)

    def value(self, key: Key) -> Any:
        if key in self.values:
            return self.values[key]
        node = self.models.nodes[key]
        if node.kind == "input":
            v = self.input(key)
        elif node.kind == "decision":
            v = self.decision(key)
        else:
            v = self.models.functions[key]
        self.values[key] = v
        return v

    def decision(self, key: Key) -> Any:
        if key in self.values:
            return self.values[key]
        if key in self.active:
            raise DmnError(f"decision {self.models.nodes[key].element.name!r} requires itself")
        self.active.add(key)
        try:
            env: dict[str, Any] = {}
            for name, prefix, k in self.models.scopes[key]:
                v = self.value(k)
                if prefix:
                    holder = env.setdefault(prefix, {})
                    if isinstance(holder, dict):
                        holder[name] = v
                    env[f"{prefix}.{name}"] = v
                else:
                    env[name] = v
            raw = self.models.decisions[key](env)
            v = conform(self.models.decision_types.get(key), raw)
        finally:
            self.active.discard(key)
        self.values[key] = v
        return v
