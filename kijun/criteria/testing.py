"""Run a criterion's test cases: expected outcomes, compared with what `decide` gives."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kijun.criteria.decide import decide
from kijun.criteria.errors import CriteriaError
from kijun.criteria.model import Criterion, TestCase, VersionStatus
from kijun.criteria.normalise import nfkc
from kijun.criteria.serial import plain_json_value


@dataclass(frozen=True, slots=True)
class CaseResult:
    criterion: str
    name: str
    passed: bool
    on: str | None
    expected: dict[str, Any]
    actual: dict[str, Any]
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "name": self.name,
            "passed": self.passed,
            "on": self.on,
            "expected": self.expected,
            "actual": self.actual,
            "message": self.message,
        }


@dataclass(slots=True)
class TestReport:
    cases: list[CaseResult] = field(default_factory=list)

    __test__ = False

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cases if c.passed)

    @property
    def failed(self) -> int:
        return sum(1 for c in self.cases if not c.passed)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": self.failed,
                "cases": [c.to_dict() for c in self.cases]}


def run_tests(criteria: Criterion | Iterable[Criterion]) -> TestReport:
    report = TestReport()
    for c in [criteria] if isinstance(criteria, Criterion) else criteria:
        for t in c.tests:
            report.cases.append(run_case(c, t))
    return report


def _default_day(c: Criterion) -> Any:
    live = [v for v in c.versions if v.status is not VersionStatus.DRAFT]
    return max(v.effective_from for v in live) if live else None


def run_case(c: Criterion, t: TestCase) -> CaseResult:
    on = t.on or _default_day(c)
    expected: dict[str, Any] = plain_json_value(dict(t.expect))
    if t.expect_exception:
        expected = {"status": "exception", **expected}
    if t.expect_rules is not None:
        expected["matched"] = list(t.expect_rules)
    on_text = on.isoformat() if on else None
    try:
        result = decide(c, t.input, on, decision=t.decision)
    except CriteriaError as e:
        return CaseResult(c.id, t.name, False, on_text, expected, {"error": str(e)},
                          f"error: {e}")
    actual: dict[str, Any] = plain_json_value(result.outputs)
    problems = []
    if t.expect_exception:
        actual = {"status": result.status.value, **actual}
        if result.decided:
            problems.append("expected an exception (no rule decides), but a rule decided")
    elif not result.decided:
        assert result.exception is not None
        problems.append(f"exception: {result.exception.message}")
    for name, want in t.expect.items():
        if name not in result.outputs:
            problems.append(f"no output named {name!r}")
        elif not same_value(want, result.outputs[name]):
            problems.append(f"{name}: expected {plain_json_value(want)!r}, got "
                            f"{plain_json_value(result.outputs[name])!r}")
    if t.expect_rules is not None:
        got = [m.rule for m in result.matched]
        actual["matched"] = got
        if got != list(t.expect_rules):
            problems.append(f"rules: expected {list(t.expect_rules)}, got {got}")
    return CaseResult(c.id, t.name, not problems, on_text, expected, actual, "; ".join(problems))


def same_value(expected: Any, actual: Any) -> bool:
    """Equality as a test author means it: 1 == 1.0 == Decimal('1'), NFKC text."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float | Decimal) and isinstance(actual, int | Decimal):
        return Decimal(str(expected)) == Decimal(actual)
    if isinstance(expected, str) and isinstance(actual, str):
        return nfkc(expected) == actual
    if isinstance(expected, list | tuple) and isinstance(actual, list | tuple):
        return len(expected) == len(actual) and all(
            same_value(e, a) for e, a in zip(expected, actual, strict=True)
        )
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return expected.keys() == actual.keys() and all(
            same_value(expected[k], actual[k]) for k in expected
        )
    if isinstance(expected, str) and not isinstance(actual, str) and actual is not None:
        return bool(expected == plain_json_value(actual))  # a date written as text
    return bool(expected == actual)
