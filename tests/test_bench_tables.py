"""The benchmark table generators (bench/tables.py) make what the benchmarks claim.

UNIQUE tables really are unique, sizes and shapes are right, samples hit rules
(mostly) and miss sometimes, and kijun decides the samples as a naive
rule-by-rule evaluation of the FEEL text does.
"""

from __future__ import annotations

import itertools
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is not an installed package
    sys.path.insert(0, str(ROOT))

from bench.tables import (  # noqa: E402
    ENUM_INPUTS,
    INPUT_NAMES,
    MISS_EVERY,
    NUMERIC_INPUTS,
    GeneratedTable,
    boxes_intersect,
    expected_frame,
    generate,
    grid_columns,
    naive_decide,
    naive_test,
)
from kijun.criteria.model import HitPolicy, ValueType  # noqa: E402

SIZES = (10, 100)
N_SAMPLES = 200

_CACHE: dict[tuple[str, int], GeneratedTable] = {}
_NAIVE: dict[tuple[str, int], list[tuple[list[str], str | None]]] = {}


def table(policy: str, n: int) -> GeneratedTable:
    if (policy, n) not in _CACHE:
        _CACHE[policy, n] = generate(policy, n, n_samples=N_SAMPLES)
    return _CACHE[policy, n]


def naive(policy: str, n: int) -> list[tuple[list[str], str | None]]:
    """naive_decide on every sample: (ids of all matching rules, deciding outcome)."""
    if (policy, n) not in _NAIVE:
        gen = table(policy, n)
        _NAIVE[policy, n] = [naive_decide(gen.table, f) for f in gen.samples]
    return _NAIVE[policy, n]


@pytest.mark.parametrize("policy", ["FIRST", "UNIQUE"])
@pytest.mark.parametrize("n", SIZES)
def test_shape_and_size(policy: str, n: int) -> None:
    gen = table(policy, n)
    t = gen.table
    assert t.hit_policy is HitPolicy(policy)
    assert len(t.rules) == n == len(gen.boxes) == len(gen.outcomes)
    assert len({r.id for r in t.rules}) == n
    assert len(set(gen.outcomes)) == n  # an outcome names its rule
    assert [i.name for i in t.inputs] == list(INPUT_NAMES)
    assert [i.type for i in t.inputs] == [ValueType.NUMBER] * 3 + [ValueType.STRING] * 2
    for clause in t.inputs[3:]:
        assert clause.allowed is not None and 5 <= len(clause.allowed) <= 8
    assert len(t.outputs) == 1 and t.outputs[0].type is ValueType.STRING
    assert all(len(r.when) == 5 and len(r.then) == 1 for r in t.rules)
    assert len(gen.samples) == N_SAMPLES
    # the cells use intervals and comparisons, not only `-`
    cells = [c for r in t.rules for c in r.when[:3]]
    if n >= 100:
        assert any(c.startswith("[") or c.startswith("(") for c in cells)
        assert any(c.startswith("<") for c in cells) and any(c.startswith(">") for c in cells)


def test_deterministic() -> None:
    a, b = generate("FIRST", 10, n_samples=20), generate("FIRST", 10, n_samples=20)
    assert a.table == b.table and a.samples == b.samples
    assert generate("FIRST", 10, n_samples=20, seed=7).table != a.table


@pytest.mark.parametrize("n", SIZES)
def test_unique_rules_are_disjoint(n: int) -> None:
    gen = table("UNIQUE", n)
    for i, j in itertools.combinations(range(n), 2):
        assert not boxes_intersect(gen.boxes[i], gen.boxes[j]), (i, j)


@pytest.mark.parametrize("n", SIZES)
def test_unique_brute_force_on_grid(n: int) -> None:
    """No grid point hits two rules: by the boxes (numpy) and by the FEEL text (naive)."""
    gen = table("UNIQUE", n)
    grid = grid_columns()
    expected_frame(gen, grid)  # raises if a row hits two rules
    rng = random.Random(0)
    size = len(grid[INPUT_NAMES[0]])
    for k in rng.sample(range(size), 200):
        facts = {name: grid[name][k] for name in INPUT_NAMES}
        ids, _ = naive_decide(gen.table, facts)  # raises if two rules match
        assert len(ids) <= 1


@pytest.mark.parametrize("policy", ["FIRST", "UNIQUE"])
@pytest.mark.parametrize("n", SIZES)
def test_samples_mostly_hit_and_sometimes_miss(policy: str, n: int) -> None:
    gen = table(policy, n)
    misses = [i for i, e in enumerate(gen.expected_outputs) if e is None]
    assert misses == list(range(MISS_EVERY - 1, N_SAMPLES, MISS_EVERY))
    for facts in gen.samples:
        for name, lo, hi in NUMERIC_INPUTS:
            assert lo <= facts[name] <= hi
        for name, values in ENUM_INPUTS:
            assert facts[name] in values
    if policy == "FIRST":  # rules overlap, so the order matters for some facts
        assert sum(h > 1 for h in gen.sample_hits) > N_SAMPLES // 20


@pytest.mark.parametrize("policy", ["FIRST", "UNIQUE"])
@pytest.mark.parametrize("n", SIZES)
def test_naive_text_evaluation_agrees_with_boxes(policy: str, n: int) -> None:
    gen = table(policy, n)
    results = naive(policy, n)
    assert [outcome for _, outcome in results] == gen.expected_outputs
    assert [len(ids) for ids, _ in results] == gen.sample_hits




@pytest.mark.parametrize("policy", ["FIRST", "UNIQUE"])
@pytest.mark.parametrize("n", SIZES)
def test_kijun_agrees_with_naive_evaluation(policy: str, n: int) -> None:
    decide_module = pytest.importorskip("kijun.criteria.decide")
    gen = table(policy, n)
    for facts, (ids, outcome) in zip(gen.samples, naive(policy, n), strict=True):
        result = decide_module.decide(gen.criterion, facts, "2025-04-01")
        if outcome is None:
            assert not result.decided, facts
        else:
            assert result.decided and result.outputs == {"判定": outcome}, facts
            assert [m.rule for m in result.matched] == ids[:1], facts


@pytest.mark.parametrize("policy", ["FIRST", "UNIQUE"])
def test_kijun_decide_frame_agrees_with_naive_evaluation(policy: str) -> None:
    batch = pytest.importorskip("kijun.criteria.batch")
    pl = pytest.importorskip("polars")
    gen = table(policy, 100)
    frame = pl.DataFrame({name: [f[name] for f in gen.samples] for name in INPUT_NAMES},
                         schema_overrides={n: pl.Float64 for n in INPUT_NAMES[:3]})
    out = batch.decide_frame(gen.table, frame)
    for k, (facts, (ids, outcome)) in enumerate(zip(gen.samples, naive(policy, 100),
                                                    strict=True)):
        assert out["判定"][k] == outcome, facts
        assert out["_matched"][k] == (ids[0] if ids else None), facts
        assert out["_status"][k] == ("decided" if ids else "exception"), facts


@pytest.mark.parametrize(
    ("test", "value", "accepted"),
    [
        ("-", None, True), ("< 30", 29.5, True), ("< 30", 30, False), ("<= 30", 30, True),
        ("> 5", 5, False), (">= 5", 5, True), ("[1..5)", 1, True), ("[1..5)", 5, False),
        ("(1..5]", 1, False), ("(1..5]", 5, True), ("(1..5)", 4.5, True), ("[1..5]", 5.5, False),
        ('"単身"', "単身", True), ('"単身","夫婦"', "夫婦", True), ('"単身","夫婦"', "三世代", False),
        ("< 30", "29", False),
    ],
)
def test_naive_oracle_reads_the_generated_cells(test: str, value: object, accepted: bool) -> None:
    assert naive_test(test, value) is accepted


def test_spiffworkflow_adapter_agrees() -> None:
    pytest.importorskip("SpiffWorkflow")
    from bench.baselines import SpiffWorkflowEngine

    gen = table("FIRST", 10)
    engine = SpiffWorkflowEngine(gen)
    for facts, expected in zip(gen.samples[:20], gen.expected_outputs[:20], strict=True):
        assert engine.evaluate(facts) == expected, facts
