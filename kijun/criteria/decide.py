"""`decide`: the version in force on a date, its decision graph, the outcome explained.

A version's decisions form a graph: an input named like another decision's
output takes that decision's value, so the producer is decided first. Each
table is compiled once (see `compile`) and cached per version object.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from kijun.criteria.compile import CompiledTable, compile_table
from kijun.criteria.errors import CriteriaError, FactError, ModelError, NoVersionError
from kijun.criteria.facts import expected_type
from kijun.criteria.hitpolicy import apply
from kijun.criteria.memo import IdentityCache
from kijun.criteria.model import Criterion, ValueType, Version
from kijun.criteria.normalise import parse_date
from kijun.criteria.result import (
    DecisionResult,
    DecisionTrace,
    ExceptionInfo,
    MatchedRule,
    RuleTrace,
    Status,
    TestTrace,
    VersionRef,
)


@dataclass(frozen=True, slots=True)
class CompiledVersion:
    version: Version
    tables: Mapping[str, CompiledTable]
    plans: Mapping[str, tuple[str, ...]]  # decision → its dependencies then itself
    default: str
    refs: dict[str, VersionRef] = field(default_factory=dict)  # per criterion id

    def ref(self, criterion_id: str) -> VersionRef:
        ref = self.refs.get(criterion_id)
        if ref is None:
            v = self.version
            ref = VersionRef(criterion_id, v.number, v.effective_from, v.effective_to,
                             v.status.value)
            self.refs[criterion_id] = ref
        return ref

    def plan(self, decision: str | None) -> tuple[str, ...]:
        try:
            return self.plans[decision or self.default]
        except KeyError:
            name = decision or self.default
            known = ", ".join(self.plans)
            raise CriteriaError(
                f"version {self.version.number} has no decision named {name!r} (known: {known})"
            ) from None


def compile_version(version: Version) -> CompiledVersion:
    """Compile every table of a version and order its decision graph (cached)."""
    return _VERSIONS.get(version, lambda: _compile_version(version))


_VERSIONS: IdentityCache[CompiledVersion] = IdentityCache(512)
_PERIODS: IdentityCache[tuple[list[dt.date], list[tuple[Version, dt.date | None]]]] = (
    IdentityCache(512)
)


def _compile_version(version: Version) -> CompiledVersion:
    tables = {d.name: compile_table(d) for d in version.decisions}
    producer: dict[str, str] = {}
    for d in version.decisions:
        for o in d.outputs:
            if o.name in producer:
                raise ModelError(
                    f"version {version.number}: output {o.name!r} is produced by both "
                    f"{producer[o.name]!r} and {d.name!r}",
                    field=f"decisions.{d.name}.outputs",
                )
            producer[o.name] = d.name
    deps = {
        d.name: [producer[i.name] for i in d.inputs if i.name in producer and
                 producer[i.name] != d.name]
        for d in version.decisions
    }
    plans = {name: tuple(_order(name, deps, version.number)) for name in tables}
    used = {p for ds in deps.values() for p in ds}
    tops = [d.name for d in version.decisions if d.name not in used]
    return CompiledVersion(version=version, tables=tables, plans=plans, default=tops[-1])


def _order(target: str, deps: Mapping[str, list[str]], number: int) -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in order:
            return
        if name in visiting:
            cycle = " → ".join([*path, name])
            raise ModelError(f"version {number}: decisions depend on each other in a cycle: "
                             f"{cycle}", field="decisions")
        visiting.add(name)
        for dep in deps[name]:
            visit(dep, [*path, name])
        visiting.discard(name)
        order.append(name)

    visit(target, [])
    return order


def _periods(criterion: Criterion) -> tuple[list[dt.date], list[tuple[Version, dt.date | None]]]:
    periods = criterion.in_force()
    return [p[1] for p in periods], [(p[0], p[2]) for p in periods]


def version_in_force(criterion: Criterion, on: dt.date) -> Version:
    """The published (or retired) version in force on `on`."""
    starts, versions = _PERIODS.get(criterion, lambda: _periods(criterion))
    i = bisect_right(starts, on) - 1
    if i >= 0:
        version, end = versions[i]
        if end is None or on < end:
            return version
    raise NoVersionError(criterion.id, on.isoformat())


def as_date(on: dt.date | str | None) -> dt.date:
    if on is None:
        return dt.date.today()
    if isinstance(on, dt.datetime):
        return on.date()
    if isinstance(on, dt.date):
        return on
    try:
        return parse_date(on)
    except ValueError:
        raise FactError(
            "on", "text is not a date", expected=expected_type(ValueType.DATE)
        ) from None


def decide(
    criterion: Criterion,
    facts: Mapping[str, Any],
    on: dt.date | str | None = None,
    *,
    decision: str | None = None,
) -> DecisionResult:
    """Decide a case under the version of `criterion` in force on `on` (default: today).

    Returns outputs, the matched rules with their 根拠, the version and a trace.
    No matching rule (and no default) is an exception outcome, not an error.
    Raises FactError for a missing or mistyped fact, HitPolicyError when the
    table's hit policy is broken, NoVersionError when nothing is in force.
    """
    day = as_date(on)
    version = version_in_force(criterion, day)
    return decide_version(version, facts, day, decision=decision, criterion_id=criterion.id)


def decide_version(
    version: Version,
    facts: Mapping[str, Any],
    on: dt.date,
    *,
    decision: str | None = None,
    criterion_id: str = "",
) -> DecisionResult:
    """Decide under one given version (used to replay and compare versions)."""
    cv = compile_version(version)
    plan = cv.plan(decision)
    if len(plan) == 1:  # a single table: the common case, kept short
        step = _evaluate(cv.tables[plan[0]], facts, _NOTHING)
        return _result(cv.ref(criterion_id), on, plan[0], (step,), (), step)
    computed: dict[str, Any] = {}
    steps: list[_Step] = []
    supporting: list[MatchedRule] = []
    for name in plan:
        ct = cv.tables[name]
        step = _evaluate(ct, facts, computed)
        steps.append(step)
        if step.exception is not None:
            return _result(cv.ref(criterion_id), on, plan[-1], steps, supporting, step)
        computed.update(step.outputs)
        if name != plan[-1]:
            supporting.extend(step.matched)
    return _result(cv.ref(criterion_id), on, plan[-1], steps, supporting, steps[-1])


_NOTHING: Mapping[str, Any] = MappingProxyType({})


@dataclass(slots=True)
class _Step:
    ct: CompiledTable
    values: list[Any]
    bits: int
    hits: list[int]
    outputs: dict[str, Any]
    matched: tuple[MatchedRule, ...]
    default_used: bool = False
    exception: ExceptionInfo | None = None


def _evaluate(ct: CompiledTable, facts: Mapping[str, Any], computed: Mapping[str, Any]) -> _Step:
    table = ct.table
    try:
        if computed:
            values = [coerce(computed[name] if name in computed else facts[name])
                      for name, coerce in ct.readers]
        else:
            values = [coerce(facts[name]) for name, coerce in ct.readers]
    except KeyError:
        missing = next(i for i in table.inputs if i.name not in computed and i.name not in facts)
        raise FactError(missing.name, "missing", expected=expected_type(missing.type)) from None
    m = ct.match(values)
    if m:
        hits, outputs = apply(ct, m)
        rules = ct.matched_rules
        return _Step(ct, values, m, hits, outputs, tuple(rules[i] for i in hits))
    if all(o.has_default for o in table.outputs):
        outputs = {o.name: o.default for o in table.outputs}
        if not table.hit_policy.single_hit and table.aggregation is None:
            outputs = {k: [v] for k, v in outputs.items()}
        return _Step(ct, values, 0, [], outputs, (), default_used=True)
    return _Step(ct, values, 0, [], {}, (), exception=_explain_miss(ct, values))


def _explain_miss(ct: CompiledTable, values: list[Any]) -> ExceptionInfo:
    """Name the inputs whose values fell outside every rule."""
    table = ct.table
    bits = ct.column_bits(values)
    names = [i.name for i in table.inputs]
    outside = [names[j] for j, b in enumerate(bits) if b == 0]
    if outside:
        listed = "、".join(outside)
        return ExceptionInfo(
            table.name,
            tuple(outside),
            f"no rule of {table.name!r} accepts the value of {listed}; "
            f"判断基準の想定外の値です（{listed}）",
        )
    # each value is accepted somewhere but no rule takes them together:
    # name the inputs that fail the rules that come closest
    nearest = _by_failures(ct.all_rules, bits)
    fewest = next((group for group in nearest if group), 0)
    outside = [names[j] for j, b in enumerate(bits) if fewest & ~b]
    listed = "、".join(outside)
    return ExceptionInfo(
        table.name,
        tuple(outside),
        f"no rule of {table.name!r} accepts this combination; the nearest rules differ on "
        f"{listed}; 該当する規則がありません（{listed} の組合せ）",
    )


def _result(
    ref: VersionRef,
    on: dt.date,
    target: str,
    steps: Sequence[_Step],
    supporting: Sequence[MatchedRule],
    last: _Step,
) -> DecisionResult:
    def trace() -> tuple[DecisionTrace, ...]:
        return tuple(_trace_step(s) for s in steps)

    if last.exception is not None:
        return DecisionResult(
            decision=target, status=Status.EXCEPTION, outputs={}, matched=(),
            version=ref, on=on, exception=last.exception, supporting=tuple(supporting),
            _trace=trace,
        )
    return DecisionResult(
        decision=target, status=Status.DECIDED, outputs=last.outputs, matched=last.matched,
        version=ref, on=on, supporting=tuple(supporting), _trace=trace,
    )


def _trace_step(step: _Step) -> DecisionTrace:
    ct = step.ct
    table = ct.table
    if step.exception is not None:
        shown = _nearest_rules(ct, step.values)
    else:
        shown = [i for i in range(len(table.rules)) if step.bits >> i & 1]
    rules = []
    for i in shown:
        tests = tuple(
            TestTrace(clause.name, table.rules[i].when[j], step.values[j],
                      ct.tests[i][j].matches(step.values[j]))
            for j, clause in enumerate(table.inputs)
        )
        rules.append(RuleTrace(table.rules[i].id, i + 1, i in step.hits, tests))
    return DecisionTrace(
        decision=table.name,
        hit_policy=table.hit_policy.value + (f" {table.aggregation.value}"
                                             if table.aggregation else ""),
        inputs={c.name: v for c, v in zip(table.inputs, step.values, strict=True)},
        outputs=step.outputs,
        status=Status.EXCEPTION if step.exception else Status.DECIDED,
        rules=tuple(rules),
        default_used=step.default_used,
    )


def _by_failures(all_rules: int, bits: list[int]) -> list[int]:
    """Rules grouped by how many input tests they fail: [fail 0, fail 1, …] as bitsets.

    Bit-sliced counting, so explaining a miss costs O(inputs²) set operations
    rather than a pass over every rule.
    """
    groups = [all_rules] + [0] * len(bits)
    for b in bits:
        fail = all_rules & ~b
        for c in range(len(bits), 0, -1):
            groups[c] = (groups[c] & b) | (groups[c - 1] & fail)
        groups[0] &= b
    return groups


def _nearest_rules(ct: CompiledTable, values: list[Any], limit: int = 3) -> list[int]:
    out: list[int] = []
    for group in _by_failures(ct.all_rules, ct.column_bits(values)):
        while group and len(out) < limit:
            low = group & -group
            out.append(low.bit_length() - 1)
            group ^= low
    return out
