"""decide(): effective dating, decision graphs, fact errors and normalisation, explanations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kijun.criteria.decide import decide
from kijun.criteria.errors import CriteriaError, FactError, ModelError, NoVersionError
from kijun.criteria.model import (
    Criterion,
    DecisionTable,
    InputClause,
    ValueType,
    Version,
    VersionStatus,
    validate_criterion,
)

from .tables import criterion, table


def _amount_table(amount: int) -> DecisionTable:
    return table("UNIQUE", [("age", "number")], [("amount", "number")],
                 [(["[0..3)"], [amount]), (["[3..18]"], [10000])])


def _versioned() -> Criterion:
    v1 = Version(1, dt.date(2012, 4, 1), (_amount_table(15000),))
    v2 = Version(2, dt.date(2024, 10, 1), (_amount_table(20000),))
    draft = Version(3, dt.date(2024, 10, 1), (_amount_table(99999),),
                    status=VersionStatus.DRAFT)
    c = Criterion(id="c", name="児童", versions=(v1, v2, draft))
    validate_criterion(c)
    return c


def test_the_version_in_force_on_the_date_decides() -> None:
    c = _versioned()
    assert decide(c, {"age": 1}, "2024-09-30").outputs == {"amount": 15000}
    r = decide(c, {"age": 1}, "2024-10-01")
    assert r.outputs == {"amount": 20000}
    assert r.version is not None and r.version.number == 2


def test_drafts_are_never_in_force() -> None:
    assert decide(_versioned(), {"age": 1}, "2030-01-01").version.number == 2  # type: ignore[union-attr]


def test_before_the_first_version_nothing_is_in_force() -> None:
    with pytest.raises(NoVersionError, match="2000-01-01"):
        decide(_versioned(), {"age": 1}, "2000-01-01")


def test_effective_to_is_exclusive() -> None:
    v = Version(1, dt.date(2020, 1, 1), (_amount_table(1),), effective_to=dt.date(2021, 1, 1))
    c = Criterion(id="c", name="x", versions=(v,))
    assert decide(c, {"age": 1}, "2020-12-31").decided
    with pytest.raises(NoVersionError):
        decide(c, {"age": 1}, "2021-01-01")


def test_overlapping_periods_are_refused() -> None:
    v1 = Version(1, dt.date(2020, 1, 1), (_amount_table(1),), effective_to=dt.date(2022, 1, 1))
    v2 = Version(2, dt.date(2021, 1, 1), (_amount_table(2),))
    with pytest.raises(ModelError, match="overlap"):
        validate_criterion(Criterion(id="c", name="x", versions=(v1, v2)))
    v3 = Version(3, dt.date(2020, 1, 1), (_amount_table(2),))
    with pytest.raises(ModelError, match="both take effect"):
        validate_criterion(Criterion(id="c", name="x", versions=(v1, v3)))


def test_era_dates_are_accepted_for_on() -> None:
    c = _versioned()
    assert decide(c, {"age": 1}, "令和6年10月1日").outputs == {"amount": 20000}
    assert decide(c, {"age": 1}, "R6.9.30").outputs == {"amount": 15000}


def test_decision_graph_feeds_outputs_into_inputs() -> None:
    band = table("UNIQUE", [("age", "number")], [("band", "string")],
                 [(["< 18"], ["child"]), ([">= 18"], ["adult"])], name="band")
    fee = table("UNIQUE", [("band", "string"), ("resident", "boolean")], [("fee", "number")],
                [(['"child"', "-"], [0]), (['"adult"', "true"], [300]),
                 (['"adult"', "false"], [500])], name="fee")
    c = criterion(band, fee)
    r = decide(c, {"age": 30, "resident": False}, "2024-01-01")
    assert r.decision == "fee"
    assert r.outputs == {"fee": 500}
    assert [(b["decision"], b["rule"]) for b in r.basis] == [("fee", "R3"), ("band", "R2")]
    assert [t.decision for t in r.trace] == ["band", "fee"]
    only_band = decide(c, {"age": 3}, "2024-01-01", decision="band")
    assert only_band.outputs == {"band": "child"}
    with pytest.raises(CriteriaError, match="no decision named"):
        decide(c, {"age": 3}, "2024-01-01", decision="nope")


def test_cycles_in_the_graph_are_refused() -> None:
    a = table("UNIQUE", [("y", "number")], [("x", "number")], [(["-"], [1])], name="a")
    b = table("UNIQUE", [("x", "number")], [("y", "number")], [(["-"], [1])], name="b")
    with pytest.raises(ModelError, match="cycle"):
        decide(criterion(a, b), {}, "2024-01-01")


def test_missing_fact_names_the_input_and_type() -> None:
    c = _versioned()
    with pytest.raises(FactError) as e:
        decide(c, {}, "2024-10-01")
    assert e.value.input == "age"
    assert "missing" in str(e.value) and "a number" in str(e.value)


def test_mistyped_fact_names_the_input_and_never_the_value() -> None:
    with pytest.raises(FactError) as e:
        decide(_versioned(), {"age": "山田太郎"}, "2024-10-01")
    assert "age" in str(e.value) and "number" in str(e.value)
    assert "山田" not in str(e.value)
    with pytest.raises(FactError, match="true/false"):
        decide(_versioned(), {"age": True}, "2024-10-01")


def test_full_width_digits_and_text_are_normalised() -> None:
    c = _versioned()
    assert decide(c, {"age": "２"}, "2024-10-01").outputs == {"amount": 20000}
    t = table("UNIQUE", [("kind", "string")], [("ok", "boolean")],
              [(['"ABC"'], [True]), (['not("ABC")'], [False])])
    assert decide(criterion(t), {"kind": "ＡＢＣ"}, "2024-01-01").outputs == {"ok": True}


def test_date_inputs_accept_era_dates() -> None:
    t = table("UNIQUE", [("birth", "date")], [("new", "boolean")],
              [(['>= date("2024-04-02")'], [True]), (['< date("2024-04-02")'], [False])])
    c = criterion(t)
    assert decide(c, {"birth": "令和6年4月2日"}, "2025-01-01").outputs == {"new": True}
    assert decide(c, {"birth": "㋿6.4.1"}, "2025-01-01").outputs == {"new": False}
    assert decide(c, {"birth": dt.date(2024, 4, 2)}, "2025-01-01").outputs == {"new": True}


def test_allowed_values_are_enforced_on_facts() -> None:
    t = table("UNIQUE", [("kind", "string")], [("ok", "boolean")], [(["-"], [True])])
    t = type(t)(t.name, t.hit_policy, (InputClause("kind", ValueType.STRING, ("持家", "借家")),),
                t.outputs, t.rules)
    with pytest.raises(FactError, match="allowed"):
        decide(criterion(t), {"kind": "社宅"}, "2024-01-01")
    assert decide(criterion(t), {"kind": "持家"}, "2024-01-01").decided


def test_decimal_boundaries_are_exact() -> None:
    t = table("UNIQUE", [("x", "number")], [("side", "string")],
              [(["< 0.1"], ["below"]), ([">= 0.1"], ["at or above"])])
    c = criterion(t)
    assert decide(c, {"x": 0.1}, "2024-01-01").outputs == {"side": "at or above"}
    assert decide(c, {"x": Decimal("0.0999999999")}, "2024-01-01").outputs == {"side": "below"}


def test_exception_for_a_combination_names_the_inputs_that_differ() -> None:
    t = table("UNIQUE", [("a", "boolean"), ("b", "boolean")], [("ok", "boolean")],
              [(["true", "true"], [True]), (["false", "false"], [False])])
    r = decide(criterion(t), {"a": True, "b": False}, "2024-01-01")
    assert r.exception is not None
    assert set(r.exception.inputs_outside) == {"a", "b"}
    assert r.trace[0].rules  # the nearest rules are shown with their test results
    assert any(not tt.result for rt in r.trace[0].rules for tt in rt.tests)


def test_to_dict_has_the_documented_keys_and_a_trace() -> None:
    r = decide(_versioned(), {"age": 2}, "2024-10-01").to_dict()
    assert {"decision", "outputs", "matched", "basis", "version", "trace"} <= set(r)
    assert r["matched"] == ["R1"]
    assert r["basis"][0]["basis"] == "第1条"
    assert r["version"]["effective_from"] == "2024-10-01"
    tests = r["trace"][0]["rules"][0]["tests"]
    assert tests == [{"input": "age", "test": "[0..3)", "value": 2, "result": True}]
