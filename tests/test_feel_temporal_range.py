"""FEEL dates and times beyond Python's: years -999,999,999..999,999,999 and nanoseconds.

DMN 1.5 §10.3.2.3: a date's year reaches nine digits either side of year 0,
in the proleptic Gregorian calendar, and a time's seconds nine fractional
digits. Python's `date`/`datetime` stay the form of every value they can hold
(the criteria engine passes them); `WideDate`/`WideDateTime` take the rest.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from kijun.criteria.feel import compile_expression
from kijun.criteria.feel import temporal as t
from kijun.criteria.feel import values as v
from kijun.criteria.feel.temporal import WideDate, WideDateTime


def feel(text: str, **env: Any) -> Any:
    return compile_expression(text, tuple(env)).evaluate(env)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('string(date("-2017-12-31"))', "-2017-12-31"),
        ('string(date("999999999-12-31"))', "999999999-12-31"),
        ('string(date("-999999999-01-01"))', "-999999999-01-01"),
        ('string(date("0000-02-29"))', "0000-02-29"),  # year 0 (1 BCE) is a leap year
        ('string(date("10000-01-01"))', "10000-01-01"),
        ("string(date(-2017, 12, 31))", "-2017-12-31"),
        ('string(date and time("-2017-12-31T11:22:33"))', "-2017-12-31T11:22:33"),
        ('string(date and time("99999-12-31T11:22:33.5+01:00"))', "99999-12-31T11:22:33.5+01:00"),
        ('string(date and time(date("-0044-03-15")))', "-0044-03-15T00:00:00"),
        (
            'string(@"-2021-01-01T10:10:10@Australia/Melbourne")',
            "-2021-01-01T10:10:10@Australia/Melbourne",
        ),
        ('string(date(date and time("-2017-12-31T11:22:33Z")))', "-2017-12-31"),
        ('string(time(date and time("-2017-12-31T11:22:33.000000001Z")))', "11:22:33.000000001Z"),
    ],
)
def test_wide_years_parse_and_print_in_xml_schema_form(text: str, expected: str) -> None:
    assert feel(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'date("1000000000-01-01")',  # ten digits
        'date("-0000-01-01")',  # XML Schema writes year 0 as 0000
        'date("01000-01-01")',  # more than four digits with a leading zero
        'date("-2017-02-29")',  # -2017 is not a leap year
        "date(1000000000, 1, 1)",
        'date("999999999-12-31") + duration("P1D")',
        'date("-999999999-01-01") - duration("P1M")',
        'date and time("999999999-12-31T23:59:59Z") + duration("PT1S")',
    ],
)
def test_beyond_the_range_is_null(text: str) -> None:
    assert feel(text) is None


def test_one_form_per_value() -> None:
    assert feel('date("2024-01-31")') == dt.date(2024, 1, 31)
    assert feel('date("-2017-12-31")') == WideDate(-2017, 12, 31)
    # Arithmetic that comes back into Python's range gives Python's types again.
    assert feel('date("10000-01-01") - duration("P1D")') == dt.date(9999, 12, 31)
    assert feel('date("9999-12-31") + duration("P1D")') == WideDate(10000, 1, 1)
    assert feel('date and time("2024-01-01T00:00:00.000000001") - duration("PT0.000000001S")') == (
        dt.datetime(2024, 1, 1)
    )
    assert feel('date and time("2024-01-01T10:00:00.123456000")') == dt.datetime(
        2024, 1, 1, 10, 0, 0, 123456
    )
    assert t.make_date(2024, 2, 29) == dt.date(2024, 2, 29)
    assert t.make_date(-4, 2, 29) == WideDate(-4, 2, 29)
    assert t.make_date(-1, 2, 29) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('date("-2017-12-31") + duration("P1Y")', "-2016-12-31"),
        ('date("-2017-12-31") + duration("P2M")', "-2016-02-29"),  # -2016 is a leap year
        ('date("-2017-12-31") + duration("P1D")', "-2016-01-01"),
        ('date("-2017-01-01") - duration("P1D")', "-2018-12-31"),
        ('date("0001-01-01") - duration("P1D")', "0000-12-31"),
        ('@"-2021-01-01T10:10:10+11:00" + @"P1M"', "-2021-02-01T10:10:10+11:00"),
        ('@"-2021-01-01T10:10:10+11:00" - @"P1Y"', "-2022-01-01T10:10:10+11:00"),
        (
            '@"-2021-01-01T10:10:10@Australia/Melbourne" + @"PT1H"',
            "-2021-01-01T11:10:10@Australia/Melbourne",
        ),
        (
            '@"-2021-01-01T10:10:10@Australia/Melbourne" - @"P1D"',
            "-2022-12-31T10:10:10@Australia/Melbourne",
        ),
        ('@"9999-12-31T23:00:00Z" + @"PT2H"', "10000-01-01T01:00:00Z"),
        (
            'date and time("2024-01-01T00:00:00") + duration("PT0.000000001S")',
            "2024-01-01T00:00:00.000000001",
        ),
        ('time("23:59:59.999999999") + duration("PT0.000000001S")', "00:00:00"),
        ('date("-2017-12-31") - date("-2017-12-30")', "P1D"),
        (
            'date("2017-01-01") - date("-2017-01-01")',
            f"P{t.ordinal(2017, 1, 1) - t.ordinal(-2017, 1, 1)}D",
        ),
        ('@"10000-01-01T00:00:00Z" - @"9999-12-31T23:00:00-02:00"', "-PT1H"),
        ('@"2011-12-31T10:15:30.123456789Z" - @"2011-12-31T10:15:30Z"', "PT0.123456789S"),
        ('time("10:00:00.000000002") - time("10:00:00.000000001")', "PT0.000000001S"),
    ],
)
def test_arithmetic(text: str, expected: str) -> None:
    assert v.to_string(feel(text)) == expected


def test_comparison_mixes_wide_and_python_values() -> None:
    assert feel('date("-2017-12-31") < date("2017-01-01")') is True
    assert feel('date("10000-01-01") > date("9999-12-31")') is True
    assert feel('date("-2017-12-31") = date("-2017-12-31")') is True
    assert feel('date("-2017-12-31") = date("2017-12-31")') is False
    assert feel('d < date("-1-01-01")', d=dt.date(1, 1, 1)) is None  # not a date literal
    assert feel('d > date("-0001-01-01")', d=dt.date(1, 1, 1)) is True
    assert feel('d in [date("-0001-01-01")..date("10000-01-01")]', d=dt.date(2024, 5, 1)) is True
    assert feel('max([date("2024-01-01"), date("-2024-01-01"), date("20240-01-01")])') == (
        WideDate(20240, 1, 1)
    )
    # The same instant, one side beyond Python's years.
    assert feel('@"9999-12-31T23:00:00-02:00" = @"10000-01-01T01:00:00Z"') is True
    assert feel('@"9999-12-31T23:00:00-02:00" < @"10000-01-01T01:00:01Z"') is True
    assert feel('@"-2017-12-31T11:22:33" < @"2017-12-31T11:22:33Z"') is None  # local and zoned
    # FEEL equality of dates and times resolves to the second.
    assert feel('@"2011-12-31T10:15:30.123456789Z" = @"2011-12-31T10:15:30Z"') is True
    assert feel('@"2011-12-31T10:15:30.123456789Z" > @"2011-12-31T10:15:30.123456788Z"') is True


def test_nanoseconds_round_trip() -> None:
    text = "2011-12-31T10:15:30.123456789@Europe/Paris"
    value = feel(f'date and time("{text}")')
    assert isinstance(value, WideDateTime)
    assert v.to_string(value) == text
    assert feel(f'date and time("{text}").second') == Decimal("30.123456789")
    assert feel(f'date and time("{text}").time offset') == feel('duration("PT1H")')
    assert (
        feel('string(time("09:15:30.987654321@Europe/Paris"))') == "09:15:30.987654321@Europe/Paris"
    )
    assert feel("string(time(10, 15, 30.000000001))") == "10:15:30.000000001"
    got = feel('string(date and time(date("2017-01-01"), time("23:59:01.123456789@Europe/Paris")))')
    assert got == "2017-01-01T23:59:01.123456789@Europe/Paris"
    assert feel('string(date and time("2017-01-01T23:59:01.1234567891"))') == (
        "2017-01-01T23:59:01.123456789"  # finer than a nanosecond is truncated
    )


def test_properties_and_types() -> None:
    d = 'date("-2017-12-31")'
    assert feel(f"{d}.year") == -2017
    assert feel(f"{d}.month") == 12
    assert feel(f"{d}.day") == 31
    assert feel('date("0001-01-01").weekday') == 1  # a Monday
    assert feel('date("0000-12-31").weekday') == 7
    assert feel('date("-0001-01-01").weekday') == 5
    assert feel(f"{d} instance of date") is True
    dtext = 'date and time("-2017-12-31T11:22:33.456+01:35")'
    assert feel(f"{dtext} instance of date and time") is True
    assert feel(f"{dtext}.hour") == 11
    assert feel(f"{dtext}.second") == Decimal("33.456")
    assert feel(f"{dtext}.time offset") == feel('duration("PT1H35M")')
    assert feel(f"{dtext}.timezone") is None
    assert feel('date and time("-2017-12-31T11:22:33@Europe/Paris").timezone') == "Europe/Paris"
    assert feel(f"day of week({d})") == "Saturday"  # as 2383-12-31, 11 × 400 years on
    assert feel(f"{d}.weekday") == 6
    assert feel(f"month of year({d})") == "December"
    assert feel('day of year(date("-2016-12-31"))') == 366
    assert feel('last day of month(date("-2016-02-01"))') == 29
    assert feel('last day of month(date("9999-12-01"))') == 31
    assert feel('week of year(date("-2017-01-01"))') == feel('week of year(date("2383-01-01"))')
    assert feel(f"is({d}, date(-2017, 12, 31))") is True


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("-2016-01-30T09:05:00", "-2017-02-28T02:02:02", "-P11M"),
        ("2014-12-31T23:59:59", "-2019-10-01T12:32:59", "-P4033Y2M"),
        ("-2019-10-01", "2014-12-31", "P4033Y2M"),
    ],
)
def test_years_and_months_duration(start: str, end: str, expected: str) -> None:
    fn = "date and time" if "T" in start else "date"
    got = feel(f'years and months duration({fn}("{start}"), {fn}("{end}"))')
    assert v.to_string(got) == expected


def test_zone_ids_beyond_the_tz_database() -> None:
    # Before the tz database a zone keeps its first offset (local mean time) ...
    old = feel('date and time("-10000-06-01T12:00:00@Europe/Paris").time offset')
    assert old == feel('date and time("1800-06-01T12:00:00@Europe/Paris").time offset')
    # ... after 9999 its recurring rules (summer time in June, not in January).
    assert feel('date and time("10000-06-01T12:00:00@Europe/Paris").time offset') == feel(
        'duration("PT2H")'
    )
    assert feel('date and time("10000-01-01T12:00:00@Europe/Paris").time offset') == feel(
        'duration("PT1H")'
    )
    # Elapsed time across a far-future change of offset.
    got = feel('@"12024-03-31T01:30:00@Europe/Paris" + @"PT1H"')
    assert v.to_string(got) == "12024-03-31T03:30:00@Europe/Paris"


def test_calendar_agrees_with_python_where_both_reach() -> None:
    for n in range(1, dt.date.max.toordinal() + 1, 997):
        d = dt.date.fromordinal(n)
        assert t.ordinal(d.year, d.month, d.day) == n
        assert t.civil(n) == (d.year, d.month, d.day)
    for n in (-(10**11), -1, 0, 10**11):
        assert t.ordinal(*t.civil(n)) == n
