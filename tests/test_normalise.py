"""kijun.criteria.normalise: NFKC, 西暦/和暦 dates, numbers, booleans."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kijun.criteria.normalise import (
    ERAS,
    era_of,
    format_date_ja,
    nfkc,
    parse_boolean,
    parse_date,
    parse_number,
    to_jis_x0301,
    to_wareki,
)

D = dt.date


# --- nfkc ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Ｒ６．４．１\u3000", "R6.4.1"),
        ("㋿6年", "令和6年"),
        ("１２３", "123"),
        ("ｶﾀｶﾅ", "カタカナ"),
        ("", ""),
    ],
)
def test_nfkc(text: str, expected: str) -> None:
    assert nfkc(text) == expected


# --- parse_date: every accepted form -----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 西暦
        ("2024-04-01", D(2024, 4, 1)),
        ("2024-4-1", D(2024, 4, 1)),
        ("2024/4/1", D(2024, 4, 1)),
        ("2024/04/01", D(2024, 4, 1)),
        ("2024.4.1", D(2024, 4, 1)),
        ("2024年4月1日", D(2024, 4, 1)),
        ("2024年 4月 1日", D(2024, 4, 1)),
        ("  2024-04-01  ", D(2024, 4, 1)),
        ("２０２４－０４－０１", D(2024, 4, 1)),
        ("２０２４年４月１日", D(2024, 4, 1)),
        # 令和
        ("令和6年4月1日", D(2024, 4, 1)),
        ("令和元年5月1日", D(2019, 5, 1)),
        ("令和1年5月1日", D(2019, 5, 1)),
        ("令和 6 年 4 月 1 日", D(2024, 4, 1)),
        ("令和６年４月１日", D(2024, 4, 1)),
        ("R6.4.1", D(2024, 4, 1)),
        ("R06.04.01", D(2024, 4, 1)),
        ("r6.4.1", D(2024, 4, 1)),
        ("R6/4/1", D(2024, 4, 1)),
        ("R6-4-1", D(2024, 4, 1)),
        ("R6年4月1日", D(2024, 4, 1)),
        ("R元.5.1", D(2019, 5, 1)),
        ("㋿6.4.1", D(2024, 4, 1)),
        ("㋿6年4月1日", D(2024, 4, 1)),
        ("Ｒ６．４．１", D(2024, 4, 1)),
        ("ｒ０６．０４．０１", D(2024, 4, 1)),
        ("R8.4.1", D(2026, 4, 1)),
        # 平成
        ("H31.4.30", D(2019, 4, 30)),
        ("h31.4.30", D(2019, 4, 30)),
        ("平成31年4月30日", D(2019, 4, 30)),
        ("平成元年1月8日", D(1989, 1, 8)),
        ("H1.1.8", D(1989, 1, 8)),
        ("㍻31年4月30日", D(2019, 4, 30)),
        # 昭和
        ("S64.1.7", D(1989, 1, 7)),
        ("昭和64年1月7日", D(1989, 1, 7)),
        ("昭和元年12月25日", D(1926, 12, 25)),
        ("S50.10.10", D(1975, 10, 10)),
        ("㍼50年10月10日", D(1975, 10, 10)),
        # 大正
        ("大正元年7月30日", D(1912, 7, 30)),
        ("T15.12.24", D(1926, 12, 24)),
        ("大正15年12月24日", D(1926, 12, 24)),
        ("㍽10年1月1日", D(1921, 1, 1)),
        # 明治
        ("明治元年1月25日", D(1868, 1, 25)),
        ("M45.7.29", D(1912, 7, 29)),
        ("明治45年7月29日", D(1912, 7, 29)),
        ("M33.1.1", D(1900, 1, 1)),
    ],
)
def test_parse_date_forms(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("昭和64年1月7日", D(1989, 1, 7)),
        ("平成元年1月8日", D(1989, 1, 8)),
        ("平成31年4月30日", D(2019, 4, 30)),
        ("令和元年5月1日", D(2019, 5, 1)),
        ("大正15年12月24日", D(1926, 12, 24)),
        ("昭和元年12月25日", D(1926, 12, 25)),
        ("明治45年7月29日", D(1912, 7, 29)),
        ("大正元年7月30日", D(1912, 7, 30)),
    ],
)
def test_era_boundaries(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected
    assert to_wareki(expected) == text


@pytest.mark.parametrize(
    "text",
    [
        "令和1年4月1日",  # before 令和 began
        "令和元年4月30日",
        "R1.4.30",
        "平成31年5月1日",  # after 平成 ended
        "H31.5.1",
        "平成元年1月7日",  # before 平成 began
        "昭和64年1月8日",  # after 昭和 ended
        "昭和65年1月1日",
        "S65.1.1",
        "昭和元年12月24日",
        "大正15年12月25日",
        "大正元年7月29日",
        "明治45年7月30日",
        "明治元年1月24日",  # before 明治 (as this module dates it) began
        "令和0年5月1日",
        "R0.5.1",
    ],
)
def test_date_outside_its_era_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_date(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "today",
        "2024-13-01",
        "2024-02-30",
        "2023-02-29",
        "2024/4/31",
        "2024-04/01",  # mixed separators
        "24-04-01",
        "2024-04-01T00:00",
        "20240401",
        "令和6年4月",
        "令和6年4月1",
        "平成六年四月一日",
        "X6.4.1",
        "R6.4",
        "R6..4.1",
        "R6.13.1",
        "令和6年2月30日",
        "西暦2024年4月1日",
    ],
)
def test_invalid_dates(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


def test_date_error_says_what_was_expected() -> None:
    with pytest.raises(ValueError) as info:
        parse_date("next tuesday")
    message = str(info.value)
    assert "expected" in message
    assert "2024-04-01" in message
    assert "R6.4.1" in message


def test_date_error_never_echoes_more_than_the_text() -> None:
    long_text = "x" * 500
    with pytest.raises(ValueError) as info:
        parse_date(long_text)
    message = str(info.value)
    assert long_text not in message
    assert len(message) < 200


def test_date_error_for_impossible_calendar_date() -> None:
    with pytest.raises(ValueError, match="calendar date"):
        parse_date("2023-02-29")


def test_parse_date_refuses_non_text() -> None:
    with pytest.raises(ValueError):
        parse_date(20240401)  # type: ignore[arg-type]


# --- to_wareki / format_date_ja ------------------------------------------------


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (D(2026, 4, 1), "令和8年4月1日"),
        (D(2019, 5, 1), "令和元年5月1日"),
        (D(2020, 1, 1), "令和2年1月1日"),
        (D(2019, 4, 30), "平成31年4月30日"),
        (D(1989, 1, 8), "平成元年1月8日"),
        (D(1989, 1, 7), "昭和64年1月7日"),
        (D(1926, 12, 25), "昭和元年12月25日"),
        (D(1926, 12, 24), "大正15年12月24日"),
        (D(1912, 7, 30), "大正元年7月30日"),
        (D(1912, 7, 29), "明治45年7月29日"),
        (D(1900, 1, 1), "明治33年1月1日"),
    ],
)
def test_to_wareki(d: dt.date, expected: str) -> None:
    assert to_wareki(d) == expected


def test_to_wareki_before_meiji_is_refused() -> None:
    with pytest.raises(ValueError):
        to_wareki(D(1868, 1, 24))
    with pytest.raises(ValueError):
        era_of(D(1800, 1, 1))


def test_format_date_ja() -> None:
    assert format_date_ja(D(2026, 4, 1)) == "令和8年4月1日（2026-04-01）"
    assert format_date_ja(D(2019, 5, 1)) == "令和元年5月1日（2019-05-01）"


def test_to_jis_x0301() -> None:
    assert to_jis_x0301(D(2024, 4, 1)) == "R06.04.01"
    assert to_jis_x0301(D(2019, 4, 30)) == "H31.04.30"
    assert parse_date(to_jis_x0301(D(1989, 1, 7))) == D(1989, 1, 7)


def test_eras_are_contiguous() -> None:
    for a, b in itertools.pairwise(ERAS):
        assert a.end is not None
        assert a.end + dt.timedelta(days=1) == b.start
    assert ERAS[-1].end is None


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2100, 12, 31)))
def test_wareki_round_trip(d: dt.date) -> None:
    assert parse_date(to_wareki(d)) == d
    assert parse_date(to_jis_x0301(d)) == d
    assert parse_date(d.isoformat()) == d


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2100, 12, 31)))
def test_wareki_full_width_round_trip(d: dt.date) -> None:
    full = to_jis_x0301(d).translate(
        str.maketrans("0123456789.MTSHR", "０１２３４５６７８９．ＭＴＳＨＲ")
    )
    assert parse_date(full) == d


# --- parse_number -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("123", 123),
        (" 123 ", 123),
        ("-5", -5),
        ("+5", 5),
        ("\u22125", -5),
        ("100,000", 100000),
        ("1,234,567", 1234567),
        ("100,000円", 100000),
        ("100000 円", 100000),
        ("１２３", 123),
        ("１００，０００円", 100000),
        ("－１５，０００", -15000),
        ("1.5", Decimal("1.5")),
        ("0.25", Decimal("0.25")),
        ("1,000.50", Decimal("1000.50")),
        ("１．５", Decimal("1.5")),
    ],
)
def test_parse_number(text: str, expected: int | Decimal) -> None:
    value = parse_number(text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "円",
        "abc",
        "1,00",
        "10,0000",
        ",100",
        "100,",
        "1.",
        ".5",
        "1.2.3",
        "1e3",
        "NaN",
        "Infinity",
        "1 000",
        "5万円",
        "--5",
        "100円円",
    ],
)
def test_parse_number_invalid(text: str) -> None:
    with pytest.raises(ValueError, match="expected a number"):
        parse_number(text)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_parse_number_round_trip(n: int) -> None:
    assert parse_number(str(n)) == n
    assert parse_number(f"{n:,}") == n
    assert parse_number(f"{n:,}円") == n


# --- parse_boolean -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["true", "TRUE", "True", " true ", "はい", "有", "有り", "あり", "ＴＲＵＥ"]
)
def test_parse_boolean_true(text: str) -> None:
    assert parse_boolean(text) is True


@pytest.mark.parametrize(
    "text", ["false", "FALSE", "False", "いいえ", "無", "無し", "なし", "ｆａｌｓｅ"]
)
def test_parse_boolean_false(text: str) -> None:
    assert parse_boolean(text) is False


@pytest.mark.parametrize("text", ["", "yes", "1", "0", "maybe", "はいいいえ", "○"])
def test_parse_boolean_invalid(text: str) -> None:
    with pytest.raises(ValueError, match="expected true/false"):
        parse_boolean(text)
