"""FEEL values at run time: types, equality, ordering, arithmetic, three-valued logic.

Python values stand for FEEL values: None (null), int or Decimal (number; an
int is a number, a bool is not), str, bool, datetime.date (date),
datetime.datetime (date and time), `temporal.WideDate` and
`temporal.WideDateTime` (dates and times beyond Python's), `temporal.FeelTime`,
the two durations of `temporal`, list, dict (context, insertion ordered),
`FeelRange` and callables (functions: `FeelFunction`, or any Python callable
such as the evaluator's user functions). Every operation follows FEEL and
gives null (None) instead of raising when the operands do not fit.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kijun.criteria.feel import temporal
from kijun.criteria.feel.temporal import (
    DaysTimeDuration,
    FeelTime,
    WideDate,
    WideDateTime,
    YearsMonthsDuration,
    parse_temporal,
)

# FEEL numbers are IEEE 754-2008 decimal128: 34 significant digits.
CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=6144,
    Emin=-6143,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

#: Exact classes of a FEEL number (bool, a subclass of int, is deliberately absent).
NUMBER_CLASSES: frozenset[type] = frozenset({int, Decimal})

NUMBER = "number"
STRING = "string"
BOOLEAN = "boolean"
DATE = "date"
NULL = "null"
LIST = "list"
RANGE = "range"
OTHER = "other"
TIME = "time"
DATE_TIME = "date and time"
DT_DURATION = "days and time duration"
YM_DURATION = "years and months duration"
CONTEXT_TYPE = "context"
FUNCTION = "function"

#: Types whose values are ordered.
ORDERED = frozenset({NUMBER, STRING, DATE, TIME, DATE_TIME, DT_DURATION, YM_DURATION})

#: Exact class → FEEL type, the fast path of `type_of`.
_TYPE_OF_CLASS: dict[type, str] = {
    int: NUMBER,
    Decimal: NUMBER,
    str: STRING,
    bool: BOOLEAN,
    dt.date: DATE,
    dt.datetime: DATE_TIME,
    WideDate: DATE,
    WideDateTime: DATE_TIME,
    FeelTime: TIME,
    DaysTimeDuration: DT_DURATION,
    YearsMonthsDuration: YM_DURATION,
    type(None): NULL,
    list: LIST,
    tuple: LIST,
    dict: CONTEXT_TYPE,
}

__all__ = [
    "DaysTimeDuration",
    "FeelTime",
    "WideDate",
    "WideDateTime",
    "YearsMonthsDuration",
    "parse_temporal",
]


@dataclass(frozen=True, slots=True)
class FeelRange:
    """A range value (`[1..5]` in an expression); membership uses FEEL comparison.

    An end at null is compared like any other endpoint, so `5 in (null..10]`
    is null. A positive unary test written as a range (`(< 10)`, DMN 1.5
    §10.3.2.7) is unbounded on its open side: `lo_unbounded`/`hi_unbounded`
    say so, and `comparison` records the operator, so that `(< 10) = (null..10)`
    and `(= 10) = [10..10]` are false while `(< 10) = (< 10)` is true.
    `(!= 10)` holds for every value but 10, as the unary test does.
    """

    lo: Any
    hi: Any
    lo_closed: bool
    hi_closed: bool
    lo_unbounded: bool = False
    hi_unbounded: bool = False
    #: the unary comparison operator (`<`, `=`, `!=` …) the range was written as
    comparison: str | None = None

    def includes(self, v: Any) -> bool | None:
        comparison = self.comparison
        if comparison == "=" or comparison == "!=":
            return COMPARE[comparison](v, self.lo)
        if v is None:
            return None
        if self.lo_unbounded:
            low: bool | None = True
        else:
            low = (less_equal if self.lo_closed else less)(self.lo, v)
            if low is False:
                return False
        if self.hi_unbounded:
            return low
        return conjunction(low, (less_equal if self.hi_closed else less)(v, self.hi))


def comparison_range(op: str, endpoint: Any) -> FeelRange:
    """The range a positive unary test denotes: `< 10` is `(null..10)` unbounded below."""
    if op == "<" or op == "<=":
        return FeelRange(None, endpoint, False, op == "<=", lo_unbounded=True, comparison=op)
    if op == ">" or op == ">=":
        return FeelRange(endpoint, None, op == ">=", False, hi_unbounded=True, comparison=op)
    closed = op == "="
    return FeelRange(endpoint, endpoint, closed, closed, comparison=op)


class FeelFunction:
    """A FEEL function value: parameter names and a Python implementation.

    Calling it positionally passes the arguments on; missing trailing
    arguments are null, as FEEL binds them. `call_named` binds by name.
    """

    __slots__ = ("fn", "name", "params")

    def __init__(
        self, params: tuple[str, ...], fn: Callable[..., Any], name: str | None = None
    ) -> None:
        self.params = params
        self.fn = fn
        self.name = name

    def __call__(self, *args: Any) -> Any:
        if len(args) < len(self.params):
            args = args + (None,) * (len(self.params) - len(args))
        return self.fn(*args)

    def call_named(self, named: Mapping[str, Any]) -> Any:
        unknown = set(named) - set(self.params)
        if unknown:
            return None
        return self.fn(*(named.get(p) for p in self.params))

    def __repr__(self) -> str:
        return f"FeelFunction({self.name or 'anonymous'}({', '.join(self.params)}))"


def type_of(v: Any) -> str:
    t = _TYPE_OF_CLASS.get(v.__class__)
    if t is not None:
        return t
    if v.__class__ is FeelRange:
        return RANGE
    # Subclasses (a StrEnum, a Decimal subclass …) are rare: check them last.
    if isinstance(v, bool):
        return BOOLEAN
    if isinstance(v, int | Decimal):
        return NUMBER
    if isinstance(v, str):
        return STRING
    if isinstance(v, dt.datetime):
        return DATE_TIME
    if isinstance(v, dt.date):
        return DATE
    if isinstance(v, list | tuple):
        return LIST
    if isinstance(v, dict):
        return CONTEXT_TYPE
    if callable(v) and not isinstance(v, type):
        return FUNCTION
    return OTHER


def equal(a: Any, b: Any) -> bool | None:
    """FEEL `=`: null equals only null; values of different types give null."""
    if a is None or b is None:
        return a is None and b is None
    ta = type_of(a)
    if ta != type_of(b) or ta == OTHER:
        return None
    if ta == LIST:
        if len(a) != len(b):
            return False
        return _all_equal(zip(a, b, strict=True))
    if ta == CONTEXT_TYPE:
        if a.keys() != b.keys():
            return False
        return _all_equal((a[k], b[k]) for k in a)
    if ta == RANGE:
        if (a.lo_closed, a.hi_closed, a.lo_unbounded, a.hi_unbounded, a.comparison) != (
            b.lo_closed,
            b.hi_closed,
            b.lo_unbounded,
            b.hi_unbounded,
            b.comparison,
        ):
            return False
        return conjunction(equal(a.lo, b.lo), equal(a.hi, b.hi))
    if ta in (TIME, DATE_TIME):
        # Equality resolves to the second, as the TCK has it (0068): fractions are dropped.
        return temporal.equal(temporal.whole_seconds(a), temporal.whole_seconds(b))
    if ta == FUNCTION:
        return a is b
    return bool(a == b)


def _all_equal(pairs: Any) -> bool | None:
    result: bool | None = True
    for x, y in pairs:
        r = equal(x, y)
        if r is False:
            return False
        if r is None:
            result = None
    return result


def not_equal(a: Any, b: Any) -> bool | None:
    r = equal(a, b)
    return None if r is None else not r


#: Types whose Python order is FEEL's (times and dates and times need `temporal`;
#: a WideDate orders itself with Python dates).
_PLAIN_ORDER = frozenset({NUMBER, STRING, DATE, DT_DURATION, YM_DURATION})


def compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 when FEEL orders `a` and `b`, else None."""
    if a is None or b is None:
        return None
    ta = type_of(a)
    if ta != type_of(b):
        return None
    if ta in _PLAIN_ORDER:
        return int(a > b) - int(a < b)
    if ta in (TIME, DATE_TIME):
        return temporal.compare(a, b)
    return None


def less(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c < 0


def less_equal(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c <= 0


def greater(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c > 0


def greater_equal(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c >= 0


COMPARE = {
    "=": equal,
    "!=": not_equal,
    "<": less,
    "<=": less_equal,
    ">": greater,
    ">=": greater_equal,
}

#: `a op b` is `b FLIPPED[op] a`.
FLIPPED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def conjunction(a: Any, b: Any) -> bool | None:
    """FEEL `and`: false wins, then null; a non-boolean counts as null."""
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return None


def disjunction(a: Any, b: Any) -> bool | None:
    """FEEL `or`: true wins, then null; a non-boolean counts as null."""
    if a is True or b is True:
        return True
    if a is False and b is False:
        return False
    return None


def negation(a: Any) -> bool | None:
    """FEEL `not(x)`."""
    if a is True:
        return False
    if a is False:
        return True
    return None


def contains(container: Any, v: Any) -> bool | None:
    """Whether `v` is an item of a list or inside a range (items may be ranges)."""
    if container.__class__ is FeelRange:
        r: bool | None = container.includes(v)
        return r
    result: bool | None = False
    for item in container:
        r = item.includes(v) if item.__class__ is FeelRange else equal(v, item)
        if r is True:
            return True
        if r is None:
            result = None
    return result


def _is_number(v: Any) -> bool:
    return v.__class__ in NUMBER_CLASSES or (
        isinstance(v, int | Decimal) and not isinstance(v, bool)
    )


def add(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return _decimal_op(CONTEXT.add, a, b)
    if a.__class__ is str and b.__class__ is str:
        return a + b
    if a is None or b is None:
        return None
    return temporal.add(a, b)


def subtract(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return _decimal_op(CONTEXT.subtract, a, b)
    if a is None or b is None:
        return None
    return temporal.subtract(a, b)


def multiply(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return _decimal_op(CONTEXT.multiply, a, b)
    if _is_number(a) and b is not None:
        return temporal.multiply(b, Decimal(a))
    if _is_number(b) and a is not None:
        return temporal.multiply(a, Decimal(b))
    return None


def divide(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return _decimal_op(CONTEXT.divide, a, b)
    if a is None or b is None:
        return None
    if _is_number(b):
        if not b:
            return None
        if a.__class__ is DaysTimeDuration:
            return DaysTimeDuration(CONTEXT.divide(a.seconds, Decimal(b)))
        if a.__class__ is YearsMonthsDuration:
            # FEEL truncates towards zero: P10Y11M / 2.5 = P4Y4M.
            months = CONTEXT.divide(Decimal(a.months), Decimal(b))
            return YearsMonthsDuration(int(months.to_integral_value(decimal.ROUND_DOWN)))
        return None
    return temporal.divide(a, b)


def power(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return _decimal_op(CONTEXT.power, a, b)
    return None


def negate(a: Any) -> Any:
    if _is_number(a):
        return _decimal_op(CONTEXT.minus, a)
    if a is None:
        return None
    return temporal.negate(a)


def _decimal_op(op: Any, *args: Any) -> Decimal | None:
    try:
        result: Decimal = op(*(Decimal(x) for x in args))
    except (ArithmeticError, ValueError):
        return None
    return result


ARITHMETIC = {"+": add, "-": subtract, "*": multiply, "/": divide, "**": power}


# --- properties (paths: `x.year`, `r.start included`) -----------------------


def _int_or_none(x: Any) -> int | None:
    return None if x is None else int(x)


def _dt_parts(seconds: Decimal) -> tuple[int, int, int, Decimal]:
    sign = -1 if seconds < 0 else 1
    rest = abs(seconds)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return sign * int(days), sign * int(hours), sign * int(minutes), sign * secs


def _offset(value: Any) -> DaysTimeDuration | None:
    off = value.offset() if value.__class__ is FeelTime else value.utcoffset()
    return None if off is None else DaysTimeDuration.of(off)


def _zone(value: Any) -> str | None:
    tz = value.tz if value.__class__ is FeelTime else value.tzinfo
    return getattr(tz, "key", None)


_PROPERTIES: dict[str, dict[str, Callable[[Any], Any]]] = {
    DATE: {
        "year": lambda d: d.year,
        "month": lambda d: d.month,
        "day": lambda d: d.day,
        "weekday": lambda d: d.isoweekday(),
    },
    DATE_TIME: {
        "year": lambda d: d.year,
        "month": lambda d: d.month,
        "day": lambda d: d.day,
        "weekday": lambda d: d.isoweekday(),
        "hour": lambda d: d.hour,
        "minute": lambda d: d.minute,
        "second": temporal.seconds_of,
        "time offset": _offset,
        "timezone": _zone,
    },
    TIME: {
        "hour": lambda t: t.local.hour,
        "minute": lambda t: t.local.minute,
        "second": temporal.seconds_of,
        "time offset": _offset,
        "timezone": _zone,
    },
    DT_DURATION: {
        "days": lambda d: _dt_parts(d.seconds)[0],
        "hours": lambda d: _dt_parts(d.seconds)[1],
        "minutes": lambda d: _dt_parts(d.seconds)[2],
        "seconds": lambda d: _dt_parts(d.seconds)[3],
    },
    YM_DURATION: {
        "years": lambda d: int(d.months / 12),
        "months": lambda d: d.months - 12 * int(d.months / 12),
    },
    RANGE: {
        "start": lambda r: r.lo,
        "end": lambda r: r.hi,
        "start included": lambda r: r.lo_closed,
        "end included": lambda r: r.hi_closed,
    },
}


# Named as the path compiler calls it; it shadows the builtin `property` only from here
# on, after the classes above have used the decorator.
def property(value: Any, name: str) -> Any:
    """`value.name` in FEEL: a context entry, a temporal or range property; null when absent.

    On a list, the property of each item (FEEL path semantics on lists).
    """
    t = type_of(value)
    if t == CONTEXT_TYPE:
        return value.get(name)
    if t == LIST:
        return [property(item, name) for item in value]
    getter = _PROPERTIES.get(t, {}).get(name)
    return None if getter is None else getter(value)


# --- string() -------------------------------------------------------------


def format_number(n: Any) -> str:
    """A number as FEEL `string()` writes it: plain notation, no trailing zeros."""
    if n.__class__ is int:
        return str(n)
    d = Decimal(n).normalize(CONTEXT)
    if d == 0:
        return "0"
    return format(d, "f")


def to_string(value: Any) -> str | None:
    """FEEL `string(from)`; null is null, a string is itself."""
    t = type_of(value)
    if t == NULL:
        return None
    if t == STRING:
        return str(value)
    if t == NUMBER:
        return format_number(value)
    if t == BOOLEAN:
        return "true" if value else "false"
    text = temporal.to_string(value)
    if text is not None:
        return text
    return _literal(value)


def _literal(value: Any) -> str:
    """Items inside a list or context: strings stay bare as other engines write them."""
    t = type_of(value)
    if t == NULL:
        return "null"
    if t == LIST:
        return "[" + ", ".join(_literal(x) for x in value) + "]"
    if t == CONTEXT_TYPE:
        return "{" + ", ".join(f"{k}: {_literal(x)}" for k, x in value.items()) + "}"
    if t == RANGE:
        if value.comparison is not None:
            bound = value.hi if value.comparison in ("<", "<=") else value.lo
            return f"{value.comparison} {_literal(bound)}"
        lo = "(" if not value.lo_closed else "["
        hi = ")" if not value.hi_closed else "]"
        return f"{lo}{_literal(value.lo)}..{_literal(value.hi)}{hi}"
    if t == FUNCTION:
        return repr(value)
    text = to_string(value)
    return "null" if text is None else text


# --- instance of ------------------------------------------------------------

_TYPE_ALIASES = {
    "Any": "Any",
    "Null": NULL,
    "number": NUMBER,
    "string": STRING,
    "boolean": BOOLEAN,
    "date": DATE,
    "time": TIME,
    "date and time": DATE_TIME,
    "dateTime": DATE_TIME,
    "days and time duration": DT_DURATION,
    "dayTimeDuration": DT_DURATION,
    "years and months duration": YM_DURATION,
    "yearMonthDuration": YM_DURATION,
    "list": LIST,
    "context": CONTEXT_TYPE,
    "range": RANGE,
    "function": FUNCTION,
}

_TYPE_TOKEN = re.compile(r"\s*(->|[<>,:]|[^<>,:\-]+(?:-(?!>)[^<>,:\-]*)*)")


def conforms(value: Any, type_name: str) -> bool | None:
    """`value instance of type_name`; None when the type cannot be read.

    Understands the built-in type names, `list<T>`, `range<T>`,
    `context<a: T, …>` and `function<T, …> -> U` (a function conforms to any
    function type: parameter types are not known at run time).
    """
    try:
        tokens = [m.group(1).strip() for m in _TYPE_TOKEN.finditer(type_name)]
        tree, rest = _read_type([t for t in tokens if t])
    except (IndexError, ValueError):
        return None
    if rest:
        return None
    return _conforms(value, tree)


def _read_type(tokens: list[str]) -> tuple[Any, list[str]]:
    head, rest = tokens[0], tokens[1:]
    if head not in ("list", "range", "context", "function") or not rest or rest[0] != "<":
        if head not in _TYPE_ALIASES:
            raise ValueError(head)
        return _TYPE_ALIASES[head], rest
    rest = rest[1:]
    if head in ("list", "range"):
        inner, rest = _read_type(rest)
        if rest[0] != ">":
            raise ValueError(rest[0])
        return (head, inner), rest[1:]
    if head == "context":
        fields: list[tuple[str, Any]] = []
        while rest[0] != ">":
            name = rest[0]
            if rest[1] != ":":
                raise ValueError(rest[1])
            t, rest = _read_type(rest[2:])
            fields.append((name, t))
            if rest[0] == ",":
                rest = rest[1:]
        return ("context", tuple(fields)), rest[1:]
    while rest[0] != ">":  # function<T, …> -> U: parameter types are read, then ignored
        _, rest = _read_type(rest)
        if rest[0] == ",":
            rest = rest[1:]
    rest = rest[1:]
    if rest and rest[0] == "->":
        _, rest = _read_type(rest[1:])
    return FUNCTION, rest


def _conforms(value: Any, t: Any) -> bool:
    if value is None:
        return False  # DMN 1.5: null is an instance of no type, not even Any
    if t == "Any":
        return True
    vt = type_of(value)
    if isinstance(t, str):
        return vt == t
    kind, inner = t
    if kind == "list":
        return vt == LIST and all(x is None or _conforms(x, inner) for x in value)
    if kind == "range":
        return vt == RANGE and all(x is None or _conforms(x, inner) for x in (value.lo, value.hi))
    return vt == CONTEXT_TYPE and all(
        name in value and (value[name] is None or _conforms(value[name], ft)) for name, ft in inner
    )
