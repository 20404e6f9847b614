"""FEEL values: temporal parsing and string forms, equality, order, arithmetic, properties, types."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from kijun.criteria.feel import values as v
from kijun.criteria.feel.temporal import DaysTimeDuration, FeelTime, YearsMonthsDuration


def at(text: str) -> Any:
    value = v.parse_temporal(text)
    assert value is not None, text
    return value


@pytest.mark.parametrize(
    ("text", "kind", "string"),
    [
        ("2018-12-10", v.DATE, "2018-12-10"),
        ("10:30:00", v.TIME, "10:30:00"),
        ("12:00:00+01:00", v.TIME, "12:00:00+01:00"),
        ("11:22:33-00:00", v.TIME, "11:22:33Z"),
        ("11:22:33.444", v.TIME, "11:22:33.444"),
        ("00:01:00@Europe/Paris", v.TIME, "00:01:00@Europe/Paris"),
        ("23:00:50@Etc/GMT", v.TIME, "23:00:50@Etc/GMT"),
        ("2018-12-10T10:30:00@Europe/Paris", v.DATE_TIME, "2018-12-10T10:30:00@Europe/Paris"),
        ("2017-12-31T11:22:33.567Z", v.DATE_TIME, "2017-12-31T11:22:33.567Z"),
        ("2017-12-31T11:22:33-01:35", v.DATE_TIME, "2017-12-31T11:22:33-01:35"),
        ("2021-01-01T24:00:00", v.DATE_TIME, "2021-01-02T00:00:00"),
        ("-2017-12-31", v.DATE, "-2017-12-31"),
        ("0000-01-01", v.DATE, "0000-01-01"),
        ("999999999-12-31", v.DATE, "999999999-12-31"),
        (
            "-999999999-12-31T23:59:59.999999999+02:00",
            v.DATE_TIME,
            "-999999999-12-31T23:59:59.999999999+02:00",
        ),
        ("9999-12-31T24:00:00", v.DATE_TIME, "10000-01-01T00:00:00"),
        (
            "2011-12-31T10:15:30.123456789@Europe/Paris",
            v.DATE_TIME,
            "2011-12-31T10:15:30.123456789@Europe/Paris",
        ),
        ("10:15:30.123456789Z", v.TIME, "10:15:30.123456789Z"),
        ("P1DT2H", v.DT_DURATION, "P1DT2H"),
        ("-P2D", v.DT_DURATION, "-P2D"),
        ("PT36H", v.DT_DURATION, "P1DT12H"),
        ("PT1.5S", v.DT_DURATION, "PT1.5S"),
        ("P0D", v.DT_DURATION, "PT0S"),
        ("P1Y2M", v.YM_DURATION, "P1Y2M"),
        ("P14M", v.YM_DURATION, "P1Y2M"),
        ("-P3M", v.YM_DURATION, "-P3M"),
    ],
)
def test_parse_and_string(text: str, kind: str, string: str) -> None:
    value = at(text)
    assert v.type_of(value) == kind
    assert v.to_string(value) == string


@pytest.mark.parametrize(
    "text",
    [
        "2017-13-10",
        "998-12-31",
        "01211-12-31",
        "-0000-01-01",
        "1000000000-01-01",
        "-2017-02-29",
        "24:00:01",
        "7:00:00",
        "13:20:00+19:00",
        "13:20:00+5:00",
        "13:20:00@xyz/abc",
        "2011-12-03T10:15:30+01:00@Europe/Paris",
        "2011-12-0310:15:30",
        "P",
        "PT",
        "P1Y2D",
        "1D",
        "",
    ],
)
def test_invalid_literals_are_null(text: str) -> None:
    assert v.parse_temporal(text) is None


def test_temporal_equality_follows_feel() -> None:
    assert v.equal(at("10:30:00Z"), at("10:30:00+00:00")) is True
    assert v.equal(at("10:30:00+02:00"), at("10:30:00+01:00")) is False
    assert v.equal(at("10:30:00@Europe/Paris"), at("10:30:00")) is False
    assert v.equal(at("2002-04-02T12:00:00-01:00"), at("2002-04-02T17:00:00+04:00")) is True
    assert v.equal(at("2018-10-08T00:00:00+02:00"), at("2018-10-08T00:00:00@Europe/Paris")) is True
    assert v.equal(at("2018-12-08T00:00:00"), at("2018-12-08T00:00:00@Asia/Dhaka")) is False
    assert v.equal(at("2018-12-08"), at("2018-12-08T00:00:00")) is None  # date vs date and time
    assert v.equal(at("P1D"), at("PT24H")) is True
    assert v.equal(at("P1Y"), at("P12M")) is True
    assert v.equal(at("P1Y"), at("P365D")) is None
    assert v.equal(at("10:30:00"), 100) is None
    assert v.equal(at("10:30:00"), None) is False


def test_temporal_order() -> None:
    assert v.less(at("2018-12-08"), at("2018-12-09")) is True
    assert v.less(at("10:00:00+02:00"), at("09:30:00Z")) is True
    assert v.less(at("10:00:00"), at("09:30:00Z")) is None  # local against zoned: no order
    assert v.greater(at("2018-12-08T10:00:00"), at("2018-12-08T09:00:00")) is True
    assert v.less(at("2018-12-08T10:00:00"), at("2018-12-08T09:00:00Z")) is None
    assert v.less(at("PT1H"), at("P1D")) is True
    assert v.greater_equal(at("P1Y"), at("P11M")) is True
    assert v.less(at("P1D"), at("P1Y")) is None


@pytest.mark.parametrize(
    ("op", "a", "b", "expected"),
    [
        ("+", "2021-01-01T10:10:10", "P1Y", "2022-01-01T10:10:10"),
        ("+", "2021-01-31", "P1M", "2021-02-28"),
        ("+", "P1M", "2021-01-01T10:10:10+11:00", "2021-02-01T10:10:10+11:00"),
        ("+", "2021-01-12T10:10:10@Australia/Melbourne", "P1DT1H", "2021-01-13T11:10:10+11:00"),
        ("+", "2021-01-01", "PT36H", "2021-01-02"),
        ("-", "2021-01-02", "PT1S", "2021-01-01"),
        ("+", "10:15:00", "P1D", "10:15:00"),
        ("-", "10:10:10+11:00", "PT1H", "09:10:10+11:00"),
        ("-", "2021-01-02T10:10:10", "2021-01-01T10:10:10", "P1D"),
        ("-", "2021-01-02T10:10:10@Europe/Paris", "2021-01-01T10:10:10@Asia/Dhaka", "P1DT5H"),
        ("-", "2021-01-02T10:10:10+01:00", "2021-01-01", "P1DT9H10M10S"),
        ("-", "2021-01-02", "2021-01-01T10:10:10+11:00", "P1DT49M50S"),
        ("-", "2021-01-02", "1995-01-01", "P9498D"),
        ("-", "10:10:10", "11:10:10", "-PT1H"),
        ("+", "P1Y", "-P2M", "P10M"),
        ("-", "-P1D", "PT2H", "-P1DT2H"),
    ],
)
def test_temporal_arithmetic(op: str, a: str, b: str, expected: str) -> None:
    result = v.ARITHMETIC[op](at(a), at(b))
    assert v.equal(result, at(expected)) is True, result


def test_temporal_arithmetic_without_common_ground_is_null() -> None:
    assert v.subtract(at("2021-01-02T10:10:10@Europe/Paris"), at("2021-01-01T10:10:10")) is None
    assert v.subtract(at("2021-01-01T00:00:00"), at("2021-01-02")) is None
    assert v.add(at("P1D"), at("P1Y")) is None
    assert v.add(at("2021-01-01"), at("2021-01-01")) is None
    assert v.add(at("10:00:00"), at("P1Y")) is None
    assert v.add(at("P1D"), 1) is None
    assert v.add(at("P1D"), None) is None


def test_durations_scale_and_divide() -> None:
    assert str(v.multiply(Decimal("1.5"), at("P4DT1H"))) == "P6DT1H30M"
    assert str(v.multiply(at("PT23H"), Decimal("2.5"))) == "P2DT9H30M"
    assert str(v.multiply(Decimal("-2.5"), at("P1Y11M"))) == "-P4Y9M"  # truncated
    assert str(v.divide(at("P10Y11M"), Decimal("2.5"))) == "P4Y4M"
    assert str(v.divide(at("P10DT23H"), Decimal("2.5"))) == "P4DT9H12M"
    assert v.divide(at("P10D"), at("P5D")) == 2
    assert v.divide(at("P10Y"), at("P5Y")) == 2
    assert v.divide(at("P10D"), 0) is None
    assert v.divide(at("P10D"), at("P0D")) is None
    assert v.divide(at("P10D"), at("P1Y")) is None
    assert str(v.negate(at("P1D"))) == "-P1D"


def test_properties() -> None:
    d = at("2018-12-10T10:30:01.5+05:00")
    assert [v.property(d, p) for p in ("year", "month", "day", "weekday", "hour", "minute")] == [
        2018,
        12,
        10,
        1,
        10,
        30,
    ]
    assert v.property(d, "second") == Decimal("1.5")
    assert str(v.property(d, "time offset")) == "PT5H"
    assert v.property(d, "timezone") is None
    assert v.property(at("2018-12-10T10:30:00@Etc/UTC"), "timezone") == "Etc/UTC"
    assert v.property(at("2018-12-10T10:30:00"), "time offset") is None
    assert v.property(at("10:30:00"), "hour") == 10
    assert v.property(at("-PT25H"), "days") == -1
    assert v.property(at("-PT25H"), "hours") == -1
    assert v.property(at("P1DT2M3S"), "seconds") == 3
    assert v.property(at("P14M"), "years") == 1
    assert v.property(at("-P14M"), "months") == -2
    assert v.property(at("P1Y"), "days") is None
    assert v.property(at("2018-12-10"), "hour") is None
    r = v.FeelRange(1, 10, False, True)
    assert [v.property(r, p) for p in ("start", "end", "start included", "end included")] == [
        1,
        10,
        False,
        True,
    ]
    assert v.property({"a": 1}, "a") == 1
    assert v.property({"a": 1}, "b") is None
    assert v.property([{"a": 1}, {"a": 2}], "a") == [1, 2]
    assert v.property(5, "year") is None


def test_lists_contexts_and_ranges_compare_elementwise() -> None:
    assert v.equal([1, [2, "a"]], [Decimal(1), [Decimal(2), "a"]]) is True
    assert v.equal([1, 2], [1, "2"]) is None
    assert v.equal([1, 2], [1, 3]) is False
    assert v.equal({"a": 1, "b": [1]}, {"b": [1], "a": 1}) is True
    assert v.equal({"a": 1}, {"a": 1, "b": 2}) is False
    assert v.equal(v.FeelRange(1, 5, True, False), v.FeelRange(1, 5, True, False)) is True
    assert v.equal(v.FeelRange(1, 5, True, False), v.FeelRange(1, 5, True, True)) is False
    lt10 = v.FeelRange(None, 10, False, False, lo_unbounded=True)
    assert v.equal(lt10, v.FeelRange(None, 10, False, False)) is False
    assert lt10.includes(-(10**9)) is True
    # An end at null is compared like any other (DMN TCK 0072): null, not unbounded.
    assert v.FeelRange(1, None, True, False).includes(10**9) is None
    assert v.FeelRange(1, None, True, False).includes(0) is False
    assert v.FeelRange(1, None, True, False, hi_unbounded=True).includes(10**9) is True
    assert v.FeelRange(1, 5, True, True).includes("a") is None


def test_feel_function_binds_positionally_and_by_name() -> None:
    f = v.FeelFunction(("a", "b"), lambda a, b: [a, b], "pair")
    assert f(1, 2) == [1, 2]
    assert f(1) == [1, None]
    assert f.call_named({"b": 2}) == [None, 2]
    assert f.call_named({"c": 2}) is None
    assert v.type_of(f) == v.FUNCTION
    assert v.equal(f, f) is True


@pytest.mark.parametrize(
    ("value", "type_name", "expected"),
    [
        (None, "Any", False),
        (None, "Null", False),
        (Decimal("1.5"), "number", True),
        (Decimal("1.5"), "Any", True),
        ("a", "number", False),
        (dt.date(2018, 12, 8), "date", True),
        (dt.date(2018, 12, 8), "date and time", False),
        (dt.datetime(2018, 12, 8), "date and time", True),
        (FeelTime(dt.time(10)), "time", True),
        (DaysTimeDuration(Decimal(1)), "days and time duration", True),
        (YearsMonthsDuration(1), "years and months duration", True),
        (YearsMonthsDuration(1), "days and time duration", False),
        ([1, 2], "list<number>", True),
        ([1, "a"], "list<number>", False),
        ([1, None], "list<number>", True),
        ([[1]], "list<list<number>>", True),
        ({"a": "x", "b": 1}, "context<a: string>", True),
        ({"a": "x"}, "context<a: string, b: number>", False),
        ({"a": 1}, "context", True),
        (v.FeelRange(1, 2, True, True), "range<number>", True),
        (v.FeelRange(1, 2, True, True), "range<string>", False),
        (v.FeelFunction((), lambda: 1), "function<>->Any", True),
        (v.FeelFunction(("x",), lambda x: 1), "function<number> -> number", True),
        (1, "function<>->Any", False),
    ],
)
def test_conforms(value: Any, type_name: str, expected: bool) -> None:
    assert v.conforms(value, type_name) is expected


def test_conforms_unknown_type_is_none() -> None:
    assert v.conforms(1, "tNumber") is None
    assert v.conforms(1, "list<") is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1.10"), "1.1"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0.000"), "0"),
        (12, "12"),
        (True, "true"),
        ("a", "a"),
        ([1, "a", None], "[1, a, null]"),
        ({"a": [1]}, "{a: [1]}"),
        (v.FeelRange(1, 2, False, True), "(1..2]"),
    ],
)
def test_to_string(value: Any, text: str) -> None:
    assert v.to_string(value) == text


def test_to_string_of_null_is_null() -> None:
    assert v.to_string(None) is None
