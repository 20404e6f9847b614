"""FEEL unary tests: lexing, parsing, compiling, null semantics, type clashes, regions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kijun.criteria.errors import FeelSyntaxError, FeelTypeError
from kijun.criteria.feel import compile_unary_tests, parse_expression, parse_unary_tests
from kijun.criteria.feel.ast import (
    Arithmetic,
    At,
    Boolean,
    Comparison,
    Invocation,
    ListExpr,
    Logical,
    Name,
    Negation,
    Null,
    Number,
    Range,
    String,
    UnaryComparison,
    UnaryTests,
)
from kijun.criteria.feel.lexer import TokenKind, tokenize
from kijun.criteria.model import ValueType
from kijun.criteria.region import Interval, Region

N, S, B, D = ValueType.NUMBER, ValueType.STRING, ValueType.BOOLEAN, ValueType.DATE
D1 = dt.date(2024, 4, 1)


def n(x: str | int) -> Decimal:
    return Decimal(str(x))


def matches(text: str, type: ValueType, value: Any, env: dict[str, Any] | None = None) -> bool:
    return compile_unary_tests(text, type).matches(value, env)


# -- lexer ---------------------------------------------------------------------


def test_lexer_numbers_and_ranges() -> None:
    toks = tokenize("[1..5] .5 1.5 1.23e4 2E-2 3e")
    assert [(t.kind, t.value) for t in toks] == [
        (TokenKind.PUNCT, "["),
        (TokenKind.NUMBER, n(1)),
        (TokenKind.PUNCT, ".."),
        (TokenKind.NUMBER, n(5)),
        (TokenKind.PUNCT, "]"),
        (TokenKind.NUMBER, n("0.5")),
        (TokenKind.NUMBER, n("1.5")),
        (TokenKind.NUMBER, n("12300")),
        (TokenKind.NUMBER, n("0.02")),
        (TokenKind.NUMBER, n(3)),
        (TokenKind.NAME, "e"),
        (TokenKind.EOF, None),
    ]


@pytest.mark.parametrize(
    ("source", "value"),
    [
        (r'"a\"b"', 'a"b'),
        (r'"a\\b"', "a\\b"),
        (r'"line\nnext\ttab"', "line\nnext\ttab"),
        (r'"\u0041\u3042"', "Aあ"),
        (r'"\uD83D\uDCA9"', "\U0001f4a9"),
        (r'"\U01F40E"', "\U0001f40e"),
        ('"持家"', "持家"),
        (r'"\s+\1"', r"\s+\1"),  # other escapes stay as written, for regular expressions
    ],
)
def test_lexer_string_escapes(source: str, value: str) -> None:
    (tok, _) = tokenize(source)
    assert tok.kind is TokenKind.STRING
    assert tok.value == value


def test_lexer_positions_and_comments() -> None:
    toks = tokenize("// intro\n  < /* note */ 5,\r\n\t定住 ")
    assert [(t.value, t.line, t.column) for t in toks] == [
        ("<", 2, 3),
        (n(5), 2, 16),
        (",", 2, 17),
        ("定住", 3, 2),
        (None, 3, 5),
    ]


@pytest.mark.parametrize(
    ("source", "message", "column", "expected"),
    [
        ('"abc', "unterminated string", 1, ("'\"'",)),
        ("1 /* open", "unterminated comment", 3, ("'*/'",)),
        ("5 # 6", "unexpected character '#'", 3, ()),
        ("5 ! 6", "unexpected character '!'", 3, ("'!='",)),
        (r'"\u12"', "needs 4 hex digits", 2, ("4 hex digits",)),
    ],
)
def test_lexer_errors(
    source: str, message: str, column: int, expected: tuple[str, ...] | None
) -> None:
    with pytest.raises(FeelSyntaxError) as info:
        tokenize(source)
    assert message in info.value.reason
    assert (info.value.line, info.value.column) == (1, column)
    assert info.value.text == source
    if expected is not None:
        assert info.value.expected == expected


# -- parser --------------------------------------------------------------------


def _tests_of(text: str) -> tuple[Any, ...]:
    return parse_unary_tests(text).tests


def test_parse_any_and_negation() -> None:
    assert parse_unary_tests(" - ") == UnaryTests((), is_any=True)
    assert parse_unary_tests("not(1, < 2)") == UnaryTests(
        (Number(n(1)), UnaryComparison("<", Number(n(2)))), negated=True
    )
    # `not(...)` that is not the whole entry is the `not` function
    (test,) = _tests_of("not(? > 1) and ? < 5")
    assert isinstance(test, Logical)
    assert test.left == Invocation(Name("not"), (Comparison(">", Name("?"), Number(n(1))),))


@pytest.mark.parametrize(
    ("text", "lo_closed", "hi_closed"),
    [
        ("[1..5]", True, True),
        ("[1..5)", True, False),
        ("[1..5[", True, False),
        ("(1..5]", False, True),
        ("]1..5]", False, True),
        ("]1..5[", False, False),
        ("(1..5)", False, False),
    ],
)
def test_parse_intervals(text: str, lo_closed: bool, hi_closed: bool) -> None:
    assert _tests_of(text) == (Range(Number(n(1)), Number(n(5)), lo_closed, hi_closed),)


def test_parse_simple_tests_and_literals() -> None:
    assert _tests_of('< 5, >= -1.5, = "a", != null, true, @"2024-10-01"') == (
        UnaryComparison("<", Number(n(5))),
        UnaryComparison(">=", Negation(Number(n("1.5")))),
        UnaryComparison("=", String("a")),
        UnaryComparison("!=", Null()),
        Boolean(True),
        At("2024-10-01"),
    )
    assert _tests_of('[1, "a", [2]], date("2024-10-01"), date(from: "x")') == (
        ListExpr((Number(n(1)), String("a"), ListExpr((Number(n(2)),)))),
        Invocation(Name("date"), (String("2024-10-01"),)),
        Invocation(Name("date"), named=(("from", String("x")),)),
    )
    assert _tests_of("[]") == (ListExpr(()),)


def test_parse_precedence() -> None:
    one, two, three = Number(n(1)), Number(n(2)), Number(n(3))
    assert parse_expression("1 + 2 * 3") == Arithmetic("+", one, Arithmetic("*", two, three))
    assert parse_expression("(1 + 2) * 3") == Arithmetic("*", Arithmetic("+", one, two), three)
    # FEEL (and the TCK): unary minus binds tighter than **, and ** is left-associative
    assert parse_expression("-3 ** 2") == Arithmetic("**", Negation(three), two)
    assert parse_expression("1 ** 2 ** 3") == Arithmetic("**", Arithmetic("**", one, two), three)
    assert parse_expression("1 - 2 - 3") == Arithmetic("-", Arithmetic("-", one, two), three)
    assert parse_expression("? > 1 and ? < 3 or null") == Logical(
        "or",
        Logical("and", Comparison(">", Name("?"), one), Comparison("<", Name("?"), three)),
        Null(),
    )


def test_parse_multi_word_names() -> None:
    assert parse_expression("Applicant Age + 1") == Arithmetic(
        "+", Name("Applicant Age"), Number(n(1))
    )
    assert _tests_of("< 所得 上限") == (UnaryComparison("<", Name("所得 上限")),)


def test_spans_quote_the_source() -> None:
    text = "< 1 + 2, [3..4]"
    first, second = _tests_of(text)
    assert text[first.start : first.end] == "< 1 + 2"
    assert text[second.start : second.end] == "[3..4]"


@pytest.mark.parametrize(
    ("text", "line", "column", "expected"),
    [
        ("", 1, 1, ("'-'", "an expression")),
        ("[1 5]", 1, 4, ("'..'", "','", "']'")),
        ("[1, 2 3]", 1, 7, ("','", "']'")),
        ("[1..5", 1, 6, ("']'", "')'", "'['", "an operator")),
        ("(1 2)", 1, 4, ("')'", "'..'", "an operator")),
        ("]1 5]", 1, 4, ("'..'", "an operator")),
        ("< ", 1, 3, ("an expression",)),
        (">= 5 6", 1, 6, ("','", "end of input")),
        ("1..5", 1, 2, ("','", "end of input")),
        ("not(1", 1, 6, ("')'", "','")),
        ("-, 1", 1, 1, ("an expression",)),
        ("1, and", 1, 4, ("an expression",)),
        ("< 5,\n  > 9 9", 2, 7, ("','", "end of input")),
        ("date(1,", 1, 8, ("an expression",)),
        ("@5", 1, 2, ("a string",)),
    ],
)
def test_syntax_errors_point_at_the_token(
    text: str, line: int, column: int, expected: tuple[str, ...]
) -> None:
    with pytest.raises(FeelSyntaxError) as info:
        parse_unary_tests(text)
    e = info.value
    assert (e.line, e.column, e.expected) == (line, column, expected)
    assert e.text == text
    assert str(e).startswith(f"line {line}, column {column}: ")


def test_interval_without_brackets_gets_a_hint() -> None:
    with pytest.raises(FeelSyntaxError, match=r"an interval needs brackets, as in \[1..5\]"):
        parse_unary_tests("1..5")


# -- compiled tests: every form --------------------------------------------------

CASES: list[tuple[str, ValueType, Any, bool]] = [
    # comparisons
    ("< 5", N, 4, True),
    ("< 5", N, 5, False),
    ("< 5", N, n("4.999"), True),
    ("<= 5", N, 5, True),
    ("> 5", N, n("5.0"), False),
    (">= 5", N, n("5.0"), True),
    ("= 5", N, n("5.00"), True),
    ("!= 5", N, 5, False),
    ("!= 5", N, 6, True),
    ("< -2", N, -3, True),
    ("< 2 * 3", N, 5, True),
    # intervals
    ("[1..5]", N, 1, True),
    ("[1..5]", N, 5, True),
    ("[1..5)", N, 5, False),
    ("[1..5[", N, 5, False),
    ("(1..5]", N, 1, False),
    ("]1..5]", N, 1, False),
    ("]1..5[", N, 3, True),
    ("[5..1]", N, 3, False),
    ("[.5..1.5]", N, 1, True),
    # plain values and lists
    ("5", N, 5, True),
    ("5", N, n("5.0"), True),
    ("5", N, 6, False),
    ("-5", N, -5, True),
    ("2 ** 3", N, 8, True),
    ("1, 2, 3", N, 2, True),
    ("1, 2, 3", N, 4, False),
    ("[1, 2, 3]", N, 3, True),
    ("[1, [2..4]]", N, 3, True),
    ("[]", N, 1, False),
    ('"持家", "借家"', S, "借家", True),
    ('"持家", "借家"', S, "社宅", False),
    ('"a" + "b"', S, "ab", True),
    ('< "m"', S, "a", True),
    ('["a".."m"]', S, "n", False),
    ("true", B, True, True),
    ("true", B, False, False),
    ("false", B, False, True),
    ("true, false", B, False, True),
    # dates
    ('date("2024-04-01")', D, D1, True),
    ('@"2024-04-01"', D, D1, True),
    ("date(2024, 4, 1)", D, D1, True),
    ('date(from: "2024-04-01")', D, D1, True),
    ('>= date("2024-04-01")', D, dt.date(2024, 3, 31), False),
    ('< @"2024-04-01"', D, dt.date(2024, 3, 31), True),
    ('[date("2024-04-01")..date("2025-03-31")]', D, dt.date(2025, 3, 31), True),
    # negation
    ("not(5)", N, 5, False),
    ("not(5)", N, 6, True),
    ("not(< 5, > 10)", N, 7, True),
    ("not(< 5, > 10)", N, 11, False),
    ('not("転勤")', S, "転居", True),
    ('not("転勤")', S, "転勤", False),
    ("not(true)", B, False, True),
    # `?` predicates
    ("? > 5 and ? < 10", N, 7, True),
    ("? > 5 and ? < 10", N, 10, False),
    ("5 < ?", N, 6, True),
    ("not(? > 5)", N, 5, True),
    ("?", B, True, True),
    ("?", B, False, False),
    ("? * 2", N, 0, True),  # equals the input only at 0
    ("? * 2", N, 1, False),
]


@pytest.mark.parametrize(("text", "type", "value", "expected"), CASES)
def test_forms(text: str, type: ValueType, value: Any, expected: bool) -> None:
    test = compile_unary_tests(text, type)
    assert test.matches(value) is expected
    if test.region is not None:
        assert test.region.contains(value) is expected


def test_any() -> None:
    test = compile_unary_tests("-", N)
    assert test.is_any
    assert test.matches(None) and test.matches(3) and test.matches("x")
    assert test.region == Region.any(N)
    assert not compile_unary_tests("< 5", N).is_any


def test_int_and_decimal_alike() -> None:
    for text in ("1.0", "[1..2]", ">= 1", "[1, 2]", "not(2)"):
        test = compile_unary_tests(text, N)
        assert test.matches(1) is test.matches(Decimal("1")) is test.matches(Decimal("1.00"))


# -- null semantics ---------------------------------------------------------------

NULL_CASES: list[tuple[str, ValueType, bool]] = [
    ("null", N, True),
    ("= null", N, True),
    ("!= null", N, False),
    ("5", N, False),
    ("< 5", N, False),
    (">= 5", N, False),
    ("[1..5]", N, False),
    ("!= 5", N, True),  # null != 5 is not(null = 5) = true
    ("not(< 5)", N, False),  # null < 5 is null, not(null) is null
    ("not(5)", N, True),  # null = 5 is false
    ("not(null)", N, False),
    ("not(5, null)", N, False),
    ("not(< 5, 7)", N, False),  # false or null = null
    ("[1, null]", N, True),
    ("[1, 2]", N, False),
    ("5, null", N, True),
    ("< null", N, False),
    ("? > 5", N, False),
    ("? = null", N, True),
    ('"a"', S, False),
    ('not("a")', S, True),
    ("true", B, False),
    ("not(true)", B, True),
    ("?", B, False),
    ('< date("2024-01-01")', D, False),
]


@pytest.mark.parametrize(("text", "type", "expected"), NULL_CASES)
def test_null_input(text: str, type: ValueType, expected: bool) -> None:
    test = compile_unary_tests(text, type)
    assert test.matches(None) is expected
    assert test.region is not None
    assert test.region.null is expected


@pytest.mark.parametrize(
    ("text", "type", "value"),
    [
        ("< 5", N, "4"),
        ("5", N, "5"),
        ("not(5)", N, "a"),  # "a" = 5 is null, so not(...) is null too
        ("not(< 5)", N, "a"),
        ("[1..5]", N, True),
        ("1", N, True),  # a bool is not a number
        ('"a"', S, 1),
        ("true", B, 1),
        ('< date("2024-01-01")', D, dt.datetime(2023, 1, 1)),
        ('< date("2024-01-01")', D, "2023-01-01"),
        ("[1, 2]", N, "1"),
    ],
)
def test_value_of_another_type_never_matches(text: str, type: ValueType, value: Any) -> None:
    assert compile_unary_tests(text, type).matches(value) is False


# -- names --------------------------------------------------------------------------


def test_names_read_from_env() -> None:
    test = compile_unary_tests("[下限..上限], > x * 2", N)
    assert test.names == {"下限", "上限", "x"}
    assert test.region is None
    env = {"下限": 1, "上限": 3, "x": 10}
    assert test.matches(2, env)
    assert not test.matches(5, env)
    assert test.matches(21, env)
    assert not test.matches(2)  # unbound names are null
    assert compile_unary_tests("limits", N).matches(2, {"limits": [1, 2]})
    assert compile_unary_tests("not(limit)", N).matches(3, {"limit": 2})
    assert compile_unary_tests("-", N).names == frozenset()
    assert compile_unary_tests('date("2024-01-01")', D).names == frozenset()


# -- type clashes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "type", "fragment"),
    [
        ("[1..5]", S, "1 is a number; expected a string"),
        ('"a"', N, '"a" is a string; expected a number'),
        ("true", D, "true is a boolean; expected a date"),
        ("< 5", D, "5 is a number; expected a date"),
        ('[1, "a"]', N, '"a" is a string; expected a number'),
        ('[date("2024-01-01")..5]', D, "5 is a number; expected a date"),
        ("< true", B, "boolean input: booleans have no order; expected true, false or null"),
        ("true, > false", B, "'> false': booleans have no order"),
        ("[false..true]", B, "booleans have no order"),
        ("< [1, 2]", N, "is a list"),
        ('? > "a"', N, "compares a number with a string; expected a number"),
        ("[[1, 2], 3]", N, "[1, 2] is a list; expected a number"),
        ("[[1]..5]", N, "a list has no order"),
        ('not("x")', N, '"x" is a string; expected a number'),
        ("5 and true", B, "'and' needs booleans"),
        ('-"a"', N, "negates a string"),
        ('"a" + 1', S, "combines a string and a number"),
        ('"a" + "b"', N, "is a string; expected a number"),
    ],
)
def test_type_clash(text: str, type: ValueType, fragment: str) -> None:
    with pytest.raises(FeelTypeError) as info:
        compile_unary_tests(text, type)
    message = str(info.value)
    assert message.startswith(f"unary test {text!r} on a {type.value} input: ")
    assert fragment in message


def test_no_clash_with_null_or_unknown_names() -> None:
    compile_unary_tests("null, < x", N)
    compile_unary_tests("= null", B)
    compile_unary_tests("x, y", S)


@pytest.mark.parametrize(
    ("text", "fragment", "column"),
    [
        ('date("2024-13-01")', "is not a valid date", 1),
        ('< date("24-1-1")', "is not a date of the form", 3),
        ("date(2024, 2, 30)", "is not a valid date", 1),
        ('@"2024-13-01"', "is not a", 1),
        ("foo(1)", "unknown function 'foo'", 1),
        ("< date(1, 2)", "does not take 2 arguments", 3),
        ('date(day: "x")', "no overload of date()", 1),
    ],
)
def test_invalid_calls_and_literals(text: str, fragment: str, column: int) -> None:
    with pytest.raises(FeelSyntaxError) as info:
        compile_unary_tests(text, D)
    assert fragment in str(info.value)
    assert info.value.column == column


# -- regions -----------------------------------------------------------------------


def ordered(*intervals: Interval, null: bool = False) -> Region:
    return Region("ordered", intervals, null=null)


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("< 5", ordered(Interval(None, False, n(5), False))),
        (">= 5", ordered(Interval(n(5), True, None, False))),
        ("[1..5)", ordered(Interval(n(1), True, n(5), False))),
        ("5", ordered(Interval.point(n(5)))),
        ("-5", ordered(Interval.point(n(-5)))),
        ("2 * 3", ordered(Interval.point(n(6)))),
        ("[1..3], (3..5]", ordered(Interval(n(1), True, n(5), True))),
        ("[1..3), (3..5]", ordered(Interval(n(1), True, n(3), False), Interval(n(3), False, n(5), True))),
        ("1, 2, null", ordered(Interval.point(n(1)), Interval.point(n(2)), null=True)),
        ("!= 5", Region.of(N, n(5)).complement_region()),
        ("not(< 5)", ordered(Interval(n(5), True, None, False))),
        ("not(5)", Region.of(N, n(5)).complement_region()),
        ("not([1..2], 4)", ordered(
            Interval(None, False, n(1), False),
            Interval(n(2), False, n(4), False),
            Interval(n(4), False, None, False),
        )),
        ("? >= 1 and ? < 2", ordered(Interval(n(1), True, n(2), False))),
        ("? < 1 or ? > 2", ordered(Interval(None, False, n(1), False), Interval(n(2), False, None, False))),
        ("null", Region.only_null(N)),
        ("!= null", Region.any(N, null=False)),
        ("[5..1]", Region.empty(N)),
        ("< null", Region.empty(N)),
    ],
)  # fmt: skip
def test_number_regions(text: str, region: Region) -> None:
    assert compile_unary_tests(text, N).region == region


def test_discrete_regions() -> None:
    assert compile_unary_tests('"a", "b"', S).region == Region.of(S, "a", "b")
    assert compile_unary_tests('not("a")', S).region == Region(
        "discrete", values=frozenset({"a"}), complement=True, null=True
    )
    assert compile_unary_tests('!= "a"', S).region == Region(
        "discrete", values=frozenset({"a"}), complement=True, null=True
    )
    assert compile_unary_tests('not("a", null)', S).region == Region(
        "discrete", values=frozenset({"a"}), complement=True
    )
    assert compile_unary_tests('< "m"', S).region is None
    # booleans are a finite domain: complements become plain sets
    assert compile_unary_tests("not(true)", B).region == Region.of(B, False, null=True)
    assert compile_unary_tests("!= false", B).region == Region.of(B, True, null=True)
    assert compile_unary_tests("true, false", B).region == Region.any(B, null=False)
    assert compile_unary_tests("?", B).region == Region.of(B, True)


def test_date_regions_are_closed() -> None:
    region = compile_unary_tests('< date("2024-04-01")', D).region
    assert region == ordered(Interval(None, False, dt.date(2024, 3, 31), True))
    left = compile_unary_tests('<= @"2024-03-31"', D).region
    right = compile_unary_tests('>= @"2024-04-01"', D).region
    assert left is not None and right is not None
    assert left.union(right) == Region.any(D, null=False)


def test_regions_unknown_for_names_and_general_expressions() -> None:
    for text in ("< x", "[1..x]", "x", "? * 2 = 4 or x", "? + 1", "5, x"):
        assert compile_unary_tests(text, N).region is None, text


# -- properties ------------------------------------------------------------------------

NUMBERS = ["-2", "-1", "0", "0.5", "1", "1.5", "2", "3"]
STRINGS = ['"a"', '"b"', '"c"']
DATES = ['date("2024-03-30")', '@"2024-03-31"', 'date("2024-04-01")', 'date("2024-04-03")']
OPS = ["<", "<=", ">", ">=", "=", "!="]


def _positive(literal: st.SearchStrategy[str], *, ordered: bool) -> st.SearchStrategy[str]:
    value = st.one_of(literal, st.just("null"))
    forms = [
        st.builds(
            lambda op, v: f"{op} {v}", st.sampled_from(OPS if ordered else ["=", "!="]), value
        ),
        value,
        st.lists(value, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
        st.builds(lambda v, w: f"? = {v} or ? != {w}", literal, literal),
        st.builds(lambda v: f"not(? = {v})", literal),
    ]
    if ordered:
        forms += [
            st.builds(
                lambda a, lo, hi, b: f"{a}{lo}..{hi}{b}",
                st.sampled_from("[(]"),
                value,
                value,
                st.sampled_from("])["),
            ),
            st.builds(lambda v, w: f"? > {v} and {w} >= ?", literal, literal),
        ]
    return st.one_of(*forms)


def _unary(literal: st.SearchStrategy[str], *, ordered: bool) -> st.SearchStrategy[str]:
    tests = st.lists(_positive(literal, ordered=ordered), min_size=1, max_size=3).map(", ".join)
    return st.one_of(st.just("-"), tests, tests.map(lambda t: f"not({t})"))


SAMPLE_NUMBERS = [None, *(Decimal(k) / 4 for k in range(-12, 17)), -3, 0, 1, 2, 5]
SAMPLE_DATES = [None, *(dt.date(2024, 3, 28) + dt.timedelta(days=k) for k in range(9))]
SAMPLE_STRINGS = [None, "a", "b", "c", "d", ""]
SAMPLE_BOOLEANS = [None, True, False]

_PY_OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_region_agrees(text: str, type: ValueType, samples: list[Any]) -> None:
    test = compile_unary_tests(text, type)
    if test.region is None:
        return
    for v in samples:
        assert test.region.contains(v) == test.matches(v), (text, v, test.region)


@FAST
@given(_unary(st.sampled_from(NUMBERS), ordered=True))
def test_number_region_agrees_with_matches(text: str) -> None:
    test = compile_unary_tests(text, N)
    assert test.region is not None, text  # every generated form has an exact region
    _check_region_agrees(text, N, SAMPLE_NUMBERS)


@FAST
@given(_unary(st.sampled_from(DATES), ordered=True))
def test_date_region_agrees_with_matches(text: str) -> None:
    _check_region_agrees(text, D, SAMPLE_DATES)


@FAST
@given(_unary(st.sampled_from(STRINGS), ordered=False))
def test_string_region_agrees_with_matches(text: str) -> None:
    assert compile_unary_tests(text, S).region is not None, text
    _check_region_agrees(text, S, SAMPLE_STRINGS)


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_string_ordering_follows_code_points(op: str) -> None:
    # string orderings have no region, so check them against Python's order directly
    for literal in ("a", "b", "ま"):
        test = compile_unary_tests(f'{op} "{literal}"', S)
        assert test.region is None
        for v in [*SAMPLE_STRINGS, "ま", "マ"]:
            assert test.matches(v) == (v is not None and _PY_OPS[op](v, literal)), (op, v)


@FAST
@given(_unary(st.sampled_from(["true", "false"]), ordered=False))
def test_boolean_region_agrees_with_matches(text: str) -> None:
    _check_region_agrees(text, B, SAMPLE_BOOLEANS)


@FAST
@given(st.sampled_from(list(_PY_OPS)), st.sampled_from(NUMBERS), st.sampled_from(SAMPLE_NUMBERS))
def test_comparison_agrees_with_python(op: str, literal: str, value: Any) -> None:
    got = compile_unary_tests(f"{op} {literal}", N).matches(value)
    assert got == (value is not None and _PY_OPS[op](value, Decimal(literal)))
    negated = compile_unary_tests(f"not({op} {literal})", N).matches(value)
    assert negated == (value is not None and not _PY_OPS[op](value, Decimal(literal)))
