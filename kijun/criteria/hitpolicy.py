"""Hit policies with DMN semantics: which matched rules make the result.

Given the bitset of matched rules (never empty here: no match is decided by
the caller, which applies defaults or raises an exception outcome), return
the hits in result order and the outputs. Violations raise HitPolicyError:
two matches under UNIQUE are an error, never a pick.
"""

from __future__ import annotations

from typing import Any

from kijun.criteria.compile import CompiledTable
from kijun.criteria.errors import HitPolicyError
from kijun.criteria.model import Aggregation, HitPolicy


def bits_to_indexes(m: int) -> list[int]:
    """Set bits of `m`, lowest (first rule) first."""
    out = []
    while m:
        low = m & -m
        out.append(low.bit_length() - 1)
        m ^= low
    return out


def apply(ct: CompiledTable, m: int) -> tuple[list[int], dict[str, Any]]:
    table = ct.table
    policy = table.hit_policy
    names = ct.output_names
    if policy is HitPolicy.FIRST:
        i = (m & -m).bit_length() - 1
        return [i], ct.output_maps[i].copy()
    if policy is HitPolicy.UNIQUE:
        if m & (m - 1):
            raise HitPolicyError(
                table.name, policy.value, _ids(ct, bits_to_indexes(m)),
                "more than one rule matches under UNIQUE",
            )
        i = m.bit_length() - 1
        return [i], ct.output_maps[i].copy()
    hits = bits_to_indexes(m)
    if policy is HitPolicy.ANY:
        first = ct.outputs[hits[0]]
        if any(ct.outputs[i] != first for i in hits[1:]):
            raise HitPolicyError(
                table.name, policy.value, _ids(ct, hits),
                "rules matched under ANY give different outputs",
            )
        return hits, dict(zip(names, first, strict=True))
    if policy is HitPolicy.PRIORITY:
        assert ct.priority is not None
        prio = ct.priority
        best = min(hits, key=lambda i: prio[i])  # min is stable: ties go to rule order
        return [best], dict(zip(names, ct.outputs[best], strict=True))
    if policy is HitPolicy.OUTPUT_ORDER:
        assert ct.priority is not None
        prio = ct.priority
        hits = sorted(hits, key=lambda i: prio[i])
    # RULE ORDER, OUTPUT ORDER, COLLECT: one list per output, in hit order
    if table.aggregation is not None:
        values = [ct.outputs[i][0] for i in hits]
        return hits, {names[0]: aggregate(table.aggregation, values)}
    return hits, {name: [ct.outputs[i][k] for i in hits] for k, name in enumerate(names)}


def aggregate(aggregation: Aggregation, values: list[Any]) -> Any:
    """FEEL's sum / min / max / count over the hits' values (null in, null out)."""
    if aggregation is Aggregation.COUNT:
        return len(values)
    if not values or any(v is None for v in values):
        return None
    if aggregation is Aggregation.SUM:
        return sum(values)
    if aggregation is Aggregation.MIN:
        return min(values)
    return max(values)


def _ids(ct: CompiledTable, hits: list[int]) -> list[str]:
    return [ct.table.rules[i].id for i in hits]
