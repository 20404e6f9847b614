"""Conversion functions (DMN 1.5 §10.3.4.1): date, time, date and time, duration, number, string."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from kijun.criteria.feel import temporal as t
from kijun.criteria.feel import values as v
from kijun.criteria.feel.builtins._base import Builtin, InvalidArgument, integer, no_nulls, number


def parse_date(text: str) -> dt.date | t.WideDate:
    """A FEEL date string `yyyy-mm-dd`; `-yyyyy-mm-dd` and the like for years beyond 1..9999."""
    d = t.parse_date(text)
    if d is None:
        if t.DATE_SHAPE.match(text):
            raise InvalidArgument(f'"{text}" is not a valid date')
        raise InvalidArgument(f'"{text}" is not a date of the form "2024-10-01"')
    return d


def _whole(x: Any, what: str) -> int:
    n = number(x, what)
    if n != n.to_integral_value():
        raise InvalidArgument(f"{what} must be a whole number")
    return int(n)


def date(*args: Any) -> dt.date | t.WideDate:
    no_nulls(*args)
    if len(args) == 1:
        (x,) = args
        kind = v.type_of(x)
        if kind == v.DATE:
            return x  # type: ignore[no-any-return]
        if kind == v.DATE_TIME:
            return x.date()  # type: ignore[no-any-return]  # datetime or WideDateTime
        if kind == v.STRING:
            return parse_date(x)
        raise InvalidArgument(f'date() of a {kind} (expected a string like "2024-10-01")')
    year, month, day = (_whole(a, "year, month and day") for a in args)
    value = t.make_date(year, month, day)
    if value is None:
        raise InvalidArgument(f"date({year}, {month}, {day}) is not a valid date")
    return value


def date_and_time(*args: Any) -> dt.datetime | t.WideDateTime | None:
    no_nulls(*args)
    if len(args) == 1:
        (x,) = args
        kind = v.type_of(x)
        if kind == v.DATE_TIME:
            return x  # type: ignore[no-any-return]
        if kind == v.DATE:
            return t.midnight(x)
        if kind == v.STRING:
            value = t.parse_date_time(x)
            if value is None:
                raise InvalidArgument(f'"{x}" is not a date and time like "2024-10-01T10:30:00"')
            return value
        raise InvalidArgument(f"date and time() of a {kind}")
    d, tm = args
    if v.type_of(d) not in (v.DATE, v.DATE_TIME) or v.type_of(tm) != v.TIME:
        raise InvalidArgument("date and time(date, time) needs a date and a time")
    return t.combine(d, tm)


def time(*args: Any) -> t.FeelTime:
    if len(args) == 1:
        (x,) = args
        no_nulls(x)
        kind = v.type_of(x)
        if kind == v.TIME:
            return x  # type: ignore[no-any-return]
        if kind == v.DATE_TIME:
            return t.time_of(x)
        if kind == v.DATE:
            # A date is taken as midnight UTC (DMN 1.5 §10.3.4.1).
            return t.FeelTime(dt.time(0), t.UTC)
        if kind == v.STRING:
            value = t.parse_time(x)
            if value is None:
                raise InvalidArgument(f'"{x}" is not a time like "10:30:00"')
            return value
        raise InvalidArgument(f"time() of a {kind}")
    hour, minute, second = args[:3]
    offset = args[3] if len(args) > 3 else None
    no_nulls(hour, minute, second)
    h, m = _whole(hour, "hour"), _whole(minute, "minute")
    s = number(second, "second")
    if not (0 <= h < 24 and 0 <= m < 60 and 0 <= s < 60):
        raise InvalidArgument(f"time({h}, {m}, {s}) is not a valid time")
    ns = int((s - int(s)) * 1_000_000_000)
    tz: dt.tzinfo | None = None
    if offset is not None:
        if v.type_of(offset) != v.DT_DURATION:
            raise InvalidArgument("the offset must be a days and time duration")
        delta = offset.timedelta()
        if abs(delta) > t.MAX_OFFSET:
            raise InvalidArgument("the offset is more than 18 hours")
        tz = t.offset_zone(delta)
    return t.FeelTime(dt.time(h, m, int(s), ns // 1000), tz, ns % 1000)


def duration(x: Any) -> t.DaysTimeDuration | t.YearsMonthsDuration:
    no_nulls(x)
    if v.type_of(x) in (v.DT_DURATION, v.YM_DURATION):
        return x  # type: ignore[no-any-return]
    if v.type_of(x) != v.STRING:
        raise InvalidArgument(f"duration() of a {v.type_of(x)}")
    value = t.parse_duration(x)
    if value is None:
        raise InvalidArgument(f'"{x}" is not a duration like "P1DT2H" or "P1Y2M"')
    return value


def _calendar_day(x: Any) -> Any:
    """A date or date and time, of which only the year, month and day count."""
    kind = v.type_of(x)
    if kind not in (v.DATE, v.DATE_TIME):
        raise InvalidArgument(f"years and months duration() of a {kind}")
    return x


def years_and_months_duration(start: Any, end: Any) -> t.YearsMonthsDuration:
    """Whole months from `start` to `end`; an incomplete last month does not count.

    Only the calendar dates count, not the time of day (as Java's Period.between,
    which the TCK follows: 2014-12-31T23:59:59 to 2016-12-31T00:00:01 is P2Y).
    """
    no_nulls(start, end)
    a, b = _calendar_day(start), _calendar_day(end)
    months = (b.year - a.year) * 12 + (b.month - a.month)
    if months > 0 and b.day < a.day:
        months -= 1
    elif months < 0 and b.day > a.day:
        months += 1
    return t.YearsMonthsDuration(months)


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")


def to_number(text: Any, grouping: Any = None, decimal_sep: Any = None) -> Decimal:
    if text is None or v.type_of(text) != v.STRING:
        raise InvalidArgument("number() needs a string")
    if grouping not in (None, " ", ",", "."):
        raise InvalidArgument('the grouping separator must be " ", "," or "."')
    if decimal_sep not in (None, ",", "."):
        raise InvalidArgument('the decimal separator must be "," or "."')
    if grouping is not None and grouping == decimal_sep:
        raise InvalidArgument("the grouping and decimal separators must differ")
    s = str(text)
    if grouping is not None:
        s = s.replace(grouping, "")
    if decimal_sep is not None and decimal_sep != ".":
        if "." in s:
            raise InvalidArgument(f'"{text}" has a "." but the decimal separator is ","')
        s = s.replace(decimal_sep, ".")
    if not _NUMBER.match(s):
        raise InvalidArgument(f'"{text}" is not a number')
    try:
        return Decimal(s)
    except InvalidOperation:
        raise InvalidArgument(f'"{text}" is not a number') from None


def to_string(x: Any) -> str | None:
    return v.to_string(x)


def now() -> dt.datetime:
    return dt.datetime.now(t.UTC)


def today() -> dt.date:
    return dt.date.today()


FUNCTIONS = (
    Builtin("date", (("from",), ("year", "month", "day")), date, v.DATE),
    Builtin("date and time", (("from",), ("date", "time")), date_and_time, v.DATE_TIME),
    Builtin(
        "time",
        (("from",), ("hour", "minute", "second"), ("hour", "minute", "second", "offset")),
        time,
        v.TIME,
    ),
    Builtin("duration", (("from",),), duration),
    Builtin(
        "years and months duration", (("from", "to"),), years_and_months_duration, v.YM_DURATION
    ),
    Builtin(
        "number",
        (("from",), ("from", "grouping separator", "decimal separator")),
        to_number,
        v.NUMBER,
    ),
    Builtin("string", (("from",),), to_string, v.STRING),
    Builtin("now", ((),), now, v.DATE_TIME),
    Builtin("today", ((),), today, v.DATE),
)

__all__ = ["FUNCTIONS", "InvalidArgument", "integer", "parse_date"]
