"""`kijun diff`: rule changes and the exact regions where two versions decide differently."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kijun.cli import app
from kijun.criteria.compile import compile_table
from kijun.criteria.diff import diff_tables, diff_versions
from kijun.criteria.feel import compile_unary_tests
from kijun.criteria.formats.yaml import load_file, load_path
from kijun.criteria.model import DecisionTable, ValueType

from .tables import table

ROOT = Path(__file__).resolve().parent.parent
NAGI = ROOT / "content" / "nagi"
runner = CliRunner()


def _kessai(cells: list[str], policy: str = "UNIQUE") -> DecisionTable:
    return table(policy, [("金額", "number")], [("決裁者", "string")],
                 [([c], [who]) for c, who in zip(cells, ["課長", "副町長", "町長"], strict=False)],
                 name="決裁区分")


def test_a_moved_boundary_changes_exactly_one_point() -> None:
    d = diff_tables(_kessai(["< 100000", ">= 100000"]), _kessai(["<= 100000", "> 100000"]))
    assert d.status == "changed"
    assert [c.id for c in d.rules_changed] == ["R1", "R2"]
    (change,) = d.changes
    assert change.region == {"金額": "100000"}
    assert change.before == {"status": "decided", "決裁者": "副町長"}
    assert change.after == {"status": "decided", "決裁者": "課長"}
    assert (change.rules_before, change.rules_after) == (["R2"], ["R1"])
    assert "金額がちょうど100000" in change.message_ja or "金額が100000" in change.message_ja


def test_a_new_rule_filling_a_gap_turns_an_exception_into_an_outcome() -> None:
    d = diff_tables(_kessai(["< 100000", "> 100000"]),
                    _kessai(["< 100000", "> 100000", "100000"]))
    assert d.rules_added == ["R3"]
    (change,) = d.changes
    assert change.before == {"status": "exception"} and change.after["決裁者"] == "町長"
    assert "例外" in change.message_ja


def test_reordering_matters_under_first() -> None:
    old = _kessai(["< 500000", "< 100000", "-"], policy="FIRST")
    rules = old.rules
    new = replace(old, rules=(rules[1], rules[0], rules[2]))
    d = diff_tables(old, new)
    assert d.reordered and not d.rules_changed
    (change,) = d.changes
    assert change.region == {"金額": "< 100000"}
    assert (change.before["決裁者"], change.after["決裁者"]) == ("課長", "副町長")


def test_only_basis_changed_changes_no_outcome() -> None:
    old = _kessai(["< 100000", ">= 100000"])
    new = replace(old, rules=(replace(old.rules[0], basis="規程第5条"), old.rules[1]))
    d = diff_tables(old, new)
    assert d.status == "changed" and d.rules_changed[0].fields == ["basis"]
    assert d.changes == []


def test_identical_tables_are_unchanged() -> None:
    t = _kessai(["< 100000", ">= 100000"])
    d = diff_tables(t, t)
    assert d.status == "unchanged" and d.changes == [] and not d.reordered


def test_general_feel_cells_are_not_compared() -> None:
    old = _kessai(["< 100000", ">= 100000"])
    new = _kessai(["< 上限", ">= 上限"])
    d = diff_tables(old, new)
    assert d.changes == [] and d.not_analysed is not None and "general FEEL" in d.not_analysed


def test_the_2025_small_contract_thresholds() -> None:
    """地方自治法施行令の改正（令和7年）: each kind of contract gains a band of 「可」."""
    d = diff_versions(load_file(NAGI / "shougaku-zuii-keiyaku.yaml"), 1, 2)
    (decision,) = d.decisions
    bands = {c.region["契約の種類"].strip('"'): c.region["予定価格"] for c in decision.changes}
    assert bands["工事又は製造の請負"] == "(1300000..2000000]"
    assert bands["財産の買入れ"] == "(800000..1500000]"
    assert all(c.before["少額随意契約"] == "不可" and c.after["少額随意契約"] == "可"
               for c in decision.changes)


# -- the outcome view agrees with deciding point by point -----------------------------------


def _samples(clause_type: ValueType, allowed: Any, cells: list[str]) -> list[Any]:
    if clause_type is ValueType.BOOLEAN:
        return [True, False]
    if allowed:
        return list(allowed)
    points: set[Any] = set()
    for cell in cells:
        region = compile_unary_tests(cell, clause_type).region
        if region is None:
            continue
        for b in region.boundaries():
            if clause_type is ValueType.DATE:
                points |= {b, b - dt.timedelta(days=1), b + dt.timedelta(days=1)}
            elif clause_type is ValueType.NUMBER:
                points |= {b, b - 1, b + 1, b - Decimal("0.5"), b + Decimal("0.5")}
            else:
                points.add(b)
    if clause_type is ValueType.STRING:
        points.add("（ほかの値）")
    if clause_type is ValueType.NUMBER and not points:
        points.add(0)
    if clause_type is ValueType.DATE and not points:
        points.add(dt.date(2024, 4, 1))
    return sorted(points, key=repr) if clause_type is ValueType.STRING else sorted(points)


def _decide(t: DecisionTable, facts: dict[str, Any]) -> Any:
    from kijun.criteria.diff import _outcome

    ct = compile_table(t)
    mask = 0
    for i, rule in enumerate(t.rules):
        if all(compile_unary_tests(cell, c.type).matches(facts.get(c.name))
               for c, cell in zip(t.inputs, rule.when, strict=True)):
            mask |= 1 << i
    return _outcome(ct, mask).key


PAIRS = [
    (c, a, b, name)
    for c in load_path(NAGI)
    for a, b in itertools.pairwise(sorted(v.number for v in c.versions))
    for name in {d.name for d in c.version(a).decisions} & {d.name for d in c.version(b).decisions}
]


@pytest.mark.parametrize(("criterion", "a", "b", "name"), PAIRS,
                         ids=[f"{c.id}-{a}-{b}-{n}" for c, a, b, n in PAIRS])
def test_reported_regions_are_exactly_where_outcomes_differ(
    criterion: Any, a: int, b: int, name: str
) -> None:
    old, new = criterion.version(a).decision(name), criterion.version(b).decision(name)
    d = diff_tables(old, new)
    if d.not_analysed:
        pytest.skip(d.not_analysed)
    clauses = {c.name: c for c in (*old.inputs, *new.inputs)}
    axes = []
    for n, clause in clauses.items():
        cells = [r.when[i] for t in (old, new) for r in t.rules
                 for i, c in enumerate(t.inputs) if c.name == n]
        allowed = tuple(dict.fromkeys(
            v for t in (old, new) for c in t.inputs if c.name == n for v in (c.allowed or ())))
        axes.append([(n, v) for v in _samples(clause.type, allowed, cells)])
    regions = [
        {n: compile_unary_tests(text, clauses[n].type) for n, text in ch.region.items()}
        for ch in d.changes
    ]
    checked = 0
    for point in itertools.islice(itertools.product(*axes), 20000):
        facts = dict(point)
        differs = _decide(old, facts) != _decide(new, facts)
        inside = any(all(t.matches(facts[n]) for n, t in r.items()) for r in regions)
        assert differs == inside, (facts, differs, inside)
        checked += 1
    assert checked > 0


def test_cli_diff_json() -> None:
    r = runner.invoke(app, ["diff", str(NAGI / "mynumber-card-expiry.yaml"), "1", "2", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    first = data["decisions"][0]
    assert first["status"] == "changed"
    (change,) = first["changes"]
    assert change["region"] == {"発行日の年齢": "[18..20)"}
    assert change["before"]["カード有効期間"] == 5 and change["after"]["カード有効期間"] == 10


def test_cli_diff_unknown_version() -> None:
    r = runner.invoke(app, ["diff", str(NAGI / "mynumber-card-expiry.yaml"), "1", "7", "--json"])
    assert r.exit_code == 1 and "no version 7" in json.loads(r.stdout)["error"]["message"]
