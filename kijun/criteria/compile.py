"""Compile a decision table once into an index, so a decision intersects sets.

Each input column becomes a lookup from a value to the bitset (a Python int)
of the rules whose test accepts it:

- number and date columns: the sorted finite endpoints of every rule's region
  cut the line into 2n+1 elementary segments (open gaps and the points
  themselves); a bisect finds the segment, a list gives its bitset;
- string and boolean columns: a dict from value to bitset, with one bitset
  for every value no rule names;
- cells whose region cannot be computed exactly (general FEEL) are evaluated
  per decision and OR-ed in.

A decision is then one lookup per column and an AND of the bitsets.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from kijun.criteria.errors import FactError, FeelSyntaxError, FeelTypeError, ModelError
from kijun.criteria.facts import Coercer, coercer
from kijun.criteria.feel import UnaryTest, compile_unary_tests
from kijun.criteria.model import DecisionTable, HitPolicy, ValueType
from kijun.criteria.region import Region
from kijun.criteria.result import MatchedRule

_ORDERED = frozenset({ValueType.NUMBER, ValueType.DATE})


class _Column:
    """Value → bitset of the rules whose test on this column accepts it."""

    __slots__ = ("dynamic", "position")

    def __init__(self, position: int, dynamic: list[tuple[int, UnaryTest]]) -> None:
        self.position = position
        self.dynamic = dynamic

    def static(self, value: Any) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def lookup(self, value: Any) -> int:
        bits = self.static(value)
        for bit, test in self.dynamic:
            if test.matches(value):
                bits |= bit
        return bits


class _OrderedColumn(_Column):
    __slots__ = ("at_point", "gaps", "null_bits", "points", "segments")

    def __init__(
        self,
        position: int,
        cells: list[tuple[int, Region]],
        dynamic: list[tuple[int, UnaryTest]],
    ) -> None:
        super().__init__(position, dynamic)
        points = sorted({b for _, region in cells for b in region.boundaries()})
        n = len(points)
        where = {p: i for i, p in enumerate(points)}
        add = [0] * (2 * n + 2)
        remove = [0] * (2 * n + 2)
        null_bits = 0
        for bit, region in cells:
            if region.null:
                null_bits |= bit
            for iv in region.intervals:
                start = 0 if iv.lo is None else 2 * where[iv.lo] + (1 if iv.lo_closed else 2)
                end = 2 * n if iv.hi is None else 2 * where[iv.hi] + (1 if iv.hi_closed else 0)
                if start <= end:
                    add[start] |= bit
                    remove[end + 1] |= bit
        segments = []
        live = 0
        for i in range(2 * n + 1):
            # remove before add: a rule whose intervals touch stays live
            live = (live & ~remove[i]) | add[i]
            segments.append(live)
        # whole numbers as int: bisecting ints is several times faster than Decimals
        self.points = [_plain_number(p) for p in points]
        self.segments = segments
        self.gaps = segments[0::2]  # the open segment before each point, and after the last
        self.at_point = {p: segments[2 * i + 1] for i, p in enumerate(self.points)}
        self.null_bits = null_bits

    def static(self, value: Any) -> int:
        if value is None:
            return self.null_bits
        bits = self.at_point.get(value)
        if bits is None:
            return self.gaps[bisect_left(self.points, value)]
        return bits


def _plain_number(value: Any) -> Any:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


class _DiscreteColumn(_Column):
    __slots__ = ("by_value", "null_bits", "others")

    def __init__(
        self,
        position: int,
        cells: list[tuple[int, Region]],
        dynamic: list[tuple[int, UnaryTest]],
    ) -> None:
        super().__init__(position, dynamic)
        named: dict[Any, int] = {}
        excluded: dict[Any, int] = {}
        others = 0
        null_bits = 0
        for bit, region in cells:
            if region.null:
                null_bits |= bit
            if region.complement:
                others |= bit
                for v in region.values:
                    excluded[v] = excluded.get(v, 0) | bit
            else:
                for v in region.values:
                    named[v] = named.get(v, 0) | bit
        by_value = {
            v: named.get(v, 0) | (others & ~excluded.get(v, 0))
            for v in set(named) | set(excluded)
        }
        self.by_value = by_value
        self.others = others
        self.null_bits = null_bits

    def static(self, value: Any) -> int:
        if value is None:
            return self.null_bits
        return self.by_value.get(value, self.others)


class _DynamicColumn(_Column):
    """A column analysed cell by cell (e.g. string comparisons like `< "m"`)."""

    __slots__ = ("always",)

    def __init__(self, position: int, always: int, dynamic: list[tuple[int, UnaryTest]]) -> None:
        super().__init__(position, dynamic)
        self.always = always

    def static(self, value: Any) -> int:
        return self.always


@dataclass(frozen=True, slots=True)
class CompiledTable:
    """A decision table ready to evaluate many times."""

    table: DecisionTable
    tests: tuple[tuple[UnaryTest, ...], ...]  # [rule][input]
    coercers: tuple[Coercer, ...]
    columns: tuple[_Column, ...]  # only columns where some rule is not `-`
    all_rules: int
    outputs: tuple[tuple[Any, ...], ...]  # [rule] output values
    output_names: tuple[str, ...]
    output_maps: tuple[dict[str, Any], ...]  # [rule] {output: value}; copy before handing out
    priority: tuple[tuple[int, ...], ...] | None  # [rule] priority key, lower wins
    matched_rules: tuple[MatchedRule, ...]  # [rule], shared by every result
    #: (input position, value → bitset); the static lookup when no cell is dynamic
    probes: tuple[tuple[int, Callable[[Any], int]], ...]
    #: (fact name, coercer) per input, in input order
    readers: tuple[tuple[str, Coercer], ...]

    def match(self, values: Sequence[Any]) -> int:
        """The bitset of rules whose every input test accepts `values`."""
        m = self.all_rules
        for position, probe in self.probes:
            m &= probe(values[position])
            if not m:
                return 0
        return m

    def column_bits(self, values: Sequence[Any]) -> list[int]:
        """Per input, the rules that accept its value (to explain a miss)."""
        bits = [self.all_rules] * len(self.table.inputs)
        for col in self.columns:
            bits[col.position] = col.lookup(values[col.position])
        return bits

    def naive_match(self, values: Sequence[Any]) -> int:
        """Rule-by-rule evaluation: the reference the index must agree with."""
        m = 0
        for i, row in enumerate(self.tests):
            if all(t.matches(v) for t, v in zip(row, values, strict=True)):
                m |= 1 << i
        return m


def compile_table(table: DecisionTable) -> CompiledTable:
    """Parse every cell once and build the per-column index."""
    tests = tuple(
        tuple(_compile_cell(table, r, j) for j in range(len(table.inputs)))
        for r in range(len(table.rules))
    )
    all_rules = (1 << len(table.rules)) - 1
    columns: list[_Column] = []
    for j, clause in enumerate(table.inputs):
        cells: list[tuple[int, Region]] = []
        dynamic: list[tuple[int, UnaryTest]] = []
        if all(tests[r][j].is_any for r in range(len(table.rules))):
            continue
        for r in range(len(table.rules)):
            test = tests[r][j]
            bit = 1 << r
            if test.region is None:
                dynamic.append((bit, test))
            else:
                cells.append((bit, test.region))
        if not cells:
            columns.append(_DynamicColumn(j, 0, dynamic))
        elif clause.type in _ORDERED:
            columns.append(_OrderedColumn(j, cells, dynamic))
        else:
            columns.append(_DiscreteColumn(j, cells, dynamic))
    outputs = _typed_outputs(table)
    coercers = tuple(coercer(i) for i in table.inputs)
    return CompiledTable(
        table=table,
        tests=tests,
        coercers=coercers,
        readers=tuple((i.name, c) for i, c in zip(table.inputs, coercers, strict=True)),
        columns=tuple(columns),
        probes=tuple((c.position, c.lookup if c.dynamic else c.static) for c in columns),
        output_names=tuple(o.name for o in table.outputs),
        output_maps=tuple(
            dict(zip((o.name for o in table.outputs), row, strict=True)) for row in outputs
        ),
        matched_rules=tuple(
            MatchedRule(table.name, r.id, i + 1, r.basis, r.annotation)
            for i, r in enumerate(table.rules)
        ),
        all_rules=all_rules,
        outputs=outputs,
        priority=_priorities(table, outputs),
    )


# Compiled tests are immutable and cells repeat (`-`, the same enumerations, the
# same table rebuilt from storage), so they are shared across tables.
_compile_unary_tests = lru_cache(maxsize=16384)(compile_unary_tests)


def _compile_cell(table: DecisionTable, r: int, j: int) -> UnaryTest:
    rule = table.rules[r]
    clause = table.inputs[j]
    try:
        return _compile_unary_tests(rule.when[j], clause.type)
    except (FeelSyntaxError, FeelTypeError) as e:
        raise ModelError(
            f"decision {table.name!r} rule {rule.id} input {clause.name!r}: "
            f"invalid test {rule.when[j]!r}: {e}",
            field=f"rules[{r}].when.{clause.name}",
        ) from e


def _priorities(
    table: DecisionTable, outputs: tuple[tuple[Any, ...], ...]
) -> tuple[tuple[int, ...], ...] | None:
    if table.hit_policy not in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER):
        return None
    keys = []
    for rule, values in zip(table.rules, outputs, strict=True):
        key = []
        for clause, value in zip(table.outputs, values, strict=True):
            if clause.allowed is None:
                continue
            try:
                key.append(clause.allowed.index(value))
            except ValueError:
                raise ModelError(
                    f"decision {table.name!r} rule {rule.id}: output {clause.name!r} is not one "
                    "of its allowed values, so its priority is unknown",
                    field=f"rules[{rule.id}].then.{clause.name}",
                ) from None
        keys.append(tuple(key))
    return tuple(keys)


def _typed_outputs(table: DecisionTable) -> tuple[tuple[Any, ...], ...]:
    out_coercers = [coercer(o) for o in table.outputs]
    typed = []
    for r, rule in enumerate(table.rules):
        row = []
        for clause, c, value in zip(table.outputs, out_coercers, rule.then, strict=True):
            try:
                row.append(c(value))
            except FactError as e:
                raise ModelError(
                    f"decision {table.name!r} rule {rule.id} output {clause.name!r}: {e.reason}"
                    + (f" (expected {e.expected})" if e.expected else ""),
                    field=f"rules[{r}].then.{clause.name}",
                ) from e
        typed.append(tuple(row))
    return tuple(typed)
