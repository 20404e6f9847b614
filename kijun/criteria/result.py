"""What a decision returns: outputs, matched rules, their 根拠, the version and a trace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kijun.criteria.serial import plain_json_value


class Status(StrEnum):
    DECIDED = "decided"
    #: no rule decides the case: it goes to a person with authority (例外)
    EXCEPTION = "exception"


@dataclass(frozen=True, slots=True)
class VersionRef:
    criterion_id: str
    number: int
    effective_from: dt.date
    effective_to: dt.date | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion_id,
            "number": self.number,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class MatchedRule:
    decision: str
    rule: str
    number: int  # 1-based position in its table
    basis: str | None
    annotation: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "rule": self.rule,
            "number": self.number,
            "basis": self.basis,
            "annotation": self.annotation,
        }


@dataclass(frozen=True, slots=True)
class TestTrace:
    """One input test of one rule, evaluated against the fact."""

    input: str
    test: str
    value: Any
    result: bool

    __test__ = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "test": self.test,
            "value": plain_json_value(self.value),
            "result": self.result,
        }


@dataclass(frozen=True, slots=True)
class RuleTrace:
    rule: str
    number: int
    matched: bool
    tests: tuple[TestTrace, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "number": self.number,
            "matched": self.matched,
            "tests": [t.to_dict() for t in self.tests],
        }


@dataclass(frozen=True, slots=True)
class DecisionTrace:
    """How one table of the graph was decided."""

    decision: str
    hit_policy: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    status: Status
    rules: tuple[RuleTrace, ...]
    default_used: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "hit_policy": self.hit_policy,
            "status": self.status.value,
            "inputs": plain_json_value(self.inputs),
            "outputs": plain_json_value(self.outputs),
            "default_used": self.default_used,
            "rules": [r.to_dict() for r in self.rules],
        }


@dataclass(frozen=True, slots=True)
class ExceptionInfo:
    """Why no rule decided: the inputs whose values fell outside every rule."""

    decision: str
    inputs_outside: tuple[str, ...]
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "inputs_outside": list(self.inputs_outside),
            "message": self.message,
        }


@dataclass(slots=True)
class DecisionResult:
    """The outcome of `decide`.

    `outputs` maps each output name to its value; under a multi-hit policy
    without aggregation (COLLECT, RULE ORDER, OUTPUT ORDER) each value is the
    list of the matched rules' values, in hit order. The trace is built only
    when asked for, so deciding stays cheap.
    """

    decision: str
    status: Status
    outputs: dict[str, Any]
    matched: tuple[MatchedRule, ...]
    version: VersionRef | None
    on: dt.date
    exception: ExceptionInfo | None = None
    #: rules of the decisions this one depends on (decision graph)
    supporting: tuple[MatchedRule, ...] = ()
    _trace: Callable[[], tuple[DecisionTrace, ...]] | None = field(default=None, repr=False)
    _trace_cache: tuple[DecisionTrace, ...] | None = field(default=None, repr=False)

    @property
    def decided(self) -> bool:
        return self.status is Status.DECIDED

    @property
    def trace(self) -> tuple[DecisionTrace, ...]:
        if self._trace_cache is None:
            self._trace_cache = self._trace() if self._trace is not None else ()
        return self._trace_cache

    @property
    def basis(self) -> list[dict[str, Any]]:
        """根拠 of every rule behind the outcome, this decision's first."""
        return [
            {"decision": m.decision, "rule": m.rule, "basis": m.basis}
            for m in (*self.matched, *self.supporting)
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by `kijun decide --json` and returned by the API."""
        return {
            "decision": self.decision,
            "status": self.status.value,
            "outputs": plain_json_value(self.outputs),
            "matched": [m.rule for m in self.matched],
            "basis": self.basis,
            "version": self.version.to_dict() if self.version else None,
            "on": self.on.isoformat(),
            "exception": self.exception.to_dict() if self.exception else None,
            "trace": [t.to_dict() for t in self.trace],
        }
