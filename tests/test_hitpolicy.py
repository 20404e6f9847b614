"""Every hit policy with DMN semantics, including its error cases."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kijun.criteria.decide import decide
from kijun.criteria.errors import HitPolicyError, ModelError
from kijun.criteria.model import Aggregation, HitPolicy, validate_criterion
from kijun.criteria.result import DecisionResult

from .tables import criterion, table

# age bands that overlap: R1 [0..20), R2 [10..30), R3 >= 25
ROWS = [
    (["[0..20)"], ["若年"]),
    (["[10..30)"], ["中間"]),
    ([">= 25"], ["高"]),
]


def _decide(policy: str, age: int, **kw: Any) -> DecisionResult:
    t = table(policy, [("age", "number")], [("band", "string")], ROWS, **kw)
    return decide(criterion(t), {"age": age}, "2024-01-01")


def test_unique_single_match() -> None:
    r = _decide("UNIQUE", 5)
    assert r.outputs == {"band": "若年"}
    assert [m.rule for m in r.matched] == ["R1"]


def test_unique_two_matches_is_an_error_never_a_pick() -> None:
    with pytest.raises(HitPolicyError) as e:
        _decide("UNIQUE", 15)
    assert e.value.rules == ["R1", "R2"]
    assert "UNIQUE" in str(e.value)


def test_first_takes_the_first_rule_in_order() -> None:
    r = _decide("FIRST", 26)
    assert r.outputs == {"band": "中間"}
    assert [m.rule for m in r.matched] == ["R2"]


def test_any_allows_matches_that_agree() -> None:
    t = table("ANY", [("age", "number")], [("ok", "boolean")],
              [(["< 10"], [True]), (["< 20"], [True]), ([">= 20"], [False])])
    r = decide(criterion(t), {"age": 5}, "2024-01-01")
    assert r.outputs == {"ok": True}
    assert [m.rule for m in r.matched] == ["R1", "R2"]


def test_any_with_different_outputs_is_an_error() -> None:
    with pytest.raises(HitPolicyError, match="different outputs"):
        _decide("ANY", 15)


def test_priority_uses_the_order_of_allowed_values() -> None:
    allowed = {"band": ("高", "中間", "若年")}
    r = _decide("PRIORITY", 26, allowed_out=allowed)
    assert r.outputs == {"band": "高"}
    r = _decide("PRIORITY", 15, allowed_out=allowed)
    assert r.outputs == {"band": "中間"}


def test_priority_without_allowed_values_is_refused() -> None:
    t = table("PRIORITY", [("age", "number")], [("band", "string")], ROWS)
    with pytest.raises(ModelError, match="allowed values"):
        validate_criterion(criterion(t))


def test_rule_order_lists_every_match_in_rule_order() -> None:
    r = _decide("RULE ORDER", 26)
    assert r.outputs == {"band": ["中間", "高"]}


def test_output_order_sorts_by_priority() -> None:
    r = _decide("OUTPUT ORDER", 15, allowed_out={"band": ("中間", "若年", "高")})
    assert r.outputs == {"band": ["中間", "若年"]}


def test_collect_plain_and_aggregations() -> None:
    rows = [(["< 10"], [100]), (["< 20"], [Decimal("20.5")]), (["-"], [3])]
    def run(agg: Aggregation | None, age: int) -> Any:
        t = table("COLLECT", [("age", "number")], [("n", "number")], rows, aggregation=agg)
        return decide(criterion(t), {"age": age}, "2024-01-01").outputs["n"]

    assert run(None, 5) == [100, Decimal("20.5"), 3]
    assert run(Aggregation.SUM, 5) == Decimal("123.5")
    assert run(Aggregation.MIN, 5) == 3
    assert run(Aggregation.MAX, 15) == Decimal("20.5")
    assert run(Aggregation.COUNT, 15) == 2
    assert run(Aggregation.COUNT, 50) == 1


def test_collect_count_with_no_match_is_zero_and_sum_is_null() -> None:
    rows = [(["< 10"], [1])]
    t = table("COLLECT", [("age", "number")], [("n", "number")], rows,
              aggregation=Aggregation.COUNT, defaults={"n": 0})
    assert decide(criterion(t), {"age": 50}, "2024-01-01").outputs == {"n": 0}


def test_aggregation_needs_collect_and_one_output() -> None:
    t = table("FIRST", [("a", "number")], [("n", "number")], [(["-"], [1])],
              aggregation=Aggregation.SUM)
    with pytest.raises(ModelError, match="only allowed with COLLECT"):
        validate_criterion(criterion(t))
    t = table("COLLECT", [("a", "number")], [("n", "number"), ("m", "number")],
              [(["-"], [1, 2])], aggregation=Aggregation.SUM)
    with pytest.raises(ModelError, match="exactly one output"):
        validate_criterion(criterion(t))


def test_no_match_is_an_exception_naming_the_input() -> None:
    t = table("UNIQUE", [("age", "number"), ("kind", "string")], [("band", "string")],
              [(["< 18", '"a"'], ["x"]), ([">= 18", '"a","b"'], ["y"])])
    r = decide(criterion(t), {"age": 30, "kind": "z"}, "2024-01-01")
    assert not r.decided
    assert r.exception is not None
    assert r.exception.inputs_outside == ("kind",)
    assert r.outputs == {}


def test_no_match_with_defaults_decides_with_the_defaults() -> None:
    t = table("UNIQUE", [("age", "number")], [("band", "string")], [(["< 18"], ["子"])],
              defaults={"band": "対象外"})
    r = decide(criterion(t), {"age": 30}, "2024-01-01")
    assert r.decided
    assert r.outputs == {"band": "対象外"}
    assert r.matched == ()
    assert r.trace[0].default_used


def test_policy_enum_names() -> None:
    assert HitPolicy("RULE ORDER") is HitPolicy.RULE_ORDER
    assert HitPolicy.UNIQUE.single_hit and not HitPolicy.COLLECT.single_hit
