"""Business hours (開庁時間) of a Japanese town hall, and time counted in them.

A business day is a weekday that is not a national holiday (国民の祝日・振替休日・
国民の休日, from ``jpholiday``) and, by default, not in the year-end closure
of 12/29–1/3 (地方自治法第4条の2 行政機関の休日). On a business day the office
is open from ``opens`` to ``closes`` (default 8:30–17:15), local time in
``timezone`` (default Asia/Tokyo). ``business_seconds(a, b)`` is how many of
the seconds between ``a`` and ``b`` fall in those hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jpholiday
import numpy as np
import polars as pl


class BusinessHoursError(ValueError):
    """Hours that cannot be used: closing before opening, an unknown time zone."""


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours, the days they apply, and the local time zone."""

    opens: time = time(8, 30)
    closes: time = time(17, 15)
    timezone: str = "Asia/Tokyo"
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    year_end_closure: bool = True  # 12/29–1/3
    closed_days: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise BusinessHoursError(
                f"closing time {self.closes:%H:%M} is not after opening {self.opens:%H:%M}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise BusinessHoursError(f"unknown time zone {self.timezone!r}") from e

    @classmethod
    def parse(cls, text: str, *, timezone: str = "Asia/Tokyo",
              year_end_closure: bool = True) -> BusinessHours:
        """``"8:30-17:15"`` (also ``08:30〜17:15``, full-width digits) as hours."""
        import unicodedata

        norm = unicodedata.normalize("NFKC", text).replace("〜", "-").replace("~", "-")
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", norm)
        if not m:
            raise BusinessHoursError(f"hours must look like 8:30-17:15, not {text!r}")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise BusinessHoursError(f"not a time of day in {text!r}")
        return cls(time(h1, m1), time(h2, m2), timezone=timezone,
                   year_end_closure=year_end_closure)

    @property
    def day_seconds(self) -> float:
        """Length of a business day, in seconds (8:30–17:15 → 31,500)."""
        return float(_tod(self.closes) - _tod(self.opens))

    def is_business_day(self, day: date) -> bool:
        if day.weekday() not in self.weekdays or day in self.closed_days:
            return False
        if self.year_end_closure and ((day.month == 12 and day.day >= 29)
                                      or (day.month == 1 and day.day <= 3)):
            return False
        return not jpholiday.is_holiday(day)

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds in business hours between two aware datetimes (0 if end ≤ start)."""
        tz = ZoneInfo(self.timezone)
        a, b = start.astimezone(tz), end.astimezone(tz)
        if b <= a:
            return 0.0
        total = 0.0
        day = a.date()
        while day <= b.date():
            if self.is_business_day(day):
                lo = datetime.combine(day, self.opens, tz)
                hi = datetime.combine(day, self.closes, tz)
                lo, hi = max(lo, a), min(hi, b)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def to_dict(self) -> dict[str, object]:
        return {
            "opens": f"{self.opens:%H:%M}", "closes": f"{self.closes:%H:%M}",
            "timezone": self.timezone, "weekdays": sorted(self.weekdays),
            "year_end_closure": self.year_end_closure,
            "closed_days": sorted(d.isoformat() for d in self.closed_days),
        }

    def clock(self, timestamps: pl.Series) -> pl.Series:
        """Business seconds from a fixed origin to each timestamp (vectorised).

        The origin is the start of the earliest day in ``timestamps``, so
        ``clock(b) - clock(a)`` is ``business_seconds(a, b)`` for a ≤ b.
        Timestamps must be a timezone-aware Polars datetime series; nulls stay null.
        """
        local = timestamps.dt.convert_time_zone(self.timezone)
        days = local.dt.date()
        valid = days.drop_nulls()
        if valid.is_empty():
            return pl.Series(timestamps.name, [None] * len(timestamps), dtype=pl.Float64)
        first: date = valid.min()  # type: ignore[assignment]
        last: date = valid.max()  # type: ignore[assignment]
        n = (last - first).days + 1
        calendar = [self.is_business_day(first + timedelta(days=i)) for i in range(n)]
        open_flag = np.array(calendar, dtype=np.float64)
        before = np.concatenate(([0.0], np.cumsum(open_flag)[:-1]))
        offset = (days - first).dt.total_days().to_numpy()
        seconds_of_day = (
            local.dt.hour().cast(pl.Int64) * 3600 + local.dt.minute().cast(pl.Int64) * 60
            + local.dt.second().cast(pl.Int64)
        ).to_numpy().astype(np.float64) + local.dt.microsecond().to_numpy() / 1e6
        lo, span = float(_tod(self.opens)), self.day_seconds
        mask = ~np.isnan(offset.astype(np.float64))
        idx = np.where(mask, offset, 0).astype(np.int64)
        within = np.clip(seconds_of_day - lo, 0.0, span) * open_flag[idx]
        out = before[idx] * span + within
        out = np.where(mask, out, np.nan)
        return pl.Series(timestamps.name, out, dtype=pl.Float64, nan_to_null=True)


def _tod(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second
