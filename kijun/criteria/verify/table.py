"""Verify one decision table: single-rule checks, then the coverage sweep."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from kijun.criteria.model import DecisionTable, HitPolicy
from kijun.criteria.verify.atoms import OrderedColumn
from kijun.criteria.verify.cells import compile_cells
from kijun.criteria.verify.checks import Checker
from kijun.criteria.verify.findings import Finding, TableResult
from kijun.criteria.verify.gaps import gap_findings
from kijun.criteria.verify.layout import Layout, lay_out
from kijun.criteria.verify.overlaps import overlap_findings
from kijun.criteria.verify.relations import Relations, relate
from kijun.criteria.verify.split import partition
from kijun.criteria.verify.sweep import GapBox, sweep

Method = Literal["split", "columns"]


def analyse_table(
    table: DecisionTable,
    *,
    decision: str | None = None,
    domains: Mapping[str, Sequence[Any]] | None = None,
    method: Method = "split",
) -> TableResult:
    """Every finding for `table`, with the counts a Report needs.

    `domains`: for inputs without allowed values, the finite set of values
    they can take (e.g. the outputs of the decision that provides them).
    """
    name = decision if decision is not None else table.name
    cells = compile_cells(table)
    checker = Checker(table, cells, name)
    findings: list[Finding] = []
    findings += checker.cell_findings()
    findings += checker.output_findings()
    findings += checker.basis_findings()
    findings += checker.unused_inputs()
    general, not_analysed = checker.not_analysed()
    findings += general
    layout = lay_out(table, cells, domains or {})
    if not layout.empty_domain:
        gaps, relations = cover(layout, method)
        findings += gap_findings(layout, gaps, name)
        findings += overlap_findings(layout, relations, name)
    findings.sort(key=Finding.sort_key)
    return TableResult(
        decision=name,
        findings=tuple(findings),
        rules=len(table.rules),
        analysed_rules=len(layout.order),
        not_analysed=tuple(not_analysed),
    )


def cover(layout: Layout, method: Method = "split") -> tuple[list[GapBox], Relations]:
    """Gaps and rule relations of the analysed rules, by `method`.

    "split": `split.partition` (the default: fast). "columns": the column sweep
    of `sweep` (the textbook algorithm; slow on large tables, kept as a
    reference the tests compare against).
    """
    first_wins = layout.table.hit_policy in (HitPolicy.FIRST, HitPolicy.PRIORITY)
    if method == "columns":
        result = sweep(layout.sweep_columns(), layout.live)
        return result.gaps, relate(result.shared, result.alone)
    if method != "split":
        raise ValueError(f"unknown method {method!r}")
    part = partition(
        [layout.columns[j].size for j in layout.swept],
        [isinstance(layout.columns[j], OrderedColumn) for j in layout.swept],
        [[layout.masks[r][j] for j in layout.swept] for r in layout.order],
        first_wins=first_wins,
    )
    return part.gaps, part.relations


def verify_table(table: DecisionTable, *, decision: str | None = None) -> list[Finding]:
    """The findings for one table, errors first. `decision` names it in the findings."""
    return list(analyse_table(table, decision=decision).findings)
