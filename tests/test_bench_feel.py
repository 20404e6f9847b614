"""The FEEL/DMN benchmark measures a model that computes the right thing.

bench/models/feel_heavy.dmn (a 児童手当 calculation, bench/bench_feel.py) is
checked here on hand-computed cases, including the date boundaries the law
cares about: a child born on 1 April belongs to the earlier school year, and
the 15,000 yen rate ends with the month in which the child reaches 3 (the day
before the third birthday). The benchmark's plain-Python reference, which
bench/run.py uses to check every timed decision, must agree with the model on
the hand-computed cases and on the benchmark's generated applications.
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is not an installed package
    sys.path.insert(0, str(ROOT))

from bench.bench_feel import (  # noqa: E402
    DECISION,
    EXPRESSION,
    EXPRESSION_NAMES,
    MODEL,
    applications,
    expression_inputs,
    expression_reference,
    reference,
    summary,
)
from kijun.criteria.dmn import DmnModels, read_dmn  # noqa: E402
from kijun.criteria.dmn.model import Context  # noqa: E402
from kijun.criteria.feel import compile_expression  # noqa: E402

SCHEMA = ROOT.parent / "shared" / "dmn-tck" / "DMN15.xsd"


@pytest.fixture(scope="module")
def models() -> DmnModels:
    return DmnModels([read_dmn(MODEL)])


def child(name: str, born: date, custody: bool = True) -> dict[str, Any]:
    return {"氏名": name, "生年月日": born, "監護": custody}


def evaluate(models: DmnModels, applied: date, event: date, *children: dict[str, Any]
             ) -> dict[str, Any]:
    app = {"申請日": applied, "事由発生日": event, "子ども": list(children)}
    result = models.evaluate(DECISION, app)
    assert isinstance(result, dict)
    return result


def details(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(d["氏名"], d["年齢"], d["順位"], d["三歳未満"], d["月額"]) for d in result["明細"]]


FAMILY = (
    child("長女", date(2004, 5, 5)),   # 21: past 高校生年代, still counted (大学生年代末 2027-03-31)
    child("一郎", date(2008, 4, 1)),   # reaches 18 on 2026-03-31: 高校生年代末 2026-03-31
    child("花子", date(2015, 9, 20)),
    child("次郎", date(2023, 1, 15)),  # reaches 3 on 2026-01-14: 15,000 rate until 2026-01-31
)


def test_the_model_has_twenty_context_entries_and_is_valid_dmn_15() -> None:
    d = read_dmn(MODEL)
    (decision,) = d.decisions
    assert decision.name == DECISION
    assert isinstance(decision.expression, Context)
    assert len(decision.expression.entries) == 20
    if SCHEMA.is_file():
        xmlschema = pytest.importorskip("xmlschema")
        xmlschema.XMLSchema(str(SCHEMA)).validate(str(MODEL))


def test_a_family_of_four_within_the_15_day_rule(models: DmnModels) -> None:
    r = evaluate(models, date(2025, 6, 10), date(2025, 6, 1), *FAMILY)
    assert r["基準日"] == date(2025, 6, 10)
    assert r["年度"] == 2025
    assert r["年度末"] == date(2026, 3, 31)
    assert r["経過日数"] == 9
    assert r["特例適用"] is True
    assert r["起算日"] == date(2025, 6, 1)            # the event, not the application
    assert r["支給開始月"] == date(2025, 7, 1)
    assert r["初回支払月"] == date(2025, 8, 1)        # July is paid in August
    assert r["支給月数"] == 9                          # July–March
    first, second = r["児童一覧"][0], r["児童一覧"][1]
    assert first["高校生年代末"] == date(2023, 3, 31)
    assert first["大学生年代末"] == date(2027, 3, 31)
    assert (first["支給対象"], first["算定対象"]) == (False, True)
    assert second["十八歳到達日"] == date(2026, 3, 31)
    assert second["高校生年代末"] == date(2026, 3, 31)
    assert r["児童一覧"][3]["三歳到達月末"] == date(2026, 1, 31)
    assert [c["氏名"] for c in r["支給対象児童"]] == ["一郎", "花子", "次郎"]
    assert r["支給対象児童数"] == 3
    assert r["算定対象児童数"] == 4
    assert details(r) == [
        ("一郎", 17, 2, False, 10000),
        ("花子", 9, 3, False, 30000),  # third counted child: 30,000
        ("次郎", 2, 4, True, 30000),   # under 3, but the third-child rate is higher
    ]
    assert r["月額合計"] == 70000
    assert r["多子加算人数"] == 2
    assert r["年度内支給見込額"] == 630000
    assert r["判定"] == "支給"
    assert r["理由"] == "支給対象児童3人（うち多子加算2人）、月額70000円、2025年7月分から（15日特例）"


def test_a_newborn_applied_for_late_in_march(models: DmnModels) -> None:
    r = evaluate(models, date(2026, 3, 20), date(2026, 1, 10),
                 child("美咲", date(2019, 7, 7), custody=False),
                 child("太郎", date(2026, 1, 10)))
    assert (r["年度"], r["年度末"]) == (2025, date(2026, 3, 31))
    assert r["経過日数"] == 69
    assert r["特例適用"] is False
    assert r["支給開始月"] == date(2026, 4, 1)
    assert r["初回支払月"] == date(2026, 6, 1)        # April is paid in June
    assert r["支給月数"] == 0                          # nothing left in this fiscal year
    assert (r["支給対象児童数"], r["算定対象児童数"]) == (1, 1)  # 美咲 not in custody
    assert details(r) == [("太郎", 0, 1, True, 15000)]
    assert r["月額合計"] == 15000
    assert r["年度内支給見込額"] == 0
    assert r["理由"] == "支給対象児童1人（うち多子加算0人）、月額15000円、2026年4月分から"


@pytest.mark.parametrize(
    ("born", "decided", "monthly", "reason"),
    [
        # reaches 18 on 2025-03-31: the school year that ended the day before
        (date(2007, 4, 1), "対象外", 0, "監護する高校生年代までの児童がいません"),
        # reaches 18 on 2025-04-01: in 高校生年代 until 2026-03-31
        (date(2007, 4, 2), "支給", 10000,
         "支給対象児童1人（うち多子加算0人）、月額10000円、2025年4月分から（15日特例）"),
    ],
)
def test_the_end_of_high_school_age_on_1_april(
    models: DmnModels, born: date, decided: str, monthly: int, reason: str
) -> None:
    r = evaluate(models, date(2025, 4, 1), date(2025, 3, 25), child("健", born))
    assert r["判定"] == decided
    assert r["月額合計"] == monthly
    assert r["算定対象児童数"] == 1  # counted either way (大学生年代)
    assert r["支給開始月"] == date(2025, 4, 1)
    assert r["支給月数"] == 12
    assert r["初回支払月"] == date(2025, 6, 1)
    assert r["年度内支給見込額"] == monthly * 12
    assert r["理由"] == reason


def test_twins_are_ranked_by_name_and_the_third_birthday_month_ends_the_higher_rate(
    models: DmnModels,
) -> None:
    family = (child("長男", date(2020, 5, 5)), child("葵", date(2022, 10, 1)),
              child("蓮", date(2022, 10, 1)))
    r = evaluate(models, date(2025, 10, 1), date(2025, 9, 1), *family)
    assert r["特例適用"] is False
    assert r["支給開始月"] == date(2025, 11, 1)
    assert r["初回支払月"] == date(2025, 12, 1)
    assert r["支給月数"] == 5
    # Born 1 October, the twins reach 3 on 30 September: from October, 10,000.
    assert details(r) == [
        ("長男", 5, 1, False, 10000),
        ("葵", 3, 2, False, 10000),
        ("蓮", 3, 3, False, 30000),
    ]
    assert (r["月額合計"], r["多子加算人数"], r["年度内支給見込額"]) == (50000, 1, 250000)
    assert r["理由"] == "支給対象児童3人（うち多子加算1人）、月額50000円、2025年11月分から"
    # A day earlier they are still under 3.
    before = evaluate(models, date(2025, 9, 30), date(2025, 9, 1), *family)
    assert details(before)[1] == ("葵", 2, 2, True, 15000)


def test_no_children(models: DmnModels) -> None:
    r = evaluate(models, date(2025, 6, 10), date(2025, 6, 1))
    assert r["明細"] == []
    assert (r["支給対象児童数"], r["月額合計"], r["年度内支給見込額"]) == (0, 0, 0)
    assert r["判定"] == "対象外"


def test_the_benchmark_reference_agrees_with_the_hand_computed_cases() -> None:
    app = {"申請日": date(2025, 6, 10), "事由発生日": date(2025, 6, 1), "子ども": list(FAMILY)}
    want = reference(app)
    assert want["明細"] == [("一郎", 17, 2, False, 10000), ("花子", 9, 3, False, 30000),
                          ("次郎", 2, 4, True, 30000)]
    assert (want["月額合計"], want["年度内支給見込額"], want["初回支払月"]) == (
        70000, 630000, date(2025, 8, 1))


def test_the_benchmark_reference_agrees_with_the_model_on_generated_applications(
    models: DmnModels,
) -> None:
    apps = applications(150)
    assert any(len(a["子ども"]) >= 4 for a in apps)
    assert any(not a["子ども"] for a in apps)
    for app in apps:
        assert summary(models.evaluate(DECISION, app)) == reference(app), app


@pytest.mark.parametrize(
    ("born", "on", "expected"),
    [
        (date(2007, 4, 1), date(2025, 3, 31), True),
        (date(2007, 4, 1), date(2025, 4, 1), False),
        (date(2007, 4, 2), date(2026, 3, 31), True),
        (date(2007, 4, 2), date(2026, 4, 1), False),
        (date(2008, 2, 29), date(2026, 3, 31), True),
        (date(2008, 2, 29), date(2026, 4, 1), False),
    ],
)
def test_the_micro_benchmark_expression(born: date, on: date, expected: bool) -> None:
    env = {"生年月日": born, "基準日": on}
    assert compile_expression(EXPRESSION, names=EXPRESSION_NAMES).evaluate(env) is expected
    assert expression_reference(env) is expected


def test_the_micro_benchmark_reference_agrees_on_generated_inputs() -> None:
    expr = compile_expression(EXPRESSION, names=EXPRESSION_NAMES)
    for env in expression_inputs(300):
        assert expr.evaluate(env) is expression_reference(env), env


def test_numbers_come_back_as_feel_numbers(models: DmnModels) -> None:
    r = evaluate(models, date(2025, 6, 10), date(2025, 6, 1), *FAMILY)
    assert isinstance(r["月額合計"], int | Decimal)
    assert isinstance(r["明細"][0]["月額"], int | Decimal)
