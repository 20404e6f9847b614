"""Value regions: the exact set of values of one input type that a test accepts.

The compiler indexes table columns by region boundaries, and the verifier
looks for gaps and overlaps with region algebra, so regions are kept in one
canonical form (built in `__post_init__`): two regions are equal exactly when
they hold the same values.

- Ordered types (number, date) hold sorted, disjoint, non-adjacent intervals.
  Dates are discrete, so date intervals are stored closed (`< 2024-04-01`
  becomes `<= 2024-03-31`) and intervals one day apart merge — otherwise
  `<= 2024-03-31` and `>= 2024-04-01` would leave a "gap" with no date in it.
- Discrete types (string, boolean) hold a finite set of `values`, or with
  `complement` every non-null value except them. A finite `domain` (booleans:
  {True, False}) turns complements into plain value sets.
- `null` says whether null is accepted, independently of the rest.

A region is over values of its own type: `contains` expects such a value or
None (a fact of another type is refused before any test sees it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from kijun.criteria.model import ValueType

RegionKind = Literal["ordered", "discrete"]

_ONE_DAY = dt.timedelta(days=1)
_BOOLEANS: frozenset[Any] = frozenset({True, False})


def region_kind(type: ValueType) -> RegionKind:
    """Numbers and dates are ordered; strings and booleans are discrete."""
    return "ordered" if type in (ValueType.NUMBER, ValueType.DATE) else "discrete"


def _domain(kind: RegionKind | ValueType) -> tuple[RegionKind, frozenset[Any] | None]:
    if kind == ValueType.BOOLEAN:
        return "discrete", _BOOLEANS
    if isinstance(kind, ValueType):
        return region_kind(kind), None
    if kind not in ("ordered", "discrete"):
        raise ValueError(f"unknown region kind {kind!r}")
    return kind, None


@dataclass(frozen=True, slots=True)
class Interval:
    """Values between `lo` and `hi`; None is unbounded (and then never closed)."""

    lo: Any | None
    lo_closed: bool
    hi: Any | None
    hi_closed: bool

    def __post_init__(self) -> None:
        if self.lo is None and self.lo_closed:
            object.__setattr__(self, "lo_closed", False)
        if self.hi is None and self.hi_closed:
            object.__setattr__(self, "hi_closed", False)

    @classmethod
    def point(cls, value: Any) -> Interval:
        return cls(value, True, value, True)

    @classmethod
    def everything(cls) -> Interval:
        return cls(None, False, None, False)

    def contains(self, v: Any) -> bool:
        if v is None:
            return False
        lo = self.lo
        if lo is not None and (v < lo if self.lo_closed else v <= lo):
            return False
        hi = self.hi
        return hi is None or (v <= hi if self.hi_closed else v < hi)

    def is_empty(self) -> bool:
        lo, hi = self.lo, self.hi
        if lo is None or hi is None:
            return False
        if lo == hi:
            return not (self.lo_closed and self.hi_closed)
        if lo > hi:
            return True
        if _is_date(lo) and not self.lo_closed and not self.hi_closed:
            return bool(hi - lo <= _ONE_DAY)
        return False

    def to_feel(self) -> str:
        lo, hi = self.lo, self.hi
        if lo is None and hi is None:
            return "!= null"
        if lo is None:
            return f"{'<=' if self.hi_closed else '<'} {feel_literal(hi)}"
        if hi is None:
            return f"{'>=' if self.lo_closed else '>'} {feel_literal(lo)}"
        if lo == hi and self.lo_closed and self.hi_closed:
            return feel_literal(lo)
        return (
            f"{'[' if self.lo_closed else '('}{feel_literal(lo)}.."
            f"{feel_literal(hi)}{']' if self.hi_closed else ')'}"
        )

    def __str__(self) -> str:
        return self.to_feel()


@dataclass(frozen=True, slots=True)
class Region:
    """Values of one input type a test accepts.

    Ordered types (number, date): `intervals` — sorted, disjoint, adjacent ones
    merged (a point is [p..p]). Discrete types (string, boolean): `values` with
    `complement` (True = every non-null value except `values`), or a plain set
    when the type has a finite `domain`. `null`: whether null is accepted.
    """

    kind: RegionKind
    intervals: tuple[Interval, ...] = ()
    values: frozenset[Any] = frozenset()
    complement: bool = False
    null: bool = False
    domain: frozenset[Any] | None = None

    def __post_init__(self) -> None:
        if self.kind == "ordered":
            if self.values or self.complement or self.domain is not None:
                raise ValueError("an ordered region holds intervals, not values")
            object.__setattr__(self, "intervals", _normalise(self.intervals))
        elif self.kind == "discrete":
            if self.intervals:
                raise ValueError("a discrete region holds values, not intervals")
            values = frozenset(self.values)
            if self.domain is not None:
                values = self.domain - values if self.complement else values & self.domain
                object.__setattr__(self, "complement", False)
            object.__setattr__(self, "values", values)
        else:
            raise ValueError(f"unknown region kind {self.kind!r}")

    # -- construction ---------------------------------------------------------

    @classmethod
    def any(cls, kind: RegionKind | ValueType, *, null: bool = True) -> Region:
        """Every value (and null, unless `null=False`). Pass a ValueType for booleans."""
        k, domain = _domain(kind)
        if k == "ordered":
            return cls(k, (Interval.everything(),), null=null)
        return cls(k, complement=True, null=null, domain=domain)

    @classmethod
    def empty(cls, kind: RegionKind | ValueType) -> Region:
        k, domain = _domain(kind)
        return cls(k, domain=domain)

    @classmethod
    def only_null(cls, kind: RegionKind | ValueType) -> Region:
        k, domain = _domain(kind)
        return cls(k, null=True, domain=domain)

    @classmethod
    def of(cls, kind: RegionKind | ValueType, *items: Any, null: bool = False) -> Region:
        """The region holding the given values (and Intervals, for an ordered kind)."""
        k, domain = _domain(kind)
        if k == "ordered":
            return cls(
                k,
                tuple(i if isinstance(i, Interval) else Interval.point(i) for i in items),
                null=null,
            )
        return cls(k, values=frozenset(items), null=null, domain=domain)

    # -- queries --------------------------------------------------------------

    def contains(self, v: Any) -> bool:
        if v is None:
            return self.null
        if self.kind == "ordered":
            return any(iv.contains(v) for iv in self.intervals)
        return (v in self.values) is not self.complement

    def is_empty(self) -> bool:
        if self.null:
            return False
        if self.kind == "ordered":
            return not self.intervals
        return not self.complement and not self.values

    def is_everything(self, *, null: bool = True) -> bool:
        """Whether every non-null value (and null too, if `null`) is accepted."""
        if null and not self.null:
            return False
        if self.kind == "ordered":
            return self.intervals == (Interval.everything(),)
        if self.domain is not None:
            return self.values == self.domain
        return self.complement and not self.values

    def boundaries(self) -> list[Any]:
        """The finite interval endpoints, sorted (empty for a discrete region)."""
        points = {p for iv in self.intervals for p in (iv.lo, iv.hi) if p is not None}
        return sorted(points)

    # -- algebra --------------------------------------------------------------

    def _check(self, other: Region) -> None:
        if self.kind != other.kind or self.domain != other.domain:
            raise ValueError("regions of different kinds cannot be combined")

    def union(self, other: Region) -> Region:
        self._check(other)
        null = self.null or other.null
        if self.kind == "ordered":
            return Region("ordered", self.intervals + other.intervals, null=null)
        a, b = self.values, other.values
        if not self.complement and not other.complement:
            values, complement = a | b, False
        elif self.complement and other.complement:
            values, complement = a & b, True
        elif self.complement:
            values, complement = a - b, True
        else:
            values, complement = b - a, True
        return Region("discrete", values=values, complement=complement, null=null,
                      domain=self.domain)  # fmt: skip

    def intersection(self, other: Region) -> Region:
        self._check(other)
        null = self.null and other.null
        if self.kind == "ordered":
            parts = [_meet(x, y) for x in self.intervals for y in other.intervals]
            return Region("ordered", tuple(p for p in parts if p is not None), null=null)
        a, b = self.values, other.values
        if not self.complement and not other.complement:
            values, complement = a & b, False
        elif self.complement and other.complement:
            values, complement = a | b, True
        elif self.complement:
            values, complement = b - a, False
        else:
            values, complement = a - b, False
        return Region("discrete", values=values, complement=complement, null=null,
                      domain=self.domain)  # fmt: skip

    def complement_region(self, *, null: bool | None = None) -> Region:
        """Every non-null value this region lacks.

        Null is in the result when it is not in this region — the plain set
        complement, so `r.union(r.complement_region())` is everything — unless
        `null` says otherwise.
        """
        with_null = (not self.null) if null is None else null
        if self.kind == "discrete":
            return Region("discrete", values=self.values, complement=not self.complement,
                          null=with_null, domain=self.domain)  # fmt: skip
        gaps: list[Interval] = []
        lo: Any | None = None
        lo_closed = False
        for iv in self.intervals:
            if iv.lo is not None:
                gaps.append(Interval(lo, lo_closed, iv.lo, not iv.lo_closed))
            elif gaps or lo is not None:  # pragma: no cover - intervals are sorted
                raise AssertionError("unbounded interval after a bounded one")
            if iv.hi is None:
                return Region("ordered", tuple(gaps), null=with_null)
            lo, lo_closed = iv.hi, not iv.hi_closed
        gaps.append(Interval(lo, lo_closed, None, False))
        return Region("ordered", tuple(gaps), null=with_null)

    def difference(self, other: Region) -> Region:
        """Values in this region and not in `other` (null included)."""
        return self.intersection(other.complement_region())

    # -- text -----------------------------------------------------------------

    def to_feel(self) -> str:
        """FEEL unary tests accepting exactly this region (for messages and round trips)."""
        null = self.null
        if self.is_everything():
            return "-"
        parts: list[str]
        if self.kind == "ordered":
            parts = [iv.to_feel() for iv in self.intervals]
        elif self.complement:
            excluded = [feel_literal(v) for v in _sorted_values(self.values)]
            if not null:
                excluded.append("null")
            # `not(…)` accepts null unless null is one of the excluded tests.
            return f"not({', '.join(excluded)})" if excluded else "-"
        else:
            parts = [feel_literal(v) for v in _sorted_values(self.values)]
        if null:
            parts.append("null")
        if not parts:
            raise ValueError("the empty region has no unary-test form")
        return ", ".join(parts)

    def __str__(self) -> str:
        try:
            return self.to_feel()
        except ValueError:
            return "(nothing)"


def _is_date(v: Any) -> bool:
    return isinstance(v, dt.date) and not isinstance(v, dt.datetime)


def _sorted_values(values: frozenset[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=repr)


def _close_dates(iv: Interval) -> Interval | None:
    """A date interval with closed finite ends, or None when it holds no date."""
    lo, lo_closed, hi, hi_closed = iv.lo, iv.lo_closed, iv.hi, iv.hi_closed
    if (lo_closed or lo is None) and (hi_closed or hi is None):
        return iv
    if lo is not None and not lo_closed and _is_date(lo):
        if lo == dt.date.max:
            return None
        lo, lo_closed = lo + _ONE_DAY, True
    if hi is not None and not hi_closed and _is_date(hi):
        if hi == dt.date.min:
            return None
        hi, hi_closed = hi - _ONE_DAY, True
    return Interval(lo, lo_closed, hi, hi_closed)


def _lo_key(iv: Interval) -> tuple[bool, Any, bool]:
    return (iv.lo is not None, iv.lo if iv.lo is not None else 0, not iv.lo_closed)


def _touches(a: Interval, b: Interval) -> bool:
    """Whether `b` (starting no earlier than `a`) overlaps `a` or continues it."""
    if a.hi is None or b.lo is None:
        return True
    if b.lo < a.hi:
        return True
    if b.lo == a.hi:
        return a.hi_closed or b.lo_closed
    # Dates are discrete: [.. 03-31] and [04-01 ..] leave no date between them.
    return bool(_is_date(b.lo) and a.hi_closed and b.lo_closed and b.lo - a.hi == _ONE_DAY)


def _later_hi(a: Interval, b: Interval) -> tuple[Any | None, bool]:
    if a.hi is None or b.hi is None:
        return None, False
    if a.hi == b.hi:
        return a.hi, a.hi_closed or b.hi_closed
    return (a.hi, a.hi_closed) if a.hi > b.hi else (b.hi, b.hi_closed)


def _normalise(intervals: tuple[Interval, ...]) -> tuple[Interval, ...]:
    live: list[Interval] = []
    for iv in intervals:
        closed = _close_dates(iv)
        if closed is not None and not closed.is_empty():
            live.append(closed)
    live.sort(key=_lo_key)
    merged: list[Interval] = []
    for iv in live:
        if merged and _touches(merged[-1], iv):
            last = merged[-1]
            hi, hi_closed = _later_hi(last, iv)
            merged[-1] = Interval(last.lo, last.lo_closed, hi, hi_closed)
        else:
            merged.append(iv)
    return tuple(merged)


def _meet(a: Interval, b: Interval) -> Interval | None:
    if a.lo is None or (b.lo is not None and (b.lo > a.lo or (b.lo == a.lo and not b.lo_closed))):
        lo, lo_closed = b.lo, b.lo_closed
    else:
        lo, lo_closed = a.lo, a.lo_closed
    if a.hi is None or (b.hi is not None and (b.hi < a.hi or (b.hi == a.hi and not b.hi_closed))):
        hi, hi_closed = b.hi, b.hi_closed
    else:
        hi, hi_closed = a.hi, a.hi_closed
    iv = Interval(lo, lo_closed, hi, hi_closed)
    return None if iv.is_empty() else iv


def feel_literal(value: Any) -> str:
    """A Python value as FEEL source text."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if _is_date(value):
        return f'date("{value.isoformat()}")'
    if isinstance(value, str):
        escaped = (
            value.replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\n", "\\n")
            .replace("\r", "\\r")
            .replace("\t", "\\t")
        )
        return f'"{escaped}"'
    raise TypeError(f"no FEEL literal for a {type(value).__name__}")
