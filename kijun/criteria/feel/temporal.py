"""FEEL temporal values: parsing, string forms, comparison and arithmetic (DMN 1.5 §10.3.2.3).

Representation (chosen so that existing code, which holds dates as
`datetime.date`, keeps working):

- date: `datetime.date`;
- date and time: `datetime.datetime`, naive when local, else with a
  `datetime.timezone` (an offset) or a `zoneinfo.ZoneInfo` (a zone id);
- time: `FeelTime` — Python's `time` cannot carry a zone id meaningfully;
- days and time duration: `DaysTimeDuration` (exact seconds, a Decimal);
- years and months duration: `YearsMonthsDuration` (whole months).

Limits, by Python's types: years 1..9999 and microsecond precision (finer
fractions are truncated). Values outside are refused (null), never wrapped.
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
_MICRO = Decimal("0.000001")
#: decimal128, as FEEL numbers (values.CONTEXT, which imports this module)
_CTX = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN)


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

    Equality and order compare the instant within a day when both carry an
    offset (a zone id's offset is taken on 1970-01-01, as FEEL gives a time no
    date), the wall clock when both are local; a local and a zoned time are
    never equal and not ordered.
    """

    local: dt.time  # naive
    tz: dt.tzinfo | None = None

    def __str__(self) -> str:
        return _format_time(self.local) + _format_tz(self.tz, None)

    def offset(self) -> dt.timedelta | None:
        if self.tz is None:
            return None
        ref = dt.datetime.combine(dt.date(1970, 1, 1), self.local, self.tz)
        return ref.utcoffset()

    def _key(self) -> tuple[bool, dt.timedelta]:
        since_midnight = dt.timedelta(
            hours=self.local.hour,
            minutes=self.local.minute,
            seconds=self.local.second,
            microseconds=self.local.microsecond,
        )
        off = self.offset()
        return (off is not None, since_midnight - (off or dt.timedelta()))

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


def _date_of(y: str, m: str, d: str) -> dt.date | None:
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError:
        return None  # out of Python's range (year < 1 or > 9999) or not a day


def parse_date(text: str) -> dt.date | None:
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


def _clock(h: str, mi: str, s: str, frac: str | None) -> tuple[dt.time, bool] | None:
    """The naive time, and whether it was 24:00:00 (the end of the day)."""
    hour, minute, second = int(h), int(mi), int(s)
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    if hour == 24 and minute == second == micro == 0:
        return dt.time(0), True
    if hour > 23 or minute > 59 or second > 59:
        return None
    return dt.time(hour, minute, second, micro), False


def parse_time(text: str) -> FeelTime | None:
    m = _TIME_RE.match(text)
    if not m:
        return None
    clock = _clock(*m.groups()[:4])
    try:
        tz = parse_zone(m.group(5))
    except ValueError:
        return None
    return None if clock is None else FeelTime(clock[0], tz)


def parse_date_time(text: str) -> dt.datetime | None:
    m = _DATETIME_RE.match(text)
    if not m:
        d = parse_date(text)  # a date alone is that date at local midnight
        return None if d is None else dt.datetime(d.year, d.month, d.day)
    g = m.groups()
    d = _date_of(*g[:3])
    clock = _clock(*g[3:7])
    try:
        tz = parse_zone(g[7])
    except ValueError:
        return None
    if d is None or clock is None:
        return None
    value = dt.datetime.combine(d, clock[0], tz)
    if clock[1]:
        try:
            value += dt.timedelta(days=1)
        except OverflowError:
            return None
    return value


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


def _format_time(t: dt.time) -> str:
    text = f"{t.hour:02}:{t.minute:02}:{t.second:02}"
    if t.microsecond:
        text += f".{t.microsecond:06}".rstrip("0")
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


def format_date(d: dt.date) -> str:
    return f"{d.year:04}-{d.month:02}-{d.day:02}"


def format_date_time(d: dt.datetime) -> str:
    return f"{format_date(d)}T{_format_time(d.time())}{_format_tz(d.tzinfo, d)}"


def to_string(value: Any) -> str | None:
    """FEEL `string()` of a temporal value, None for any other value."""
    cls = value.__class__
    if cls is dt.date:
        return format_date(value)
    if cls is dt.datetime:
        return format_date_time(value)
    if cls in (FeelTime, DaysTimeDuration, YearsMonthsDuration):
        return str(value)
    return None


# --- comparison ------------------------------------------------------------


def compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 for two comparable temporal values of one kind; None otherwise."""
    ca, cb = a.__class__, b.__class__
    if ca is not cb:
        return None
    if ca is dt.datetime:
        if (a.tzinfo is None) != (b.tzinfo is None):
            return None
        return int(a > b) - int(a < b)
    if ca is FeelTime:
        r: int | None = a.compare(b)
        return r
    if ca in (dt.date, DaysTimeDuration, YearsMonthsDuration):
        return int(a > b) - int(a < b)
    return None


def equal(a: Any, b: Any) -> bool | None:
    ca = a.__class__
    if ca is not b.__class__:
        return None
    if ca is dt.datetime:
        if (a.tzinfo is None) != (b.tzinfo is None):
            return False
        return bool(a == b)
    if ca is FeelTime:
        return bool(a.compare(b) == 0)
    return bool(a == b)


# --- arithmetic ------------------------------------------------------------


def add_months(d: Any, months: int) -> Any:
    """A date or date and time moved by whole months, clamping the day (Jan 31 + 1M = Feb 28)."""
    total = d.year * 12 + (d.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    if not 1 <= year <= 9999:
        return None
    last = _last_day(year, month)
    return d.replace(year=year, month=month, day=min(d.day, last))


def _last_day(year: int, month: int) -> int:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return (nxt - dt.timedelta(days=1)).day


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
    if ca in (DaysTimeDuration, YearsMonthsDuration) and cb not in (
        DaysTimeDuration,
        YearsMonthsDuration,
    ):
        a, b, ca, cb = b, a, cb, ca
    try:
        if ca is cb is DaysTimeDuration:
            return DaysTimeDuration(a.seconds + b.seconds)
        if ca is cb is YearsMonthsDuration:
            return YearsMonthsDuration(a.months + b.months)
        if cb is YearsMonthsDuration and ca in (dt.date, dt.datetime):
            return add_months(a, b.months)
        if cb is DaysTimeDuration:
            if ca is dt.datetime:
                return _shift_instant(a, b.timedelta())
            if ca is dt.date:
                moved = dt.datetime(a.year, a.month, a.day) + b.timedelta()
                return moved.date()
            if ca is FeelTime:
                base = dt.datetime.combine(dt.date(2000, 1, 1), a.local)
                return FeelTime((base + b.timedelta()).time(), a.tz)
    except (OverflowError, ValueError):
        return None
    return None


def negate(a: Any) -> Any:
    if a.__class__ is DaysTimeDuration:
        return DaysTimeDuration(-a.seconds)
    if a.__class__ is YearsMonthsDuration:
        return YearsMonthsDuration(-a.months)
    return None


def subtract(a: Any, b: Any) -> Any:
    ca, cb = a.__class__, b.__class__
    try:
        if cb in (DaysTimeDuration, YearsMonthsDuration):
            if ca in (DaysTimeDuration, YearsMonthsDuration) and ca is not cb:
                return None
            return add(a, negate(b))
        if ca is cb is dt.date:
            return DaysTimeDuration(Decimal((a - b).days * 86400))
        if ca in (dt.date, dt.datetime) and cb in (dt.date, dt.datetime):
            # A date meets a date and time as midnight UTC, so only a zoned one fits it.
            if ca is dt.date:
                a = _utc_midnight(a)
            if cb is dt.date:
                b = _utc_midnight(b)
            if (a.tzinfo is None) != (b.tzinfo is None):
                return None
            return DaysTimeDuration.of(a - b)
        if ca is cb is FeelTime:
            ka, kb = a._key(), b._key()
            if ka[0] != kb[0]:
                return None
            return DaysTimeDuration.of(ka[1] - kb[1])
    except (OverflowError, ValueError):
        return None
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
