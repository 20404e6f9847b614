"""Gap findings: merge the sweep's gap boxes and say where no rule applies.

The sweep already joins, within one node, every atom of a column where no
rule is live. Boxes from different nodes are merged here: two boxes equal in
every column but one become one box (the union in that column), until no
two boxes merge.

A gap among the analysed rules may still be covered by a rule that was not
analysed (a cell with a general FEEL expression). Such rules are named in
the finding (`rules`) and its message, and the finding is at most a warning.
"""

from __future__ import annotations

from collections.abc import Sequence

from kijun.criteria.model import InputClause
from kijun.criteria.region import Region
from kijun.criteria.verify import describe
from kijun.criteria.verify import runs as rs
from kijun.criteria.verify.findings import Finding, Kind, Severity
from kijun.criteria.verify.layout import Layout
from kijun.criteria.verify.runs import Runs
from kijun.criteria.verify.sweep import GapBox

#: runs per swept column; None: every atom
Box = tuple[Runs | None, ...]


def merge(boxes: Sequence[GapBox], sizes: Sequence[int]) -> list[Box]:
    """Merge gap boxes that differ in one column only."""
    n = len(sizes)
    current: set[Box] = set()
    for gap in boxes:
        full: list[Runs | None] = [None] * n
        for d, runs in gap:
            full[d] = runs
        current.add(tuple(full))
    changed = True
    while changed and len(current) > 1:
        changed = False
        for d in range(n):
            groups: dict[Box, list[Runs | None]] = {}
            for box in current:
                groups.setdefault((*box[:d], None, *box[d + 1 :]), []).append(box[d])
            if len(groups) == len(current):
                continue
            changed = True
            current = set()
            for key, parts in groups.items():
                joined: Runs | None
                if any(p is None for p in parts):
                    joined = None
                else:
                    joined = rs.normalise(r for p in parts if p is not None for r in p)
                    if rs.is_full(joined, sizes[d]):
                        joined = None
                current.add((*key[:d], joined, *key[d + 1 :]))
    return sorted(current, key=_box_order)


def _box_order(box: Box) -> tuple[tuple[int, ...], ...]:
    return tuple(() if runs is None else tuple(a for a, _ in runs) for runs in box)


def gap_severity(layout: Layout) -> Severity:
    """An exception outcome is an error for single-hit tables, else a warning."""
    table = layout.table
    if not table.hit_policy.single_hit:
        return Severity.WARNING
    if table.outputs and all(o.has_default for o in table.outputs):
        return Severity.WARNING
    return Severity.ERROR


def gap_findings(layout: Layout, gaps: Sequence[GapBox], decision: str) -> list[Finding]:
    table = layout.table
    swept = layout.swept
    sizes = [layout.columns[j].size for j in swept]
    unsure = [
        r
        for r in range(len(table.rules))
        if not layout.cells.analysed(r) and not layout.cells.has_error(r)
    ]
    base = gap_severity(layout)
    defaults = bool(table.outputs) and all(o.has_default for o in table.outputs)
    findings = []
    for box in merge(gaps, sizes):
        regions: dict[int, Region] = {}
        for d, runs in enumerate(box):
            if runs is not None:
                j = swept[d]
                regions[j] = layout.columns[j].region(runs)
        described = [(table.inputs[j], regions[j]) for j in sorted(regions)]
        maybe = tuple(r for r in unsure if _may_cover(layout, r, regions))
        severity = Severity.WARNING if maybe and base is Severity.ERROR else base
        ja, en = _messages(layout, described, maybe, defaults)
        findings.append(
            Finding(
                kind=Kind.GAP,
                severity=severity,
                decision=decision,
                rules=tuple(r + 1 for r in maybe),
                region=describe.box_feel(described),
                message_ja=ja,
                message_en=en,
            )
        )
    return findings


def _may_cover(layout: Layout, rule: int, regions: dict[int, Region]) -> bool:
    """Whether a not-analysed rule may hold somewhere in the gap (unknown cells may)."""
    for j, column in enumerate(layout.columns):
        cell = layout.cells.region(rule, j)
        if cell is None:
            continue
        where = regions.get(j)
        if where is None:
            where = column.region(((0, column.size - 1),))
        if not describe.has_values(cell.intersection(where)):
            return False
    return True


def _messages(
    layout: Layout,
    described: list[tuple[InputClause, Region]],
    maybe: tuple[int, ...],
    defaults: bool,
) -> tuple[str, str]:
    if described:
        ja = f"{describe.box_ja(described)}の場合に該当する規則がありません"
        en = f"No rule applies {describe.box_en(described)}"
    else:
        ja = "どの場合にも該当する規則がありません"
        en = "No rule applies in any case"
    if defaults:
        ja += "（出力の既定値が使われます）"
        en += " (the outputs' defaults are used)"
    ja += "。"
    en += "."
    if maybe:
        items = [(r + 1, layout.table.rules[r]) for r in maybe]
        ja += (
            f"ただし、一般的なFEEL式を含むため分析できなかった{describe.rules_ja(items)}"
            "が該当する可能性があります。"
        )
        verb = "was" if len(items) == 1 else "were"
        en += (
            f" {describe.rules_en(items).capitalize()} {verb} not analysed (general FEEL) "
            "and may cover it."
        )
    return ja, en
