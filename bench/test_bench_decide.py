"""pytest-benchmark view of the same tables: `pytest bench/ --benchmark-enable`.

Not collected by `make test` (testpaths = tests). bench/run.py is the
reference harness (same-run ratios, correctness checks, the published doc);
this file is for quick comparisons between commits with pytest-benchmark's
own tooling (`--benchmark-autosave`, `--benchmark-compare`).

The baselines are slow to import (pyDMNrules builds its parser for ~30 s) and
to run, so they are benchmarked only with KIJUN_BENCH_BASELINES=1, and only
on the 10- and 100-rule tables.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest

from bench.tables import DECIDE_ON, INPUT_NAMES, GeneratedTable, generate, random_frame_columns

SIZES = (10, 100, 1000)
POLICIES = ("FIRST", "UNIQUE")
BASELINES = os.environ.get("KIJUN_BENCH_BASELINES") == "1"

_TABLES: dict[tuple[str, int], GeneratedTable] = {}


def table(policy: str, n: int) -> GeneratedTable:
    if (policy, n) not in _TABLES:
        _TABLES[policy, n] = generate(policy, n, n_samples=1000)
    return _TABLES[policy, n]


def cycling(gen: GeneratedTable) -> Any:
    """Next sample on every call, so a benchmark sees hits and misses in their mix."""
    return itertools.cycle(gen.samples).__next__


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("policy", POLICIES)
def test_kijun_decide(benchmark: Any, policy: str, n: int) -> None:
    from kijun.criteria.decide import decide

    gen = table(policy, n)
    nxt = cycling(gen)
    criterion = gen.criterion
    for facts in gen.samples:  # warm-up and a correctness check
        result = decide(criterion, facts, DECIDE_ON)
        assert (result.outputs.get("判定") if result.decided else None) == gen.expected(facts)
    benchmark.group = f"decide {policy} {n}"
    benchmark(lambda: decide(criterion, nxt(), DECIDE_ON))


@pytest.mark.parametrize("policy", POLICIES)
def test_kijun_decide_frame(benchmark: Any, policy: str) -> None:
    import polars as pl

    from kijun.criteria.batch import decide_frame

    gen = table(policy, 100)
    columns = random_frame_columns(1_000_000)
    frame = pl.DataFrame([
        pl.Series(name, columns[name].tolist() if columns[name].dtype == object
                  else columns[name])
        for name in INPUT_NAMES
    ])
    benchmark.group = "decide_frame 100 rules × 1,000,000 rows"
    out = benchmark.pedantic(decide_frame, args=(gen.table, frame), rounds=3, iterations=1,
                             warmup_rounds=1)
    assert out.height == 1_000_000


@pytest.mark.skipif(not BASELINES, reason="set KIJUN_BENCH_BASELINES=1 to run the baselines")
@pytest.mark.parametrize("engine", ["pyDMNrules", "SpiffWorkflow"])
@pytest.mark.parametrize("n", (10, 100))
@pytest.mark.parametrize("policy", POLICIES)
def test_baseline(benchmark: Any, tmp_path: Any, engine: str, policy: str, n: int) -> None:
    from bench import baselines

    cls = {"pyDMNrules": baselines.PyDMNRulesEngine,
           "SpiffWorkflow": baselines.SpiffWorkflowEngine}[engine]
    gen = table(policy, n)
    adapter = cls(gen, tmp_path)
    for facts in gen.samples[:20]:
        assert adapter.evaluate(facts) == gen.expected(facts)
    nxt = cycling(gen)
    benchmark.group = f"decide {policy} {n}"
    benchmark.pedantic(lambda: adapter.evaluate(nxt()), rounds=20 if n == 100 else 100,
                       iterations=1, warmup_rounds=2)
