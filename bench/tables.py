"""Deterministic decision tables and fact samples for the benchmarks.

Every table has the same shape: five inputs (three numbers, two enumerations
with allowed values) and one string output, like a town-hall eligibility table:

    年齢 (age), 所得 (income, 万円), 居住年数 (years of residence)   number
    世帯区分 (household type, 6 values), 地区 (district, 7 values)   string
    判定 (outcome)                                                  string

Rules are boxes in that five-dimensional space. They come from a random
decision tree (`_partition`): splitting a box along one input until there are
enough leaves gives boxes that are pairwise disjoint and together cover the
space. A few leaves are dropped ("holes") so that some facts match no rule.

- UNIQUE tables are the remaining leaves, shuffled: disjoint by construction,
  so no fact can match two rules.
- FIRST tables start from the same leaves, then about half of the rules are
  widened along one or two inputs (an interval stretched or made open-ended,
  an enumeration cell given more values or `-`), so rules overlap and the
  order of the rules decides; a widening that would touch a hole is refused,
  so the holes stay misses.

Numeric cells come out as `-`, `< v`, `<= v`, `> v`, `>= v`, `[a..b)`,
`[a..b]`, `(a..b)` or `(a..b]`; string cells as `-`, `"単身"` or
`"単身","夫婦"`. Split points are integers; facts are integers and some
half-integers, often on a boundary, so open and closed ends are exercised.

Each rule's outcome is unique to the rule (`区分0001` …), so equal outputs
mean the same rule decided. Two independent references give the expected
outcome of a fact: the boxes (`GeneratedTable.expected`, and the numpy form
`expected_frame` for a million rows) and `naive_decide`, which re-reads the
rules' FEEL text and tries them one by one.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kijun.criteria.model import (
    Criterion,
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
    ValueType,
    Version,
    validate_criterion,
)

SEED = 20250401
EFFECTIVE_FROM = dt.date(2024, 4, 1)
DECIDE_ON = dt.date(2025, 4, 1)

#: numeric inputs: (name, lowest, highest) of the values facts take (inclusive)
NUMERIC_INPUTS: tuple[tuple[str, int, int], ...] = (
    ("年齢", 0, 100),
    ("所得", 0, 1200),
    ("居住年数", 0, 60),
)
#: enumerations: (name, allowed values)
ENUM_INPUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("世帯区分", ("単身", "夫婦", "夫婦と子", "ひとり親", "三世代", "高齢者のみ")),
    ("地区", ("北部", "南部", "東部", "西部", "中央", "山麓", "高原")),
)
INPUT_NAMES: tuple[str, ...] = tuple(n for n, _, _ in NUMERIC_INPUTS) + tuple(
    n for n, _ in ENUM_INPUTS
)
OUTPUT_NAME = "判定"

#: share of tree leaves dropped to make holes (facts there match no rule)
HOLE_SHARE = 0.05
#: every MISS_EVERY-th sample is drawn from a hole
MISS_EVERY = 10


# --------------------------------------------------------------------------- cells


@dataclass(frozen=True, slots=True)
class Interval:
    """A numeric cell: lo/hi None means unbounded on that side."""

    lo: int | None = None
    lo_closed: bool = False
    hi: int | None = None
    hi_closed: bool = False

    def contains(self, x: float) -> bool:
        if self.lo is not None and (x < self.lo or (x == self.lo and not self.lo_closed)):
            return False
        return not (
            self.hi is not None and (x > self.hi or (x == self.hi and not self.hi_closed))
        )

    def intersects(self, other: Interval) -> bool:
        lo, lo_closed = _max_lower(self, other)
        hi, hi_closed = _min_upper(self, other)
        if lo is None or hi is None:
            return True
        return lo < hi or (lo == hi and lo_closed and hi_closed)

    def feel(self) -> str:
        """The cell as a FEEL unary test."""
        if self.lo is None and self.hi is None:
            return "-"
        if self.lo is None:
            return f"{'<=' if self.hi_closed else '<'} {self.hi}"
        if self.hi is None:
            return f"{'>=' if self.lo_closed else '>'} {self.lo}"
        return (
            f"{'[' if self.lo_closed else '('}{self.lo}..{self.hi}{']' if self.hi_closed else ')'}"
        )

    def python(self) -> str:
        """The cell as a SpiffWorkflow input entry (Python; `?` is the input value)."""
        if self.lo is None and self.hi is None:
            return "-"
        if self.lo is None:
            return f"{'<=' if self.hi_closed else '<'} {self.hi}"
        if self.hi is None:
            return f"{'>=' if self.lo_closed else '>'} {self.lo}"
        return (
            f"{self.lo} {'<=' if self.lo_closed else '<'} ? "
            f"{'<=' if self.hi_closed else '<'} {self.hi}"
        )


def _max_lower(a: Interval, b: Interval) -> tuple[int | None, bool]:
    if a.lo is None:
        return b.lo, b.lo_closed
    if b.lo is None:
        return a.lo, a.lo_closed
    if a.lo != b.lo:
        return (a.lo, a.lo_closed) if a.lo > b.lo else (b.lo, b.lo_closed)
    return a.lo, a.lo_closed and b.lo_closed


def _min_upper(a: Interval, b: Interval) -> tuple[int | None, bool]:
    if a.hi is None:
        return b.hi, b.hi_closed
    if b.hi is None:
        return a.hi, a.hi_closed
    if a.hi != b.hi:
        return (a.hi, a.hi_closed) if a.hi < b.hi else (b.hi, b.hi_closed)
    return a.hi, a.hi_closed and b.hi_closed


@dataclass(frozen=True, slots=True)
class EnumCell:
    """A string cell: the accepted values, in allowed-list order."""

    values: tuple[str, ...]
    allowed: tuple[str, ...]

    @property
    def any(self) -> bool:
        return len(self.values) == len(self.allowed)

    def contains(self, x: Any) -> bool:
        return x in self.values

    def intersects(self, other: EnumCell) -> bool:
        return not set(self.values).isdisjoint(other.values)

    def feel(self) -> str:
        if self.any:
            return "-"
        return ",".join(f'"{v}"' for v in self.values)

    def python(self) -> str:
        if self.any:
            return "-"
        if len(self.values) == 1:
            return f'"{self.values[0]}"'
        return "? in (" + ", ".join(f'"{v}"' for v in self.values) + ")"


Cell = Interval | EnumCell
Box = tuple[Cell, ...]


def box_contains(box: Box, facts: Mapping[str, Any]) -> bool:
    return all(cell.contains(facts[name]) for name, cell in zip(INPUT_NAMES, box, strict=True))


def boxes_intersect(a: Box, b: Box) -> bool:
    return all(x.intersects(y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- tables


@dataclass(slots=True)
class GeneratedTable:
    """A generated table, the boxes it was made from, and its fact samples."""

    policy: HitPolicy
    n_rules: int
    seed: int
    table: DecisionTable
    criterion: Criterion
    boxes: list[Box]
    outcomes: list[str]
    holes: list[Box]
    samples: list[dict[str, Any]] = field(default_factory=list)
    #: expected outcome of each sample (None: no rule matches, an exception)
    expected_outputs: list[str | None] = field(default_factory=list)
    #: how many rules hold each sample (more than one only under FIRST)
    sample_hits: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.policy.value} {self.n_rules}"

    def matching(self, facts: Mapping[str, Any]) -> list[int]:
        """Indexes of every rule whose box holds the fact."""
        return [i for i, box in enumerate(self.boxes) if box_contains(box, facts)]

    def expected(self, facts: Mapping[str, Any]) -> str | None:
        hits = self.matching(facts)
        if not hits:
            return None
        if self.policy is HitPolicy.UNIQUE and len(hits) > 1:
            raise AssertionError(f"UNIQUE table {self.name}: rules {hits} overlap")
        return self.outcomes[hits[0]]

    def sample_facts(self, n: int, seed: int | None = None) -> list[dict[str, Any]]:
        """n facts; every MISS_EVERY-th one falls in a hole, the rest in a rule's box."""
        rng = random.Random(self.seed + 1 if seed is None else seed)
        facts: list[dict[str, Any]] = []
        for i in range(n):
            if self.holes and i % MISS_EVERY == MISS_EVERY - 1:
                box = rng.choice(self.holes)
            else:
                box = self.boxes[rng.randrange(len(self.boxes))]
            facts.append(_sample_in_box(box, rng))
        return facts


def generate(policy: HitPolicy | str, n_rules: int, *, n_samples: int = 1000,
             seed: int = SEED) -> GeneratedTable:
    """A table of `n_rules` rules under `policy` (FIRST or UNIQUE) and `n_samples` facts."""
    policy = HitPolicy(policy)
    if policy not in (HitPolicy.FIRST, HitPolicy.UNIQUE):
        raise ValueError(f"only FIRST and UNIQUE tables are generated, not {policy}")
    rng = random.Random(f"{seed}-{policy.value}-{n_rules}")
    n_holes = max(1, round(n_rules * HOLE_SHARE))
    leaves = _partition(n_rules + n_holes, rng)
    rng.shuffle(leaves)
    holes, boxes = leaves[:n_holes], leaves[n_holes:]
    if policy is HitPolicy.FIRST:
        boxes = [_widen(box, holes, rng) if rng.random() < 0.5 else box for box in boxes]
    outcomes = [f"区分{i + 1:04d}" for i in range(n_rules)]
    table = _kijun_table(policy, n_rules, boxes, outcomes)
    criterion = Criterion(
        id=f"bench-{policy.value.lower()}-{n_rules}",
        name=f"ベンチマーク {policy.value} {n_rules}規則",
        department="DX推進担当",
        basis="ベンチマーク用の生成表",
        versions=(Version(number=1, effective_from=EFFECTIVE_FROM, decisions=(table,)),),
    )
    validate_criterion(criterion)
    gen = GeneratedTable(policy, n_rules, seed, table, criterion, boxes, outcomes, holes)
    gen.samples = gen.sample_facts(n_samples)
    deciding, hits = frame_matches(gen, facts_columns(gen.samples))
    if policy is HitPolicy.UNIQUE and (hits > 1).any():
        raise AssertionError(f"UNIQUE table {gen.name}: samples hit two rules")
    gen.expected_outputs = [outcomes[i] if i >= 0 else None for i in deciding.tolist()]
    gen.sample_hits = hits.tolist()
    return gen


def _kijun_table(policy: HitPolicy, n_rules: int, boxes: Sequence[Box],
                 outcomes: Sequence[str]) -> DecisionTable:
    inputs = tuple(InputClause(name, ValueType.NUMBER) for name, _, _ in NUMERIC_INPUTS) + tuple(
        InputClause(name, ValueType.STRING, allowed=values) for name, values in ENUM_INPUTS
    )
    rules = tuple(
        Rule(
            id=f"R{i + 1}",
            when=tuple(cell.feel() for cell in box),
            then=(outcome,),
            basis=f"第{i + 1}条",
        )
        for i, (box, outcome) in enumerate(zip(boxes, outcomes, strict=True))
    )
    return DecisionTable(
        name=f"{policy.value.lower()}_{n_rules}",
        hit_policy=policy,
        inputs=inputs,
        outputs=(OutputClause(OUTPUT_NAME, ValueType.STRING),),
        rules=rules,
    )


def _root_box() -> Box:
    return tuple(Interval() for _ in NUMERIC_INPUTS) + tuple(
        EnumCell(values, values) for _, values in ENUM_INPUTS
    )


def _numeric_span(i: int, cell: Interval) -> tuple[int, int]:
    """Integer split points v with lo < v < hi keep a fact on both sides."""
    _, dom_lo, dom_hi = NUMERIC_INPUTS[i]
    lo = dom_lo if cell.lo is None else cell.lo
    hi = dom_hi if cell.hi is None else cell.hi
    return lo + 1, hi - 1


def _splittable(box: Box) -> list[int]:
    dims = []
    for d, cell in enumerate(box):
        if isinstance(cell, Interval):
            a, b = _numeric_span(d, cell)
            if a <= b:
                dims.append(d)
        elif len(cell.values) >= 2:
            dims.append(d)
    return dims


def _partition(n_leaves: int, rng: random.Random) -> list[Box]:
    """A random decision tree's leaves: disjoint boxes covering the input space."""
    leaves: list[Box] = [_root_box()]
    attempts = 0
    while len(leaves) < n_leaves:
        attempts += 1
        if attempts > 100 * n_leaves:
            raise ValueError(f"cannot split the input space into {n_leaves} boxes")
        k = rng.randrange(len(leaves))
        box = leaves[k]
        dims = _splittable(box)
        if not dims:
            continue
        # numbers three times as often as enumerations: more interval cells
        weights = [3 if isinstance(box[d], Interval) else 1 for d in dims]
        d = rng.choices(dims, weights)[0]
        cell = box[d]
        if isinstance(cell, Interval):
            a, b = _numeric_span(d, cell)
            v = rng.randint(a, b)
            left_closed = rng.random() < 0.5  # left `<= v` / right `> v`, or `< v` / `>= v`
            left: Cell = Interval(cell.lo, cell.lo_closed, v, left_closed)
            right: Cell = Interval(v, not left_closed, cell.hi, cell.hi_closed)
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


def _widen(box: Box, holes: Sequence[Box], rng: random.Random) -> Box:
    """Stretch one or two cells of a FIRST rule so it overlaps others, never a hole."""
    for _ in range(rng.randint(1, 2)):
        d = rng.randrange(len(box))
        cell = box[d]
        wider: Cell
        if isinstance(cell, Interval):
            _, dom_lo, dom_hi = NUMERIC_INPUTS[d]
            step = max(1, (dom_hi - dom_lo) // 10)
            choice = rng.random()
            if choice < 0.25:
                wider = Interval(None, False, cell.hi, cell.hi_closed)
            elif choice < 0.5:
                wider = Interval(cell.lo, cell.lo_closed, None, False)
            else:
                lo = None if cell.lo is None else max(dom_lo, cell.lo - rng.randint(1, step))
                hi = None if cell.hi is None else min(dom_hi, cell.hi + rng.randint(1, step))
                if lo is not None and hi is not None and lo >= hi:
                    continue
                wider = Interval(lo, cell.lo_closed, hi, cell.hi_closed)
        else:
            if rng.random() < 0.3:
                wider = EnumCell(cell.allowed, cell.allowed)
            else:
                extra = set(rng.sample(cell.allowed, rng.randint(1, 3)))
                wider = EnumCell(tuple(v for v in cell.allowed if v in extra or v in cell.values),
                                 cell.allowed)
        candidate = (*box[:d], wider, *box[d + 1:])
        if not any(boxes_intersect(candidate, hole) for hole in holes):
            box = candidate
    return box


# --------------------------------------------------------------------------- samples


def _grid(i: int, cell: Interval) -> tuple[float, float]:
    """The first and last half-integer point of the cell inside the input's domain."""
    _, dom_lo, dom_hi = NUMERIC_INPUTS[i]
    first = float(dom_lo) if cell.lo is None else cell.lo + (0.0 if cell.lo_closed else 0.5)
    last = float(dom_hi) if cell.hi is None else cell.hi - (0.0 if cell.hi_closed else 0.5)
    return max(first, float(dom_lo)), min(last, float(dom_hi))


def _sample_number(i: int, cell: Interval, rng: random.Random) -> int | float:
    first, last = _grid(i, cell)
    if first > last:  # cannot happen for boxes made by _partition
        raise AssertionError(f"empty cell {cell.feel()} for {NUMERIC_INPUTS[i][0]}")
    r = rng.random()
    if r < 0.35:  # a boundary: exercises open and closed ends
        x = first if rng.random() < 0.5 else last
    elif r < 0.9 and math.ceil(first) <= math.floor(last):  # mostly whole numbers
        x = float(rng.randint(math.ceil(first), math.floor(last)))
    else:
        x = first + 0.5 * rng.randint(0, round((last - first) * 2))
    return int(x) if x == int(x) else x


def _sample_in_box(box: Box, rng: random.Random) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for d, (name, cell) in enumerate(zip(INPUT_NAMES, box, strict=True)):
        if isinstance(cell, Interval):
            facts[name] = _sample_number(d, cell, rng)
        else:
            facts[name] = rng.choice(cell.values)
    return facts


def random_frame_columns(n: int, seed: int = SEED) -> dict[str, Any]:
    """n facts drawn uniformly over the domain, as numpy columns (for the 1M-row run)."""
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for name, lo, hi in NUMERIC_INPUTS:
        whole = rng.integers(lo, hi + 1, size=n).astype(np.float64)
        half = rng.random(n) < 0.15
        whole[half & (whole < hi)] += 0.5
        columns[name] = whole
    for name, values in ENUM_INPUTS:
        columns[name] = np.asarray(values, dtype=object)[rng.integers(0, len(values), size=n)]
    return columns


def facts_columns(facts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Facts as numpy columns (numbers as float64, strings as objects)."""
    numeric = {name for name, _, _ in NUMERIC_INPUTS}
    return {name: np.asarray([f[name] for f in facts],
                             dtype=np.float64 if name in numeric else object)
            for name in INPUT_NAMES}


def frame_matches(gen: GeneratedTable, columns: Mapping[str, Any]) -> tuple[Any, Any]:
    """Per row: index of the first rule whose box holds it (-1: none), and how many do."""
    n = len(next(iter(columns.values())))
    codes = {}
    for name, values in ENUM_INPUTS:
        lookup = {v: k for k, v in enumerate(values)}
        codes[name] = np.fromiter((lookup[v] for v in columns[name]), dtype=np.int8, count=n)
    deciding = np.full(n, -1, dtype=np.int64)
    hits = np.zeros(n, dtype=np.int16)
    for r in range(len(gen.boxes) - 1, -1, -1):  # last to first: the first match wins
        mask = np.ones(n, dtype=bool)
        for name, cell in zip(INPUT_NAMES, gen.boxes[r], strict=True):
            if isinstance(cell, Interval):
                x = columns[name]
                if cell.lo is not None:
                    mask &= (x >= cell.lo) if cell.lo_closed else (x > cell.lo)
                if cell.hi is not None:
                    mask &= (x <= cell.hi) if cell.hi_closed else (x < cell.hi)
            elif not cell.any:
                allowed = dict(ENUM_INPUTS)[name]
                wanted = np.zeros(len(allowed), dtype=bool)
                wanted[[allowed.index(v) for v in cell.values]] = True
                mask &= wanted[codes[name]]
        deciding[mask] = r
        hits += mask
    return deciding, hits


def expected_frame(gen: GeneratedTable, columns: Mapping[str, Any]) -> Any:
    """Index of the deciding rule for every row (-1: no rule), evaluated with numpy.

    Raises AssertionError if a row of a UNIQUE table lies in two rules.
    """
    deciding, hits = frame_matches(gen, columns)
    if gen.policy is HitPolicy.UNIQUE and (hits > 1).any():
        raise AssertionError(f"UNIQUE table {gen.name}: {(hits > 1).sum()} rows hit two rules")
    return deciding


# --------------------------------------------------------------------------- naive oracle

_CMP = re.compile(r"^(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)$")
_RANGE = re.compile(r"^([\[(\]])\s*(-?\d+(?:\.\d+)?)\s*\.\.\s*(-?\d+(?:\.\d+)?)\s*([\])\[])$")
_STRINGS = re.compile(r'^"[^"]*"(\s*,\s*"[^"]*")*$')


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@functools.cache
def _predicate(test: str) -> Callable[[Any], bool]:
    """Parse one cell of the FEEL subset the generator writes (once per distinct text)."""
    test = test.strip()
    if test == "-":
        return lambda value: True
    if m := _CMP.match(test):
        op, bound = m.group(1), float(m.group(2))
        compare = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]
        return lambda value: _is_number(value) and compare(value, bound)
    if m := _RANGE.match(test):
        lo, hi = float(m.group(2)), float(m.group(3))
        above = operator.ge if m.group(1) == "[" else operator.gt
        below = operator.le if m.group(4) == "]" else operator.lt
        return lambda value: _is_number(value) and above(value, lo) and below(value, hi)
    if _STRINGS.match(test):
        accepted = frozenset(re.findall(r'"([^"]*)"', test))
        return lambda value: value in accepted
    raise ValueError(f"naive_test does not read {test!r}")


def naive_test(test: str, value: Any) -> bool:
    """Evaluate one FEEL unary test of the generated kinds, without kijun."""
    return _predicate(test)(value)


def naive_decide(table: DecisionTable, facts: Mapping[str, Any]) -> tuple[list[str], str | None]:
    """Try every rule in order; returns (ids of all matching rules, the deciding outcome)."""
    matched = [
        rule for rule in table.rules
        if all(naive_test(t, facts.get(c.name)) for t, c in zip(rule.when, table.inputs,
                                                                   strict=True))
    ]
    if not matched:
        return [], None
    if table.hit_policy is HitPolicy.UNIQUE and len(matched) > 1:
        raise AssertionError(f"UNIQUE table {table.name}: rules {[r.id for r in matched]} overlap")
    return [r.id for r in matched], matched[0].then[0]


def grid_columns(per_axis: int = 6) -> dict[str, Any]:
    """A grid over the whole domain (`per_axis` points per number, every enumeration
    value, half-integers included), as numpy columns for brute-force checks."""
    import numpy as np

    axes: list[Any] = []
    for _, lo, hi in NUMERIC_INPUTS:
        axis = np.unique(np.round(np.linspace(lo, hi, per_axis) * 2) / 2)
        axes.append(np.concatenate([axis, np.clip(axis + 0.5, lo, hi)]))
    for _, values in ENUM_INPUTS:
        axes.append(np.asarray(values, dtype=object))
    mesh = np.meshgrid(*axes, indexing="ij")
    return {name: m.ravel() for name, m in zip(INPUT_NAMES, mesh, strict=True)}
