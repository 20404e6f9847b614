"""Benchmark the table verifier (kijun.criteria.verify) on generated decision tables.

    .venv/bin/python bench/bench_verify.py            # results table
    .venv/bin/python bench/bench_verify.py --json     # the same as JSON
    .venv/bin/python bench/bench_verify.py --quick    # small tables only
    .venv/bin/python bench/bench_verify.py --columns  # also time the column-sweep reference

Tables: bench/tables.py's random decision trees with holes (five inputs:
three numbers, two enumerations; UNIQUE = disjoint leaves, FIRST = about
half the leaves widened so rules overlap), and the same construction with
seven inputs (four numbers, three enumerations) for 5,000 rules, made here
with bench/tables.py's cell types.

Each case is timed two ways:

- "verify": `verify_table` with the cells already compiled (kijun shares
  compiled FEEL cells between loading and verifying, so this is the cost of
  verifying a table that was just loaded) — the median of --runs runs;
- "cold": `verify_table` after clearing the compiled-cell cache, so every
  distinct cell is parsed and compiled again.

Every run also checks the result against the generator's own boxes: a
UNIQUE table must show no conflict and exactly its holes as gaps (sample
points of every hole inside a reported gap, every reported gap point in a
hole); a FIRST table's gaps likewise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is not an installed package
    sys.path.insert(0, str(ROOT))

from bench.tables import (  # noqa: E402
    ENUM_INPUTS,
    HOLE_SHARE,
    NUMERIC_INPUTS,
    SEED,
    Box,
    Cell,
    EnumCell,
    Interval,
    boxes_intersect,
    generate,
)
from kijun.criteria.compile import _compile_unary_tests  # noqa: E402
from kijun.criteria.feel import compile_unary_tests  # noqa: E402
from kijun.criteria.model import (  # noqa: E402
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
    ValueType,
)
from kijun.criteria.verify import Finding, Kind, verify_table  # noqa: E402
from kijun.criteria.verify.table import analyse_table  # noqa: E402

#: the seven-input shape: bench/tables.py's inputs plus one number and one enumeration
NUMERIC_7: tuple[tuple[str, int, int], ...] = (*NUMERIC_INPUTS, ("世帯人数", 1, 12))
ENUM_7: tuple[tuple[str, tuple[str, ...]], ...] = (
    *ENUM_INPUTS,
    ("障害区分", ("なし", "1級", "2級", "3級", "4級")),
)

#: (policy, rules, inputs, budget in ms for "verify") — budgets from the issue
CASES: tuple[tuple[str, int, int, float | None], ...] = (
    ("UNIQUE", 100, 5, None),
    ("FIRST", 100, 5, None),
    ("UNIQUE", 1000, 5, 100.0),
    ("FIRST", 1000, 5, 100.0),
    ("UNIQUE", 5000, 7, 1000.0),
    ("FIRST", 5000, 7, 1000.0),
)
QUICK = tuple(c for c in CASES if c[1] <= 1000)


# --------------------------------------------------------------------------- tables


@dataclass(slots=True)
class Case:
    policy: str
    n_rules: int
    n_inputs: int
    table: DecisionTable
    boxes: list[Box]
    holes: list[Box]
    numeric: tuple[tuple[str, int, int], ...]
    enums: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def names(self) -> list[str]:
        return [n for n, _, _ in self.numeric] + [n for n, _ in self.enums]


def make_case(policy: str, n_rules: int, n_inputs: int) -> Case:
    if n_inputs == 5:
        gen = generate(policy, n_rules, n_samples=1)
        return Case(policy, n_rules, 5, gen.table, gen.boxes, gen.holes, NUMERIC_INPUTS,
                    ENUM_INPUTS)
    if n_inputs != 7:
        raise ValueError("tables have 5 or 7 inputs")
    return wide_case(policy, n_rules, NUMERIC_7, ENUM_7)


def wide_case(policy: str, n_rules: int, numeric: tuple[tuple[str, int, int], ...],
              enums: tuple[tuple[str, tuple[str, ...]], ...], seed: int = SEED) -> Case:
    """bench/tables.py's construction for any numbers of numeric and enumeration inputs."""
    rng = random.Random(f"{seed}-{policy}-{n_rules}-{len(numeric)}-{len(enums)}")
    n_holes = max(1, round(n_rules * HOLE_SHARE))
    root: Box = tuple(Interval() for _ in numeric) + tuple(EnumCell(v, v) for _, v in enums)
    leaves = _partition(root, numeric, n_rules + n_holes, rng)
    rng.shuffle(leaves)
    holes, boxes = leaves[:n_holes], leaves[n_holes:]
    if policy == "FIRST":
        boxes = [_widen(b, holes, numeric, rng) if rng.random() < 0.5 else b for b in boxes]
    inputs = tuple(InputClause(n, ValueType.NUMBER) for n, _, _ in numeric) + tuple(
        InputClause(n, ValueType.STRING, allowed=v) for n, v in enums
    )
    rules = tuple(
        Rule(id=f"R{i + 1}", when=tuple(c.feel() for c in box), then=(f"区分{i + 1:04d}",),
             basis=f"第{i + 1}条")
        for i, box in enumerate(boxes)
    )
    table = DecisionTable(f"{policy.lower()}_{n_rules}x{len(inputs)}", HitPolicy(policy),
                          inputs, (OutputClause("判定", ValueType.STRING),), rules)
    return Case(policy, n_rules, len(inputs), table, boxes, holes, numeric, enums)


def _span(numeric: tuple[tuple[str, int, int], ...], d: int, cell: Interval) -> tuple[int, int]:
    _, lo, hi = numeric[d]
    return (lo if cell.lo is None else cell.lo) + 1, (hi if cell.hi is None else cell.hi) - 1


def _partition(root: Box, numeric: tuple[tuple[str, int, int], ...], n_leaves: int,
               rng: random.Random) -> list[Box]:
    leaves = [root]
    attempts = 0
    while len(leaves) < n_leaves:
        attempts += 1
        if attempts > 100 * n_leaves:
            raise ValueError(f"cannot split the input space into {n_leaves} boxes")
        k = rng.randrange(len(leaves))
        box = leaves[k]
        dims = []
        for d, cell in enumerate(box):
            if isinstance(cell, Interval):
                a, b = _span(numeric, d, cell)
                if a <= b:
                    dims.append(d)
            elif len(cell.values) >= 2:
                dims.append(d)
        if not dims:
            continue
        d = rng.choices(dims, [3 if isinstance(box[x], Interval) else 1 for x in dims])[0]
        cell = box[d]
        left: Cell
        right: Cell
        if isinstance(cell, Interval):
            a, b = _span(numeric, d, cell)
            v = rng.randint(a, b)
            closed = rng.random() < 0.5
            left = Interval(cell.lo, cell.lo_closed, v, closed)
            right = Interval(v, not closed, cell.hi, cell.hi_closed)
        else:
            values = list(cell.values)
            rng.shuffle(values)
            cut = rng.randint(1, len(values) - 1)
            order = {v: i for i, v in enumerate(cell.allowed)}
            left = EnumCell(tuple(sorted(values[:cut], key=order.__getitem__)), cell.allowed)
            right = EnumCell(tuple(sorted(values[cut:], key=order.__getitem__)), cell.allowed)
        leaves[k] = (*box[:d], left, *box[d + 1:])
        leaves.append((*box[:d], right, *box[d + 1:]))
    return leaves


def _widen(box: Box, holes: Sequence[Box], numeric: tuple[tuple[str, int, int], ...],
           rng: random.Random) -> Box:
    for _ in range(rng.randint(1, 2)):
        d = rng.randrange(len(box))
        cell = box[d]
        wider: Cell
        if isinstance(cell, Interval):
            _, lo_d, hi_d = numeric[d]
            step = max(1, (hi_d - lo_d) // 10)
            choice = rng.random()
            if choice < 0.25:
                wider = Interval(None, False, cell.hi, cell.hi_closed)
            elif choice < 0.5:
                wider = Interval(cell.lo, cell.lo_closed, None, False)
            else:
                lo = None if cell.lo is None else max(lo_d, cell.lo - rng.randint(1, step))
                hi = None if cell.hi is None else min(hi_d, cell.hi + rng.randint(1, step))
                if lo is not None and hi is not None and lo >= hi:
                    continue
                wider = Interval(lo, cell.lo_closed, hi, cell.hi_closed)
        elif rng.random() < 0.3:
            wider = EnumCell(cell.allowed, cell.allowed)
        else:
            extra = set(rng.sample(cell.allowed, rng.randint(1, 3)))
            wider = EnumCell(tuple(v for v in cell.allowed if v in extra or v in cell.values),
                             cell.allowed)
        candidate = (*box[:d], wider, *box[d + 1:])
        if not any(boxes_intersect(candidate, h) for h in holes):
            box = candidate
    return box


# --------------------------------------------------------------------------- checks


def _point_in(box: Box, case: Case, rng: random.Random) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for d, (name, cell) in enumerate(zip(case.names, box, strict=True)):
        if isinstance(cell, Interval):
            _, lo_d, hi_d = case.numeric[d]
            lo = lo_d - 5 if cell.lo is None else cell.lo + (0 if cell.lo_closed else 0.5)
            hi = hi_d + 5 if cell.hi is None else cell.hi - (0 if cell.hi_closed else 0.5)
            x = rng.choice([lo, hi, lo + 0.5 * rng.randint(0, int(2 * (hi - lo)))])
            facts[name] = Decimal(str(x))  # FEEL numbers are int or Decimal, never float
        else:
            facts[name] = rng.choice(cell.values)
    return facts


def check(case: Case, findings: Sequence[Finding], samples: int = 300) -> list[str]:
    """Disagreements between the findings and the generator's boxes (empty: all agree)."""
    problems = []
    kinds = Counter(f.kind for f in findings)
    if case.policy == "UNIQUE" and kinds[Kind.CONFLICT]:
        problems.append(f"{kinds[Kind.CONFLICT]} conflicts in a UNIQUE table built disjoint")
    types = {c.name: c.type for c in case.table.inputs}
    gaps = [
        [(name, compile_unary_tests(text, types[name])) for name, text in f.region.items()]
        for f in findings if f.kind is Kind.GAP
    ]

    def in_gap(facts: dict[str, Any]) -> bool:
        return any(all(t.matches(facts[name]) for name, t in gap) for gap in gaps)

    rng = random.Random(7)
    for hole in rng.sample(case.holes, min(len(case.holes), samples)):
        facts = _point_in(hole, case, rng)
        if not in_gap(facts):
            problems.append(f"a point of a hole is in no reported gap: {facts}")
            break
    for box in rng.sample(case.boxes, min(len(case.boxes), samples)):
        facts = _point_in(box, case, rng)
        if in_gap(facts):
            problems.append(f"a point of a rule is in a reported gap: {facts}")
            break
    return problems


# --------------------------------------------------------------------------- timing


def timed(fn: Callable[[], Any], runs: int) -> tuple[Any, list[float]]:
    times = []
    result = None
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return result, times


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable: int | None = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "cores_usable": usable,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
    }


def run_case(policy: str, n_rules: int, n_inputs: int, budget: float | None, runs: int,
             cold_runs: int, columns: bool) -> dict[str, Any]:
    case = make_case(policy, n_rules, n_inputs)
    table = case.table
    cold = []
    for _ in range(cold_runs):
        _compile_unary_tests.cache_clear()
        _, t = timed(lambda: verify_table(table), 1)
        cold += t
    findings, warm = timed(lambda: verify_table(table), runs)
    row: dict[str, Any] = {
        "policy": policy,
        "rules": n_rules,
        "inputs": n_inputs,
        "distinct_cells": len({(c, i.type) for r in table.rules
                               for c, i in zip(r.when, table.inputs, strict=True)}),
        "verify_ms_median": round(statistics.median(warm), 2),
        "verify_ms_min": round(min(warm), 2),
        "verify_runs": runs,
        "cold_ms_median": round(statistics.median(cold), 1) if cold else None,
        "cold_runs": cold_runs,
        "budget_ms": budget,
        "within_budget": None if budget is None else statistics.median(warm) <= budget,
        "holes": len(case.holes),
        "findings": dict(sorted(Counter(f"{f.kind.value}/{f.severity.value}"
                                        for f in findings).items())),
        "problems": check(case, findings),
    }
    if columns:
        result, t = timed(lambda: analyse_table(table, method="columns"), 1)
        row["columns_ms"] = round(t[0], 1)
        same = sorted((f.kind, f.rules, tuple(sorted(f.region.items())))
                      for f in result.findings if f.kind is not Kind.GAP)
        mine = sorted((f.kind, f.rules, tuple(sorted(f.region.items())))
                      for f in findings if f.kind is not Kind.GAP)
        row["columns_agree"] = same == mine
    return row


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--quick", action="store_true", help="tables of up to 1,000 rules")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per table (median)")
    parser.add_argument("--cold-runs", type=int, default=1,
                        help="runs with the compiled-cell cache cleared (0: skip)")
    parser.add_argument("--columns", action="store_true",
                        help="also time the column-sweep reference (slow beyond 100 rules)")
    args = parser.parse_args(argv)
    cases = QUICK if args.quick else CASES
    rows = []
    for policy, n, k, budget in cases:
        columns = args.columns and n <= 1000
        rows.append(run_case(policy, n, k, budget, args.runs, args.cold_runs, columns))
        if not args.json:
            print(f"  … {policy} {n}×{k} done", file=sys.stderr)
    results = {
        "benchmark": "kijun.criteria.verify",
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "results": rows,
    }
    failed = any(r["problems"] for r in rows) or any(r["within_budget"] is False for r in rows)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        print(render(results))
    return 1 if failed else 0


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"kijun.criteria.verify — {results['finished']}",
        f"{m['cpu']}, {m['cores']} cores ({m['cores_usable']} usable), {m['python']}, "
        f"{m['platform']}",
        "",
        f"{'table':<18}{'cells':>7}{'verify median':>15}{'min':>9}{'cold':>10}{'budget':>9}  "
        "findings",
    ]
    for r in results["results"]:
        budget = "" if r["budget_ms"] is None else f"{r['budget_ms']:.0f} " + (
            "ok" if r["within_budget"] else "OVER")
        cold = "" if r["cold_ms_median"] is None else f"{r['cold_ms_median']:.0f} ms"
        name = f"{r['policy']} {r['rules']}×{r['inputs']}"
        findings = ", ".join(f"{k} {v}" for k, v in r["findings"].items())
        lines.append(
            f"{name:<18}{r['distinct_cells']:>7}{r['verify_ms_median']:>12.1f} ms"
            f"{r['verify_ms_min']:>6.1f} ms{cold:>10}{budget:>9}  {findings} "
            f"(holes: {r['holes']})"
        )
        if "columns_ms" in r:
            lines.append(f"{'':<18}column sweep reference: {r['columns_ms']:.0f} ms, "
                         f"{'same' if r['columns_agree'] else 'DIFFERENT'} non-gap findings")
        for p in r["problems"]:
            lines.append(f"{'':<18}PROBLEM: {p}")
    lines += [
        "",
        "verify: verify_table with the cells compiled (as right after loading), median of "
        f"{results['results'][0]['verify_runs']} runs;",
        "cold: compiled-cell cache cleared first, so every distinct cell is parsed again.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
