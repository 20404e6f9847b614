"""Range functions (DMN 1.5 §10.3.4.9): Allen's interval relations on points and ranges,
and `range(from)`, which reads a range literal from a string.

A point is the range [p..p]. The open end of a unary test as a range (`< 10`)
is unbounded: it compares below or above every value.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from kijun.criteria.errors import CriteriaError
from kijun.criteria.feel import ast
from kijun.criteria.feel import values as v
from kijun.criteria.feel.builtins._base import Builtin, InvalidArgument, no_nulls, string

_LOW, _HIGH = -1, 1


class _End:
    """One end of a range: a value, or unbounded (`inf` is -1 below, +1 above)."""

    __slots__ = ("inf", "value")

    def __init__(self, value: Any, inf: int = 0) -> None:
        self.value = value
        self.inf = inf


def _cmp(a: _End, b: _End) -> int:
    if a.inf or b.inf:
        return (a.inf > b.inf) - (a.inf < b.inf)
    c = v.compare(a.value, b.value)
    if c is None:
        raise InvalidArgument("range ends that cannot be compared")
    return c


class _R:
    __slots__ = ("end", "end_in", "start", "start_in")

    def __init__(self, x: Any) -> None:
        if isinstance(x, v.FeelRange):
            if x.comparison == "!=":
                raise InvalidArgument("(!= e) is not an interval")
            self.start = _End(x.lo, _LOW if x.lo_unbounded else 0)
            self.end = _End(x.hi, _HIGH if x.hi_unbounded else 0)
            self.start_in, self.end_in = x.lo_closed, x.hi_closed
            if (x.lo is None and not x.lo_unbounded) or (x.hi is None and not x.hi_unbounded):
                raise InvalidArgument("a range end is null")
        else:
            self.start = self.end = _End(x)
            self.start_in = self.end_in = True


def _ranges(a: Any, b: Any) -> tuple[_R, _R]:
    no_nulls(a, b)
    return _R(a), _R(b)


def before(a: Any, b: Any) -> bool:
    r1, r2 = _ranges(a, b)
    c = _cmp(r1.end, r2.start)
    return c < 0 or (c == 0 and not (r1.end_in and r2.start_in))


def after(a: Any, b: Any) -> bool:
    return before(b, a)


def meets(a: Any, b: Any) -> bool:
    r1, r2 = _ranges(a, b)
    return r1.end_in and r2.start_in and _cmp(r1.end, r2.start) == 0


def met_by(a: Any, b: Any) -> bool:
    return meets(b, a)


def overlaps(a: Any, b: Any) -> bool:
    r1, r2 = _ranges(a, b)
    c1 = _cmp(r1.end, r2.start)
    c2 = _cmp(r1.start, r2.end)
    return (c1 > 0 or (c1 == 0 and r1.end_in and r2.start_in)) and (
        c2 < 0 or (c2 == 0 and r1.start_in and r2.end_in)
    )


def overlaps_before(a: Any, b: Any) -> bool:
    r1, r2 = _ranges(a, b)
    s = _cmp(r1.start, r2.start)
    es = _cmp(r1.end, r2.start)
    e = _cmp(r1.end, r2.end)
    return (
        (s < 0 or (s == 0 and r1.start_in and not r2.start_in))
        and (es > 0 or (es == 0 and r1.end_in and r2.start_in))
        and (e < 0 or (e == 0 and (not r1.end_in or r2.end_in)))
    )


def overlaps_after(a: Any, b: Any) -> bool:
    return overlaps_before(b, a)


def finishes(a: Any, b: Any) -> bool:
    r1, r2 = _ranges(a, b)
    if not isinstance(a, v.FeelRange):
        return r2.end_in and _cmp(r2.end, r1.end) == 0
    s = _cmp(r1.start, r2.start)
    return (
        r1.end_in == r2.end_in
        and _cmp(r1.end, r2.end) == 0
        and (s > 0 or (s == 0 and (not r1.start_in or r2.start_in)))
    )


def finished_by(a: Any, b: Any) -> bool:
    return finishes(b, a)


def includes(a: Any, b: Any) -> bool:
    r1, r2 = _ranges(a, b)
    s = _cmp(r1.start, r2.start)
    e = _cmp(r1.end, r2.end)
    return (s < 0 or (s == 0 and (r1.start_in or not r2.start_in))) and (
        e > 0 or (e == 0 and (r1.end_in or not r2.end_in))
    )


def during(a: Any, b: Any) -> bool:
    return includes(b, a)


def starts(a: Any, b: Any) -> bool:
    r1, r2 = _ranges(a, b)
    if not isinstance(a, v.FeelRange):
        return r2.start_in and _cmp(r2.start, r1.start) == 0
    e = _cmp(r1.end, r2.end)
    return (
        _cmp(r1.start, r2.start) == 0
        and r1.start_in == r2.start_in
        and (e < 0 or (e == 0 and (not r1.end_in or r2.end_in)))
    )


def started_by(a: Any, b: Any) -> bool:
    return starts(b, a)


def coincides(a: Any, b: Any) -> bool:
    r1, r2 = _ranges(a, b)
    return (
        _cmp(r1.start, r2.start) == 0
        and _cmp(r1.end, r2.end) == 0
        and r1.start_in == r2.start_in
        and r1.end_in == r2.end_in
    )


# -- range(from) ---------------------------------------------------------------

#: Functions whose call with one string literal is a literal endpoint (`date("2024-04-01")`).
_TEMPORAL_FUNCTIONS = frozenset({"date", "date and time", "time", "duration"})


def range_from(text: Any) -> v.FeelRange:
    """`range("[18..21)")`: the range a range literal in a string denotes.

    The endpoints must be literals — numbers, strings, `@"…"`, or `date`,
    `date and time`, `time` or `duration` of a string literal — of one ordered
    type, the start not after the end; anything else is null.
    """
    r = _parse_range(string(text, "from"))
    if r is None:
        raise InvalidArgument(f"{text!r} is not a range literal")
    return r


@lru_cache(maxsize=256)
def _parse_range(text: str) -> v.FeelRange | None:
    # Imported here: the evaluator imports the built-ins.
    from kijun.criteria.feel.evaluate import compile_expression

    try:
        expr = compile_expression(text)
    except CriteriaError:
        return None
    node = expr.ast
    if not isinstance(node, ast.Range) or not (_literal(node.lo) and _literal(node.hi)):
        return None
    r = expr.evaluate()
    if not isinstance(r, v.FeelRange) or r.lo is None or r.hi is None:
        return None
    t = v.type_of(r.lo)
    if t != v.type_of(r.hi) or t not in v.ORDERED:
        return None
    order = v.compare(r.lo, r.hi)
    return r if order is not None and order <= 0 else None


def _literal(node: ast.Node) -> bool:
    if isinstance(node, ast.Negation):
        return isinstance(node.operand, ast.Number)
    if isinstance(node, ast.Number | ast.String | ast.At):
        return True
    return (
        isinstance(node, ast.Invocation)
        and isinstance(node.callee, ast.Name)
        and node.callee.name in _TEMPORAL_FUNCTIONS
        and not node.named
        and len(node.args) == 1
        and isinstance(node.args[0], ast.String)
    )


_POINT_RANGE = (("point1", "point2"), ("point", "range"), ("range", "point"), ("range1", "range2"))
_RANGES_ONLY = (("range1", "range2"),)

FUNCTIONS = (
    Builtin("before", _POINT_RANGE, before, v.BOOLEAN),
    Builtin("after", _POINT_RANGE, after, v.BOOLEAN),
    Builtin("meets", _RANGES_ONLY, meets, v.BOOLEAN),
    Builtin("met by", _RANGES_ONLY, met_by, v.BOOLEAN),
    Builtin("overlaps", _RANGES_ONLY, overlaps, v.BOOLEAN),
    Builtin("overlaps before", _RANGES_ONLY, overlaps_before, v.BOOLEAN),
    Builtin("overlaps after", _RANGES_ONLY, overlaps_after, v.BOOLEAN),
    Builtin("finishes", (("point", "range"), ("range1", "range2")), finishes, v.BOOLEAN),
    Builtin("finished by", (("range", "point"), ("range1", "range2")), finished_by, v.BOOLEAN),
    Builtin("includes", (("range", "point"), ("range1", "range2")), includes, v.BOOLEAN),
    Builtin("during", (("point", "range"), ("range1", "range2")), during, v.BOOLEAN),
    Builtin("starts", (("point", "range"), ("range1", "range2")), starts, v.BOOLEAN),
    Builtin("started by", (("range", "point"), ("range1", "range2")), started_by, v.BOOLEAN),
    Builtin("coincides", (("point1", "point2"), ("range1", "range2")), coincides, v.BOOLEAN),
    Builtin("range", (("from",),), range_from, v.RANGE),
)
