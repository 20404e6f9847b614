"""Normalising what a clerk types: NFKC text, dates (西暦 and 和暦), numbers, booleans.

Pure functions, no I/O. Every parser runs NFKC first, so full-width input
(`Ｒ６．４．１`, `１００，０００円`) and the era ligatures (`㋿` → 令和, `㍻` → 平成)
read like their ASCII forms.

Errors are `ValueError`s in English that say which form was expected. They
repeat at most the text they were given (shortened), never anything else.

Dates
    西暦: ``2024-04-01``, ``2024/4/1``, ``2024.4.1``, ``2024年4月1日``.
    和暦: ``令和6年4月1日``, ``令和元年5月1日``, ``R6.4.1``, ``R06.04.01`` (JIS X 0301),
    ``r6.4.1``, ``R6/4/1``, ``R6年4月1日``, ``㋿6.4.1``; the eras 明治 M, 大正 T,
    昭和 S, 平成 H, 令和 R. A 和暦 date outside its era (令和1年4月1日, 平成31年5月1日,
    昭和65年1月1日) is refused. 明治 starts on 1868-01-25 (明治元年 = 1868); dates
    before the solar calendar (明治5年 and earlier) are read as Gregorian dates.

Numbers
    ``123``, ``-5``, ``1.5``, ``100,000`` (separators in groups of three),
    ``100,000円``; integers become `int`, anything with a decimal point `Decimal`.

Booleans
    true: ``true`` ``はい`` ``有`` ``有り`` ``あり``;
    false: ``false`` ``いいえ`` ``無`` ``無し`` ``なし`` (case does not matter).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "ERAS",
    "Era",
    "era_of",
    "format_date_ja",
    "nfkc",
    "parse_boolean",
    "parse_date",
    "parse_number",
    "to_jis_x0301",
    "to_wareki",
]

_SHOW_MAX = 30


def nfkc(text: str) -> str:
    """`text` in Unicode NFKC with surrounding white space removed."""
    return unicodedata.normalize("NFKC", text).strip()


def _show(text: str) -> str:
    """The text as given, shortened, for an error message."""
    if len(text) > _SHOW_MAX:
        text = text[:_SHOW_MAX] + "…"
    return repr(text)


# ---------------------------------------------------------------------------
# Eras
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Era:
    """A Japanese era (元号): its name, JIS X 0301 letter and first and last day."""

    name: str
    letter: str
    start: dt.date
    end: dt.date | None  # the last day (inclusive); None for the current era

    def contains(self, d: dt.date) -> bool:
        return self.start <= d and (self.end is None or d <= self.end)

    def western_year(self, era_year: int) -> int:
        return self.start.year + era_year - 1


ERAS: tuple[Era, ...] = (
    Era("明治", "M", dt.date(1868, 1, 25), dt.date(1912, 7, 29)),
    Era("大正", "T", dt.date(1912, 7, 30), dt.date(1926, 12, 24)),
    Era("昭和", "S", dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
    Era("平成", "H", dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    Era("令和", "R", dt.date(2019, 5, 1), None),
)

_ERA_BY_KEY: dict[str, Era] = {}
for _era in ERAS:
    _ERA_BY_KEY[_era.name] = _era
    _ERA_BY_KEY[_era.letter] = _era


def era_of(d: dt.date) -> Era:
    """The era `d` falls in; `ValueError` before 明治 (1868-01-25)."""
    for era in reversed(ERAS):
        if era.contains(d):
            return era
    raise ValueError(f"dates before {ERAS[0].start.isoformat()} (明治) have no supported era")


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------

_EXPECTED_DATE = (
    "expected a date such as 2024-04-01, 2024/4/1, 2024年4月1日, 令和6年4月1日 or R6.4.1"
)

_WESTERN = re.compile(
    r"(?P<y>\d{4})\s*"
    r"(?:年\s*(?P<m1>\d{1,2})\s*月\s*(?P<d1>\d{1,2})\s*日"
    r"|(?P<sep>[-/.])\s*(?P<m2>\d{1,2})\s*(?P=sep)\s*(?P<d2>\d{1,2}))"
)
_JAPANESE = re.compile(
    r"(?P<era>明治|大正|昭和|平成|令和|[MTSHR])\s*(?P<y>\d{1,3}|元)\s*"
    r"(?:年\s*(?P<m1>\d{1,2})\s*月\s*(?P<d1>\d{1,2})\s*日"
    r"|(?P<sep>[-/.])\s*(?P<m2>\d{1,2})\s*(?P=sep)\s*(?P<d2>\d{1,2}))",
    re.IGNORECASE,
)


def _month_day(m: re.Match[str]) -> tuple[int, int]:
    month = m.group("m1") or m.group("m2")
    day = m.group("d1") or m.group("d2")
    return int(month), int(day)


def _make_date(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"not a valid calendar date: {_show(text)}") from None


def parse_date(text: str) -> dt.date:
    """A date written in 西暦 or 和暦 (see the module docstring for the forms)."""
    if not isinstance(text, str):
        raise ValueError(f"not a date: a {type(text).__name__}; {_EXPECTED_DATE}")
    norm = nfkc(text)
    m = _WESTERN.fullmatch(norm)
    if m is not None:
        month, day = _month_day(m)
        return _make_date(int(m.group("y")), month, day, text)
    m = _JAPANESE.fullmatch(norm)
    if m is None:
        raise ValueError(f"not a date: {_show(text)}; {_EXPECTED_DATE}")
    key = m.group("era")
    era = _ERA_BY_KEY[key.upper() if len(key) == 1 else key]
    era_year = 1 if m.group("y") == "元" else int(m.group("y"))
    if era_year < 1:
        raise ValueError(f"not a date: {_show(text)}; the era year starts at 1 (元年)")
    month, day = _month_day(m)
    d = _make_date(era.western_year(era_year), month, day, text)
    if not era.contains(d):
        last = era.end.isoformat() if era.end is not None else ""
        raise ValueError(
            f"not a date: {_show(text)} is outside {era.name} "
            f"({era.start.isoformat()} – {last})"
        )
    return d


def to_wareki(d: dt.date) -> str:
    """`d` in 和暦: 令和8年4月1日 (the first year of an era is 元年)."""
    era = era_of(d)
    year = d.year - era.start.year + 1
    y = "元" if year == 1 else str(year)
    return f"{era.name}{y}年{d.month}月{d.day}日"


def to_jis_x0301(d: dt.date) -> str:
    """`d` in the JIS X 0301 short form: R08.04.01."""
    era = era_of(d)
    year = d.year - era.start.year + 1
    return f"{era.letter}{year:02d}.{d.month:02d}.{d.day:02d}"


def format_date_ja(d: dt.date) -> str:
    """`d` for display: 令和8年4月1日（2026-04-01）."""
    return f"{to_wareki(d)}（{d.isoformat()}）"


# ---------------------------------------------------------------------------
# Numbers and booleans
# ---------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_EXPECTED_NUMBER = "expected a number such as 123, -5, 1.5, 100,000 or 100,000円"


def parse_number(text: str) -> int | Decimal:
    """A number: `int` for whole numbers written without a point, else `Decimal`."""
    if not isinstance(text, str):
        raise ValueError(f"not a number: a {type(text).__name__}; {_EXPECTED_NUMBER}")
    norm = nfkc(text).replace("\u2212", "-")  # U+2212 MINUS SIGN survives NFKC
    if norm.endswith("円"):
        norm = norm[:-1].rstrip()
    if not _NUMBER.fullmatch(norm):
        raise ValueError(f"not a number: {_show(text)}; {_EXPECTED_NUMBER}")
    plain = norm.replace(",", "")
    if "." in plain:
        return Decimal(plain)
    return int(plain)


_TRUE = frozenset({"true", "はい", "有", "有り", "あり"})
_FALSE = frozenset({"false", "いいえ", "無", "無し", "なし"})
_EXPECTED_BOOLEAN = "expected true/false, はい/いいえ, 有/無 or あり/なし"


def parse_boolean(text: str) -> bool:
    """A yes/no answer (see the module docstring for the accepted words)."""
    if not isinstance(text, str):
        raise ValueError(f"not a boolean: a {type(text).__name__}; {_EXPECTED_BOOLEAN}")
    norm = nfkc(text).casefold()
    if norm in _TRUE:
        return True
    if norm in _FALSE:
        return False
    raise ValueError(f"not a boolean: {_show(text)}; {_EXPECTED_BOOLEAN}")
