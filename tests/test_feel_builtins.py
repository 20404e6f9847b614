"""The FEEL built-in library, called as the compiler calls it (positional or named arguments)."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest

from kijun.criteria.feel import values as v
from kijun.criteria.feel.functions import BUILTINS, InvalidArgument

D = Decimal


def call(name: str, *args: Any, **named: Any) -> Any:
    """Bind like the compiler: by position, or by the spec's parameter names (`_` for blanks)."""
    b = BUILTINS[name]
    try:
        if named:
            names = {k.replace("_", " ") if k != "newItem" else k: x for k, x in named.items()}
            params = b.bind_named(tuple(names))
            assert params is not None, (name, tuple(names))
            return b.impl(*(names[p] for p in params))
        assert b.bind_positional(len(args)), (name, len(args))
        return b.impl(*args)
    except InvalidArgument:
        return None


def at(text: str) -> Any:
    return v.parse_temporal(text)


def s(x: Any) -> str | None:
    return v.to_string(x)


CASES: list[tuple[str, tuple[Any, ...], Any]] = [
    # conversion
    ("date", ("2018-12-10",), dt.date(2018, 12, 10)),
    ("date", (2018, 12, 10), dt.date(2018, 12, 10)),
    ("date", (at("2017-08-10T10:20:00+02:00"),), dt.date(2017, 8, 10)),
    ("date", ("2018-13-10",), None),
    ("date", (2018, D("12.5"), 10), None),
    ("date", (None,), None),
    ("date", ("-2017-12-31",), v.WideDate(-2017, 12, 31)),
    ("date", (-2017, 12, 31), v.WideDate(-2017, 12, 31)),
    ("date", (999999999, 12, 31), v.WideDate(999999999, 12, 31)),
    ("date", (-2017, 2, 29), None),
    ("date", (at("-2017-12-31T23:00:00.5-05:00"),), v.WideDate(-2017, 12, 31)),
    ("number", ("1,000.21", ",", "."), D("1000.21")),
    ("number", ("1 000,21", " ", ","), D("1000.21")),
    ("number", ("1.000,21", ".", ","), D("1000.21")),
    ("number", ("1,000.21", ",", ","), None),
    ("number", ("12a",), None),
    ("number", ("-1.5e3",), D("-1500")),
    ("string", (D("1.10"),), "1.1"),
    ("string", (None,), None),
    ("string", (at("P1Y2M"),), "P1Y2M"),
    ("years and months duration", (dt.date(2011, 12, 22), dt.date(2013, 8, 24)), at("P1Y8M")),
    ("years and months duration", (dt.date(2013, 8, 24), dt.date(2011, 12, 22)), at("-P1Y8M")),
    ("years and months duration", (dt.date(2015, 1, 21), dt.date(2016, 1, 20)), at("P11M")),
    ("years and months duration", (at("-0001-01-21"), dt.date(1, 1, 20)), at("P1Y11M")),
    ("duration", ("P2DT20H14M",), at("P2DT20H14M")),
    ("duration", ("P1Y2D",), None),
    ("duration", (1,), None),
    # strings
    ("substring", ("foobar", 3), "obar"),
    ("substring", ("foobar", 3, 3), "oba"),
    ("substring", ("foobar", -2, 1), "a"),
    ("substring", ("foobar", D("1.5"), D("1.5")), "f"),
    ("substring", ("\U0001f40eab", 2), "ab"),  # code points, not UTF-16 units
    ("substring", ("foobar", 0), None),
    ("string length", ("foo",), 3),
    ("upper case", ("aBc4",), "ABC4"),
    ("lower case", ("aBc4",), "abc4"),
    ("substring before", ("foobar", "bar"), "foo"),
    ("substring before", ("foobar", "xyz"), ""),
    ("substring after", ("foobar", "ob"), "ar"),
    ("substring after", ("", "a"), ""),
    ("contains", ("foobar", "of"), False),
    ("starts with", ("foobar", "fo"), True),
    ("ends with", ("foobar", "r"), True),
    ("matches", ("foobar", "^fo*b"), True),
    ("matches", ("FooBar", "^fo*b", "i"), True),
    ("matches", ("abc", "^[a-z-[b]]+$"), False),
    ("matches", ("acd", "^[a-z-[b]]+$"), True),
    ("matches", ("hello world", "hello[ ]world ", "x"), True),
    ("matches", ("Mary\rJones", "Mary.Jones"), False),
    ("matches", ("abc", "(a"), None),
    ("matches", ("abc", "a", "g"), None),
    ("matches", ("a:b", r"^\i\c\c$"), True),
    ("replace", ("abcd", "(ab)|(a)", "[1=$1][2=$2]"), "[1=ab][2=]cd"),
    ("replace", ("a.b.c", ".", "-", "q"), "a-b-c"),
    ("replace", ("abc", "b", "$"), None),
    ("replace", ("abc", "x*", "-"), None),
    ("replace", ("darted", "^(.*?)d(.*)$", "$1c$2"), "carted"),
    ("split", ("John Doe", "\\s"), ["John", "Doe"]),
    ("split", ("a;b;c;;", ";"), ["a", "b", "c", "", ""]),
    ("string join", (["a", None, "c"], ", "), "a, c"),
    ("string join", (["a", "b"],), "ab"),
    ("string join", (["a", 1],), None),
    # lists
    ("list contains", ([1, 2, None], None), True),
    ("list contains", ([1, 2], D(2)), True),
    ("count", ([1, 2, 3],), 3),
    ("min", ([3, 1, 2],), 1),
    ("min", (3, 1, 2), 1),
    ("min", ([],), None),
    ("max", (["a", "c", "b"],), "c"),
    ("max", ([1, "a"],), None),
    ("sum", ([1, 2, D("3.5")],), D("6.5")),
    ("sum", ([],), None),
    ("sum", ([1, "a"],), None),
    ("mean", (1, 2, 3), D(2)),
    ("median", ([8, 2, 5, 3, 4],), D(4)),
    ("median", ([6, 1, 2, 3],), D("2.5")),
    ("product", ([2, 3, 4],), D(24)),
    ("mode", ([6, 3, 9, 6, 6],), [D(6)]),
    ("mode", ([6, 1, 9, 6, 1],), [D(1), D(6)]),
    ("mode", ([],), []),
    ("stddev", ([2],), None),
    ("all", ([True, None, False],), False),
    ("all", ([True, None],), None),
    ("all", ([],), True),
    ("all", (True, True), True),
    ("all", ([1],), None),
    ("any", ([False, None, True],), True),
    ("any", ([],), False),
    ("sublist", ([4, 5, 6], 1, 2), [4, 5]),
    ("sublist", ([4, 5, 6], -2), [5, 6]),
    ("sublist", ([4, 5, 6], 4), None),
    ("append", ([1], 2, 3), [1, 2, 3]),
    ("concatenate", ([1, 2], [3]), [1, 2, 3]),
    ("insert before", ([1, 3], 2, 2), [1, 2, 3]),
    ("insert before", ([1, 3], -1, 2), [1, 2, 3]),
    ("remove", ([1, 2, 3], 2), [1, 3]),
    ("remove", ([1, 2, 3], 4), None),
    ("reverse", ([1, 2, 3],), [3, 2, 1]),
    ("index of", ([1, 2, 3, 2], 2), [2, 4]),
    ("union", ([1, 2], [2, 3]), [1, 2, 3]),
    ("distinct values", ([1, 2, 3, 2, 1],), [1, 2, 3]),
    ("flatten", ([[1, 2], [[3]], 4],), [1, 2, 3, 4]),
    ("sort", ([3, 1, 4, 2],), [1, 2, 3, 4]),
    ("list replace", ([2, 4, 7, 8], 3, 6), [2, 4, 6, 8]),
    ("list replace", ([2, 4, 7, 8], D("2.5"), 6), [2, 6, 7, 8]),
    # numbers
    ("decimal", (D("1") / 3, 2), D("0.33")),
    ("decimal", (D("1.5"), 0), D(2)),
    ("decimal", (D("2.5"), 0), D(2)),
    ("floor", (D("-1.5"),), D(-2)),
    ("floor", (D("-1.56"), 1), D("-1.6")),
    ("ceiling", (D("1.5"),), D(2)),
    ("ceiling", (D("-1.56"), 1), D("-1.5")),
    ("round up", (D("5.5"),), D(6)),
    ("round up", (D("-5.5"),), D(-6)),
    ("round up", (D("1.121"), 2), D("1.13")),
    ("round down", (D("-5.5"),), D(-5)),
    ("round half up", (D("5.5"),), D(6)),
    ("round half up", (D("-5.5"),), D(-6)),
    ("round half down", (D("5.5"),), D(5)),
    ("round half down", (D("-5.5"),), D(-5)),
    ("round half down", (D("1.125"), 2), D("1.12")),
    ("floor", (D("1.5"), None), None),
    ("abs", (D(-10),), D(10)),
    ("abs", (at("-P1D"),), at("P1D")),
    ("abs", ("a",), None),
    ("modulo", (12, 5), D(2)),
    ("modulo", (-12, 5), D(3)),
    ("modulo", (12, -5), D(-3)),
    ("modulo", (D("10.1"), D("4.5")), D("1.1")),
    ("modulo", (12, 0), None),
    ("sqrt", (16,), D(4)),
    ("sqrt", (-1,), None),
    ("log", (0,), None),
    ("exp", (0,), D(1)),
    ("odd", (5,), True),
    ("odd", (D("5.5"),), None),
    ("even", (-2,), True),
    # dates
    ("day of year", (dt.date(2019, 9, 17),), 260),
    ("day of week", (dt.date(2019, 9, 17),), "Tuesday"),
    ("month of year", (dt.date(2019, 9, 17),), "September"),
    ("week of year", (dt.date(2019, 9, 17),), 38),
    ("week of year", (dt.date(2003, 12, 29),), 1),
    ("week of year", (dt.date(2005, 1, 1),), 53),
    ("last day of month", (dt.date(2024, 2, 5),), 29),
    ("last day of month", (dt.date(9999, 12, 5),), 31),
    ("last day of month", (at("-0004-02-05"),), 29),
    ("day of year", (at("10000-12-31"),), 366),
    ("week of year", (at("-2017-12-31T10:00:00"),), 52),
    ("is", (at("-2017-12-31T10:00:00Z"), at("-2017-12-31T10:00:00Z")), True),
    ("is", (at("-2017-12-31T10:00:00Z"), at("-2017-12-31T11:00:00+01:00")), False),
    ("is", (at("10:00:00.000000001"), at("10:00:00")), False),
    ("is", (at("2012-12-25"), at("2012-12-25")), True),
    ("is", (at("23:00:50@Etc/GMT"), at("23:00:50Z")), False),
    ("is", (at("10:30:00+00:00"), at("10:30:00Z")), True),
    ("is", (1, "1"), False),
    ("not", (True,), False),
    ("not", (1,), None),
    # contexts
    ("get value", ({"a": 1}, "a"), 1),
    ("get value", ({"a": 1}, "b"), None),
    ("get entries", ({"a": 1},), [{"key": "a", "value": 1}]),
    ("context", ([{"key": "a", "value": 1}, {"key": "b", "value": 2}],), {"a": 1, "b": 2}),
    ("context", ([{"key": "a", "value": 1}, {"key": "a", "value": 2}],), None),
    ("context put", ({"a": 1}, "b", 2), {"a": 1, "b": 2}),
    ("context put", ({"x": {"a": 0}}, ["x", "a"], 2), {"x": {"a": 2}}),
    ("context merge", ([{"a": 1}, {"a": 2, "b": 3}],), {"a": 2, "b": 3}),
]


@pytest.mark.parametrize(("name", "args", "expected"), CASES, ids=lambda x: str(x)[:40])
def test_builtin(name: str, args: tuple[Any, ...], expected: Any) -> None:
    got = call(name, *args)
    if expected is None or got is None:
        assert got is expected
    else:
        assert v.equal(got, expected) is True, got


def test_temporal_conversions() -> None:
    assert s(call("time", "11:59:45+02:00")) == "11:59:45+02:00"
    assert s(call("time", 11, 59, 45, at("-PT2H1M"))) == "11:59:45-02:01"
    assert s(call("time", 11, 59, 45, None)) == "11:59:45"
    assert s(call("time", 11, 59, 45, at("PT0H"))) == "11:59:45Z"
    assert s(call("time", dt.date(2017, 8, 10))) == "00:00:00Z"
    assert s(call("time", at("2017-08-10T10:20:00@Europe/Paris"))) == "10:20:00@Europe/Paris"
    assert call("time", 24, 0, 0) is None
    assert call("time", "24:00:01") is None
    dtm = call("date and time", dt.date(2017, 1, 1), at("23:59:01@Europe/Paris"))
    assert s(dtm) == "2017-01-01T23:59:01@Europe/Paris"
    assert s(call("date and time", "2012-12-24")) == "2012-12-24T00:00:00"
    assert call("date and time", "2017-12-31T13:20:00@xyz/abc") is None
    assert call("date and time", dt.date(2017, 1, 1), None) is None
    # beyond Python's years, and to the nanosecond (DMN 1.5 §10.3.2.3)
    dtm = call("date and time", at("-2017-12-31"), at("23:59:01.123456789@Europe/Paris"))
    assert s(dtm) == "-2017-12-31T23:59:01.123456789@Europe/Paris"
    assert s(call("date and time", at("-2017-12-31"))) == "-2017-12-31T00:00:00"
    assert s(call("time", dtm)) == "23:59:01.123456789@Europe/Paris"
    assert s(call("time", 23, 59, D("1.123456789"))) == "23:59:01.123456789"
    assert s(call("date and time", "999999999-12-31T24:00:00")) is None
    assert v.type_of(call("now")) == v.DATE_TIME
    assert v.type_of(call("today")) == v.DATE


def test_named_arguments_use_the_spec_names() -> None:
    assert call("substring", string="abc", start_position=2) == "bc"
    assert call("substring", length=1, start_position=2, string="abc") == "b"
    assert call(
        "number", **{"from": "1.000,5", "grouping separator": ".", "decimal separator": ","}
    ) == D("1000.5")
    assert call("round half up", n=D("1.25"), scale=1) == D("1.3")
    assert call("list replace", list=[1, 2], position=1, newItem=0) == [0, 2]
    assert call("is", value1=at("2021-02-13")) is False
    assert BUILTINS["substring"].bind_named(("string", "length")) is None


def test_variadic_binding() -> None:
    assert BUILTINS["min"].bind_positional(1)
    assert BUILTINS["min"].bind_positional(5)
    assert BUILTINS["append"].bind_positional(3)
    assert not BUILTINS["substring"].bind_positional(4)
    assert "…" in BUILTINS["concatenate"].describe_signatures()


def test_sort_and_list_replace_call_function_values() -> None:
    desc = v.FeelFunction(("x", "y"), lambda x, y: x > y)
    assert call("sort", [3, 1, 2], desc) == [3, 2, 1]
    assert call("sort", list=[3, 1, 2], precedes=desc) == [3, 2, 1]
    assert call("sort", [3, "a"]) is None
    assert call("sort", [1], 5) is None
    match = v.FeelFunction(("item", "newItem"), lambda item, new: item < new)
    assert call("list replace", [2, 4, 7, 8], match, 5) == [5, 5, 7, 8]
    one = v.FeelFunction(("item",), lambda item: True)
    assert call("list replace", [2, 4], one, 5) is None
    not_boolean = v.FeelFunction(("item", "newItem"), lambda item, new: item)
    assert call("list replace", [2, 4], not_boolean, 5) is None
    # a built-in is a function value too
    assert call("sort", [D(-3), D(1)], lambda x, y: BUILTINS["abs"](x) < BUILTINS["abs"](y)) == [
        D(1),
        D(-3),
    ]


R = v.FeelRange


@pytest.mark.parametrize(
    ("name", "a", "b", "expected"),
    [
        ("before", 1, 10, True),
        ("before", 1, R(1, 10, False, True), True),
        ("before", 1, R(1, 10, True, True), False),
        ("before", R(1, 10, True, True), R(10, 20, True, True), False),
        ("before", R(1, 10, True, False), R(10, 20, True, True), True),
        ("after", R(11, 20, True, True), 10, True),
        ("after", R(1, 10, True, True), R(11, 20, True, True), False),
        ("meets", R(1, 5, True, True), R(5, 10, True, True), True),
        ("meets", R(1, 5, True, False), R(5, 10, True, True), False),
        ("met by", R(5, 10, True, True), R(1, 5, True, True), True),
        ("overlaps", R(1, 5, True, True), R(3, 8, True, True), True),
        ("overlaps", R(1, 5, True, False), R(5, 8, True, True), False),
        ("overlaps before", R(1, 5, True, True), R(3, 8, True, True), True),
        ("overlaps before", R(1, 5, True, True), R(1, 8, True, True), False),
        ("overlaps after", R(3, 8, True, True), R(1, 5, True, True), True),
        ("finishes", 10, R(1, 10, True, True), True),
        ("finishes", R(5, 10, True, True), R(1, 10, True, True), True),
        ("finished by", R(1, 10, True, True), 10, True),
        ("includes", R(1, 10, True, True), 5, True),
        ("includes", R(1, 10, True, True), R(4, 6, True, True), True),
        ("includes", R(1, 10, True, False), R(4, 10, True, True), False),
        ("during", 5, R(1, 10, True, True), True),
        ("during", R(1, 10, True, True), R(1, 10, False, True), False),
        ("starts", 1, R(1, 10, True, True), True),
        ("starts", R(1, 5, True, True), R(1, 10, True, True), True),
        ("started by", R(1, 10, True, True), 1, True),
        ("coincides", 5, 5, True),
        ("coincides", R(1, 5, True, True), R(1, 5, True, False), False),
        ("before", at("2020-01-01"), R(at("2020-02-01"), at("2020-03-01"), True, True), True),
        ("includes", R(None, 10, False, False, lo_unbounded=True), -1000, True),
        ("before", 1, "a", None),
        ("before", None, 1, None),
    ],
)
def test_range_functions(name: str, a: Any, b: Any, expected: Any) -> None:
    assert call(name, a, b) is expected


POOL: list[Any] = [
    None,
    0,
    D("-1.5"),
    "",
    "a,b",
    True,
    [],
    [1, "a", None],
    {"a": 1},
    dt.date(2020, 2, 29),
    at("2020-02-29T10:00:00@Europe/Paris"),
    at("10:00:00Z"),
    at("P1D"),
    at("P1Y"),
    R(1, 5, True, False),
    v.FeelFunction(("x", "y"), lambda x, y: True),
]


@pytest.mark.parametrize("name", sorted(n for n in BUILTINS if n not in ("now", "today")))
def test_no_python_exception_escapes(name: str) -> None:
    """Every built-in, on every mix of argument types, returns a FEEL value or null."""
    b = BUILTINS[name]
    for sig in b.signatures:
        for args in itertools.product(POOL, repeat=len(sig)):
            with contextlib.suppress(InvalidArgument):
                b.impl(*args)
