"""Range functions (DMN 1.5 §10.3.4.9): Allen's interval relations on points and ranges.

A point is the range [p..p]. An open end at null (`< 10` as a range) is
unbounded: it compares below or above every value.
"""

from __future__ import annotations

from typing import Any

from kijun.criteria.feel import values as v
from kijun.criteria.feel.builtins._base import Builtin, InvalidArgument, no_nulls

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
            self.start = _End(x.lo, _LOW if x.lo is None and not x.lo_closed else 0)
            self.end = _End(x.hi, _HIGH if x.hi is None and not x.hi_closed else 0)
            self.start_in, self.end_in = x.lo_closed, x.hi_closed
            if (x.lo is None and x.lo_closed) or (x.hi is None and x.hi_closed):
                raise InvalidArgument("a closed range end is null")
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
)
