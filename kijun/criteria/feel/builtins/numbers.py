"""Numeric functions (DMN 1.5 §10.3.4.5): rounding with scale, modulo, sqrt, log, exp, odd, even."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

from kijun.criteria.feel import temporal as t
from kijun.criteria.feel import values as v
from kijun.criteria.feel.builtins._base import Builtin, InvalidArgument, number

CTX = v.CONTEXT
#: the scale range decimal128 allows (DMN 1.5 §10.3.4.5)
MIN_SCALE, MAX_SCALE = -6111, 6176


#: `floor(n)` has no scale; `floor(n, null)` is null, so a default of None cannot tell them apart
_NO_SCALE = object()


def _round(n: Any, scale: Any, mode: str) -> Decimal:
    x = number(n, "n")
    # A fractional scale is truncated, as engines built on Java's intValue() do (TCK 1100).
    s = (
        Decimal(0)
        if scale is _NO_SCALE
        else number(scale, "scale").to_integral_value(decimal.ROUND_DOWN)
    )
    if not MIN_SCALE <= s <= MAX_SCALE:
        raise InvalidArgument(f"scale {s} must be from {MIN_SCALE} to {MAX_SCALE}")
    try:
        r = x.quantize(Decimal(1).scaleb(-int(s)), rounding=mode, context=_WIDE)
    except decimal.InvalidOperation:
        raise InvalidArgument(f"{x} cannot be rounded to scale {s}") from None
    # Whole results print as whole numbers (ceiling(1.5) is 2, not 2E0).
    return r + 0 if r == r.to_integral_value() and int(s) <= 0 else r


#: quantize may need more digits than 34 (a scale of 40 on a large number)
_WIDE = decimal.Context(prec=10_000, Emax=999_999, Emin=-999_999)


def _rounding(mode: str) -> Any:
    def impl(n: Any, scale: Any = _NO_SCALE) -> Decimal:
        return _round(n, scale, mode)

    return impl


def decimal_(n: Any, scale: Any) -> Decimal:
    return _round(n, scale, decimal.ROUND_HALF_EVEN)


def abs_(n: Any) -> Any:
    kind = v.type_of(n)
    if kind == v.NUMBER:
        return abs(Decimal(n)) if n.__class__ is not int else abs(n)
    if kind == v.DT_DURATION:
        return t.DaysTimeDuration(abs(n.seconds))
    if kind == v.YM_DURATION:
        return t.YearsMonthsDuration(abs(n.months))
    raise InvalidArgument(f"abs() of a {kind}")


def modulo(dividend: Any, divisor: Any) -> Decimal:
    a, b = number(dividend, "dividend"), number(divisor, "divisor")
    if not b:
        raise InvalidArgument("modulo by zero")
    # FEEL: dividend - divisor * floor(dividend / divisor): the sign follows the divisor.
    q = CTX.divide(a, b).to_integral_value(rounding=decimal.ROUND_FLOOR)
    return CTX.subtract(a, CTX.multiply(b, q))


def sqrt(n: Any) -> Decimal:
    x = number(n, "number")
    if x < 0:
        raise InvalidArgument("sqrt() of a negative number")
    return x.sqrt(CTX)


def log(n: Any) -> Decimal:
    x = number(n, "number")
    if x <= 0:
        raise InvalidArgument("log() of a number that is not positive")
    return x.ln(CTX)


def exp(n: Any) -> Decimal:
    try:
        return number(n, "number").exp(CTX)
    except decimal.Overflow:
        raise InvalidArgument("exp() overflows") from None


def _whole(n: Any) -> int:
    x = number(n, "number")
    if x != x.to_integral_value():
        raise InvalidArgument("odd() and even() need a whole number")
    return int(x)


def odd(n: Any) -> bool:
    return _whole(n) % 2 == 1


def even(n: Any) -> bool:
    return _whole(n) % 2 == 0


def _scaled(name: str, mode: str) -> Builtin:
    return Builtin(name, (("n",), ("n", "scale")), _rounding(mode), v.NUMBER)


FUNCTIONS = (
    Builtin("decimal", (("n", "scale"),), decimal_, v.NUMBER),
    _scaled("floor", decimal.ROUND_FLOOR),
    _scaled("ceiling", decimal.ROUND_CEILING),
    _scaled("round up", decimal.ROUND_UP),
    _scaled("round down", decimal.ROUND_DOWN),
    _scaled("round half up", decimal.ROUND_HALF_UP),
    _scaled("round half down", decimal.ROUND_HALF_DOWN),
    Builtin("abs", (("n",),), abs_),
    Builtin("modulo", (("dividend", "divisor"),), modulo, v.NUMBER),
    Builtin("sqrt", (("number",),), sqrt, v.NUMBER),
    Builtin("log", (("number",),), log, v.NUMBER),
    Builtin("exp", (("number",),), exp, v.NUMBER),
    Builtin("odd", (("number",),), odd, v.BOOLEAN),
    Builtin("even", (("number",),), even, v.BOOLEAN),
)
