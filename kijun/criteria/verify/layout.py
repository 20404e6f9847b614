"""Lay a table out for the sweep: atoms per column, a bit per analysed rule, a column order.

Only analysed rules — every cell with an exact region — get a bit. Bits are
numbered in the order the hit policy tries the rules: table order, except
under PRIORITY, where higher priority comes first (ties in table order) and
rules whose outputs have no priority come last.

Columns are swept with the most finely cut first: they split the live set
soonest, and a live set of one rule costs one step per remaining column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kijun.criteria.model import DecisionTable, HitPolicy
from kijun.criteria.region import Region
from kijun.criteria.verify import runs as rs
from kijun.criteria.verify.atoms import Column, make_column
from kijun.criteria.verify.cells import TableCells
from kijun.criteria.verify.runs import Runs, mask_of
from kijun.criteria.verify.sweep import SweepColumn


@dataclass(frozen=True, slots=True)
class Layout:
    table: DecisionTable
    cells: TableCells
    columns: tuple[Column, ...]  #: per input
    order: tuple[int, ...]  #: bit → rule index
    runs: Mapping[int, tuple[Runs, ...]]  #: rule index → atom runs per input
    masks: Mapping[int, tuple[int, ...]]  #: rule index → atom bitmask per input
    swept: tuple[int, ...]  #: inputs some analysed rule restricts, most atoms first
    live: int  #: every analysed rule
    no_priority: frozenset[int]  #: PRIORITY rules whose outputs have no priority
    empty_domain: bool  #: an input can take no value at all

    def catch_all(self, rule: int) -> bool:
        """Whether an analysed rule holds for every input (an "otherwise" rule)."""
        row = self.runs[rule]
        return all(rs.is_full(row[j], self.columns[j].size) for j in self.swept)

    def sweep_columns(self) -> list[SweepColumn]:
        """The swept columns as the column sweep (`sweep`) reads them."""
        out = []
        for j in self.swept:
            size = self.columns[j].size
            always = 0
            toggles: dict[int, tuple[int, ...]] = {}
            for b, r in enumerate(self.order):
                cell = self.runs[r][j]
                if rs.is_full(cell, size):
                    always |= 1 << b
                else:
                    toggles[b] = rs.toggles(cell)
            out.append(SweepColumn(size, always, toggles))
        return out


def priority_key(table: DecisionTable, values: Sequence[Any]) -> tuple[int, ...] | None:
    """Lower wins; None when an output value is not among its allowed values."""
    key = []
    for clause, value in zip(table.outputs, values, strict=False):
        if clause.allowed is None:
            continue
        try:
            key.append(clause.allowed.index(value))
        except ValueError:
            return None
    return tuple(key)


def lay_out(
    table: DecisionTable, cells: TableCells, domains: Mapping[str, Sequence[Any]]
) -> Layout:
    n_inputs = len(table.inputs)
    analysed = [r for r in range(len(table.rules)) if cells.analysed(r)]
    no_priority: set[int] = set()
    if table.hit_policy is HitPolicy.PRIORITY:
        keys = {r: priority_key(table, table.rules[r].then) for r in analysed}
        no_priority = {r for r, k in keys.items() if k is None}
        order = sorted(analysed, key=lambda r: (keys[r] is None, keys[r] or (), r))
    else:
        order = analysed
    # cells repeat (`-`, the same intervals and value lists) and compiled cells are
    # shared, so each distinct region object is cut into atoms once
    grid: list[list[Region]] = []
    for r in analysed:
        regions: list[Region] = []
        for cell in cells.cells[r]:
            region = getattr(cell, "region", None)
            assert region is not None
            regions.append(region)
        grid.append(regions)
    columns: list[Column] = []
    seen: list[dict[int, Runs]] = []
    for j, clause in enumerate(table.inputs):
        distinct = {id(row[j]): row[j] for row in grid}
        column = make_column(j, clause, list(distinct.values()), domains.get(clause.name))
        columns.append(column)
        seen.append({key: column.runs(region) for key, region in distinct.items()})
    runs: dict[int, tuple[Runs, ...]] = {
        r: tuple(seen[j][id(region)] for j, region in enumerate(row))
        for r, row in zip(analysed, grid, strict=True)
    }
    live = (1 << len(order)) - 1
    full_runs = [((0, c.size - 1),) for c in columns]
    swept = [
        j
        for j in range(n_inputs)
        if columns[j].size and any(runs[r][j] != full_runs[j] for r in analysed)
    ]
    swept.sort(key=lambda j: -columns[j].size)
    mask_cache: dict[Runs, int] = {}
    for cut in runs.values():
        for x in cut:
            if x not in mask_cache:
                mask_cache[x] = mask_of(x)
    masks = {r: tuple(mask_cache[x] for x in cut) for r, cut in runs.items()}
    return Layout(
        table=table,
        cells=cells,
        columns=tuple(columns),
        order=tuple(order),
        runs=runs,
        masks=masks,
        swept=tuple(swept),
        live=live,
        no_priority=frozenset(no_priority),
        empty_domain=any(c.size == 0 for c in columns),
    )
