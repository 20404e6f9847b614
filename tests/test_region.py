"""Value regions: canonical form, algebra against set semantics, FEEL round trips."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kijun.criteria.feel import compile_unary_tests
from kijun.criteria.model import ValueType
from kijun.criteria.region import Interval, Region, region_kind

N, S, B, D = ValueType.NUMBER, ValueType.STRING, ValueType.BOOLEAN, ValueType.DATE


def n(x: str | int) -> Decimal:
    return Decimal(str(x))


def day(d: int) -> dt.date:
    return dt.date(2024, 3, 31) + dt.timedelta(days=d)


def ordered(*intervals: Interval, null: bool = False) -> Region:
    return Region("ordered", intervals, null=null)


def closed(lo: Any, hi: Any) -> Interval:
    return Interval(lo, True, hi, True)


def open_(lo: Any, hi: Any) -> Interval:
    return Interval(lo, False, hi, False)


# -- intervals --------------------------------------------------------------------


def test_interval_contains() -> None:
    iv = Interval(n(1), True, n(5), False)
    assert iv.contains(1) and iv.contains(n("4.99")) and not iv.contains(5)
    assert not iv.contains(None)
    assert Interval.everything().contains(n(-(10**30)))
    assert Interval.point(3).contains(n("3.0"))


def test_unbounded_ends_are_never_closed() -> None:
    assert Interval(None, True, None, True) == Interval.everything()


def test_interval_emptiness() -> None:
    assert Interval(n(2), True, n(1), True).is_empty()
    assert Interval(n(1), True, n(1), False).is_empty()
    assert not Interval.point(n(1)).is_empty()
    assert open_(day(0), day(1)).is_empty()  # no date lies strictly between
    assert not open_(day(0), day(2)).is_empty()
    assert not open_(n(0), n(1)).is_empty()


def test_region_kind() -> None:
    assert region_kind(N) == region_kind(D) == "ordered"
    assert region_kind(S) == region_kind(B) == "discrete"


# -- canonical form ----------------------------------------------------------------------


def test_intervals_are_sorted_and_merged() -> None:
    r = ordered(
        closed(n(5), n(6)), Interval(n(1), True, n(3), True), Interval(n(3), False, n(4), True)
    )
    assert r.intervals == (closed(n(1), n(4)), closed(n(5), n(6)))
    # (1..3) and (3..5) leave 3 out: they stay apart
    r = ordered(open_(n(3), n(5)), open_(n(1), n(3)))
    assert r.intervals == (open_(n(1), n(3)), open_(n(3), n(5)))
    # overlapping, one unbounded
    r = ordered(Interval(None, False, n(2), False), closed(n(1), n(9)))
    assert r.intervals == (Interval(None, False, n(9), True),)
    # empties vanish
    assert ordered(closed(n(2), n(1))) == Region.empty(N)


def test_ints_and_decimals_merge() -> None:
    r = ordered(closed(1, 2), closed(n("2.0"), n(3)))
    assert len(r.intervals) == 1
    assert r.contains(n("2.5")) and r.contains(3)
    assert ordered(closed(1, 2)) == ordered(closed(n(1), n("2.00")))


def test_date_intervals_are_closed_and_adjacent_days_merge() -> None:
    r = ordered(Interval(day(0), False, day(10), False))
    assert r.intervals == (closed(day(1), day(9)),)
    r = ordered(Interval(None, False, day(0), True), Interval(day(1), True, None, False))
    assert r == Region.any(D, null=False)
    r = ordered(closed(day(0), day(1)), closed(day(3), day(4)))
    assert len(r.intervals) == 2  # day 2 lies between
    assert ordered(Interval(dt.date.max, False, None, False)) == Region.empty(D)
    assert ordered(Interval(None, False, dt.date.min, False)) == Region.empty(D)


def test_discrete_values_and_boolean_domain() -> None:
    r = Region("discrete", values=frozenset({"a"}), complement=True)
    assert r.contains("b") and not r.contains("a") and not r.contains(None)
    assert Region.any(B, null=False) == Region.of(B, True, False)
    assert Region.of(B, True).complement_region(null=False) == Region.of(B, False)
    assert Region.any(B).values == frozenset({True, False})
    assert not Region.any(B).complement


def test_bad_construction() -> None:
    with pytest.raises(ValueError):
        Region("ordered", values=frozenset({1}))
    with pytest.raises(ValueError):
        Region("discrete", (Interval.point(1),))
    with pytest.raises(ValueError):
        Region("bogus")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Region.any(N).union(Region.any(S))
    with pytest.raises(ValueError):
        Region.any(S).union(Region.any(B))  # same kind, different domains


def test_queries() -> None:
    assert Region.empty(N).is_empty() and Region.empty(S).is_empty()
    assert not Region.only_null(N).is_empty()
    assert Region.any(N).is_everything()
    assert not Region.any(N, null=False).is_everything()
    assert Region.any(N, null=False).is_everything(null=False)
    assert Region.any(S).is_everything() and Region.any(B).is_everything()
    assert not Region.of(S, "a").is_everything(null=False)
    r = ordered(
        Interval(None, False, n(1), False), closed(n(3), n(3)), Interval(n(5), True, None, False)
    )
    assert r.boundaries() == [n(1), n(3), n(5)]
    assert Region.of(S, "a").boundaries() == []


# -- algebra ------------------------------------------------------------------------------


def test_algebra_examples() -> None:
    a = ordered(closed(n(1), n(5)))
    b = ordered(Interval(n(3), False, n(8), False), null=True)
    assert a.union(b) == ordered(Interval(n(1), True, n(8), False), null=True)
    assert a.intersection(b) == ordered(Interval(n(3), False, n(5), True))
    assert a.complement_region() == ordered(
        Interval(None, False, n(1), False), Interval(n(5), False, None, False), null=True
    )
    assert a.complement_region(null=False).null is False
    assert a.difference(b) == ordered(closed(n(1), n(3)))
    assert Region.any(N).complement_region() == Region.empty(N)
    assert Region.empty(N).complement_region() == Region.any(N)
    s = Region.of(S, "a", "b")
    t = Region("discrete", values=frozenset({"b", "c"}), complement=True)
    assert s.union(t) == Region("discrete", values=frozenset({"c"}), complement=True)
    assert s.intersection(t) == Region.of(S, "a")
    assert t.intersection(s) == Region.of(S, "a")
    assert t.union(s) == s.union(t)


def test_to_feel() -> None:
    assert Region.any(N).to_feel() == "-"
    assert Region.any(N, null=False).to_feel() == "!= null"
    assert Region.only_null(S).to_feel() == "null"
    r = ordered(Interval(None, False, n(1), False), closed(n(2), n("2.5")), Interval.point(n(4)))
    assert r.to_feel() == "< 1, [2..2.5], 4"
    assert ordered(Interval(day(0), True, None, False), null=True).to_feel() == (
        '>= date("2024-03-31"), null'
    )
    assert Region.of(S, 'say "hi"', "a\\b").to_feel() == r'"a\\b", "say \"hi\""'
    assert Region("discrete", values=frozenset({"a"}), complement=True).to_feel() == (
        'not("a", null)'
    )
    assert Region("discrete", complement=True, null=False).to_feel() == "not(null)"
    assert Region.of(B, False, null=True).to_feel() == "false, null"
    assert str(Region.empty(N)) == "(nothing)"
    with pytest.raises(ValueError):
        Region.empty(S).to_feel()


# -- properties -------------------------------------------------------------------------

GRID = [n(k) / 2 for k in range(-4, 5)]
NUMBER_SAMPLES = [None, *(n(k) / 4 for k in range(-10, 11))]
DATE_GRID = [day(k) for k in range(-3, 4)]
DATE_SAMPLES = [None, *(day(k) for k in range(-5, 6))]
STRING_SAMPLES = [None, "a", "b", "c", "d"]
BOOLEAN_SAMPLES = [None, True, False]


def _intervals(points: list[Any]) -> st.SearchStrategy[Interval]:
    end = st.one_of(st.none(), st.sampled_from(points))
    return st.builds(Interval, end, st.booleans(), end, st.booleans())


def _ordered(points: list[Any]) -> st.SearchStrategy[Region]:
    return st.builds(
        lambda ivs, null: Region("ordered", tuple(ivs), null=null),
        st.lists(_intervals(points), max_size=4),
        st.booleans(),
    )


def _discrete(values: list[Any], domain: frozenset[Any] | None) -> st.SearchStrategy[Region]:
    return st.builds(
        lambda vs, c, null: Region(
            "discrete", values=frozenset(vs), complement=c, null=null, domain=domain
        ),
        st.lists(st.sampled_from(values), max_size=3),
        st.booleans(),
        st.booleans(),
    )


KINDS: list[tuple[ValueType, st.SearchStrategy[Region], list[Any]]] = [
    (N, _ordered(GRID), NUMBER_SAMPLES),
    (D, _ordered(DATE_GRID), DATE_SAMPLES),
    (S, _discrete(["a", "b", "c"], None), STRING_SAMPLES),
    (B, _discrete([True, False], frozenset({True, False})), BOOLEAN_SAMPLES),
]


@st.composite
def _pair(draw: st.DrawFn) -> tuple[ValueType, Region, Region, list[Any]]:
    type, regions, samples = draw(st.sampled_from(KINDS))
    return type, draw(regions), draw(regions), samples


FAST = settings(max_examples=80, deadline=None)


@FAST
@given(_pair())
def test_algebra_agrees_with_sets(case: tuple[ValueType, Region, Region, list[Any]]) -> None:
    _, a, b, samples = case
    union, meet, comp = a.union(b), a.intersection(b), a.complement_region()
    diff = a.difference(b)
    for v in samples:
        in_a, in_b = a.contains(v), b.contains(v)
        assert union.contains(v) == (in_a or in_b)
        assert meet.contains(v) == (in_a and in_b)
        assert comp.contains(v) == (not in_a)
        assert diff.contains(v) == (in_a and not in_b)
    assert a.is_empty() == (not any(a.contains(v) for v in samples)) or a.kind == "discrete"


@FAST
@given(_pair())
def test_canonical_form(case: tuple[ValueType, Region, Region, list[Any]]) -> None:
    _, a, b, _ = case
    assert a.union(b) == b.union(a)
    assert a.intersection(b) == b.intersection(a)
    assert a.union(a) == a == a.intersection(a)
    assert a.complement_region().complement_region() == a
    assert a.union(b).complement_region() == a.complement_region().intersection(
        b.complement_region()
    )
    assert a.union(a.complement_region()).is_everything()
    assert a.intersection(a.complement_region()).is_empty()
    # a canonical region is rebuilt unchanged
    assert Region(a.kind, a.intervals, a.values, a.complement, a.null, a.domain) == a


@FAST
@given(_pair())
def test_feel_round_trip(case: tuple[ValueType, Region, Region, list[Any]]) -> None:
    type, a, _, samples = case
    if a.is_empty():
        return
    test = compile_unary_tests(a.to_feel(), type)
    assert test.region == a, a.to_feel()
    for v in samples:
        assert test.matches(v) == a.contains(v)


@FAST
@given(_pair())
def test_boundaries_cut_the_line_into_uniform_pieces(
    case: tuple[ValueType, Region, Region, list[Any]],
) -> None:
    # what the column index relies on: between two consecutive boundaries
    # membership does not change
    _, a, _, samples = case
    if a.kind != "ordered":
        return
    points = a.boundaries()
    for lo, hi in pairwise(points):
        inside = [v for v in samples if v is not None and lo < v < hi]
        assert len({a.contains(v) for v in inside}) <= 1
