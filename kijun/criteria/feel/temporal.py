"""FEEL temporal values: parsing, string forms, comparison and arithmetic (DMN 1.5 §10.3.2.3).

Representation (chosen so that existing code, which holds dates as
`datetime.date`, keeps working):

- date: `datetime.date`; `WideDate` for a year Python cannot hold;
- date and time: `datetime.datetime`, naive when local, else with a
  `datetime.timezone` (an offset) or a `zoneinfo.ZoneInfo` (a zone id);
  `WideDateTime` for a year Python cannot hold or a fraction of a second
  finer than a microsecond;
- time: `FeelTime` — Python's `time` cannot carry a zone id meaningfully;
- days and time duration: `DaysTimeDuration` (exact seconds, a Decimal);
- years and months duration: `YearsMonthsDuration` (whole months).

FEEL dates reach from year -999,999,999 to 999,999,999 in the proleptic
Gregorian calendar, with a year 0 (1 BCE), as XML Schema 1.1 and ISO 8601
number them, and times to the nanosecond. Python's types reach years 1..9999
and microseconds; the wide classes take the rest, and every value has one
form: a date Python can hold is always a `datetime.date`, a date and time
Python can hold always a `datetime.datetime` (`make_date`, `make_date_time`),
so ordinary dates stay on Python's fast paths. Finer fractions than a
nanosecond are truncated.

A zone id's offset in a year the tz database and Python cannot reach is the
offset of the same wall clock (or instant) 400·k years away: the Gregorian
calendar repeats every 400 years, weekdays included, so a rule such as "the
last Sunday of March" falls on the same day. Years before the tz database
keep its first offset (usually local mean time, as Java's ZoneRules has it);
years after 9999 follow the zone's last, recurring rules.

Every function here returns None where FEEL gives null; none raises.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

UTC = dt.UTC
#: Java (and so most FEEL engines and the TCK) accepts offsets up to ±18:00.
MAX_OFFSET = dt.timedelta(hours=18)
#: the years of a FEEL date (DMN 1.5 §10.3.2.3)
MIN_YEAR, MAX_YEAR = -999_999_999, 999_999_999
_MICRO = Decimal("0.000001")
#: decimal128, as FEEL numbers (values.CONTEXT, which imports this module)
_CTX = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN)
_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
#: days in 400 Gregorian years: after them the calendar repeats, weekdays included
_ERA_DAYS = 146_097
_MAX_ORDINAL = dt.date.max.toordinal()
#: wall clocks and instants between these days are safe to hand to Python with a zone
_SAFE_LO = dt.date(2, 1, 1).toordinal()
_SAFE_HI = dt.date(9998, 12, 31).toordinal()
_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, slots=True, order=True)
class DaysTimeDuration:
    """A FEEL days and time duration: an exact, signed number of seconds."""

    seconds: Decimal

    def __str__(self) -> str:
        return format_dt_duration(self.seconds)

    def timedelta(self) -> dt.timedelta:
        micro = (self.seconds / _MICRO).to_integral_value(ROUND_DOWN)
        return dt.timedelta(microseconds=int(micro))

    @staticmethod
    def of(delta: dt.timedelta) -> DaysTimeDuration:
        micro = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        return DaysTimeDuration(Decimal(micro).scaleb(-6).normalize() + 0)

    @staticmethod
    def of_nanoseconds(ns: int) -> DaysTimeDuration:
        return DaysTimeDuration(Decimal(ns).scaleb(-9, _CTX).normalize(_CTX) + 0)


@dataclass(frozen=True, slots=True, order=True)
class YearsMonthsDuration:
    """A FEEL years and months duration: a signed number of months."""

    months: int

    def __str__(self) -> str:
        sign = "-" if self.months < 0 else ""
        y, m = divmod(abs(self.months), 12)
        if y and m:
            return f"{sign}P{y}Y{m}M"
        if y:
            return f"{sign}P{y}Y"
        return f"{sign}P{m}M"


@dataclass(frozen=True, slots=True)
class FeelTime:
    """A FEEL time: a wall-clock time, local or with an offset or a zone id.

    `ns` holds the nanoseconds finer than `local`'s microseconds (0..999).
    Equality and order compare the instant within a day when both carry an
    offset (a zone id's offset is taken on 1970-01-01, as FEEL gives a time no
    date), the wall clock when both are local; a local and a zoned time are
    never equal and not ordered.
    """

    local: dt.time  # naive
    tz: dt.tzinfo | None = None
    ns: int = 0

    def __str__(self) -> str:
        return _format_time(self.local, self.ns) + _format_tz(self.tz, None)

    def offset(self) -> dt.timedelta | None:
        if self.tz is None:
            return None
        ref = dt.datetime.combine(dt.date(1970, 1, 1), self.local, self.tz)
        return ref.utcoffset()

    def nanoseconds(self) -> int:
        """Nanoseconds since midnight, on the wall clock."""
        t = self.local
        seconds = (t.hour * 60 + t.minute) * 60 + t.second
        return (seconds * 1_000_000 + t.microsecond) * 1000 + self.ns

    def _key(self) -> tuple[bool, int]:
        off = self.offset()
        if off is None:
            return (False, self.nanoseconds())
        return (True, self.nanoseconds() - _timedelta_ns(off))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FeelTime):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def compare(self, other: FeelTime) -> int | None:
        a, b = self._key(), other._key()
        if a[0] != b[0]:
            return None
        return (a[1] > b[1]) - (a[1] < b[1])


def _time_of_ns(ns_of_day: int, tz: dt.tzinfo | None) -> FeelTime:
    seconds, ns = divmod(ns_of_day, _NS)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return FeelTime(dt.time(h, m, s, ns // 1000), tz, ns % 1000)


# --- wide dates (years outside 1..9999, nanoseconds) -----------------------


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    return 29 if month == 2 and is_leap(year) else _MONTH_DAYS[month]


def ordinal(year: int, month: int, day: int) -> int:
    """The proleptic Gregorian day number of any date, as `date.toordinal` (0001-01-01 is 1).

    H. Hinnant's days_from_civil, counted from 0000-03-01 (the day after a
    leap day, so that each 400-year era ends on one).
    """
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * _ERA_DAYS + doe - 305


def civil(day_number: int) -> tuple[int, int, int]:
    """(year, month, day) of a day number of `ordinal` (H. Hinnant's civil_from_days)."""
    z = day_number + 305
    era = z // _ERA_DAYS
    doe = z - era * _ERA_DAYS
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def _order(a: int, b: int) -> int:
    return (a > b) - (a < b)


def _date_number(x: object) -> int | None:
    """The day number of a date (`datetime.date` or `WideDate`), None for anything else."""
    if x.__class__ is dt.date or x.__class__ is WideDate:
        n: int = x.toordinal()
        return n
    return None


@dataclass(frozen=True, slots=True)
class WideDate:
    """A FEEL date of a year Python's `date` cannot hold (outside 1..9999).

    Ordered with `datetime.date`s too; never equal to one, as a date Python
    can hold is never a WideDate (`make_date`).
    """

    year: int
    month: int
    day: int

    def toordinal(self) -> int:
        return ordinal(self.year, self.month, self.day)

    def isoweekday(self) -> int:
        return (self.toordinal() - 1) % 7 + 1  # 0001-01-01 was a Monday

    def __lt__(self, other: object) -> bool:
        n = _date_number(other)
        return NotImplemented if n is None else self.toordinal() < n

    def __le__(self, other: object) -> bool:
        n = _date_number(other)
        return NotImplemented if n is None else self.toordinal() <= n

    def __gt__(self, other: object) -> bool:
        n = _date_number(other)
        return NotImplemented if n is None else self.toordinal() > n

    def __ge__(self, other: object) -> bool:
        n = _date_number(other)
        return NotImplemented if n is None else self.toordinal() >= n


@dataclass(frozen=True, slots=True)
class WideDateTime:
    """A FEEL date and time Python's `datetime` cannot hold.

    Its year is outside 1..9999, or its fraction of a second is finer than a
    microsecond (`nanosecond` is the whole fraction, 0..999,999,999). The
    fields are the wall clock; `tzinfo` is None (local), a `datetime.timezone`
    or a `ZoneInfo`, whose offset `utcoffset` finds as the module doc says.
    """

    year: int
    month: int
    day: int
    hour: int = 0
    minute: int = 0
    second: int = 0
    nanosecond: int = 0
    tzinfo: dt.tzinfo | None = None

    def toordinal(self) -> int:
        return ordinal(self.year, self.month, self.day)

    def isoweekday(self) -> int:
        return (self.toordinal() - 1) % 7 + 1

    def date(self) -> dt.date | WideDate:
        return _date_unchecked(self.year, self.month, self.day)

    def utcoffset(self) -> dt.timedelta | None:
        if self.tzinfo is None:
            return None
        wall = dt.datetime.fromordinal(_safe_day(self.toordinal())).replace(
            hour=self.hour,
            minute=self.minute,
            second=self.second,
            microsecond=self.nanosecond // 1000,
            tzinfo=self.tzinfo,
        )
        return wall.utcoffset()


def _safe_day(day_number: int) -> int:
    """The day 400·k years away (k maybe 0) that Python handles with any zone."""
    if day_number < _SAFE_LO:
        return day_number + ((_SAFE_LO - day_number - 1) // _ERA_DAYS + 1) * _ERA_DAYS
    if day_number > _SAFE_HI:
        return day_number - ((day_number - _SAFE_HI - 1) // _ERA_DAYS + 1) * _ERA_DAYS
    return day_number


def _date_unchecked(year: int, month: int, day: int) -> dt.date | WideDate:
    return dt.date(year, month, day) if 1 <= year <= 9999 else WideDate(year, month, day)


def make_date(year: int, month: int, day: int) -> dt.date | WideDate | None:
    """The date, in its one form; None when there is no such day or the year is out of range."""
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12):
        return None
    if not 1 <= day <= days_in_month(year, month):
        return None
    return _date_unchecked(year, month, day)


def date_of_ordinal(day_number: int) -> dt.date | WideDate | None:
    if 1 <= day_number <= _MAX_ORDINAL:
        return dt.date.fromordinal(day_number)
    y, m, d = civil(day_number)
    return WideDate(y, m, d) if MIN_YEAR <= y <= MAX_YEAR else None


def make_date_time(
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    nanosecond: int,
    tz: dt.tzinfo | None,
) -> dt.datetime | WideDateTime | None:
    """The date and time (of a valid day and clock), in its one form; None out of range."""
    if 1 <= year <= 9999 and not nanosecond % 1000:
        return dt.datetime(year, month, day, hour, minute, second, nanosecond // 1000, tz)
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    return WideDateTime(year, month, day, hour, minute, second, nanosecond, tz)


def midnight(d: Any) -> dt.datetime | WideDateTime | None:
    """A date as a date and time: local midnight."""
    return make_date_time(d.year, d.month, d.day, 0, 0, 0, 0, None)


def combine(d: Any, t: FeelTime) -> dt.datetime | WideDateTime | None:
    """`date and time(date, time)`: the calendar day of `d` at the wall clock of `t`."""
    c = t.local
    return make_date_time(
        d.year, d.month, d.day, c.hour, c.minute, c.second, c.microsecond * 1000 + t.ns, t.tz
    )


def time_of(d: Any) -> FeelTime:
    """The time of a date and time, with its zone."""
    if d.__class__ is dt.datetime:
        return FeelTime(d.time(), d.tzinfo)
    ns = d.nanosecond
    return FeelTime(dt.time(d.hour, d.minute, d.second, ns // 1000), d.tzinfo, ns % 1000)


def seconds_of(x: Any) -> int | Decimal:
    """The `second` property of a time or date and time: whole, or with its fraction."""
    if x.__class__ is FeelTime:
        ns = x.local.microsecond * 1000 + x.ns
        second = x.local.second
    elif x.__class__ is WideDateTime:
        ns, second = x.nanosecond, x.second
    else:
        ns, second = x.microsecond * 1000, x.second
    if not ns:
        return int(second)
    return Decimal(second * _NS + ns).scaleb(-9).normalize()


def whole_seconds(x: Any) -> Any:
    """A time or date and time without its fraction of a second."""
    cls = x.__class__
    if cls is FeelTime:
        if x.local.microsecond or x.ns:
            return FeelTime(x.local.replace(microsecond=0), x.tz)
        return x
    if cls is WideDateTime:
        if not x.nanosecond:
            return x
        return make_date_time(x.year, x.month, x.day, x.hour, x.minute, x.second, 0, x.tzinfo)
    return x.replace(microsecond=0) if x.microsecond else x


def calendar_proxy(d: Any) -> dt.date:
    """A Python date with the calendar of `d`'s: its day 400·k years away, in 2000..2399.

    Day of year, weekday, ISO week and month length repeat every 400 years.
    """
    year = d.year
    if not 1 <= year <= 9999:
        year = 2000 + (year - 2000) % 400
    return dt.date(year, d.month, d.day)


def _timedelta_ns(delta: dt.timedelta) -> int:
    return ((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000


def _clock_ns(x: Any) -> int:
    """Nanoseconds since midnight on the wall clock of a date and time."""
    seconds: int = (x.hour * 60 + x.minute) * 60 + x.second
    fraction: int = x.nanosecond if x.__class__ is WideDateTime else x.microsecond * 1000
    return seconds * _NS + fraction


def _local_ns(x: Any) -> int:
    """Nanoseconds on the wall clock since 0001-01-01 (negative before) of a date and time."""
    days: int = x.toordinal() - 1
    return days * _DAY_NS + _clock_ns(x)


def _instant(x: Any) -> tuple[bool, int]:
    """(zoned, nanoseconds): the UTC instant of a zoned date and time, else the wall clock.

    A date is midnight UTC.
    """
    if x.__class__ is dt.date or x.__class__ is WideDate:
        return True, (x.toordinal() - 1) * _DAY_NS
    off = x.utcoffset()
    local = _local_ns(x)
    return (False, local) if off is None else (True, local - _timedelta_ns(off))


def _of_local_ns(local: int, tz: dt.tzinfo | None) -> dt.datetime | WideDateTime | None:
    days, ns = divmod(local, _DAY_NS)
    y, mo, d = civil(days + 1)
    seconds, ns = divmod(ns, _NS)
    h, rest = divmod(seconds, 3600)
    mi, s = divmod(rest, 60)
    return make_date_time(y, mo, d, h, mi, s, ns, tz)


def _zone_offset_ns(tz: dt.tzinfo, utc: int) -> int:
    """The offset of a zone at an instant (nanoseconds since 0001-01-01 UTC)."""
    days, ns = divmod(utc, _DAY_NS)
    at = dt.datetime.fromordinal(_safe_day(days + 1)) + dt.timedelta(microseconds=ns // 1000)
    off = at.replace(tzinfo=UTC).astimezone(tz).utcoffset()
    return 0 if off is None else _timedelta_ns(off)


def _shift(x: Any, delta_ns: int) -> dt.datetime | WideDateTime | None:
    """A date and time moved by elapsed time: a zone id's offset may change on the way."""
    tz = x.tzinfo
    local = _local_ns(x) + delta_ns
    if isinstance(tz, ZoneInfo):
        off = x.utcoffset()
        utc = local - (0 if off is None else _timedelta_ns(off))
        local = utc + _zone_offset_ns(tz, utc)
    return _of_local_ns(local, tz)


def _duration_ns(seconds: Decimal) -> int:
    return int(seconds.scaleb(9, _CTX).to_integral_value(ROUND_DOWN))


def _exact_micro(seconds: Decimal) -> int | None:
    """Whole microseconds of a duration, None when it has a finer fraction."""
    micro = seconds.scaleb(6, _CTX)
    whole = micro.to_integral_value(ROUND_DOWN)
    return int(whole) if whole == micro else None


# --- parsing ---------------------------------------------------------------

_DATE = r"(-?(?:[1-9]\d{4,8}|\d{4}))-(\d\d)-(\d\d)"
_TIME = r"(\d\d):(\d\d):(\d\d)(\.\d+)?"
_ZONE = r"(Z|[+-]\d\d:\d\d(?::\d\d)?|@[A-Za-z][A-Za-z0-9_+\-/]*)?"
_DATE_RE = re.compile(_DATE + r"\Z")
#: the form of a date, whether or not the day exists (for messages)
DATE_SHAPE = _DATE_RE
_TIME_RE = re.compile(_TIME + _ZONE + r"\Z")
_DATETIME_RE = re.compile(_DATE + "T" + _TIME + _ZONE + r"\Z")
_DURATION_RE = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?\Z"
)


def _date_of(y: str, m: str, d: str) -> dt.date | WideDate | None:
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError:
        if y == "-0000":
            return None  # XML Schema writes year 0 (1 BCE) 0000, never -0000
        return make_date(int(y), int(m), int(d))  # a wide year, or not a day


def parse_date(text: str) -> dt.date | WideDate | None:
    m = _DATE_RE.match(text)
    return _date_of(*m.groups()) if m else None


def parse_zone(text: str | None) -> dt.tzinfo | None:
    """The tzinfo of a zone suffix, None for none; ValueError when invalid."""
    if not text:
        return None
    if text == "Z":
        return UTC
    if text.startswith("@"):
        try:
            return ZoneInfo(text[1:])
        except (OSError, KeyError):
            raise ValueError(text) from None
    sign = -1 if text[0] == "-" else 1
    parts = [int(p) for p in text[1:].split(":")]
    seconds = parts[2] if len(parts) > 2 else 0
    delta = dt.timedelta(hours=parts[0], minutes=parts[1], seconds=seconds)
    if parts[1] >= 60 or delta > MAX_OFFSET:
        raise ValueError(text)
    return offset_zone(sign * delta)


def offset_zone(delta: dt.timedelta) -> dt.timezone:
    return UTC if not delta else dt.timezone(delta)


def _clock(h: str, mi: str, s: str, frac: str | None) -> tuple[int, int, int, int, bool] | None:
    """(hour, minute, second, nanosecond, whether it was 24:00:00, the end of the day)."""
    hour, minute, second = int(h), int(mi), int(s)
    ns = int((frac[1:] + "000000000")[:9]) if frac else 0
    if hour == 24 and minute == second == ns == 0:
        return 0, 0, 0, 0, True
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second, ns, False


def parse_time(text: str) -> FeelTime | None:
    m = _TIME_RE.match(text)
    if not m:
        return None
    clock = _clock(*m.groups()[:4])
    try:
        tz = parse_zone(m.group(5))
    except ValueError:
        return None
    if clock is None:
        return None
    h, mi, s, ns, _ = clock
    return FeelTime(dt.time(h, mi, s, ns // 1000), tz, ns % 1000)


def parse_date_time(text: str) -> dt.datetime | WideDateTime | None:
    m = _DATETIME_RE.match(text)
    if not m:
        d = parse_date(text)  # a date alone is that date at local midnight
        return None if d is None else midnight(d)
    g = m.groups()
    day = _date_of(*g[:3])
    clock = _clock(*g[3:7])
    try:
        tz = parse_zone(g[7])
    except ValueError:
        return None
    if day is None or clock is None:
        return None
    h, mi, s, ns, end_of_day = clock
    if end_of_day:
        day = date_of_ordinal(day.toordinal() + 1)
        if day is None:
            return None
    return make_date_time(day.year, day.month, day.day, h, mi, s, ns, tz)


def parse_duration(text: str) -> DaysTimeDuration | YearsMonthsDuration | None:
    m = _DURATION_RE.match(text)
    if not m:
        return None
    neg, y, mo, d, h, mi, s = m.groups()
    if not any((y, mo, d, h, mi, s)) or text.endswith("T"):
        return None
    sign = -1 if neg else 1
    if (y or mo) and not (d or h or mi or s):
        return YearsMonthsDuration(sign * (int(y or 0) * 12 + int(mo or 0)))
    if int(y or 0) or int(mo or 0):
        # xs:duration mixing both kinds (P1Y2D): FEEL has no such value. A zero
        # year-month part (P0Y2D) is harmless and dropped.
        return None
    seconds = int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60
    return DaysTimeDuration(sign * (Decimal(seconds) + Decimal(s or 0)))


def parse_temporal(text: str) -> Any:
    """An `@"…"` literal: date, time, date and time or duration; None when none fits."""
    if text.startswith(("P", "-P")):
        return parse_duration(text)
    if _DATETIME_RE.match(text):
        return parse_date_time(text)
    if ":" in text:  # a time (a zone id such as Etc/GMT may hold a T, so test this after)
        return parse_time(text)
    return parse_date(text)


# --- string forms ----------------------------------------------------------


def _format_seconds(s: Decimal) -> str:
    text = format(s.normalize(), "f") if s else "0"
    return text


def format_dt_duration(total: Decimal) -> str:
    sign = "-" if total < 0 else ""
    rest = abs(total)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = f"{sign}P"
    if days:
        out += f"{int(days)}D"
    if hours or minutes or seconds:
        out += "T"
        if hours:
            out += f"{int(hours)}H"
        if minutes:
            out += f"{int(minutes)}M"
        if seconds:
            out += f"{_format_seconds(seconds)}S"
    if out.endswith("P"):
        out += "T0S"
    return out


def _format_clock(hour: int, minute: int, second: int, ns: int) -> str:
    text = f"{hour:02}:{minute:02}:{second:02}"
    if ns:
        text += f".{ns:09}".rstrip("0")
    return text


def _format_time(t: dt.time, ns: int = 0) -> str:
    text = f"{t.hour:02}:{t.minute:02}:{t.second:02}"
    if t.microsecond or ns:
        text += f".{t.microsecond * 1000 + ns:09}".rstrip("0")
    return text


def _format_offset(delta: dt.timedelta) -> str:
    if not delta:
        return "Z"
    sign = "-" if delta < dt.timedelta() else "+"
    total = int(abs(delta).total_seconds())
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h:02}:{m:02}" + (f":{s:02}" if s else "")


def _format_tz(tz: dt.tzinfo | None, at: dt.datetime | None) -> str:
    if tz is None:
        return ""
    if isinstance(tz, ZoneInfo):
        return f"@{tz.key}"
    off = tz.utcoffset(at)
    return "" if off is None else _format_offset(off)


def format_date(d: dt.date | WideDate) -> str:
    """XML Schema's form: four digits at least, a minus sign before a year before 0."""
    y = d.year
    year = f"{y:04}" if y >= 0 else f"-{-y:04}"
    return f"{year}-{d.month:02}-{d.day:02}"


def format_date_time(d: dt.datetime | WideDateTime) -> str:
    if isinstance(d, dt.datetime):
        return f"{format_date(d)}T{_format_time(d.time())}{_format_tz(d.tzinfo, d)}"
    tz = d.tzinfo
    zone = ""
    if isinstance(tz, ZoneInfo):
        zone = f"@{tz.key}"
    elif tz is not None:
        off = d.utcoffset()
        zone = "" if off is None else _format_offset(off)
    clock = _format_clock(d.hour, d.minute, d.second, d.nanosecond)
    return f"{format_date(WideDate(d.year, d.month, d.day))}T{clock}{zone}"


def to_string(value: Any) -> str | None:
    """FEEL `string()` of a temporal value, None for any other value."""
    cls = value.__class__
    if cls is dt.date or cls is WideDate:
        return format_date(value)
    if cls is dt.datetime or cls is WideDateTime:
        return format_date_time(value)
    if cls in (FeelTime, DaysTimeDuration, YearsMonthsDuration):
        return str(value)
    return None


# --- comparison ------------------------------------------------------------

_DATES = (dt.date, WideDate)
_DATE_TIMES = (dt.datetime, WideDateTime)
_POINTS = (dt.date, WideDate, dt.datetime, WideDateTime)
_DURATIONS = (DaysTimeDuration, YearsMonthsDuration)


def _compare_instants(a: Any, b: Any) -> int | None:
    ka, kb = _instant(a), _instant(b)
    if ka[0] != kb[0]:
        return None
    return _order(ka[1], kb[1])


def compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 for two comparable temporal values of one kind; None otherwise."""
    ca, cb = a.__class__, b.__class__
    if ca is not cb:
        if ca in _DATE_TIMES and cb in _DATE_TIMES:
            return _compare_instants(a, b)
        if ca in _DATES and cb in _DATES:
            return int(a > b) - int(a < b)
        return None
    if ca is dt.datetime:
        if (a.tzinfo is None) != (b.tzinfo is None):
            return None
        return int(a > b) - int(a < b)
    if ca is FeelTime:
        r: int | None = a.compare(b)
        return r
    if ca is WideDateTime:
        return _compare_instants(a, b)
    if ca in (dt.date, WideDate, DaysTimeDuration, YearsMonthsDuration):
        return int(a > b) - int(a < b)
    return None


def equal(a: Any, b: Any) -> bool | None:
    ca = a.__class__
    if ca is not b.__class__:
        cb = b.__class__
        if ca in _DATE_TIMES and cb in _DATE_TIMES:
            return _compare_instants(a, b) == 0
        if ca in _DATES and cb in _DATES:
            return False  # one form per date: a WideDate is never a Python date
        return None
    if ca is dt.datetime:
        if (a.tzinfo is None) != (b.tzinfo is None):
            return False
        return bool(a == b)
    if ca is FeelTime:
        return bool(a.compare(b) == 0)
    if ca is WideDateTime:
        return _compare_instants(a, b) == 0
    return bool(a == b)


# --- arithmetic ------------------------------------------------------------


def add_months(d: Any, months: int) -> Any:
    """A date or date and time moved by whole months, clamping the day (Jan 31 + 1M = Feb 28)."""
    total = d.year * 12 + (d.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    day = min(d.day, days_in_month(year, month))
    cls = d.__class__
    if 1 <= year <= 9999 and (cls is dt.date or cls is dt.datetime):
        return d.replace(year=year, month=month, day=day)
    if cls is dt.date or cls is WideDate:
        return make_date(year, month, day)
    return make_date_time(
        year, month, day, d.hour, d.minute, d.second, _clock_ns(d) % _NS, d.tzinfo
    )


def _shift_instant(d: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    # Aware datetimes with a zone id add wall-clock time in Python; FEEL adds
    # elapsed time, so go through UTC.
    if isinstance(d.tzinfo, ZoneInfo):
        return (d.astimezone(UTC) + delta).astimezone(d.tzinfo)
    return d + delta


def _utc_midnight(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=UTC)


def add(a: Any, b: Any) -> Any:
    ca, cb = a.__class__, b.__class__
    if ca in _DURATIONS and cb not in _DURATIONS:
        a, b, ca, cb = b, a, cb, ca
    if ca is cb is DaysTimeDuration:
        return DaysTimeDuration(a.seconds + b.seconds)
    if ca is cb is YearsMonthsDuration:
        return YearsMonthsDuration(a.months + b.months)
    if cb is YearsMonthsDuration:
        return add_months(a, b.months) if ca in _POINTS else None
    if cb is not DaysTimeDuration:
        return None
    # Python's types first; a year they cannot reach, or nanoseconds, take the wide way.
    if ca is dt.datetime or ca is dt.date:
        micro = _exact_micro(b.seconds)
        if micro is not None:
            try:
                if ca is dt.datetime:
                    return _shift_instant(a, dt.timedelta(microseconds=micro))
                moved = dt.datetime(a.year, a.month, a.day) + dt.timedelta(microseconds=micro)
                return moved.date()
            except OverflowError:
                pass
    if ca in _DATE_TIMES:
        return _shift(a, _duration_ns(b.seconds))
    if ca in _DATES:
        # the date of that midnight moved by the duration
        return date_of_ordinal(a.toordinal() + _duration_ns(b.seconds) // _DAY_NS)
    if ca is FeelTime:
        return _time_of_ns((a.nanoseconds() + _duration_ns(b.seconds)) % _DAY_NS, a.tz)
    return None


def negate(a: Any) -> Any:
    if a.__class__ is DaysTimeDuration:
        return DaysTimeDuration(-a.seconds)
    if a.__class__ is YearsMonthsDuration:
        return YearsMonthsDuration(-a.months)
    return None


def subtract(a: Any, b: Any) -> Any:
    ca, cb = a.__class__, b.__class__
    if cb in _DURATIONS:
        if ca in _DURATIONS and ca is not cb:
            return None
        return add(a, negate(b))
    if ca is cb is dt.date:
        return DaysTimeDuration(Decimal((a - b).days * 86400))
    # A date meets a date and time as midnight UTC, so only a zoned one fits it.
    if (ca is dt.datetime or ca is dt.date) and (cb is dt.datetime or cb is dt.date):
        x = _utc_midnight(a) if ca is dt.date else a
        y = _utc_midnight(b) if cb is dt.date else b
        if (x.tzinfo is None) != (y.tzinfo is None):
            return None
        return DaysTimeDuration.of(x - y)
    if ca in _POINTS and cb in _POINTS:  # one of them wide
        ka, kb = _instant(a), _instant(b)
        if ka[0] != kb[0]:
            return None
        return DaysTimeDuration.of_nanoseconds(ka[1] - kb[1])
    if ca is cb is FeelTime:
        ka, kb = a._key(), b._key()
        if ka[0] != kb[0]:
            return None
        return DaysTimeDuration.of_nanoseconds(ka[1] - kb[1])
    return None


def multiply(duration: Any, factor: Decimal) -> Any:
    if duration.__class__ is DaysTimeDuration:
        return DaysTimeDuration(_CTX.multiply(duration.seconds, factor))
    if duration.__class__ is YearsMonthsDuration:
        # FEEL truncates towards zero: -2.5 × P1Y11M = -P4Y9M.
        return YearsMonthsDuration(
            int(_CTX.multiply(duration.months, factor).to_integral_value(ROUND_DOWN))
        )
    return None


def divide(a: Any, b: Any) -> Any:
    ca, cb = a.__class__, b.__class__
    if ca is cb is DaysTimeDuration:
        return None if not b.seconds else _CTX.divide(a.seconds, b.seconds)
    if ca is cb is YearsMonthsDuration:
        return None if not b.months else _CTX.divide(Decimal(a.months), Decimal(b.months))
    return None
