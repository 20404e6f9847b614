"""List functions (DMN 1.5 §10.3.4.4) and `sort`.

Functions documented as `f(list)` or `f(c1, …, cN)` take either form.
Positions count from 1; a negative position counts from the end.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from kijun.criteria.feel import values as v
from kijun.criteria.feel.builtins._base import (
    Builtin,
    InvalidArgument,
    as_list,
    is_number,
    items,
    number,
    strict_list,
)

CTX = v.CONTEXT


def list_contains(lst: Any, element: Any) -> bool:
    for x in strict_list(lst):
        if element is None and x is None:
            return True
        if v.equal(x, element) is True:
            return True
    return False


def count(lst: Any) -> int:
    return len(strict_list(lst))


def _extreme(args: tuple[Any, ...], sign: int) -> Any:
    xs = items(args)
    if not xs:
        return None
    best = xs[0]
    for x in xs[1:]:
        c = v.compare(x, best)
        if c is None:
            raise InvalidArgument("items that cannot be compared")
        if c == sign:
            best = x
    if v.compare(best, best) is None:
        raise InvalidArgument(f"items of type {v.type_of(best)} are not ordered")
    return best


def min_(*args: Any) -> Any:
    return _extreme(args, -1)


def max_(*args: Any) -> Any:
    return _extreme(args, 1)


def _numbers(args: tuple[Any, ...]) -> list[Decimal]:
    xs = items(args)
    if not all(is_number(x) for x in xs):
        raise InvalidArgument("all items must be numbers")
    return [Decimal(x) for x in xs]


def sum_(*args: Any) -> Decimal | None:
    xs = _numbers(args)
    if not xs:
        return None
    total = Decimal(0)
    for x in xs:
        total = CTX.add(total, x)
    return total


def product(*args: Any) -> Decimal | None:
    xs = _numbers(args)
    if not xs:
        return None
    total = Decimal(1)
    for x in xs:
        total = CTX.multiply(total, x)
    return total


def mean(*args: Any) -> Decimal | None:
    xs = _numbers(args)
    if not xs:
        return None
    total = sum_(*args)
    assert total is not None
    return CTX.divide(total, len(xs))


def median(*args: Any) -> Decimal | None:
    xs = sorted(_numbers(args))
    if not xs:
        return None
    mid = len(xs) // 2
    if len(xs) % 2:
        return xs[mid]
    return CTX.divide(CTX.add(xs[mid - 1], xs[mid]), 2)


def stddev(*args: Any) -> Decimal | None:
    xs = _numbers(args)
    if len(xs) < 2:
        return None  # the sample standard deviation needs two values
    m = CTX.divide(sum(xs, Decimal(0)), len(xs))
    squares = sum((CTX.power(x - m, 2) for x in xs), Decimal(0))
    return CTX.divide(squares, len(xs) - 1).sqrt(CTX)


def mode(*args: Any) -> list[Any]:
    xs = _numbers(args)
    counts: dict[Decimal, int] = {}
    for x in xs:
        counts[x] = counts.get(x, 0) + 1
    if not counts:
        return []
    top = max(counts.values())
    return sorted(x for x, c in counts.items() if c == top)


def _booleans(args: tuple[Any, ...]) -> list[Any]:
    xs = items(args)
    if not all(x is None or x.__class__ is bool for x in xs):
        raise InvalidArgument("all items must be booleans")
    return xs


def all_(*args: Any) -> bool | None:
    result: bool | None = True
    for x in _booleans(args):
        result = v.conjunction(result, x)
        if result is False:
            return False
    return result


def any_(*args: Any) -> bool | None:
    result: bool | None = False
    for x in _booleans(args):
        result = v.disjunction(result, x)
        if result is True:
            return True
    return result


def _position(pos: Any, size: int, allow_end: bool = False) -> int:
    """A 1-based (or negative, from the end) position as a 0-based index."""
    # A fractional position is truncated, as Java-based engines do (TCK 1155: 2.5 is 2).
    i = int(number(pos, "position"))
    limit = size + 1 if allow_end else size
    if i > 0 and i <= limit:
        return i - 1
    if i < 0 and -i <= size:
        return size + i
    raise InvalidArgument(f"position {i} is outside a list of {size}")


def sublist(lst: Any, start: Any, length: Any = None) -> list[Any]:
    xs = strict_list(lst)
    i = _position(start, len(xs))
    if length is None:
        return xs[i:]
    n = number(length, "length")
    if n < 0 or i + int(n) > len(xs):
        raise InvalidArgument("the sublist runs past the end of the list")
    return xs[i : i + int(n)]


def append(lst: Any, *new: Any) -> list[Any]:
    return strict_list(lst) + list(new)


def concatenate(*lists: Any) -> list[Any]:
    out: list[Any] = []
    for x in lists:
        out.extend(strict_list(x))
    return out


def insert_before(lst: Any, position: Any, new: Any) -> list[Any]:
    xs = strict_list(lst)
    i = _position(position, len(xs))
    return [*xs[:i], new, *xs[i:]]


def remove(lst: Any, position: Any) -> list[Any]:
    xs = strict_list(lst)
    i = _position(position, len(xs))
    return xs[:i] + xs[i + 1 :]


def reverse(lst: Any) -> list[Any]:
    return strict_list(lst)[::-1]


def index_of(lst: Any, match: Any) -> list[int]:
    return [i + 1 for i, x in enumerate(strict_list(lst)) if _same(x, match)]


def _same(a: Any, b: Any) -> bool:
    return (a is None and b is None) or v.equal(a, b) is True


def _distinct(xs: list[Any]) -> list[Any]:
    out: list[Any] = []
    for x in xs:
        if not any(_same(x, y) for y in out):
            out.append(x)
    return out


def union(*lists: Any) -> list[Any]:
    return _distinct(concatenate(*lists))


def distinct_values(lst: Any) -> list[Any]:
    return _distinct(strict_list(lst))


def _flat(x: Any, out: list[Any]) -> None:
    if v.type_of(x) == v.LIST:
        for y in x:
            _flat(y, out)
    else:
        out.append(x)


def flatten(lst: Any) -> list[Any]:
    out: list[Any] = []
    _flat(strict_list(lst), out)
    return out


def _arity(f: Any) -> int | None:
    """The number of parameters of a FEEL function value, when it says."""
    for attr in ("params", "parameters"):
        params = getattr(f, attr, None)
        if isinstance(params, tuple):
            return len(params)
    return None


def _callable(f: Any) -> bool:
    return v.type_of(f) == v.FUNCTION


def sort(lst: Any, precedes: Any = None) -> list[Any]:
    xs = strict_list(lst)
    if precedes is None:

        def natural(a: Any, b: Any) -> int:
            c = v.compare(a, b)
            if c is None:
                raise InvalidArgument("items that cannot be compared")
            return c

        return sorted(xs, key=functools.cmp_to_key(natural))
    if not _callable(precedes):
        raise InvalidArgument("sort() needs a function precedes(x, y)")

    def by(a: Any, b: Any) -> int:
        if precedes(a, b) is True:
            return -1
        if precedes(b, a) is True:
            return 1
        return 0

    return sorted(xs, key=functools.cmp_to_key(by))


def list_replace(lst: Any, position: Any, new: Any) -> list[Any]:
    """`list replace(list, position, newItem)` or with `match(item, newItem)` as a function."""
    xs = as_list(lst)
    if _callable(position):
        arity = _arity(position)
        if arity is not None and arity != 2:
            raise InvalidArgument("the match function must take (item, newItem)")
        out = []
        for x in xs:
            hit = position(x, new)
            if hit.__class__ is not bool:
                raise InvalidArgument("the match function must give a boolean")
            out.append(new if hit else x)
        return out
    i = _position(position, len(xs))
    return [*xs[:i], new, *xs[i + 1 :]]


def _variadic(name: str, fn: Any, result_type: str | None = None) -> Builtin:
    return Builtin(name, (("list",),), fn, result_type, variadic=True)


FUNCTIONS = (
    Builtin("list contains", (("list", "element"),), list_contains, v.BOOLEAN),
    Builtin("count", (("list",),), count, v.NUMBER),
    _variadic("min", min_),
    _variadic("max", max_),
    _variadic("sum", sum_, v.NUMBER),
    _variadic("product", product, v.NUMBER),
    _variadic("mean", mean, v.NUMBER),
    _variadic("median", median, v.NUMBER),
    _variadic("stddev", stddev, v.NUMBER),
    _variadic("mode", mode, v.LIST),
    _variadic("all", all_, v.BOOLEAN),
    _variadic("any", any_, v.BOOLEAN),
    Builtin(
        "sublist",
        (("list", "start position"), ("list", "start position", "length")),
        sublist,
        v.LIST,
    ),
    Builtin("append", (("list", "item"),), append, v.LIST, variadic=True),
    Builtin("concatenate", (("list",),), concatenate, v.LIST, variadic=True),
    Builtin("insert before", (("list", "position", "newItem"),), insert_before, v.LIST),
    Builtin("remove", (("list", "position"),), remove, v.LIST),
    Builtin("reverse", (("list",),), reverse, v.LIST),
    Builtin("index of", (("list", "match"),), index_of, v.LIST),
    Builtin("union", (("list",),), union, v.LIST, variadic=True),
    Builtin("distinct values", (("list",),), distinct_values, v.LIST),
    Builtin("flatten", (("list",),), flatten, v.LIST),
    Builtin("sort", (("list",), ("list", "precedes")), sort, v.LIST),
    Builtin(
        "list replace",
        (("list", "position", "newItem"), ("list", "match", "newItem")),
        list_replace,
        v.LIST,
    ),
)
