"""The compiled index must agree with naive rule-by-rule evaluation, on random tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kijun.criteria.batch import decide_frame
from kijun.criteria.compile import compile_table
from kijun.criteria.decide import decide
from kijun.criteria.errors import HitPolicyError
from kijun.criteria.model import (
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
    ValueType,
)

from .tables import criterion

NUMS = st.integers(min_value=-3, max_value=12)
WORDS = ["a", "b", "c", "d"]
DAYS = [dt.date(2024, 1, d) for d in range(1, 8)]


def _num(v: int) -> str:
    return str(v)


def _date(v: dt.date) -> str:
    return f'date("{v.isoformat()}")'


@st.composite
def number_test(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["any", "cmp", "interval", "list", "not", "eq", "null"]))
    if kind == "any":
        return "-"
    if kind == "null":
        return "null"
    if kind == "cmp":
        return f"{draw(st.sampled_from(['<', '<=', '>', '>=']))} {_num(draw(NUMS))}"
    if kind == "interval":
        lo, hi = sorted((draw(NUMS), draw(NUMS)))
        return f"{draw(st.sampled_from('[(]'))}{lo}..{hi}{draw(st.sampled_from('])['))}"
    if kind == "list":
        return ", ".join(_num(v) for v in draw(st.lists(NUMS, min_size=1, max_size=3)))
    if kind == "not":
        return f"not({draw(number_test().filter(lambda t: t != '-' and not t.startswith('not(')))})"
    return _num(draw(NUMS))


@st.composite
def string_test(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["any", "list", "not", "null"]))
    if kind == "any":
        return "-"
    if kind == "null":
        return "null"
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
    body = ", ".join(f'"{w}"' for w in words)
    return f"not({body})" if kind == "not" else body


@st.composite
def date_test(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["any", "cmp", "interval"]))
    if kind == "any":
        return "-"
    if kind == "cmp":
        return f"{draw(st.sampled_from(['<', '<=', '>', '>=']))} {_date(draw(st.sampled_from(DAYS)))}"
    lo, hi = sorted((draw(st.sampled_from(DAYS)), draw(st.sampled_from(DAYS))))
    return f"[{_date(lo)}..{_date(hi)}]"


INPUTS = (
    InputClause("n", ValueType.NUMBER),
    InputClause("s", ValueType.STRING),
    InputClause("b", ValueType.BOOLEAN),
    InputClause("d", ValueType.DATE),
)


@st.composite
def tables(draw: st.DrawFn, policy: HitPolicy = HitPolicy.FIRST) -> DecisionTable:
    n_rules = draw(st.integers(min_value=1, max_value=12))
    rules = []
    for i in range(n_rules):
        when = (
            draw(number_test()),
            draw(string_test()),
            draw(st.sampled_from(["-", "true", "false"])),
            draw(date_test()),
        )
        rules.append(Rule(f"R{i + 1}", when, (f"o{i + 1}",)))
    return DecisionTable("t", policy, INPUTS, (OutputClause("o", ValueType.STRING),), tuple(rules))


facts = st.fixed_dictionaries({
    "n": st.one_of(st.none(), NUMS, st.sampled_from([Decimal("2.5"), Decimal("-0.5")])),
    "s": st.one_of(st.none(), st.sampled_from([*WORDS, "z"])),
    "b": st.one_of(st.none(), st.booleans()),
    "d": st.one_of(st.none(), st.sampled_from([*DAYS, dt.date(2023, 12, 31)])),
})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.lists(facts, min_size=1, max_size=8))
def test_indexed_equals_naive(t: DecisionTable, cases: list[dict[str, Any]]) -> None:
    ct = compile_table(t)
    for f in cases:
        values = [f[i.name] for i in INPUTS]
        assert ct.match(values) == ct.naive_match(values), (t.rules, f)


@settings(max_examples=100, deadline=None)
@given(tables(HitPolicy.UNIQUE), st.lists(facts, min_size=1, max_size=5))
def test_decide_unique_agrees_with_naive(t: DecisionTable, cases: list[dict[str, Any]]) -> None:
    c = criterion(t)
    ct = compile_table(t)
    for f in cases:
        naive = ct.naive_match([f[i.name] for i in INPUTS])
        hits = [i for i in range(len(t.rules)) if naive >> i & 1]
        if len(hits) > 1:
            try:
                decide(c, f, "2024-01-01")
            except HitPolicyError as e:
                assert e.rules == [t.rules[i].id for i in hits]
            else:
                raise AssertionError("UNIQUE with two matches must be an error")
            continue
        r = decide(c, f, "2024-01-01")
        if hits:
            assert [m.rule for m in r.matched] == [t.rules[hits[0]].id]
        else:
            assert not r.decided


@settings(max_examples=60, deadline=None)
@given(tables(HitPolicy.FIRST), st.lists(facts, min_size=1, max_size=20))
def test_vectorised_path_equals_decide(t: DecisionTable, cases: list[dict[str, Any]]) -> None:
    frame = pl.DataFrame(
        {
            "n": pl.Series([None if f["n"] is None else float(f["n"]) for f in cases],
                           dtype=pl.Float64),
            "s": pl.Series([f["s"] for f in cases], dtype=pl.String),
            "b": pl.Series([f["b"] for f in cases], dtype=pl.Boolean),
            "d": pl.Series([f["d"] for f in cases], dtype=pl.Date),
        }
    )
    out = decide_frame(t, frame)
    c = criterion(t)
    for k, f in enumerate(cases):
        r = decide(c, f, "2024-01-01")
        row = out.row(k, named=True)
        if r.decided:
            assert row["_status"] == "decided"
            assert row["o"] == r.outputs["o"]
            assert row["_matched"] == r.matched[0].rule
        else:
            assert row["_status"] == "exception"
            assert row["o"] is None
