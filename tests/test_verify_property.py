"""Property tests: the verifier's gaps and overlaps agree with evaluating the rules point by point.

Small random tables (2–3 inputs of number, string or boolean type, 1–6 rules,
cells from comparisons, intervals, value lists, negations and `-`) are
verified, and every rule is evaluated with FEEL (`UnaryTest.matches`) on a
grid that has a point in every atom: each integer constant the cells use,
the half-way points between them and beyond them; every value a string cell
names plus one no cell names (or the allowed values); true and false. The
reported regions are read back as FEEL unary tests, so they are checked as
text, too.

(a) no rule holds at a point of a reported gap;
(b) a point no rule holds is in a reported gap;
(c) the two rules of a reported overlap both hold at some point of its
    region, and at every point of it;
(d) a point two rules hold is in the region of a reported finding for that
    pair (UNIQUE and ANY report every overlapping pair);
(e) under FIRST, a rule is reported masked exactly when it holds somewhere
    but is the first match nowhere.

Both algorithms (the default split and the column sweep) are checked.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kijun.criteria.compile import _compile_unary_tests
from kijun.criteria.model import (
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
    ValueType,
)
from kijun.criteria.verify import Finding, Kind
from kijun.criteria.verify.table import analyse_table

POOL = ("a", "b", "c", "d")
OTHER = "zz"  # a string no cell names
NUMBERS = range(0, 4)
PAIR_KINDS = (Kind.CONFLICT, Kind.REDUNDANT, Kind.SUBSUMPTION)
SETTINGS = settings(max_examples=70, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- strategies


def _number_cell() -> st.SearchStrategy[str]:
    c = st.sampled_from(NUMBERS)
    return st.one_of(
        st.just("-"),
        st.builds(lambda op, v: f"{op} {v}", st.sampled_from(["<", "<=", ">", ">=", "="]), c),
        st.builds(str, c),
        st.builds(lambda lo, a, b, hi: f"{lo}{a}..{b}{hi}", st.sampled_from("[("), c, c,
                  st.sampled_from("])")),
        st.builds(lambda a, b: f"{a}, {b}", c, c),
        st.builds(lambda a, b: f"< {a}, > {b}", c, c),
        st.builds(lambda v: f"not({v})", c),
        st.builds(lambda a, b: f"not([{a}..{b}])", c, c),
    )


def _string_cell() -> st.SearchStrategy[str]:
    values = st.lists(st.sampled_from(POOL), min_size=1, max_size=2, unique=True)
    return st.one_of(
        st.just("-"),
        st.builds(lambda vs: ", ".join(f'"{v}"' for v in vs), values),
        st.builds(lambda vs: "not(" + ", ".join(f'"{v}"' for v in vs) + ")", values),
    )


_CELLS: dict[ValueType, Callable[[], st.SearchStrategy[str]]] = {
    ValueType.NUMBER: _number_cell,
    ValueType.STRING: _string_cell,
    ValueType.BOOLEAN: lambda: st.sampled_from(["-", "true", "false"]),
}


@st.composite
def tables(draw: st.DrawFn, policies: Sequence[str]) -> DecisionTable:
    n_inputs = draw(st.integers(2, 3))
    types = draw(st.lists(st.sampled_from(list(_CELLS)), min_size=n_inputs, max_size=n_inputs))
    inputs = []
    for k, t in enumerate(types):
        allowed = None
        if t is ValueType.STRING and draw(st.booleans()):
            allowed = tuple(draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=3,
                                          unique=True)))
        inputs.append(InputClause(f"in{k}", t, allowed))
    n_rules = draw(st.integers(1, 6))
    rules = tuple(
        Rule(
            id=f"R{r + 1}",
            when=tuple(draw(_CELLS[t]()) for t in types),
            then=(draw(st.sampled_from(["x", "y"])),),
            basis="第1条",
        )
        for r in range(n_rules)
    )
    policy = HitPolicy(draw(st.sampled_from(policies)))
    allowed_out = ("x", "y") if policy is HitPolicy.PRIORITY else None
    return DecisionTable("t", policy, tuple(inputs),
                         (OutputClause("o", ValueType.STRING, allowed_out),), rules)


# --------------------------------------------------------------------------- the oracle


def _axis(clause: InputClause) -> list[Any]:
    if clause.type is ValueType.BOOLEAN:
        return [True, False]
    if clause.type is ValueType.STRING:
        return list(clause.allowed) if clause.allowed is not None else [*POOL, OTHER]
    lo, hi = min(NUMBERS) - 1, max(NUMBERS) + 1
    return [Decimal(2 * lo + k) / 2 for k in range(2 * (hi - lo) + 1)]


def _grid(table: DecisionTable) -> list[tuple[Any, ...]]:
    return list(itertools.product(*(_axis(c) for c in table.inputs)))


def _holds(table: DecisionTable) -> Callable[[int, tuple[Any, ...]], bool]:
    tests = [[_compile_unary_tests(cell, c.type) for cell, c in zip(r.when, table.inputs,
                                                                      strict=True)]
             for r in table.rules]

    def holds(rule: int, point: tuple[Any, ...]) -> bool:
        return all(t.matches(v) for t, v in zip(tests[rule], point, strict=True))

    return holds


def _inside(table: DecisionTable) -> Callable[[Finding, tuple[Any, ...]], bool]:
    index = {c.name: k for k, c in enumerate(table.inputs)}

    def inside(f: Finding, point: tuple[Any, ...]) -> bool:
        return all(
            _compile_unary_tests(text, table.inputs[index[name]].type).matches(point[index[name]])
            for name, text in f.region.items()
        )

    return inside


def _findings(table: DecisionTable) -> list[list[Finding]]:
    return [list(analyse_table(table, method=m).findings) for m in ("split", "columns")]


# --------------------------------------------------------------------------- properties


@SETTINGS
@given(tables(["UNIQUE", "ANY", "FIRST", "PRIORITY", "COLLECT"]))
def test_gaps_are_exactly_the_points_no_rule_holds(table: DecisionTable) -> None:
    holds, inside = _holds(table), _inside(table)
    rules = range(len(table.rules))
    for findings in _findings(table):
        gaps = [f for f in findings if f.kind is Kind.GAP]
        seen = {id(g): False for g in gaps}
        for point in _grid(table):
            covered = any(holds(r, point) for r in rules)
            where = [g for g in gaps if inside(g, point)]
            for g in where:
                seen[id(g)] = True
            assert not (covered and where), (point, where)  # (a)
            assert covered or where, point  # (b)
        assert all(seen.values())  # every reported gap holds a point


@SETTINGS
@given(tables(["UNIQUE", "ANY"]))
def test_overlaps_are_exactly_the_points_two_rules_hold(table: DecisionTable) -> None:
    holds, inside = _holds(table), _inside(table)
    grid = _grid(table)
    rules = range(len(table.rules))
    for findings in _findings(table):
        pairs = {tuple(sorted(f.rules)): f for f in findings if f.kind in PAIR_KINDS}
        assert len(pairs) == len([f for f in findings if f.kind in PAIR_KINDS])
        for (a, b), f in pairs.items():  # (c)
            points = [p for p in grid if inside(f, p)]
            assert points, f
            assert all(holds(a - 1, p) and holds(b - 1, p) for p in points), f
        for point in grid:  # (d)
            hit = [r for r in rules if holds(r, point)]
            for a, b in itertools.combinations(hit, 2):
                found = pairs.get((a + 1, b + 1))
                assert found is not None and inside(found, point), (point, a + 1, b + 1)


@SETTINGS
@given(tables(["FIRST"]))
def test_masked_rules_are_the_rules_that_never_decide(table: DecisionTable) -> None:
    holds = _holds(table)
    grid = _grid(table)
    rules = range(len(table.rules))
    holds_somewhere = {r for r in rules if any(holds(r, p) for p in grid)}
    decides = set()
    for point in grid:
        hit = [r for r in rules if holds(r, point)]
        if hit:
            decides.add(hit[0])
    expected = {r + 1 for r in holds_somewhere - decides}
    for findings in _findings(table):
        masked = {f.rules[0]: f for f in findings if f.kind is Kind.MASKED}
        assert set(masked) == expected  # (e)
        for r, f in masked.items():
            maskers = set(f.rules[1:])
            assert maskers and all(m < r for m in maskers)
            # the masking rules are the earlier rules that overlap it
            assert maskers == {
                m + 1 for m in range(r - 1)
                if any(holds(m, p) and holds(r - 1, p) for p in grid)
            }
