"""FEEL values at run time: types, equality, ordering, arithmetic, three-valued logic.

Python values stand for FEEL values: None (null), int or Decimal (number; an
int is a number, a bool is not), str, bool, datetime.date (not datetime),
list, and `FeelRange`. Every operation follows FEEL and gives null (None)
instead of raising when the operands do not fit.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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

#: Types whose values are ordered.
ORDERED = frozenset({NUMBER, STRING, DATE})


@dataclass(frozen=True, slots=True)
class FeelRange:
    """A range value (`[1..5]` in an expression); membership uses FEEL comparison."""

    lo: Any
    hi: Any
    lo_closed: bool
    hi_closed: bool

    def includes(self, v: Any) -> bool | None:
        return conjunction(
            (less_equal if self.lo_closed else less)(self.lo, v),
            (less_equal if self.hi_closed else less)(v, self.hi),
        )


def type_of(v: Any) -> str:
    cls = v.__class__
    if cls in NUMBER_CLASSES:
        return NUMBER
    if cls is str:
        return STRING
    if cls is bool:
        return BOOLEAN
    if cls is dt.date:
        return DATE
    if v is None:
        return NULL
    if cls is list or cls is tuple:
        return LIST
    if cls is FeelRange:
        return RANGE
    # Subclasses (a StrEnum, a Decimal subclass …) are rare: check them last.
    if isinstance(v, bool):
        return BOOLEAN
    if isinstance(v, int | Decimal):
        return NUMBER
    if isinstance(v, str):
        return STRING
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return DATE
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
        results = [equal(x, y) for x, y in zip(a, b, strict=True)]
        if all(r is True for r in results):
            return True
        return False if any(r is False for r in results) else None
    return bool(a == b)


def not_equal(a: Any, b: Any) -> bool | None:
    r = equal(a, b)
    return None if r is None else not r


def _ordered_pair(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    ta = type_of(a)
    return ta in ORDERED and ta == type_of(b)


def less(a: Any, b: Any) -> bool | None:
    return bool(a < b) if _ordered_pair(a, b) else None


def less_equal(a: Any, b: Any) -> bool | None:
    return bool(a <= b) if _ordered_pair(a, b) else None


def greater(a: Any, b: Any) -> bool | None:
    return bool(a > b) if _ordered_pair(a, b) else None


def greater_equal(a: Any, b: Any) -> bool | None:
    return bool(a >= b) if _ordered_pair(a, b) else None


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
    return None


def subtract(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return _decimal_op(CONTEXT.subtract, a, b)
    return None


def multiply(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return _decimal_op(CONTEXT.multiply, a, b)
    return None


def divide(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return _decimal_op(CONTEXT.divide, a, b)
    return None


def power(a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        return _decimal_op(CONTEXT.power, a, b)
    return None


def negate(a: Any) -> Any:
    if _is_number(a):
        return _decimal_op(CONTEXT.minus, a)
    return None


def _decimal_op(op: Any, *args: Any) -> Decimal | None:
    try:
        result: Decimal = op(*(Decimal(x) for x in args))
    except (ArithmeticError, ValueError):
        return None
    return result


ARITHMETIC = {"+": add, "-": subtract, "*": multiply, "/": divide, "**": power}
