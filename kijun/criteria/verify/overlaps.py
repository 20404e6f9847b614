"""Overlap findings: conflicts, redundant overlaps, subsumptions and masked rules.

What an overlap of rules A and B (A first in the hit policy's order) means
depends on the hit policy:

| policy       | different outputs          | same outputs, partly | same, one inside   |
|--------------|----------------------------|----------------------|--------------------|
| UNIQUE       | conflict (error)           | conflict (error)     | conflict (error)   |
| ANY          | conflict (error)           | redundant (info:     | subsumption        |
|              |                            | ANY allows it)       | (warning)          |
| FIRST,       | intended; subsumption      | redundant (warning)  | subsumption        |
| PRIORITY     | (info) if A lies inside B, |                      | (warning)          |
|              | unless B is a catch-all    |                      |                    |
| RULE ORDER,  | intended: every match      | redundant (warning:  | subsumption        |
| OUTPUT ORDER,| counts                     | the result repeats)  | (warning)          |
| COLLECT      |                            |                      |                    |

Under FIRST and PRIORITY a rule that decides nowhere is masked: the rules
tried before it that overlap it cover all of it. That is an error, or a
warning when all of them give its outputs (then deleting the rule changes
nothing). Its pairs with those rules are not reported again.
"""

from __future__ import annotations

from dataclasses import dataclass

from kijun.criteria.model import HitPolicy, InputClause, Rule
from kijun.criteria.region import Region
from kijun.criteria.verify import describe
from kijun.criteria.verify import runs as rs
from kijun.criteria.verify.findings import Finding, Kind, Severity
from kijun.criteria.verify.layout import Layout
from kijun.criteria.verify.relations import Relations, bits, inside

_ORDERED_POLICIES = (HitPolicy.FIRST, HitPolicy.PRIORITY)


@dataclass(frozen=True, slots=True)
class _Pair:
    first: int  #: bit of the rule the policy tries first
    second: int


def overlap_findings(layout: Layout, rel: Relations, decision: str) -> list[Finding]:
    table = layout.table
    policy = table.hit_policy
    outputs = [tuple(r.then) for r in table.rules]
    findings: list[Finding] = []
    masked: dict[int, int] = {}
    if policy in _ORDERED_POLICIES:
        for b in bits(rel.present & ~rel.winners):
            if layout.order[b] not in layout.no_priority:
                masked[b] = rel.earlier(b)
                findings.append(_masked(layout, b, masked[b], decision))
    every_pair = policy in (HitPolicy.UNIQUE, HitPolicy.ANY)
    ordered = policy in _ORDERED_POLICIES
    out_of = [outputs[r] for r in layout.order]  # per bit
    box_of = [layout.masks[r] for r in layout.order]
    same: dict[tuple[object, ...], int] = {}
    for b, out in enumerate(out_of):
        same[out] = same.get(out, 0) | (1 << b)
    for x in bits(rel.present):
        near = rel.overlaps.get(x, 0) & ~((1 << (x + 1)) - 1)  # each pair once, x first
        if not (every_pair or ordered):
            near &= same[out_of[x]]
        for y in bits(near):
            if masked.get(y, 0) >> x & 1:
                continue  # reported as the masked rule
            if ordered and out_of[x] != out_of[y] and (
                not inside(box_of[x], box_of[y]) or layout.catch_all(layout.order[y])
            ):
                continue  # x decides where they overlap: intended (an exception to y)
            finding = _pair_finding(layout, _Pair(x, y), decision)
            if finding is not None:
                findings.append(finding)
    return findings


def _inside(layout: Layout, x: int, y: int) -> bool:
    """Whether rule bit x holds only where rule bit y does."""
    return inside(layout.masks[layout.order[x]], layout.masks[layout.order[y]])


def _pair_finding(layout: Layout, pair: _Pair, decision: str) -> Finding | None:
    table = layout.table
    policy = table.hit_policy
    a, b = layout.order[pair.first], layout.order[pair.second]
    same = tuple(table.rules[a].then) == tuple(table.rules[b].then)
    a_in_b = _inside(layout, pair.first, pair.second)
    b_in_a = _inside(layout, pair.second, pair.first)
    if policy is HitPolicy.UNIQUE or (policy is HitPolicy.ANY and not same):
        kind, severity = Kind.CONFLICT, Severity.ERROR
    elif same and (a_in_b or b_in_a):
        kind, severity = Kind.SUBSUMPTION, Severity.WARNING
    elif same:
        kind = Kind.REDUNDANT
        severity = Severity.INFO if policy is HitPolicy.ANY else Severity.WARNING
    elif a_in_b and policy in _ORDERED_POLICIES and not layout.catch_all(b):
        kind, severity = Kind.SUBSUMPTION, Severity.INFO
    else:
        return None  # different outputs where the policy expects overlaps
    lo, hi = sorted((a, b))
    # (contained, containing); the same conditions: the later rule is the copy
    contained = (hi, lo) if a_in_b and b_in_a else (a, b) if a_in_b else (b, a)
    rules = contained if kind is Kind.SUBSUMPTION else (lo, hi)
    described = _overlap(layout, a, b)
    ja, en = _pair_messages(layout, kind, rules, described, same, a_in_b, b_in_a, contained)
    return Finding(
        kind=kind,
        severity=severity,
        decision=decision,
        rules=tuple(r + 1 for r in rules),
        region=describe.box_feel(described),
        message_ja=ja,
        message_en=en,
    )


def _overlap(layout: Layout, a: int, b: int) -> list[tuple[InputClause, Region]]:
    """Where both rules hold: the intersection of their boxes, restricted inputs only."""
    out = []
    for j in sorted(layout.swept):
        col = layout.columns[j]
        both = rs.intersection(layout.runs[a][j], layout.runs[b][j])
        if not rs.is_full(both, col.size):
            out.append((layout.table.inputs[j], col.region(both)))
    return out


def _refs(layout: Layout, rules: tuple[int, ...]) -> tuple[list[str], list[str]]:
    items: list[tuple[int, Rule]] = [(r + 1, layout.table.rules[r]) for r in rules]
    return (
        [describe.rule_ja(n, r) for n, r in items],
        [describe.rule_en(n, r) for n, r in items],
    )


def _pair_messages(
    layout: Layout,
    kind: Kind,
    rules: tuple[int, int],
    described: list[tuple[InputClause, Region]],
    same: bool,
    a_in_b: bool,
    b_in_a: bool,
    contained: tuple[int, int],
) -> tuple[str, str]:
    policy = layout.table.hit_policy
    (x_ja, y_ja), (x_en, y_en) = _refs(layout, rules)
    where_ja = describe.box_ja(described)
    where_en = describe.box_en(described)
    both_en = describe.rules_en(
        [(r + 1, layout.table.rules[r]) for r in sorted(rules)]
    ).capitalize()
    if kind is Kind.CONFLICT:
        if same:
            ja = (
                f"{x_ja}と{y_ja}が同じ条件（{where_ja}）に両方該当します。結果は同じですが、"
                "UNIQUEでは条件が重なってはいけません。"
            )
            en = (
                f"{both_en} both apply to the same case ({where_en}). Their results agree, "
                "but UNIQUE allows no overlap."
            )
        else:
            why_ja = (
                "UNIQUEでは条件が重なってはいけません"
                if policy is HitPolicy.UNIQUE
                else "ANYでは重なる規則の結果が同じでなければなりません"
            )
            why_en = (
                "UNIQUE allows no overlap"
                if policy is HitPolicy.UNIQUE
                else "ANY needs overlapping rules to agree"
            )
            ja = f"{x_ja}と{y_ja}が同じ条件（{where_ja}）で異なる結果を出します（{why_ja}）。"
            en = (
                f"{both_en} both apply to the same case ({where_en}) and give different "
                f"results; {why_en}."
            )
        if a_in_b and b_in_a:
            ja += "二つの規則の条件はまったく同じです。"
            en += " Their conditions are identical."
        elif a_in_b or b_in_a:
            inner, outer = contained
            (i_ja, o_ja), (i_en, o_en) = _refs(layout, (inner, outer))
            ja += f"{i_ja}の条件は{o_ja}の条件にすべて含まれます。"
            en += f" Every case of {i_en} is also a case of {o_en}."
        return ja, en
    if kind is Kind.REDUNDANT:
        ja = (
            f"{x_ja}と{y_ja}が同じ条件（{where_ja}）に両方該当し、結果も同じです。"
            "条件の重なりを見直してください。"
        )
        en = (
            f"{both_en} both apply to the same case ({where_en}) and give the same result; "
            "check whether the overlap is needed."
        )
        if not policy.single_hit:
            ja += "（両方の結果が出力されます）"
            en += " (Both results are given.)"
        return ja, en
    # subsumption: rules = (contained, containing)
    if a_in_b and b_in_a and same:
        return (
            f"{x_ja}と{y_ja}の条件はまったく同じで、結果も同じです。一方は不要です。",
            f"{both_en} have identical conditions and the same result: one is not needed.",
        )
    if same:
        return (
            f"{x_ja}の条件は{y_ja}の条件にすべて含まれ、結果も同じです。{x_ja}は不要の可能性があります。",
            f"Every case of {x_en} is also a case of {y_en}, with the same result: {x_en} "
            "may be unnecessary.",
        )
    first_ja = "先にある" if policy is HitPolicy.FIRST else "優先順位が上の"
    first_en = "comes first" if policy is HitPolicy.FIRST else "has priority"
    return (
        f"{x_ja}の条件は{y_ja}の条件にすべて含まれます。{first_ja}{x_ja}が{y_ja}の例外として働きます。",
        f"Every case of {x_en} is also a case of {y_en}; {x_en} {first_en}, so it acts as "
        f"an exception to {y_en}.",
    )


def _masked(layout: Layout, b: int, earlier: int, decision: str) -> Finding:
    """Rule bit `b` never decides: the rules before it that overlap it cover it."""
    table = layout.table
    r = layout.order[b]
    maskers = sorted(layout.order[w] for w in bits(earlier))
    harmless = bool(maskers) and all(
        tuple(table.rules[m].then) == tuple(table.rules[r].then) for m in maskers
    )
    described = [
        (table.inputs[j], layout.columns[j].region(layout.runs[r][j]))
        for j in sorted(layout.swept)
        if not rs.is_full(layout.runs[r][j], layout.columns[j].size)
    ]
    x_ja = describe.rule_ja(r + 1, table.rules[r])
    x_en = describe.rule_en(r + 1, table.rules[r])
    items = [(m + 1, table.rules[m]) for m in maskers]
    m_ja, m_en = describe.rules_ja(items), describe.rules_en(items)
    one = len(items) == 1
    if table.hit_policy is HitPolicy.FIRST:
        ja = (
            f"{x_ja}は、先にある{m_ja}が{x_ja}のすべての場合に該当するため、"
            "使われることがありません。"
        )
        en = (
            f"{x_en.capitalize()} can never apply: {m_en} {'comes' if one else 'come'} first "
            f"and {'covers' if one else 'cover'} every case of it."
        )
    else:
        ja = (
            f"{x_ja}は、優先順位が上（または同じで先）の{m_ja}が{x_ja}のすべての場合に該当するため、"
            "使われることがありません。"
        )
        en = (
            f"{x_en.capitalize()} can never apply: {m_en} {'takes' if one else 'take'} "
            f"priority and {'covers' if one else 'cover'} every case of it."
        )
    if harmless:
        ja += "結果は同じなので、この規則は不要です。"
        en += " The result is the same, so the rule is not needed."
    return Finding(
        kind=Kind.MASKED,
        severity=Severity.WARNING if harmless else Severity.ERROR,
        decision=decision,
        rules=(r + 1, *(m + 1 for m in maskers)),
        region=describe.box_feel(described),
        message_ja=ja,
        message_en=en,
    )
