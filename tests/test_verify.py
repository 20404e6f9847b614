"""kijun.criteria.verify: the defect corpus, the real content, and the API.

The corpus (tests/verify_corpus/*.yaml, see its README) pins the exact
findings — kind, severity, rules, region — of one small table per defect.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from kijun.criteria import load_file
from kijun.criteria.formats.yaml import loads
from kijun.criteria.model import (
    NO_DEFAULT,
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
    ValueType,
    Version,
)
from kijun.criteria.verify import Finding, Kind, Report, Severity, verify_table, verify_version
from kijun.criteria.verify.table import analyse_table
from tests.tables import table

ROOT = Path(__file__).resolve().parents[1]
CORPUS = sorted((Path(__file__).parent / "verify_corpus").glob("*.yaml"))
CONTENT = sorted((ROOT / "content" / "nagi").glob("*.yaml"))


# --------------------------------------------------------------------------- corpus


def _build_table(spec: dict[str, Any]) -> DecisionTable:
    """A table straight from a corpus `table:` mapping, without the loader's checks."""
    return DecisionTable(
        name=spec["name"],
        hit_policy=HitPolicy(spec.get("hit_policy", "UNIQUE")),
        inputs=tuple(
            InputClause(i["name"], ValueType(i["type"]),
                        tuple(i["allowed"]) if "allowed" in i else None)
            for i in spec["inputs"]
        ),
        outputs=tuple(
            OutputClause(o["name"], ValueType(o["type"]),
                         tuple(o["allowed"]) if "allowed" in o else None,
                         o.get("default", NO_DEFAULT))
            for o in spec["outputs"]
        ),
        rules=tuple(
            Rule(id=f"R{k + 1}", when=tuple(r["when"]), then=tuple(r["then"]),
                 basis=r.get("basis"))
            for k, r in enumerate(spec["rules"])
        ),
    )


def _load_case(path: Path) -> tuple[Version, dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    source, expectation = text.split("\n---\n", 1)
    head = yaml.safe_load(source)
    if "table" in head:
        version = Version(1, dt.date(2024, 4, 1), (_build_table(head["table"]),))
    else:
        version = loads(source, file=str(path)).versions[0]
    return version, yaml.safe_load(expectation)


def _key(f: Finding | dict[str, Any]) -> tuple[Any, ...]:
    if isinstance(f, Finding):
        return (f.kind.value, f.severity.value, f.decision, tuple(f.rules),
                tuple(sorted(f.region.items())))
    return (f["kind"], f["severity"], f["decision"], tuple(f["rules"]),
            tuple(sorted((k, str(v)) for k, v in f["region"].items())))


def test_the_corpus_covers_every_kind() -> None:
    kinds = set()
    for path in CORPUS:
        _, expectation = _load_case(path)
        kinds |= {e["kind"] for e in expectation["expect"]}
    assert kinds == {k.value for k in Kind}
    assert len(CORPUS) >= 12


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus(path: Path) -> None:
    version, expectation = _load_case(path)
    report = verify_version(version)
    expected = expectation["expect"]
    assert sorted(map(_key, report.findings)) == sorted(map(_key, expected))
    by_key = {_key(f): f for f in report.findings}
    for e in expected:
        found = by_key[_key(e)]
        assert e.get("ja", "") in found.message_ja, found.message_ja
        assert e.get("en", "") in found.message_en, found.message_en
        assert found.message_ja and found.message_en
    cells = [list(c) for c in report.not_analysed]
    assert cells == expectation.get("not_analysed", [])
    assert report.has_errors == any(e["severity"] == "error" for e in expected)


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_same_findings_with_the_column_sweep(path: Path) -> None:
    """The reference algorithm (one column at a time) finds the same."""
    version, _ = _load_case(path)
    for t in version.decisions:
        fast = analyse_table(t).findings
        slow = analyse_table(t, method="columns").findings
        assert sorted(map(_key, fast)) == sorted(map(_key, slow))


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize("path", CONTENT, ids=[p.stem for p in CONTENT])
def test_every_nagi_version_verifies(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    criterion = load_file(path)
    for version in criterion.versions:
        report = verify_version(version)
        assert not report.by_kind(Kind.TYPE_ERROR)
        assert 0 < report.analysed_rules <= report.rules
        json.dumps(report.to_dict(), ensure_ascii=False)
    assert capsys.readouterr() == ("", "")


def test_nagi_content_has_no_errors() -> None:
    """The published criteria have no gap, conflict or masked rule the verifier can see."""
    for path in CONTENT:
        for version in load_file(path).versions:
            errors = [f for f in verify_version(version).findings if f.severity is Severity.ERROR]
            assert not errors, (path.name, version.number, errors)


# --------------------------------------------------------------------------- the API


def test_report_to_dict() -> None:
    t = table("UNIQUE", [("金額", "number"), ("所得", "number")], [("o", "string")],
              [(["< 100", "-"], ["a"]), (["> 100", "? > 5 * 2"], ["b"])])
    version = Version(1, dt.date(2024, 4, 1), (t,))
    report = verify_version(version)
    d = report.to_dict()
    assert set(d) == {"findings", "analysed_rules", "not_analysed"}
    assert d["analysed_rules"] == report.analysed_rules
    assert all(set(f) == {"kind", "severity", "decision", "rules", "region", "message_ja",
                          "message_en"} for f in d["findings"])
    json.dumps(d, ensure_ascii=False)
    assert isinstance(report, Report)


def test_general_feel_cells_are_listed_and_never_guessed() -> None:
    # `? > 所得上限` reads a name: no exact region
    t = table("UNIQUE", [("所得", "number"), ("世帯人数", "number")], [("o", "string")],
              [(["? > 所得上限", "-"], ["a"]), (["-", "< 3"], ["b"])])
    result = analyse_table(t)
    assert result.analysed_rules == 1
    assert [tuple(c) for c in result.not_analysed] == [("t", 1, "所得")]
    gaps = [f for f in result.findings if f.kind is Kind.GAP]
    assert [(f.rules, dict(f.region), f.severity) for f in gaps] == [
        ((1,), {"世帯人数": ">= 3"}, Severity.WARNING)
    ]
    assert not [f for f in result.findings if f.kind is Kind.CONFLICT]


def test_decision_name_can_be_given() -> None:
    t = table("UNIQUE", [("x", "number")], [("o", "string")], [(["< 1"], ["a"])])
    assert {f.decision for f in verify_table(t, decision="支給判定")} == {"支給判定"}
    assert {f.decision for f in verify_table(t)} == {"t"}


def test_numbers_are_dense_and_dates_are_days() -> None:
    numbers = table("UNIQUE", [("x", "number")], [("o", "string")],
                    [(["<= 2"], ["a"]), ([">= 3"], ["b"])])
    assert [dict(f.region) for f in verify_table(numbers)] == [{"x": "(2..3)"}]
    dates = table("UNIQUE", [("d", "date")], [("o", "string")],
                  [(['<= date("2024-03-31")'], ["a"]), (['>= date("2024-04-01")'], ["b"])])
    assert verify_table(dates) == []
    days = table("UNIQUE", [("d", "date")], [("o", "string")],
                 [(['< date("2024-03-31")'], ["a"]), (['> date("2024-04-02")'], ["b"])])
    (gap,) = verify_table(days)
    assert gap.region == {"d": '[date("2024-03-31")..date("2024-04-02")]'}
    assert "令和6年3月31日（2024-03-31）から令和6年4月2日（2024-04-02）まで" in gap.message_ja


def test_null_is_not_in_the_domain() -> None:
    # `not(5)` accepts null too; null-only rules take no part in gaps and overlaps
    t = table("UNIQUE", [("x", "number")], [("o", "string")],
              [(["null"], ["unknown"]), (["not(5)"], ["a"]), (["5"], ["b"])])
    assert verify_table(t) == []


def test_unconstrained_string_domain_has_an_other_values_gap() -> None:
    t = table("UNIQUE", [("区分", "string")], [("o", "string")],
              [(['"甲"'], ["a"]), (['"乙"'], ["b"])])
    (gap,) = verify_table(t)
    assert gap.region == {"区分": 'not("乙", "甲")'}
    assert "区分が「乙」「甲」以外の場合" in gap.message_ja


def test_gaps_merge_into_few_boxes() -> None:
    t = table("UNIQUE", [("x", "number"), ("y", "number")], [("o", "string")],
              [(["< 0", "-"], ["a"]), ([">= 10", "-"], ["b"]), (["[0..10)", "< 5"], ["c"])])
    gaps = [dict(f.region) for f in verify_table(t)]
    assert gaps == [{"x": "[0..10)", "y": ">= 5"}]


def test_multi_hit_gaps_are_warnings_and_overlaps_with_other_outputs_are_fine() -> None:
    t = table("COLLECT", [("障害", "boolean"), ("ひとり親", "boolean")], [("加算", "number")],
              [(["true", "-"], [5000]), (["-", "true"], [3000])])
    findings = verify_table(t)
    assert [(f.kind, f.severity, dict(f.region)) for f in findings] == [
        (Kind.GAP, Severity.WARNING, {"障害": "false", "ひとり親": "false"})
    ]


def test_collect_with_equal_outputs_is_a_redundant_overlap() -> None:
    t = table("RULE ORDER", [("a", "boolean"), ("b", "boolean")], [("手続", "string")],
              [(["true", "-"], ["届出"]), (["-", "true"], ["届出"]), (["false", "false"], ["なし"])])
    findings = verify_table(t)
    assert [(f.kind, f.rules, dict(f.region)) for f in findings] == [
        (Kind.REDUNDANT, (1, 2), {"a": "true", "b": "true"})
    ]


def test_any_partial_overlap_with_equal_outputs_is_information() -> None:
    t = table("ANY", [("a", "boolean"), ("b", "boolean")], [("判定", "string")],
              [(["true", "-"], ["不支給"]), (["-", "true"], ["不支給"]),
               (["false", "false"], ["支給"])])
    (f,) = verify_table(t)
    assert (f.kind, f.severity, f.rules) == (Kind.REDUNDANT, Severity.INFO, (1, 2))


def test_first_exception_before_a_general_rule_is_information() -> None:
    t = table("FIRST", [("年齢", "number"), ("障害", "boolean")], [("料金", "number")],
              [(["< 6", "-"], [0]), (["< 18", "true"], [50]), (["< 18", "-"], [100]),
               (["-", "-"], [300])])
    findings = verify_table(t)
    # rules 1 and 2 are exceptions to rule 3; none to rule 4, the catch-all; rule 2
    # is not masked (rule 1 covers only < 6)
    assert [(f.kind, f.severity, f.rules) for f in findings] == [
        (Kind.SUBSUMPTION, Severity.INFO, (1, 3)),
        (Kind.SUBSUMPTION, Severity.INFO, (2, 3)),
    ]
    assert "先にある規則1が規則3の例外として働きます" in findings[0].message_ja


def test_masked_by_the_same_result_is_a_warning() -> None:
    t = table("FIRST", [("x", "number")], [("o", "string")],
              [(["< 10"], ["a"]), (["< 5"], ["a"]), (["-"], ["b"])])
    (f,) = verify_table(t)
    assert (f.kind, f.severity, f.rules) == (Kind.MASKED, Severity.WARNING, (2, 1))
    assert "結果は同じなので、この規則は不要です" in f.message_ja


def test_masked_by_several_earlier_rules() -> None:
    t = table("FIRST", [("x", "number")], [("o", "string")],
              [(["< 5"], ["a"]), ([">= 5"], ["b"]), (["[0..10]"], ["c"])])
    (f,) = verify_table(t)
    assert (f.kind, f.rules, dict(f.region)) == (Kind.MASKED, (3, 1, 2), {"x": "[0..10]"})
    assert "Rule 3 can never apply: rules 1 and 2 come first" in f.message_en


def test_priority_ties_go_to_rule_order() -> None:
    t = table("PRIORITY", [("x", "number")], [("o", "string")],
              [(["< 10"], ["a"]), (["< 5"], ["a"]), ([">= 10"], ["b"])],
              allowed_out={"o": ("a", "b")})
    (f,) = verify_table(t)
    assert (f.kind, f.severity, f.rules) == (Kind.MASKED, Severity.WARNING, (2, 1))


def test_priority_rule_without_priority_is_not_called_masked() -> None:
    t = table("PRIORITY", [("x", "number")], [("o", "string")],
              [(["-"], ["a"]), (["< 5"], ["zz"])], allowed_out={"o": ("a", "b")})
    kinds = [(f.kind, f.rules) for f in verify_table(t)]
    assert kinds == [(Kind.OUTSIDE_ALLOWED, (2,))]


def test_output_of_the_wrong_type() -> None:
    t = table("UNIQUE", [("x", "boolean")], [("額", "number")],
              [(["true"], [100]), (["false"], ["たくさん"])])
    (f,) = verify_table(t)
    assert (f.kind, f.rules, dict(f.region)) == (Kind.TYPE_ERROR, (2,), {"額": '"たくさん"'})


def test_rule_ids_appear_in_messages_when_they_are_not_positions() -> None:
    t = DecisionTable("t", HitPolicy.UNIQUE, (InputClause("x", ValueType.NUMBER),),
                      (OutputClause("o", ValueType.STRING),),
                      (Rule("kokuho-1", ("< 1",), ("a",), "第1条"),
                       Rule("kokuho-2", ("< 2",), ("b",), "第2条"),
                       Rule("kokuho-3", (">= 2",), ("c",), "第3条")))
    (f,) = verify_table(t)
    assert f.message_ja.startswith("規則1（kokuho-1）と規則2（kokuho-2）")
    assert f.message_en.startswith("Rules 1 (kokuho-1) and 2 (kokuho-2)")


def test_empty_and_input_free_tables() -> None:
    no_rules = table("UNIQUE", [("x", "number")], [("o", "string")], [])
    (gap,) = verify_table(no_rules)
    assert (gap.kind, gap.region) == (Kind.GAP, {})
    assert gap.message_ja == "どの場合にも該当する規則がありません。"
    constant = DecisionTable("c", HitPolicy.UNIQUE, (), (OutputClause("o", ValueType.STRING),),
                             (Rule("R1", (), ("a",), "第1条"), Rule("R2", (), ("b",), "第2条")))
    (conflict,) = verify_table(constant)
    assert (conflict.kind, conflict.rules, conflict.region) == (Kind.CONFLICT, (1, 2), {})


def test_empty_allowed_values_make_an_empty_domain() -> None:
    t = DecisionTable("t", HitPolicy.UNIQUE, (InputClause("x", ValueType.STRING, ()),),
                      (OutputClause("o", ValueType.STRING),),
                      (Rule("R1", ('"a"',), ("a",), "第1条"),))
    assert [f.kind for f in verify_table(t)] == [Kind.OUTSIDE_ALLOWED]


def test_number_inputs_with_allowed_values_range_over_them() -> None:
    t = DecisionTable("t", HitPolicy.UNIQUE,
                      (InputClause("順位", ValueType.NUMBER, (1, 2, 3)),),
                      (OutputClause("o", ValueType.STRING),),
                      (Rule("R1", ("< 2",), ("a",), "第1条"), Rule("R2", ("> 2",), ("b",), "第2条"),
                       Rule("R3", ("[2.5..2.7]",), ("c",), "第3条")))
    findings = verify_table(t)
    assert [(f.kind, f.severity, f.rules, dict(f.region)) for f in findings] == [
        (Kind.OUTSIDE_ALLOWED, Severity.ERROR, (3,), {"順位": "[2.5..2.7]"}),
        (Kind.GAP, Severity.ERROR, (), {"順位": "2"}),
    ]


def test_decimal_boundaries() -> None:
    t = table("UNIQUE", [("率", "number")], [("o", "string")],
              [(["< 0.5"], ["a"]), (["> 0.5"], ["b"])])
    (gap,) = verify_table(t)
    assert gap.region == {"率": "0.5"}
    assert "率がちょうど0.5の場合" in gap.message_ja


def test_version_narrows_inputs_fed_by_another_decision() -> None:
    upstream = table("FIRST", [("年齢", "number")], [("区分", "string")],
                     [(["< 18"], ["子ども"]), (["-"], ["大人"])], name="区分判定")
    downstream = table("UNIQUE", [("区分", "string")], [("料金", "number")],
                       [(['"子ども"'], [0]), (['"大人"'], [300])], name="料金")
    report = verify_version(Version(1, dt.date(2024, 4, 1), (upstream, downstream)))
    assert report.findings == ()  # 区分 can only be 子ども or 大人
    alone = verify_table(downstream)  # without the graph, any other string is a gap
    assert [f.kind for f in alone] == [Kind.GAP]


def test_findings_are_sorted_errors_first() -> None:
    t = table("UNIQUE", [("x", "number"), ("y", "boolean")], [("o", "string")],
              [(["< 0", "-"], ["a"]), (["< 5", "-"], ["b"])])
    findings = verify_table(t)
    ranks = [f.severity.rank for f in findings]
    assert ranks == sorted(ranks)
    assert [f.kind for f in findings] == [Kind.GAP, Kind.CONFLICT, Kind.UNUSED_INPUT]


def test_criteria_package_does_not_import_the_database_or_web() -> None:
    code = (
        "import sys, kijun.criteria.verify\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi', "
        "'starlette', 'alembic', 'psycopg') or m.startswith(('kijun.store', 'kijun.web'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --------------------------------------------------------------------------- generated tables


@pytest.mark.parametrize("policy", ["UNIQUE", "FIRST"])
def test_generated_tables_agree_with_the_generator_and_the_column_sweep(policy: str) -> None:
    if str(ROOT) not in sys.path:  # bench/ is not an installed package
        sys.path.insert(0, str(ROOT))
    from bench.tables import generate

    gen = generate(policy, 60, n_samples=1)
    result = analyse_table(gen.table)
    reference = analyse_table(gen.table, method="columns")
    non_gap = sorted(_key(f) for f in result.findings if f.kind is not Kind.GAP)
    assert non_gap == sorted(_key(f) for f in reference.findings if f.kind is not Kind.GAP)
    gaps = [f for f in result.findings if f.kind is Kind.GAP]
    if policy == "UNIQUE":
        assert not [f for f in result.findings if f.kind is Kind.CONFLICT]
        assert len(gaps) == len(gen.holes)
    # every hole's corner points are in a reported gap; every sample that hits a rule is not
    from kijun.criteria.feel import compile_unary_tests

    types = {c.name: c.type for c in gen.table.inputs}
    tests = [[(n, compile_unary_tests(x, types[n])) for n, x in f.region.items()] for f in gaps]

    def in_gap(facts: dict[str, Any]) -> bool:
        return any(all(t.matches(facts[n]) for n, t in g) for g in tests)

    for facts in gen.sample_facts(300, seed=3):  # every tenth one in a hole
        feel_facts = {k: Decimal(str(v)) if isinstance(v, float) else v  # FEEL: no floats
                      for k, v in facts.items()}
        assert in_gap(feel_facts) == (not gen.matching(facts)), facts
