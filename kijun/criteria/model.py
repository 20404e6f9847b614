"""The criterion model: criteria, versions, decision tables, rules and test cases.

Plain frozen dataclasses: the model is data, validated once when it is built
(`validate_criterion`), and shared by the YAML and DMN formats, the store and
the engine. Rule cells keep their FEEL text; `kijun.criteria.compile` turns a
table into an index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from typing import Any

from kijun.criteria.errors import ModelError
from kijun.criteria.normalise import nfkc

#: ライフイベント: the Digital Agency's classification of life events for individuals
#: (行政手続等の棚卸調査), in its order. A criterion names the events it concerns
#: (`Criterion.life_events`); internal criteria such as 事務決裁規程 name none.
LIFE_EVENTS: tuple[str, ...] = (
    "妊娠",
    "出生・こども",
    "引越し",
    "就職・転職",
    "結婚・離婚",
    "自動車の購入・保有",
    "住宅の購入・保有",
    "介護",
    "医療・健康",
    "税金",
    "年金の受給",
    "死亡・相続",
    "その他",
)
_LIFE_EVENT_ORDER = {name: i for i, name in enumerate(LIFE_EVENTS)}


class ValueType(StrEnum):
    """The types an input or output may have."""

    NUMBER = "number"
    STRING = "string"
    BOOLEAN = "boolean"
    DATE = "date"


class HitPolicy(StrEnum):
    UNIQUE = "UNIQUE"
    ANY = "ANY"
    PRIORITY = "PRIORITY"
    FIRST = "FIRST"
    RULE_ORDER = "RULE ORDER"
    OUTPUT_ORDER = "OUTPUT ORDER"
    COLLECT = "COLLECT"

    @property
    def single_hit(self) -> bool:
        return self in _SINGLE_HIT


_SINGLE_HIT = frozenset({HitPolicy.UNIQUE, HitPolicy.ANY, HitPolicy.PRIORITY, HitPolicy.FIRST})


class Aggregation(StrEnum):
    SUM = "SUM"
    MIN = "MIN"
    MAX = "MAX"
    COUNT = "COUNT"


class VersionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class _NoDefault:
    """Marks an output without a default (distinct from a default of null)."""

    _instance: _NoDefault | None = None

    def __new__(cls) -> _NoDefault:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_DEFAULT"

    def __bool__(self) -> bool:
        return False


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True, slots=True)
class InputClause:
    """A typed input column. `name` is the fact (or upstream output) it reads."""

    name: str
    type: ValueType
    allowed: tuple[Any, ...] | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class OutputClause:
    """A typed output column; `allowed` also fixes PRIORITY / OUTPUT ORDER priority."""

    name: str
    type: ValueType
    allowed: tuple[Any, ...] | None = None
    default: Any = NO_DEFAULT
    description: str | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT


@dataclass(frozen=True, slots=True)
class Rule:
    """One row: a FEEL unary test per input (in input order), a value per output."""

    id: str
    when: tuple[str, ...]
    then: tuple[Any, ...]
    basis: str | None = None
    annotation: str | None = None


@dataclass(frozen=True, slots=True)
class DecisionTable:
    name: str
    hit_policy: HitPolicy
    inputs: tuple[InputClause, ...]
    outputs: tuple[OutputClause, ...]
    rules: tuple[Rule, ...]
    aggregation: Aggregation | None = None
    description: str | None = None

    def input_index(self, name: str) -> int:
        for i, clause in enumerate(self.inputs):
            if clause.name == name:
                return i
        raise KeyError(name)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


@dataclass(frozen=True, slots=True)
class Version:
    """Immutable content in force from `effective_from` (施行日).

    `effective_to` (廃止日) is exclusive: the first day the version is no longer
    in force. Without it a version runs until the next version's 施行日.
    """

    number: int
    effective_from: dt.date
    decisions: tuple[DecisionTable, ...]
    effective_to: dt.date | None = None
    status: VersionStatus = VersionStatus.PUBLISHED
    note: str | None = None

    def decision(self, name: str) -> DecisionTable:
        for d in self.decisions:
            if d.name == name:
                return d
        known = ", ".join(d.name for d in self.decisions)
        raise KeyError(f"no decision named {name!r} in version {self.number} (known: {known})")


@dataclass(frozen=True, slots=True)
class TestCase:
    """An expected outcome. `expect_exception` means no rule may decide it."""

    name: str
    input: Mapping[str, Any]
    expect: Mapping[str, Any] = field(default_factory=dict)
    on: dt.date | None = None
    decision: str | None = None
    expect_exception: bool = False
    expect_rules: tuple[str, ...] | None = None

    __test__ = False  # not a pytest class


@dataclass(frozen=True, slots=True)
class Criterion:
    """判断基準: a named decision with versions, owned by a department (担当課)."""

    id: str
    name: str
    versions: tuple[Version, ...]
    department: str | None = None
    description: str | None = None
    basis: str | None = None
    tests: tuple[TestCase, ...] = ()
    #: ライフイベント it concerns, from `LIFE_EVENTS`, in that order (see `parse_life_events`)
    life_events: tuple[str, ...] = ()

    def version(self, number: int) -> Version:
        for v in self.versions:
            if v.number == number:
                return v
        raise KeyError(f"criterion {self.id!r} has no version {number}")

    def in_force(self) -> list[tuple[Version, dt.date, dt.date | None]]:
        """Non-draft versions with the period each is in force, oldest first."""
        live = sorted(
            (v for v in self.versions if v.status is not VersionStatus.DRAFT),
            key=lambda v: v.effective_from,
        )
        periods: list[tuple[Version, dt.date, dt.date | None]] = []
        for i, v in enumerate(live):
            nxt = live[i + 1].effective_from if i + 1 < len(live) else None
            end = v.effective_to
            if end is None or (nxt is not None and nxt < end):
                end = nxt if end is None else end
            periods.append((v, v.effective_from, end))
        return periods

    def version_on(self, on: dt.date) -> Version | None:
        """The published (or retired) version in force on `on`, if any."""
        found: Version | None = None
        for v, start, end in self.in_force():
            if start <= on and (end is None or on < end):
                found = v
        return found


def parse_life_events(values: Iterable[object]) -> tuple[str, ...]:
    """Life events as typed (NFKC-normalised), checked against `LIFE_EVENTS`.

    Returns them once each, in the vocabulary's order; blank entries are
    skipped. An unknown one raises `ModelError` (field ``life_events``).
    """
    found: set[str] = set()
    for value in values:
        if not isinstance(value, str):
            raise ModelError(
                f"life_events: expected the name of a life event, got {type(value).__name__}",
                field="life_events",
            )
        name = nfkc(value)
        if name:
            _check_life_event(name)
            found.add(name)
    return tuple(sorted(found, key=_LIFE_EVENT_ORDER.__getitem__))


def _check_life_event(name: str, where: str = "") -> None:
    if name not in _LIFE_EVENT_ORDER:
        shown = name if len(name) <= 30 else name[:30] + "…"
        raise ModelError(
            f"{where}life_events: unknown life event {shown!r} "
            f"(use one of {', '.join(LIFE_EVENTS)})",
            field="life_events",
        )


def validate_criterion(criterion: Criterion) -> None:
    """Refuse structurally invalid criteria with a message naming the field."""
    if not criterion.id or not criterion.name:
        raise ModelError("criterion needs an id and a name", field="id")
    for name in criterion.life_events:
        _check_life_event(name, f"criterion {criterion.id!r}: ")
    if len(set(criterion.life_events)) != len(criterion.life_events):
        raise ModelError(
            f"criterion {criterion.id!r}: life_events repeat: {list(criterion.life_events)}",
            field="life_events",
        )
    numbers = [v.number for v in criterion.versions]
    if len(set(numbers)) != len(numbers):
        raise ModelError(f"criterion {criterion.id!r}: version numbers repeat: {numbers}",
                         field="versions")
    _check_overlaps(criterion)
    for v in criterion.versions:
        _validate_version(criterion.id, v)


def _check_overlaps(criterion: Criterion) -> None:
    live = sorted(
        (v for v in criterion.versions if v.status is not VersionStatus.DRAFT),
        key=lambda v: v.effective_from,
    )
    for v in live:
        if v.effective_to is not None and v.effective_to <= v.effective_from:
            raise ModelError(
                f"criterion {criterion.id!r} version {v.number}: effective_to {v.effective_to} "
                f"is not after effective_from {v.effective_from}",
                field=f"versions[{v.number}].effective_to",
            )
    for a, b in pairwise(live):
        if a.effective_from == b.effective_from:
            raise ModelError(
                f"criterion {criterion.id!r}: versions {a.number} and {b.number} both take effect "
                f"on {a.effective_from}; effective periods must not overlap",
                field=f"versions[{b.number}].effective_from",
            )
        if a.effective_to is not None and a.effective_to > b.effective_from:
            raise ModelError(
                f"criterion {criterion.id!r}: version {a.number} ({a.effective_from} – "
                f"{a.effective_to}) overlaps version {b.number} (from {b.effective_from}); "
                "effective periods must not overlap",
                field=f"versions[{a.number}].effective_to",
            )


def _validate_version(criterion_id: str, version: Version) -> None:
    where = f"criterion {criterion_id!r} version {version.number}"
    if not version.decisions:
        raise ModelError(f"{where}: a version needs at least one decision", field="decisions")
    names = [d.name for d in version.decisions]
    if len(set(names)) != len(names):
        raise ModelError(f"{where}: decision names repeat: {names}", field="decisions")
    for d in version.decisions:
        _validate_table(f"{where} decision {d.name!r}", d)


def _validate_table(where: str, table: DecisionTable) -> None:
    if not table.inputs and not table.rules:
        raise ModelError(f"{where}: a decision table needs inputs and rules", field="inputs")
    if not table.outputs:
        raise ModelError(f"{where}: a decision table needs at least one output", field="outputs")
    for kind, clauses in (("input", table.inputs), ("output", table.outputs)):
        seen = [c.name for c in clauses]
        if len(set(seen)) != len(seen):
            raise ModelError(f"{where}: {kind} names repeat: {seen}", field=f"{kind}s")
    if table.aggregation is not None:
        if table.hit_policy is not HitPolicy.COLLECT:
            raise ModelError(
                f"{where}: aggregation {table.aggregation} is only allowed with COLLECT",
                field="aggregation",
            )
        if len(table.outputs) != 1:
            raise ModelError(
                f"{where}: COLLECT {table.aggregation} needs exactly one output", field="outputs"
            )
        out_type = table.outputs[0].type
        sums_non_number = table.aggregation is Aggregation.SUM and out_type is not ValueType.NUMBER
        orders_boolean = (
            table.aggregation in (Aggregation.MIN, Aggregation.MAX)
            and out_type is ValueType.BOOLEAN
        )
        if sums_non_number or orders_boolean:
            raise ModelError(
                f"{where}: COLLECT {table.aggregation} cannot aggregate a {out_type} output",
                field="outputs",
            )
    if table.hit_policy in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER) and not any(
        o.allowed for o in table.outputs
    ):
        raise ModelError(
            f"{where}: {table.hit_policy} needs allowed values on an output (they set the "
            "priority)",
            field="outputs",
        )
    ids = [r.id for r in table.rules]
    if len(set(ids)) != len(ids):
        raise ModelError(f"{where}: rule ids repeat: {ids}", field="rules")
    for r in table.rules:
        if len(r.when) != len(table.inputs):
            raise ModelError(
                f"{where} rule {r.id}: {len(r.when)} input entries for {len(table.inputs)} inputs",
                field=f"rules[{r.id}].when",
            )
        if len(r.then) != len(table.outputs):
            raise ModelError(
                f"{where} rule {r.id}: {len(r.then)} output entries for "
                f"{len(table.outputs)} outputs",
                field=f"rules[{r.id}].then",
            )
