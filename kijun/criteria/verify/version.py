"""Verify every table of a version, using the decision graph to narrow input domains.

An input named after another decision's output takes its value from that
decision. When the input has no allowed values of its own, its domain is
the values the providing decision can give: the output's allowed values,
else (single-hit tables only) the values its rules and default give. So a
table reading 支給区分 is checked against the 支給区分 the upstream table can
actually produce, not against every string.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kijun.criteria.model import DecisionTable, ValueType, Version
from kijun.criteria.verify.findings import Report, TableResult
from kijun.criteria.verify.table import analyse_table


def upstream_domains(version: Version) -> dict[str, dict[str, tuple[Any, ...]]]:
    """Per decision name, the finite domains of its inputs fed by other decisions."""
    produced: dict[str, tuple[ValueType, tuple[Any, ...]]] = {}
    for table in version.decisions:
        for k, out in enumerate(table.outputs):
            values = _produced(table, k)
            if values is not None:
                produced.setdefault(out.name, (out.type, values))
    domains: dict[str, dict[str, tuple[Any, ...]]] = {}
    for table in version.decisions:
        own = {o.name for o in table.outputs}
        domains[table.name] = {
            i.name: produced[i.name][1]
            for i in table.inputs
            if i.allowed is None
            and i.name in produced
            and i.name not in own
            and produced[i.name][0] is i.type
        }
    return domains


def _produced(table: DecisionTable, k: int) -> tuple[Any, ...] | None:
    out = table.outputs[k]
    if out.allowed is not None:
        return tuple(out.allowed)
    if not table.hit_policy.single_hit:
        return None  # a list of values, not one of them
    values: list[Any] = [r.then[k] for r in table.rules if k < len(r.then)]
    if out.has_default:
        values.append(out.default)
    seen: list[Any] = []
    for v in values:
        if v is not None and v not in seen:
            seen.append(v)
    return tuple(seen)


def verify_version(version: Version) -> Report:
    """Verify every decision table of `version`; findings in table order, errors first."""
    domains = upstream_domains(version)
    results = [
        analyse_table(t, domains=domains.get(t.name, {})) for t in version.decisions
    ]
    return _report(results)


def _report(results: Sequence[TableResult]) -> Report:
    return Report(
        findings=tuple(f for r in results for f in r.findings),
        analysed_rules=sum(r.analysed_rules for r in results),
        not_analysed=tuple(c for r in results for c in r.not_analysed),
        rules=sum(r.rules for r in results),
        tables=tuple(results),
    )
